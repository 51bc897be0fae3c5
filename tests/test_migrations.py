"""Migrations build the whole schema from empty, on SQLite and PostgreSQL, and match the models."""
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

from panchayat import db, migrate
from panchayat.models import metadata


def test_upgrade_from_empty_creates_every_table_and_matches_the_models(empty_database):
    assert migrate.current_revision(empty_database) is None
    assert migrate.upgrade(empty_database) == migrate.head_revision()
    engine = db.get_engine(empty_database)
    tables = set(inspect(engine).get_table_names())
    assert set(metadata.tables) <= tables
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        assert compare_metadata(context, metadata) == []


def test_upgrade_twice_is_harmless(empty_database):
    first = migrate.upgrade(empty_database)
    assert migrate.upgrade(empty_database) == first
