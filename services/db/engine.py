"""Engines and session factories, built from settings by the composition root."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

from services.core.errors import ValidationFailed
from services.db import append_only


def make_engine(url: str, **kwargs) -> Engine:
    """Create an engine; SQLite gets WAL, foreign keys and a busy timeout."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        kwargs.setdefault("connect_args", {"timeout": 30})
        engine = create_engine(url, **kwargs)
        event.listen(engine, "connect", _sqlite_pragmas)
    else:
        kwargs.setdefault("pool_pre_ping", True)
        engine = create_engine(url, **kwargs)
    event.listen(engine, "before_cursor_execute", _refuse_nul)
    return engine


#: Bulk loads of more rows than this come from the system, not from a person's input: unchecked.
_BULK = 500


def _refuse_nul(_conn, _cursor, _statement, parameters, _context, executemany) -> None:
    """A NUL character in any text is refused alike on both backends (PostgreSQL cannot store
    one and answered with a driver error, i.e. a 500, wherever a form, query or file had it)."""
    if executemany and len(parameters) > _BULK:
        return
    if _contains_nul(parameters):
        raise ValidationFailed(["输入内容含有空字符（U+0000），请删除后重试"])


#: Parameter values that hold no text: passed over without a call each (a batch's arrays hold
#: thousands of them).
_NO_TEXT = frozenset({int, float, bool, type(None), date, datetime, Decimal})


def _contains_nul(value) -> bool:
    """Whether any text among statement parameters (a dict, a sequence, nested) has a NUL."""
    if value.__class__ is str or isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        value = value.values()
    elif not isinstance(value, list | tuple):
        return False
    texts = []
    for item in value:
        kind = item.__class__
        if kind is str:
            texts.append(item)
        elif kind not in _NO_TEXT and _contains_nul(item):
            return True
    return "\x00" in "".join(texts)


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    """Sessions that keep objects after commit and refuse to rewrite the case history."""
    factory = sessionmaker(bind=engine, expire_on_commit=False)
    append_only.install(factory)
    return factory
