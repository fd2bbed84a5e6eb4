"""login failures shared by every web process; the hand-made work claims dropped

Hand-written. A sign-in lockout kept in one process's memory let each of several web
processes count its own failures: ``login_failures`` holds them for all. The recheck and the
sweep now spread their batches over Prefect's own machinery (Dask through prefect-dask), so
``work_claims``, the lease table of the old hand-made queue, is dropped.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-06 10:20:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import services.db.types

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "login_failures",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("account", sa.String(length=200), nullable=False),
        sa.Column("failed_at", services.db.types.AwareDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_login_failures")),
    )
    op.create_index("ix_login_failures_account", "login_failures", ["account", "failed_at"])
    op.drop_index("ix_work_claims_job_open", table_name="work_claims")
    op.drop_table("work_claims")


def downgrade() -> None:
    op.create_table(
        "work_claims",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("job", sa.String(length=100), nullable=False),
        sa.Column("first_id", sa.Integer(), nullable=False),
        sa.Column("last_id", sa.Integer(), nullable=False),
        sa.Column("holder", sa.String(length=100), nullable=True),
        sa.Column("lease_until", sa.Double(), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("done_at", sa.Double(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_work_claims")),
        sa.UniqueConstraint("job", "first_id", name="batch"),
    )
    op.create_index("ix_work_claims_job_open", "work_claims", ["job", "done_at", "id"])
    op.drop_index("ix_login_failures_account", table_name="login_failures")
    op.drop_table("login_failures")
