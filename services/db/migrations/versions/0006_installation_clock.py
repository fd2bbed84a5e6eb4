"""installation settings: the day every process on the database runs on (``rectify clock``)

Hand-written. Adds ``installation_settings`` (a key and its JSON value); the key ``clock``
holds the installation's day (``rectify demo``, ``rectify clock set``), no row: real time.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-06 16:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import services.db.types

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "installation_settings",
        sa.Column("key", sa.String(50), nullable=False),
        sa.Column("value", sa.JSON(), nullable=False),
        sa.Column("updated_at", services.db.types.AwareDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_installation_settings")),
    )


def downgrade() -> None:
    op.drop_table("installation_settings")
