"""Shared fixtures: real databases (a temporary SQLite file and a fresh PostgreSQL database),
and the dispatcher, tracker and domain that Rasa actions are called with."""
import asyncio
import os
import threading
import uuid
from pathlib import Path
from typing import Any, Dict, Iterator, List, Optional

import pytest
import yaml
from sqlalchemy import create_engine, inspect, text

from panchayat import db, migrate, seed

ROOT = Path(__file__).resolve().parent.parent
PG_ADMIN_URL = os.environ.get("TEST_PG_ADMIN_URL", "postgresql://postgres@127.0.0.1:5432/postgres")


def _create_pg_database() -> str:
    name = f"panchayat_test_{uuid.uuid4().hex[:10]}"
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception as error:  # pragma: no cover - a machine without the service
        pytest.fail(f"PostgreSQL is needed for these tests ({PG_ADMIN_URL}): {error}")
    finally:
        admin.dispose()
    return PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"


def _drop_pg_database(url: str) -> None:
    db.dispose_engines()
    name = url.rsplit("/", 1)[1]
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def empty_database(request, tmp_path, monkeypatch) -> Iterator[str]:
    """The URL of a new, empty database of each kind; also set as DATABASE_URL."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'panchayat.db'}"
    else:
        url = _create_pg_database()
    monkeypatch.setenv("DATABASE_URL", url)
    yield url
    db.dispose_engines()
    if request.param == "postgresql":
        _drop_pg_database(url)


@pytest.fixture
def database(empty_database) -> str:
    """A migrated database with the LGD reference data and the demo data."""
    migrate.upgrade(empty_database)
    with db.session_scope(empty_database) as session:
        seed.seed_demo(session)
    return empty_database


@pytest.fixture
def sqlite_database(tmp_path, monkeypatch) -> Iterator[str]:
    """A migrated and seeded SQLite database only, for tests of the dialogue layer."""
    url = f"sqlite:///{tmp_path / 'panchayat.db'}"
    monkeypatch.setenv("DATABASE_URL", url)
    migrate.upgrade(url)
    with db.session_scope(url) as session:
        seed.seed_demo(session)
    yield url
    db.dispose_engines()


def snapshot(url: str) -> Dict[str, List[tuple]]:
    """Every row of every table, to show that a failed command changed nothing."""
    engine = db.get_engine(url)
    tables = sorted(inspect(engine).get_table_names())
    with engine.connect() as connection:
        return {
            table: sorted(map(tuple, connection.execute(text(f'SELECT * FROM "{table}"'))), key=repr)
            for table in tables
        }


# --- An event loop in a thread, for servers the tests talk to from synchronous code ---------


class LoopThread:
    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()

    def run(self, coroutine, timeout: float = 60) -> Any:
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result(timeout)

    def stop(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(5)


@pytest.fixture(scope="module")
def loop_thread():
    runner = LoopThread()
    yield runner
    runner.stop()


# --- Rasa action fixtures -------------------------------------------------------------


@pytest.fixture(scope="session")
def domain() -> Dict:
    with open(ROOT / "domain.yml", encoding="utf-8") as handle:
        return yaml.safe_load(handle)


@pytest.fixture
def dispatcher():
    from rasa_sdk.executor import CollectingDispatcher

    return CollectingDispatcher()


@pytest.fixture
def make_tracker():
    """Builds a Tracker for one user message, with slots and earlier events as given."""
    from rasa_sdk import Tracker

    def build(
        text: str = "",
        intent: str = "inform",
        sender: str = seed.DEMO_CITIZEN,
        slots: Optional[Dict] = None,
        entities: Optional[List[Dict]] = None,
        events: Optional[List[Dict]] = None,
        active_loop: Optional[str] = None,
        metadata: Optional[Dict] = None,
    ) -> "Tracker":
        latest = {"text": text, "intent": {"name": intent, "confidence": 1.0}, "entities": entities or [],
                  "metadata": metadata or {}}
        history = list(events or []) + [{"event": "user", "text": text, "parse_data": latest,
                                         "metadata": metadata or {}}]
        return Tracker(
            sender_id=sender,
            slots=dict(slots or {}),
            latest_message=latest,
            events=history,
            paused=False,
            followup_action=None,
            active_loop={"name": active_loop} if active_loop else {},
            latest_action_name="action_listen",
        )

    return build
