"""What counts as a lost database connection, and how it is retried (issue 12 point 3)."""

from __future__ import annotations

import logging
import sqlite3
from typing import Any

import pytest
from sqlalchemy.exc import IntegrityError, OperationalError, ProgrammingError

from gateway.services.liveness import Heartbeat
from gateway.store.db import DatabaseUnavailable, connection_lost, retry_on_disconnect, sqlite_busy, transient


class _Driver(Exception):
    def __init__(self, sqlstate: str | None) -> None:
        super().__init__("driver error")
        self.sqlstate = sqlstate


def test_only_a_lost_connection_counts_as_one_not_a_wrong_statement() -> None:
    assert connection_lost(OperationalError("SELECT 1", {}, _Driver(None)))  # refused, reset, EOF
    assert connection_lost(OperationalError("SELECT 1", {}, _Driver("08006")))  # connection failure
    assert connection_lost(OperationalError("SELECT 1", {}, _Driver("57P03")))  # starting up
    assert connection_lost(ProgrammingError("SELECT 1", {}, _Driver("42P01"), connection_invalidated=True))
    assert not connection_lost(ProgrammingError("SELECT 1", {}, _Driver("42P01")))  # no such table
    assert not connection_lost(IntegrityError("INSERT", {}, _Driver("23505")))
    assert not connection_lost(OperationalError("SELECT 1", {}, sqlite3.OperationalError("database is locked")))
    assert not connection_lost(ValueError("x"))

    tries: list[int] = []

    def flaky() -> str:
        tries.append(1)
        if len(tries) < 4:
            raise OperationalError("SELECT 1", {}, _Driver("57P03"))
        return "ok"

    with pytest.raises(DatabaseUnavailable):  # once more only, without patience
        retry_on_disconnect(flaky, what="test")
    assert len(tries) == 2
    tries.clear()
    slept: list[float] = []
    assert retry_on_disconnect(flaky, what="test", patience_s=5, sleep=slept.append) == "ok"
    assert slept == [0.25, 0.5]  # with patience: short, growing pauses while the database comes back


def test_a_busy_sqlite_is_tried_once_more_but_a_wrong_statement_is_not(caplog: pytest.LogCaptureFixture) -> None:
    """An inbox row whose worker met "database is locked" is done on the next try, not left for minutes
    to the sweeper (seen in CI: SQLite under WAL may decline to wait); "no such table" still raises."""
    locked = OperationalError("BEGIN IMMEDIATE", {}, sqlite3.OperationalError("database is locked"))
    assert sqlite_busy(locked) and transient(locked) and not connection_lost(locked)
    missing = OperationalError("SELECT 1", {}, sqlite3.OperationalError("no such table: tickets"))
    assert not sqlite_busy(missing) and not transient(missing)
    tries: list[int] = []

    def busy_once() -> str:
        tries.append(1)
        if len(tries) == 1:
            raise locked
        return "ok"

    with caplog.at_level(logging.WARNING, logger="gateway.store.db"):
        assert retry_on_disconnect(busy_once, what="inbox row 7") == "ok"
    assert len(tries) == 2 and "inbox row 7: database busy" in caplog.text

    def wrong() -> str:
        raise missing

    with pytest.raises(OperationalError):
        retry_on_disconnect(wrong, what="inbox row 8")


def test_a_heartbeat_that_cannot_be_written_says_so_once_per_outage_and_never_raises(
    caplog: pytest.LogCaptureFixture,
) -> None:
    from datetime import UTC, datetime

    away = [True]

    class Session:
        def __enter__(self) -> Session:
            if away[0]:
                raise OperationalError("BEGIN", {}, _Driver(None))  # connection refused
            return self

        def __exit__(self, *_: Any) -> None:
            return None

        def begin(self) -> Session:
            return self

        def get_bind(self) -> Any:
            raise AssertionError("not reached in this test")

    heart = Heartbeat(lambda: Session(), owner="w1", clock=lambda: datetime(2026, 12, 5, tzinfo=UTC),  # type: ignore[arg-type]
                      interval_s=2, ttl_s=10)
    caplog.set_level(logging.INFO)
    assert [heart.beat() for _ in range(3)] == [False, False, False]
    (record,) = caplog.records
    assert record.levelno == logging.WARNING and record.exc_info is None and "heartbeat of w1" in record.getMessage()
