"""The database fixtures: each test's database is its own copy of a template migrated (and
seeded) once per session, so what one test writes never shows in another's."""
import os

import pytest
from sqlalchemy import text

from panchayat import db, migrate, seed
from tests.conftest import snapshot

ENGINES = ["sqlite", "postgresql"]


@pytest.mark.parametrize("engine", ENGINES)
def test_a_seeded_copy_has_the_newest_schema_and_the_demo_data(new_database, engine):
    url = new_database(engine)
    assert os.environ["DATABASE_URL"] == url
    assert migrate.current_revision(url) == migrate.head_revision()
    with db.session_scope(url) as session:
        assert seed.demo_present(session)


@pytest.mark.parametrize("engine", ENGINES)
def test_a_migrated_copy_has_the_newest_schema_and_no_data(new_database, engine):
    url = new_database(engine, seeded=False)
    assert migrate.current_revision(url) == migrate.head_revision()
    rows = {table: found for table, found in snapshot(url).items() if table != "alembic_version" and found}
    assert rows == {}


@pytest.mark.parametrize("engine", ENGINES)
def test_what_one_copy_is_given_never_shows_in_another(new_database, engine):
    changed = new_database(engine)
    with db.session_scope(changed) as session:
        session.execute(text("UPDATE alembic_version SET version_num = 'changed'"))
    later = new_database(engine)
    assert later != changed
    assert migrate.current_revision(changed) == "changed"
    assert migrate.current_revision(later) == migrate.head_revision()
