"""Engine and session construction for SQLite (embedded default) and PostgreSQL."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import DateTime, Engine, create_engine, event
from sqlalchemy.engine import Dialect
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.types import TypeDecorator

log = logging.getLogger(__name__)
T = TypeVar("T")


class UTCDateTime(TypeDecorator[datetime]):
    """Aware datetimes stored as UTC; SQLite has no time zones, so we normalise on the way in and out."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        """Store as naive UTC."""
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the store; use an aware datetime")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        """Return aware UTC."""
        return None if value is None else value.replace(tzinfo=UTC)


def utcnow() -> datetime:
    """The current instant, aware UTC."""
    return datetime.now(UTC)


def make_engine(url: str, **kwargs: Any) -> Engine:
    """An engine with the pragmas each backend needs for concurrent workers.

    Statement parameters are hidden from errors and logs: they hold citizens' names, phones and
    complaint text, and a DataError's message would carry them into the log.
    """
    kwargs.setdefault("hide_parameters", True)
    if url.startswith("sqlite"):
        path = url.split("///", 1)[-1]
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30}, **kwargs)

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
            # WAL lets the API read while a worker writes; the busy timeout makes writers queue.
            dbapi_conn.isolation_level = None  # SQLAlchemy drives BEGIN itself (see "begin" below)
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA busy_timeout=30000")
            cur.close()

        @event.listens_for(engine, "begin")
        def _sqlite_begin(conn: Any) -> None:
            # BEGIN IMMEDIATE takes the write lock up front, so two workers claiming the same row
            # serialise instead of failing with "database is locked" at commit.
            conn.exec_driver_sql("BEGIN IMMEDIATE")

        return engine
    kwargs.setdefault("pool_size", 20)
    kwargs.setdefault("max_overflow", 10)
    kwargs.setdefault("pool_pre_ping", True)
    return create_engine(url, **kwargs)


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    """Sessions that keep loaded objects usable after commit."""
    return sessionmaker(engine, expire_on_commit=False)


@contextmanager
def transaction(factory: sessionmaker[Session]) -> Iterator[Session]:
    """One unit of work: commit on success, roll back on error."""
    with factory() as session, session.begin():
        yield session


# -- connection loss: transient, retried once on a fresh connection -----------------------------------

# PostgreSQL SQLSTATEs of a server going away or not yet back: class 08 (connection exception),
# admin/crash shutdown and "the database system is starting up" (57P01-57P03).
_GONE_STATES = ("57P01", "57P02", "57P03")


class DatabaseUnavailable(Exception):
    """The database could not be reached, on a fresh connection either: transient, the sweeper covers it."""


def connection_lost(exc: BaseException) -> bool:
    """True when ``exc`` means the connection (or the server) went away, not that a statement was wrong.

    A PostgreSQL restart or failover cuts every pooled connection and refuses new ones for a moment;
    that is weather, not a bug. SQLite has no connections to lose: its errors (locked, no such table)
    are never taken for one.
    """
    if isinstance(exc, DatabaseUnavailable):
        return True
    if not isinstance(exc, DBAPIError):
        return False
    if exc.connection_invalidated:
        return True
    if not isinstance(exc, OperationalError | InterfaceError):
        return False
    orig = exc.orig
    if type(orig).__module__.startswith("sqlite3"):
        return False
    state = getattr(orig, "sqlstate", None)  # psycopg: None for client-side failures (refused, reset, EOF)
    return state is None or state.startswith("08") or state in _GONE_STATES


def sqlite_busy(exc: BaseException) -> bool:
    """True when SQLite answered "database is locked": another writer held the lock past the busy timeout
    (or SQLite declined to wait, as it may under WAL). Repeating the work a moment later is safe."""
    orig = getattr(exc, "orig", None)
    return (isinstance(exc, OperationalError) and type(orig).__module__.startswith("sqlite3")
            and "database is locked" in str(orig))


def transient(exc: BaseException) -> bool:
    """A lost connection, or a busy SQLite: weather worth one more try, never a wrong statement."""
    return connection_lost(exc) or sqlite_busy(exc)


def brief(exc: BaseException) -> str:
    """One line naming a database error: its driver class and the first line of its message, no SQL."""
    orig = getattr(exc, "orig", None) or exc
    first = (str(orig).strip().splitlines() or [""])[0]
    return f"{type(orig).__name__}: {first[:200]}"


def retry_on_disconnect(
    work: Callable[[], T],
    *,
    what: str,
    patience_s: float = 0.0,
    sleep: Callable[[float], None] = time.sleep,
) -> T:
    """Run ``work``; when the connection was lost (or SQLite was busy), once more on a fresh one.

    ``patience_s`` > 0 keeps retrying with short pauses for that long (a database restart takes a few
    seconds), for work whose outcome is worth waiting for, such as recording what a platform answered.
    Logs exactly one line when the retry succeeds; raises ``DatabaseUnavailable`` (one line, for the
    caller to log) when it does not. Any other error propagates unchanged. ``work`` must be safe to
    repeat: every store write here is a conditional update or an idempotent insert.
    """
    try:
        return work()
    except Exception as exc:
        if not transient(exc):
            raise
        first = exc
    deadline, pause = time.monotonic() + patience_s, 0.25
    while True:
        try:
            result = work()
        except Exception as exc:
            if not transient(exc):
                raise
            if time.monotonic() + pause > deadline:
                raise DatabaseUnavailable(f"{what}: database unavailable ({brief(exc)})") from None
            sleep(pause)
            pause = min(pause * 2, 2.0)
            continue
        log.warning("%s: database %s (%s); done on a fresh connection", what,
                    "busy" if sqlite_busy(first) else "connection lost", brief(first))
        return result


def in_transaction(
    factory: sessionmaker[Session], work: Callable[[Session], T], *, what: str, patience_s: float = 0.0
) -> T:
    """``work(session)`` in one transaction, retried on a fresh connection if the connection was lost."""

    def once() -> T:
        with transaction(factory) as session:
            return work(session)

    return retry_on_disconnect(once, what=what, patience_s=patience_s)
