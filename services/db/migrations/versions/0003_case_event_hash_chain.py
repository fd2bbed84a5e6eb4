"""case history hash chain: case_events.hash, backfilled per case in id order

Hand-written. Each event's ``hash`` is sha256 over its case's previous event hash and its
own fields (``services.db.event_chain``); ``rectify audit verify`` recomputes the chain.
The column is added with a plain ``ALTER TABLE .. ADD COLUMN`` (no batch copy on SQLite,
which would drop the append-only triggers of 0002). The backfill has to UPDATE the
append-only table: the UPDATE trigger is switched off for it and back on, in the same
transaction, so no other writer ever sees the table unguarded.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-29 10:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import services.db.types
from services.db import event_chain

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

#: As migration 0002 created it.
SQLITE_UPDATE_TRIGGER = (
    "CREATE TRIGGER case_events_no_update BEFORE UPDATE ON case_events "
    "BEGIN SELECT RAISE(ABORT, '案件历史记录（case_events）只能追加，不能修改'); END"
)
#: Cases per backfill page (each page: one select by a case id range, one executemany).
PAGE = 2000

EVENTS = sa.table(
    "case_events",
    sa.column("id", sa.Integer()),
    sa.column("case_id", sa.Integer()),
    sa.column("trigger", sa.String()),
    sa.column("from_state", sa.String()),
    sa.column("to_state", sa.String()),
    sa.column("actor", sa.String()),
    sa.column("actor_kind", sa.String()),
    sa.column("at", services.db.types.AwareDateTime(timezone=True)),
    sa.column("note", sa.Text()),
    sa.column("data", sa.JSON()),
    sa.column("hash", sa.String()),
)


def upgrade() -> None:
    op.add_column("case_events", sa.Column("hash", sa.String(length=64), nullable=True))
    postgres = op.get_bind().dialect.name == "postgresql"
    if postgres:
        op.execute("ALTER TABLE case_events DISABLE TRIGGER case_events_append_only")
    else:
        op.execute("DROP TRIGGER case_events_no_update")
    _backfill(op.get_bind())
    if postgres:
        op.execute("ALTER TABLE case_events ENABLE TRIGGER case_events_append_only")
    else:
        op.execute(SQLITE_UPDATE_TRIGGER)


def _backfill(conn) -> None:
    """Hash every event, case by case in id order, a range of case ids at a time."""
    low, high = conn.execute(
        sa.select(sa.func.min(EVENTS.c.case_id), sa.func.max(EVENTS.c.case_id))
    ).one()
    if low is None:
        return
    fields = [EVENTS.c[name] for name in ("id", *event_chain.FIELDS)]
    write = (
        sa.update(EVENTS)
        .where(EVENTS.c.id == sa.bindparam("b_id"))
        .values(hash=sa.bindparam("b_hash"))
    )
    for start in range(low, high + 1, PAGE):
        rows = conn.execute(
            sa.select(*fields)
            .where(EVENTS.c.case_id >= start, EVENTS.c.case_id < start + PAGE)
            .order_by(EVENTS.c.case_id, EVENTS.c.id)
        ).all()
        previous: dict[int, str] = {}
        hashes = event_chain.chain([row._mapping for row in rows], previous)
        if rows:
            conn.execute(
                write, [{"b_id": row.id, "b_hash": h} for row, h in zip(rows, hashes, strict=True)]
            )


def downgrade() -> None:
    op.drop_column("case_events", "hash")
