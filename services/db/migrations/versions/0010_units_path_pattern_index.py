"""units: the path index in pattern order on PostgreSQL (subtree ``LIKE 'prefix%'``)

Hand-written. Every scope, notice and dashboard reads a subtree as ``path LIKE '/a/b/%'``.
Under a collation other than "C" (``C.UTF-8``, ``zh_CN.UTF-8``) PostgreSQL cannot use a plain
btree index for that and scans every unit: 4.4 ms a query at 40,000 units against 0.05 ms
with the index in ``varchar_pattern_ops``, which also serves equality. SQLite keeps its index.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-06 17:40:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.drop_index("ix_units_path", table_name="units")
    op.create_index(
        "ix_units_path", "units", ["path"], postgresql_ops={"path": "varchar_pattern_ops"}
    )


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.drop_index("ix_units_path", table_name="units")
    op.create_index("ix_units_path", "units", ["path"])
