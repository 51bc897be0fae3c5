"""Shared fixtures: real databases (a temporary SQLite file and a fresh PostgreSQL database, each
a copy of a template migrated and seeded once per session), and the dispatcher, tracker and
domain that Rasa actions are called with."""
import asyncio
import os
import shutil
import sqlite3
import threading
import uuid
from contextlib import closing
from pathlib import Path
from typing import Any, Callable, Dict, Iterator, List, Optional, Tuple

import pytest
import yaml
from sqlalchemy import create_engine, inspect, text

from panchayat import db, migrate, seed

ROOT = Path(__file__).resolve().parent.parent
PG_ADMIN_URL = os.environ.get("TEST_PG_ADMIN_URL", "postgresql://postgres@127.0.0.1:5432/postgres")


def _pg_url(name: str) -> str:
    return PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"


def _pg_admin(statement: str) -> None:
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            connection.execute(text(statement))
    except Exception as error:  # pragma: no cover - a machine without the service
        pytest.fail(f"PostgreSQL is needed for these tests ({PG_ADMIN_URL}): {error}")
    finally:
        admin.dispose()


def _create_pg_database(template: Optional[str] = None) -> str:
    """A new PostgreSQL database, empty or a copy of `template`; returns its URL."""
    name = f"panchayat_test_{uuid.uuid4().hex[:10]}"
    _pg_admin(f'CREATE DATABASE "{name}"' + (f' TEMPLATE "{template}"' if template else ""))
    return _pg_url(name)


def _drop_pg_database(url: str) -> None:
    db.dispose_engines()
    name = url.rsplit("/", 1)[1]
    _pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


class Templates:
    """Migrated databases, with and without the demo data, built once per test session and
    engine; each test gets its own copy (a copied SQLite file, a PostgreSQL database created
    from the template), so tests stay isolated without migrating and seeding every time."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        # Unique per session: several sessions may share one PostgreSQL server at once.
        self.prefix = f"panchayat_template_{uuid.uuid4().hex[:10]}"
        self.built: Dict[Tuple[str, bool], str] = {}
        self.pg_templates: List[str] = []

    def copy(self, engine: str, seeded: bool, folder: Path) -> str:
        """The URL of a new database of `engine` ("sqlite" or "postgresql") for one test."""
        template = self.built.get((engine, seeded))
        if template is None:
            template = self.built[(engine, seeded)] = self._build(engine, seeded)
        if engine == "postgresql":
            return _create_pg_database(template=template)
        target = folder / "panchayat.db"
        if target.exists():
            target = folder / f"panchayat-{uuid.uuid4().hex[:6]}.db"
        shutil.copyfile(template, target)
        return f"sqlite:///{target}"

    def _build(self, engine: str, seeded: bool) -> str:
        """Migrates (and seeds) a template; returns its file path or PostgreSQL database name."""
        kind = "seeded" if seeded else "migrated"
        if engine == "postgresql":
            name = f"{self.prefix}_{kind}"
            self.pg_templates.append(name)
            _pg_admin(f'CREATE DATABASE "{name}"')
            url = _pg_url(name)
        else:
            path = self.folder / f"{kind}.db"
            url = f"sqlite:///{path}"
        migrate.upgrade(url)
        if seeded:
            with db.session_scope(url) as session:
                seed.seed_demo(session)
        # No connection may stay open: PostgreSQL copies only a template nobody is connected to,
        # and SQLite's write-ahead log must be folded back into the one file that is copied.
        db.dispose_engines()
        if engine == "postgresql":
            return name
        with closing(sqlite3.connect(path)) as connection:
            connection.execute("PRAGMA journal_mode=DELETE")
        return str(path)

    def drop(self) -> None:
        for name in self.pg_templates:
            _drop_pg_database(_pg_url(name))


@pytest.fixture(scope="session")
def templates(tmp_path_factory) -> Iterator[Templates]:
    built = Templates(tmp_path_factory.mktemp("templates"))
    yield built
    built.drop()


@pytest.fixture
def new_database(templates, tmp_path, monkeypatch) -> Iterator[Callable[..., str]]:
    """Makes a migrated database of an engine for this test, with the demo data unless
    seeded=False, sets it as DATABASE_URL and removes it after the test."""
    made: List[str] = []

    def make(engine: str, seeded: bool = True) -> str:
        url = templates.copy(engine, seeded, tmp_path)
        made.append(url)
        monkeypatch.setenv("DATABASE_URL", url)
        return url

    yield make
    db.dispose_engines()
    for url in made:
        if url.startswith("postgresql"):
            _drop_pg_database(url)


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


@pytest.fixture(params=["sqlite", "postgresql"])
def migrated_database(request, new_database) -> str:
    """A migrated database of each kind without any data; also set as DATABASE_URL."""
    return new_database(request.param, seeded=False)


@pytest.fixture(params=["sqlite", "postgresql"])
def database(request, new_database) -> str:
    """A migrated database of each kind with the LGD reference data and the demo data."""
    return new_database(request.param)


@pytest.fixture
def sqlite_database(new_database) -> str:
    """A migrated and seeded SQLite database only, for tests of the dialogue layer."""
    return new_database("sqlite")


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


# --- The staff console: a signed-in browser per role ---------------------------------------


class ConsoleBrowser:
    """A Flask test client signed in as one staff account (its password already its own).
    `post` sends the session's form token, as every form of the console does; `post_raw` does not."""

    def __init__(self, client, username: str) -> None:
        self.client = client
        self.username = username

    def get(self, url: str, **kwargs):
        return self.client.get(url, **kwargs)

    def csrf(self) -> str:
        import re

        page = self.client.get("/password")
        return re.search(r'name="csrf_token" value="([^"]+)"', page.get_data(as_text=True)).group(1)

    def post(self, url: str, data: Optional[Dict[str, Any]] = None, **kwargs):
        return self.client.post(url, data={**(data or {}), "csrf_token": self.csrf()}, **kwargs)

    def post_raw(self, url: str, data: Optional[Dict[str, Any]] = None, **kwargs):
        return self.client.post(url, data=data or {}, **kwargs)


@pytest.fixture
def console(database):
    """Makes signed-in console browsers on the test's database (each engine):
    `console.sign_in("clerk", gp_code=990001)`, `console.sign_in("block_officer", block_code=3029)`.
    `console.app` is the Flask app; `console.anonymous()` a client that is not signed in."""
    import re

    from console.app import create_app
    from panchayat import staff

    app = create_app(database, testing=True)

    class Console:
        def __init__(self) -> None:
            self.app = app
            self.url = database
            self.count = 0

        def anonymous(self, language: str = "en"):
            client = app.test_client()
            client.set_cookie("panchayat_console_lang", language)
            return client

        def sign_in(self, role: str, gp_code: Optional[int] = None, block_code: Optional[int] = None,
                    language: str = "en", username: Optional[str] = None) -> ConsoleBrowser:
            self.count += 1
            username = username or f"{role.replace('_', '')}{self.count}"
            with db.session_scope(database) as session:
                _, one_time = staff.add(session, username, f"Test {role.title()} {self.count}", role, "test",
                                        gp_code=gp_code, block_code=block_code, language=language)
            client = self.anonymous(language)
            token = re.search(r'name="csrf_token" value="([^"]+)"',
                              client.get("/login").get_data(as_text=True)).group(1)
            answer = client.post("/login", data={"username": username, "password": one_time, "csrf_token": token})
            assert answer.status_code == 302, answer.status_code
            browser = ConsoleBrowser(client, username)
            changed = browser.post("/password", {"current_password": one_time, "new_password": "Green-paddy-2026",
                                                 "repeat_password": "Green-paddy-2026"})
            assert changed.status_code == 302, changed.status_code
            return browser

    return Console()
