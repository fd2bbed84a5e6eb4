"""The migrations build exactly the schema the models describe."""

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

from services.db.models import Base


def test_migrated_schema_matches_the_models(app):
    with app.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    assert diff == [], "\n".join(map(repr, diff))


def test_every_model_table_exists_after_upgrade(app):
    tables = set(inspect(app.engine).get_table_names())
    assert set(Base.metadata.tables) <= tables
