"""``rectify db``: schema migrations."""

from __future__ import annotations

import typer

from cli.context import console, open_app
from services.db.migrate import current, upgrade
from services.registry.catalogue import ensure_seeded

app = typer.Typer(help="数据库", no_args_is_help=True)


@app.command("upgrade", help="把数据库升级到最新结构，并补充内置的问题类别（不覆盖已修改的）")
def upgrade_cmd() -> None:
    """Migrate the database to the newest schema and seed the category catalogue."""
    with open_app() as application:
        upgrade(application.engine)
        with application.uow() as uow:
            added = ensure_seeded(uow)
            uow.commit()
        console.print(f"数据库已升级到 {current(application.engine)}；新增问题类别 {added} 个")
