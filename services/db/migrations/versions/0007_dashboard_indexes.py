"""cases: partial indexes for the live dashboard (veto cases; escalated cases)

Hand-written. The dashboard and the trends count a round's qualified targets per kind in SQL:
a target without an override fails when the round has a veto case on it.
``ix_cases_veto_target`` holds only veto cases (about one in twenty) by round and target, so
the rounds' veto pairs are one short index scan instead of every case of every target.
``ix_cases_escalated`` holds only escalated cases by escalation level: the dashboard's most
escalated cases are its first entries, not a sort of every escalated case.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-06 18:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

VETO = "severity = 'veto'"
ESCALATED = "state = 'escalated'"


def upgrade() -> None:
    op.create_index(
        "ix_cases_veto_target",
        "cases",
        ["round_id", "target_id"],
        postgresql_where=sa.text(VETO),
        sqlite_where=sa.text(VETO),
    )
    op.create_index(
        "ix_cases_escalated",
        "cases",
        ["escalation_level", "id"],
        postgresql_where=sa.text(ESCALATED),
        sqlite_where=sa.text(ESCALATED),
    )


def downgrade() -> None:
    op.drop_index("ix_cases_escalated", table_name="cases")
    op.drop_index("ix_cases_veto_target", table_name="cases")
