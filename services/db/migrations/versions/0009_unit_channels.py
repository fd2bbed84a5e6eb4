"""robot channels per unit (企业微信、钉钉、飞书) delivered from the outbox

Hand-written. ``unit_channels`` holds a unit's group-robot webhooks (the URL the office
pastes, and a signing secret for DingTalk and Feishu); an outbox row names its ``channel``
(``email`` for every row written before) and, for a robot, the ``channel_id`` it goes to.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-06 11:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import services.db.types

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "unit_channels",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("webhook_url", sa.String(length=1000), nullable=False),
        sa.Column("secret", sa.String(length=200), nullable=True),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("created_at", services.db.types.AwareDateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "kind IN ('wecom', 'dingtalk', 'feishu')", name=op.f("ck_unit_channels_kind")
        ),
        sa.ForeignKeyConstraint(
            ["unit_id"], ["units.id"], name=op.f("fk_unit_channels_unit_id_units")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_unit_channels")),
        sa.UniqueConstraint("unit_id", "name", name="uq_unit_channels_unit_name"),
    )
    op.create_index("ix_unit_channels_unit_id", "unit_channels", ["unit_id"])
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("channel", sa.String(length=20), server_default="email", nullable=False)
        )
        batch_op.add_column(sa.Column("channel_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_outbox_channel_id_unit_channels"),
            "unit_channels",
            ["channel_id"],
            ["id"],
        )
        batch_op.create_index("ix_outbox_channel_id", ["channel_id"])


def downgrade() -> None:
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.drop_index("ix_outbox_channel_id")
        batch_op.drop_constraint(
            batch_op.f("fk_outbox_channel_id_unit_channels"), type_="foreignkey"
        )
        batch_op.drop_column("channel_id")
        batch_op.drop_column("channel")
    op.drop_index("ix_unit_channels_unit_id", table_name="unit_channels")
    op.drop_table("unit_channels")
