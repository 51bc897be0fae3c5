"""Engine and session handling for SQLite (default) and PostgreSQL."""

import functools
from contextlib import contextmanager
from typing import Any, Callable, Dict, Iterator, Optional, TypeVar

from sqlalchemy import create_engine, event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from panchayat import config

_engines: Dict[str, Engine] = {}


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    cursor = dbapi_connection.cursor()
    # Foreign keys are off by default in SQLite; integrity must hold there too.
    cursor.execute("PRAGMA foreign_keys=ON")
    # Action server and CLI may write at the same time: wait instead of failing.
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.close()
    # The sqlite3 driver begins a transaction only before its first write, so a SAVEPOINT taken
    # earlier (begin_nested, as get_or_create does) began one of its own and its RELEASE
    # committed: a citizen row could outlive the rollback of the work that created it. We
    # begin every transaction ourselves instead (_sqlite_begin), as SQLAlchemy's SQLite notes advise.
    dbapi_connection.isolation_level = None


def _sqlite_begin(connection) -> None:
    # IMMEDIATE takes the write lock at once: two units of work that read and then write (two
    # guests confirming the last room) queue on busy_timeout instead of one failing on a
    # stale snapshot. Units of work are short, so the queue is too.
    connection.exec_driver_sql("BEGIN IMMEDIATE")


def get_engine(url: Optional[str] = None) -> Engine:
    # hide_parameters: a database error logged with its traceback names the statement but not its
    # values, which can be a citizen's number, a complaint's words or an employee's details.
    url = url or config.database_url()
    engine = _engines.get(url)
    if engine is None:
        if url.startswith("sqlite"):
            engine = create_engine(url, future=True, hide_parameters=True, connect_args={"timeout": 10})
            event.listen(engine, "connect", _sqlite_pragmas)
            event.listen(engine, "begin", _sqlite_begin)
        else:
            engine = create_engine(url, future=True, hide_parameters=True, pool_pre_ping=True)
        _engines[url] = engine
    return engine


def dispose_engines() -> None:
    for engine in _engines.values():
        engine.dispose()
    _engines.clear()


@contextmanager
def session_scope(url: Optional[str] = None) -> Iterator[Session]:
    """One unit of work: commit on success, roll back everything on any error."""
    session = sessionmaker(bind=get_engine(url), future=True, expire_on_commit=False)()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


Result = TypeVar("Result")


def transaction(func: Callable[..., Result]) -> Callable[..., Result]:
    """The one way a journey, the channel or the outbox opens its unit of work.

    `@transaction def book(session, sender, draft)` is called as `book(sender, draft)`: the call
    opens a session, commits when the function returns and rolls everything back when it raises,
    so a PanchayatError leaves nothing half-written. The caller never sees a session.
    The keyword `database_url` picks another database than DATABASE_URL (the notification
    worker is given its database explicitly); the function itself never sees it.
    """

    @functools.wraps(func)
    def in_one_transaction(*args: Any, database_url: Optional[str] = None, **kwargs: Any) -> Result:
        with session_scope(database_url) as session:
            return func(session, *args, **kwargs)

    return in_one_transaction
