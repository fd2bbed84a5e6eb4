"""``rectify export`` and ``rectify import-archive``: the whole system in one archive and back."""

from __future__ import annotations

from pathlib import Path

import typer

from cli.context import console, err_console, handled_errors, open_app
from cli.progress import progress_bar
from services.ops import backup


def register(app: typer.Typer) -> None:
    app.command("export", help="把整个数据库和全部附件文件导出为一个备份文件（.tar.gz）")(
        export_cmd
    )
    app.command("import-archive", help="把备份文件恢复到一个空的、已升级的数据库")(import_cmd)


def export_cmd(
    output: Path = typer.Option(..., "-o", "--output", help="备份文件路径（.tar.gz）"),
) -> None:
    """Write the whole database and every attachment file into one archive."""
    with handled_errors(), open_app() as application, application.uow() as uow:
        with progress_bar("备份数据表") as advance:
            summary = backup.export_archive(uow, path=output, progress=advance)
    _report("已备份", summary)
    if summary.missing_files:
        err_console.print(
            f"[yellow]注意：[/yellow]{len(summary.missing_files)} 个附件文件在磁盘上已丢失，"
            f"未能备份：{'、'.join(summary.missing_files[:5])}",
            highlight=False,
        )


def import_cmd(
    archive: Path = typer.Argument(..., help="rectify export 生成的备份文件"),
) -> None:
    """Restore an archive into an empty, migrated database (rectify db upgrade first)."""
    with handled_errors(), open_app() as application, application.uow() as uow:
        with progress_bar("恢复数据行") as advance:
            summary = backup.import_archive(uow, path=archive, progress=advance)
    _report("已恢复", summary)


def _report(verb: str, summary: backup.BackupSummary) -> None:
    rows = sum(summary.tables.values())
    console.print(
        f"{verb}：{summary.path}（结构版本 {summary.schema_revision}，"
        f"{len(summary.tables)} 张表共 {rows} 行，附件 {summary.files} 个）",
        highlight=False,
    )
