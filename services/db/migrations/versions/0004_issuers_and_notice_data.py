"""issuers (发文机关), rounds' issuer and data blocks, categories managed as data, county notices

Hand-written. Adds the ``issuers`` table (a unit of the tree that runs rounds, with its
notice defaults), ``rounds.issuer_id`` and ``rounds.blocks``, the category fields a
supervisor edits (target kinds, theme, wording per kind, retired; names unique, since imports
accept a category by its name) and ``cases.notices_county``. Columns are added with plain
``ADD COLUMN`` (no batch copy of SQLite tables, which would drop 0002's triggers).

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-06 05:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "issuers",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("unit_id", sa.Integer(), sa.ForeignKey("units.id"), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("short_name", sa.String(100), nullable=False),
        sa.Column("level", sa.String(20), nullable=False),
        sa.Column("doc_pattern", sa.String(100), nullable=True),
        sa.Column("texts", sa.JSON(), nullable=False),
        sa.Column("options", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_issuers")),
        sa.UniqueConstraint("unit_id", name=op.f("uq_issuers_unit_id")),
    )
    op.execute(  # a named column constraint: SQLite cannot add a foreign key afterwards
        "ALTER TABLE rounds ADD COLUMN issuer_id INTEGER "
        "CONSTRAINT fk_rounds_issuer_id_issuers REFERENCES issuers (id)"
    )
    op.add_column("rounds", _json("blocks", "{}"))
    op.create_index(op.f("ix_rounds_issuer_id"), "rounds", ["issuer_id"])
    op.add_column("categories", _json("target_kinds", "[]"))
    op.add_column("categories", sa.Column("theme", sa.String(200), nullable=True))
    op.add_column("categories", _json("wording", "{}"))
    op.add_column(
        "categories",
        sa.Column("retired", sa.Boolean(), nullable=False, server_default=sa.false()),
    )
    op.create_index(op.f("uq_categories_name"), "categories", ["name"], unique=True)
    op.add_column(
        "cases",
        sa.Column("notices_county", sa.Integer(), nullable=False, server_default="0"),
    )


def _json(name: str, empty: str) -> sa.Column:
    """A JSON column filled with ``empty`` in existing rows (NOT NULL, as the model says)."""
    return sa.Column(name, sa.JSON(), nullable=False, server_default=sa.text(f"'{empty}'"))


def downgrade() -> None:
    op.drop_column("cases", "notices_county")
    op.drop_index(op.f("uq_categories_name"), table_name="categories")
    for name in ("retired", "wording", "theme", "target_kinds"):
        op.drop_column("categories", name)
    if op.get_bind().dialect.name == "postgresql":
        op.drop_constraint(op.f("fk_rounds_issuer_id_issuers"), "rounds", type_="foreignkey")
    op.drop_index(op.f("ix_rounds_issuer_id"), table_name="rounds")
    op.drop_column("rounds", "blocks")
    op.drop_column("rounds", "issuer_id")
    op.drop_table("issuers")
