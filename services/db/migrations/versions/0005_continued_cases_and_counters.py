"""continued cases (a state, not a flag) and live case counters

Hand-written. A case a later round's case has taken over was an open case with
``superseded = true``; it is now the state ``continued`` (已转入下一轮), reached by a
``carry_over`` event in its hash-chained history, so every count, list and form reads one
state. Existing superseded open cases are carried over here (actor 系统, at the successor's
creation, or the case's last event if later). The flag is dropped and the open-deadline
partial index recreated without it. ``case_counts`` holds the live counters
(``services.db.counts``), filled from the cases.

SQLite: the state check is widened by editing the table's schema text (SQLite's documented
procedure for changes that leave stored rows valid: a copy of ``cases`` would have to drop
and recreate a table every other case table points to); ``superseded`` goes with
``ALTER TABLE .. DROP COLUMN`` once the index that names it is gone.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-06 08:00:00
"""

from collections import Counter
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import services.db.types
from services.db import event_chain

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OLD_CHECK = "state IN ('found', 'notified', 'rectifying', 'submitted', 'verified', 'escalated')"
NEW_CHECK = (
    "state IN ('found', 'notified', 'rectifying', 'submitted', 'verified', 'escalated', "
    "'continued')"
)
OPEN = ("found", "notified", "rectifying", "submitted", "escalated")
OVERDUE_TERM = "state IN ('notified', 'rectifying', 'escalated')"
SYSTEM_ACTOR = "系统"

CASES = sa.table(
    "cases",
    sa.column("id", sa.Integer()),
    sa.column("unit_id", sa.Integer()),
    sa.column("round_id", sa.Integer()),
    sa.column("category_code", sa.String()),
    sa.column("state", sa.String()),
    sa.column("escalation_level", sa.Integer()),
    sa.column("previous_case_id", sa.Integer()),
    sa.column("superseded", sa.Boolean()),
    sa.column("created_at", services.db.types.AwareDateTime(timezone=True)),
    sa.column("updated_at", services.db.types.AwareDateTime(timezone=True)),
    sa.column("version", sa.Integer()),
)
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
    conn = op.get_bind()
    sqlite = conn.dialect.name == "sqlite"
    _state_check(conn, sqlite, OLD_CHECK, NEW_CHECK)
    _carry_over(conn)
    op.drop_index("ix_cases_open_deadline", table_name="cases")
    if sqlite:
        op.execute("ALTER TABLE cases DROP COLUMN superseded")
    else:
        op.drop_column("cases", "superseded")
    _open_deadline_index(OVERDUE_TERM)
    op.create_table(
        "case_counts",
        sa.Column("root_path", sa.String(255), nullable=False),
        sa.Column("round_id", sa.Integer(), sa.ForeignKey("rounds.id"), nullable=False),
        sa.Column("category_code", sa.String(60), sa.ForeignKey("categories.code"), nullable=False),
        sa.Column("state", sa.String(20), nullable=False),
        sa.Column("escalated", sa.Boolean(), nullable=False),
        sa.Column("n", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint(
            "root_path",
            "round_id",
            "category_code",
            "state",
            "escalated",
            name=op.f("pk_case_counts"),
        ),
        postgresql_with={"fillfactor": "50"},  # room for HOT updates of the same rows
    )
    _fill_counts(conn)


def _state_check(conn, sqlite: bool, old: str, new: str) -> None:
    """Replace the state check ``old`` by ``new`` (either way; stored rows satisfy both)."""
    if not sqlite:
        op.drop_constraint(op.f("ck_cases_state"), "cases", type_="check")
        op.create_check_constraint(op.f("ck_cases_state"), "cases", new)
        return
    sql = conn.exec_driver_sql(
        "SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'cases'"
    ).scalar_one()
    if old not in sql:
        raise RuntimeError(f"cases: the state check is not {old!r}")
    version = conn.exec_driver_sql("PRAGMA schema_version").scalar_one()
    conn.exec_driver_sql("PRAGMA writable_schema = ON")
    conn.exec_driver_sql(
        "UPDATE sqlite_master SET sql = ? WHERE type = 'table' AND name = 'cases'",
        (sql.replace(old, new),),
    )
    conn.exec_driver_sql(f"PRAGMA schema_version = {int(version) + 1}")
    conn.exec_driver_sql("PRAGMA writable_schema = OFF")


def _carry_over(conn) -> None:
    """Each superseded open case: state continued, version + 1, one carry_over event."""
    successor = sa.alias(CASES, "successor")
    rows = conn.execute(
        sa.select(
            CASES.c.id, CASES.c.state, CASES.c.version, successor.c.id, successor.c.created_at
        )
        .join(successor, successor.c.previous_case_id == CASES.c.id)
        .where(CASES.c.superseded.is_(True), CASES.c.state.in_(OPEN))
        .order_by(CASES.c.id)
    ).all()
    for case_id, state, version, successor_id, opened_at in rows:
        last_hash, last_at = conn.execute(
            sa.select(EVENTS.c.hash, EVENTS.c.at)
            .where(EVENTS.c.case_id == case_id)
            .order_by(EVENTS.c.id.desc())
            .limit(1)
        ).first() or (None, None)
        at = max(opened_at, last_at) if last_at is not None else opened_at
        event = {
            "case_id": case_id,
            "trigger": "carry_over",
            "from_state": state,
            "to_state": "continued",
            "actor": SYSTEM_ACTOR,
            "actor_kind": "system",
            "at": at,
            "note": None,
            "data": {"successor_case_id": successor_id},
        }
        conn.execute(
            sa.insert(EVENTS).values(**event, hash=event_chain.event_hash(last_hash, event))
        )
        conn.execute(
            sa.update(CASES)
            .where(CASES.c.id == case_id)
            .values(state="continued", version=version + 1, updated_at=at)
        )


def _open_deadline_index(term: str) -> None:
    op.create_index(
        "ix_cases_open_deadline",
        "cases",
        ["deadline", "id"],
        postgresql_where=sa.text(term),
        sqlite_where=sa.text(term),
    )


def _fill_counts(conn) -> None:
    units = sa.table("units", sa.column("id", sa.Integer()), sa.column("path", sa.String()))
    level = sa.case((CASES.c.escalation_level > 0, True), else_=False)
    query = (
        sa.select(
            units.c.path,
            CASES.c.round_id,
            CASES.c.category_code,
            CASES.c.state,
            level,
            sa.func.count(),
        )
        .join(units, units.c.id == CASES.c.unit_id)
        .group_by(units.c.path, CASES.c.round_id, CASES.c.category_code, CASES.c.state, level)
    )
    totals: Counter = Counter()
    for path, round_id, category_code, state, escalated, n in conn.execute(query):
        root = "/" + path.split("/", 2)[1] + "/"
        totals[(root, round_id, category_code, state, bool(escalated))] += n
    table = sa.table(
        "case_counts",
        *(sa.column(name) for name in ("root_path", "round_id", "category_code", "state")),
        sa.column("escalated", sa.Boolean()),
        sa.column("n", sa.Integer()),
    )
    names = ("root_path", "round_id", "category_code", "state", "escalated")
    rows = [{**dict(zip(names, k, strict=True)), "n": n} for k, n in sorted(totals.items())]
    for start in range(0, len(rows), 1000):
        conn.execute(sa.insert(table), rows[start : start + 1000])


def downgrade() -> None:
    """Back to the flag: continued cases become superseded open cases again (their
    carry_over events stay in the append-only history)."""
    conn = op.get_bind()
    sqlite = conn.dialect.name == "sqlite"
    op.drop_table("case_counts")
    op.drop_index("ix_cases_open_deadline", table_name="cases")
    op.add_column(
        "cases", sa.Column("superseded", sa.Boolean(), nullable=False, server_default=sa.false())
    )
    events = EVENTS
    previous_state = (
        sa.select(events.c.from_state)
        .where(events.c.case_id == CASES.c.id, events.c.trigger == "carry_over")
        .order_by(events.c.id.desc())
        .limit(1)
        .scalar_subquery()
    )
    conn.execute(
        sa.update(CASES)
        .where(CASES.c.state == "continued")
        .values(superseded=True, state=previous_state)
    )
    term = OVERDUE_TERM + (" AND superseded = 0" if sqlite else " AND NOT superseded")
    _open_deadline_index(term)
    _state_check(conn, sqlite, NEW_CHECK, OLD_CHECK)
