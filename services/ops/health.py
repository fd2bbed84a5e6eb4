"""Is this process ready to serve: the database answers and its schema is the code's."""

from __future__ import annotations

from functools import cache

from alembic.config import Config
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, text

from services.db.migrate import MIGRATIONS, current


@cache
def code_revision() -> str | None:
    """The newest migration this code ships (read from the scripts once per process)."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return ScriptDirectory.from_config(config).get_current_head()


def database_problem(engine: Engine) -> str | None:
    """None when the database answers a query; else why not, in Chinese."""
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
    except Exception as exc:  # any driver error: the operator reads its first line
        return f"数据库无法连接：{_first_line(exc)}"
    return None


def migrations_problem(engine: Engine) -> str | None:
    """None when the database's schema is at the code's newest migration; else which is which."""
    try:
        stored = current(engine)
    except Exception as exc:
        return f"无法读取数据库结构版本：{_first_line(exc)}"
    expected = code_revision()
    if stored != expected:
        return f"数据库结构版本为 {stored or '（空库）'}，程序需要 {expected}：请运行 rectify db upgrade"
    return None


def _first_line(exc: Exception) -> str:
    text_ = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text_[0] if text_ else ''}"[:300]
