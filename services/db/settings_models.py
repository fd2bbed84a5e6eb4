"""Settings of the installation kept in its database (one row per key, a JSON value): what
every process on the database must agree on, e.g. the day it runs on (``clock``)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Connection, Engine, String, inspect, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from services.db.models import Base

#: The installation clock: ``services.core.clock.stored_value``, or ``{"real": true}`` once
#: real time was chosen; no row: never chosen (real time).
CLOCK = "clock"


class InstallationSetting(Base):
    __tablename__ = "installation_settings"

    key: Mapped[str] = mapped_column(String(50), primary_key=True)
    value: Mapped[dict[str, Any]] = mapped_column(JSON)
    updated_at: Mapped[datetime]


def read_setting(engine: Engine, key: str) -> Any:
    """A setting's value read before any session exists (at start-up); None when unset or when
    the database has no such table yet (before ``rectify db upgrade``)."""
    with engine.connect() as conn:
        return _read(conn, key)


def _read(conn: Connection, key: str) -> Any:
    if not inspect(conn).has_table(InstallationSetting.__tablename__):
        return None
    table = InstallationSetting.__table__
    return conn.scalar(select(table.c.value).where(table.c.key == key))


def setting(session: Session, key: str) -> Any:
    """A setting's value in the session's transaction; None when unset."""
    row = session.get(InstallationSetting, key)
    return row.value if row is not None else None


def put_setting(session: Session, key: str, value: dict[str, Any], *, now: datetime) -> None:
    """Set (or replace) a setting; the caller commits."""
    row = session.get(InstallationSetting, key)
    if row is None:
        session.add(InstallationSetting(key=key, value=value, updated_at=now))
    else:
        row.value, row.updated_at = value, now
    session.flush()
