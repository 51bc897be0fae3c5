"""Schema migrations through Alembic, driven from code (no alembic.ini needed)."""

from pathlib import Path
from typing import Optional

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

from panchayat import config, db

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"


def alembic_config(url: Optional[str] = None) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    cfg.set_main_option("sqlalchemy.url", (url or config.database_url()).replace("%", "%%"))
    return cfg


def upgrade(url: Optional[str] = None) -> Optional[str]:
    """Creates or migrates the schema to the newest revision; returns that revision."""
    command.upgrade(alembic_config(url), "head")
    return current_revision(url)


def current_revision(url: Optional[str] = None) -> Optional[str]:
    with db.get_engine(url).connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def head_revision() -> Optional[str]:
    return ScriptDirectory.from_config(alembic_config("sqlite://")).get_current_head()


def revision(message: str, url: Optional[str] = None) -> None:
    """For developers: autogenerate a migration from the models' changes."""
    command.revision(alembic_config(url), message=message, autogenerate=True)
