"""The database connection is lost (a PostgreSQL restart or failover): workers and the scheduler carry on.

Issue 12 point 3. On PostgreSQL the gateway's own backend is really terminated under the statement
(``pg_terminate_backend``), so the driver meets a dead connection exactly as after a restart; on
SQLite, which has no server to lose, the driver error is flagged a disconnect the way SQLAlchemy
flags PostgreSQL's. Either way: once more on a fresh connection, one log line, no traceback.
"""

from __future__ import annotations

import logging
import sqlite3
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from sqlalchemy import Engine, create_engine, event, text

from app.bootstrap import bootstrap
from gateway.container import Container
from gateway.services.signing import evidence_links
from gateway.store.tables import OutboxRecord, TicketRecord
from tests.fakes import FakeAdapter, FakeMapper, actors
from tests.integration.test_delivery_recovery import write_back
from workers.scheduler import Scheduler

MARK = "simulated: connection to the database lost"


class Cut:
    """Cuts the gateway's database connection under its next ``times`` statements (those containing
    ``only``, when set)."""

    def __init__(self, engine: Engine, db_url: str) -> None:
        self.times = 0
        self.cuts = 0
        self.only: str | None = None
        self.admin = create_engine(db_url, isolation_level="AUTOCOMMIT") if db_url.startswith("postgresql") else None
        event.listen(engine, "before_cursor_execute", self._before)
        event.listen(engine, "handle_error", self._flag)

    def _before(self, conn: Any, cursor: Any, statement: str, *_: Any) -> None:
        if self.times <= 0 or (self.only is not None and self.only not in statement):
            return
        self.times -= 1
        self.cuts += 1
        if self.admin is None:
            raise sqlite3.OperationalError(MARK)
        pid = conn.connection.dbapi_connection.info.backend_pid
        with self.admin.connect() as admin:  # what a restart does to this backend
            admin.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
            deadline = time.monotonic() + 10
            while admin.execute(text("SELECT 1 FROM pg_stat_activity WHERE pid = :pid"), {"pid": pid}).first():
                assert time.monotonic() < deadline, "the backend outlived pg_terminate_backend"
                time.sleep(0.01)
        # The statement now goes out on a dead connection and fails in the driver, for real.

    @staticmethod
    def _flag(context: Any) -> None:
        if MARK in str(context.original_exception):
            context.is_disconnect = True  # as SQLAlchemy's PostgreSQL dialect does for a dead socket


@pytest.fixture
def stack(db_url: str, make_settings: Callable[..., Any]) -> Iterator[tuple[Container, FakeAdapter, Cut]]:
    adapter = FakeAdapter()
    container = bootstrap(make_settings(database_url=db_url), adapters={"fake": adapter})  # type: ignore[dict-item]
    container.mappers["fake"] = FakeMapper()
    evidence_links(container)  # the link key, read once per process: cut below only where a test says
    cut = Cut(container.engine, db_url)
    yield container, adapter, cut
    container.close()
    if cut.admin is not None:
        cut.admin.dispose()


def warnings_of(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.levelno >= logging.WARNING]


def one_line(caplog: pytest.LogCaptureFixture, *needles: str) -> None:
    """Exactly one warning, no traceback, naming what happened."""
    (record,) = warnings_of(caplog)
    message = record.getMessage()
    assert record.exc_info is None and "\n" not in message, message
    assert all(n in message for n in needles), message
    assert "unhandled" not in message and "failed" not in message


def state_of(container: Container, row_id: int) -> str:
    with container.sessions() as s:
        return s.get_one(OutboxRecord, row_id).state


def test_a_claim_whose_connection_drops_is_done_on_a_fresh_connection_and_sent_once(
    stack: tuple[Container, FakeAdapter, Cut], caplog: pytest.LogCaptureFixture
) -> None:
    container, adapter, cut = stack
    row_id = write_back(container.sessions, "A1", "sign")
    caplog.set_level(logging.INFO)
    cut.times = 1  # the first statement of the claim
    actors(container).deliver_outbox.fn(row_id)
    assert cut.cuts == 1
    assert state_of(container, row_id) == "sent" and len(adapter.sends) == 1
    one_line(caplog, f"outbox row {row_id}: claim", "database connection lost", "fresh connection")


@pytest.mark.parametrize("at", [3, 4])  # recording the platform's answer (sent), then the ticket's event
def test_an_answer_whose_recording_loses_its_connection_is_recorded_on_a_fresh_one(
    stack: tuple[Container, FakeAdapter, Cut], caplog: pytest.LogCaptureFixture, at: int
) -> None:
    container, adapter, cut = stack
    row_id = write_back(container.sessions, "B1", "sign")
    statements = 0

    def count(*_: Any) -> None:
        nonlocal statements
        statements += 1
        if statements == at + 1:  # claim: get + update; begin_attempt: update; then the outcome
            cut.times = 1

    event.listen(container.engine, "before_cursor_execute", count, insert=True)
    actors(container).deliver_outbox.fn(row_id)
    assert cut.cuts == 1
    assert state_of(container, row_id) == "sent" and len(adapter.sends) == 1  # never re-sent
    with container.sessions() as s:
        assert s.get_one(OutboxRecord, row_id).attempts == 1
    one_line(caplog, "database connection lost")


def test_the_scheduler_and_the_sla_engine_tick_through_a_dropped_connection(
    stack: tuple[Container, FakeAdapter, Cut], caplog: pytest.LogCaptureFixture
) -> None:
    container, _, cut = stack
    row_id = write_back(container.sessions, "C1", "contact")
    container.settings.outbox.ring_again_after_s = 0.0
    scheduler = Scheduler(container)
    cut.times = 1
    scheduler.run_once()
    one_line(caplog, "scheduler tick", "fresh connection")
    assert scheduler.leading()
    caplog.clear()
    cut.times = 1
    assert scheduler.sla.step_once() >= 0
    one_line(caplog, "SLA tick", "fresh connection")
    assert state_of(container, row_id) == "pending"  # rung, nothing lost


def test_while_the_database_stays_away_every_worker_and_ticker_logs_one_line_and_loses_nothing(
    stack: tuple[Container, FakeAdapter, Cut], caplog: pytest.LogCaptureFixture
) -> None:
    container, adapter, cut = stack
    row_id = write_back(container.sessions, "D1", "sign")
    scheduler = Scheduler(container)
    bell = actors(container)
    calls: list[tuple[Callable[[], Any], str]] = [
        (lambda: bell.deliver_outbox.fn(row_id), f"outbox row {row_id}"),
        (lambda: bell.process_inbox.fn([1]), "inbox row 1"),
        (lambda: bell.poll_platform.fn("fake"), "poll fake"),
        (lambda: bell.deliver_alert.fn(1), "alert delivery 1"),
        (scheduler.run_once, "scheduler tick"),
        (scheduler.sla.step_once, "SLA tick"),
    ]
    for call, what in calls:
        caplog.clear()
        cut.times = 10_000  # every statement, on every fresh connection too
        call()  # never raises: Dramatiq would log "unhandled exception" with a traceback
        one_line(caplog, what, "database unavailable")
    cut.times = 0
    # The database is back: the sweeper rings the row again and it is sent, once.
    container.settings.outbox.ring_again_after_s = 0.0
    assert scheduler.tick()["outbox"] == 1
    bell.deliver_outbox.fn(row_id)
    assert state_of(container, row_id) == "sent" and len(adapter.sends) == 1


def test_an_api_request_whose_database_connection_is_lost_answers_503_with_retry_after_not_500(
    db_url: str, make_settings: Callable[..., Any], caplog: pytest.LogCaptureFixture
) -> None:
    """Issue 12, "API returns 500 during a PostgreSQL restart": a lost connection is weather, so the API
    answers 503 in its error shape with a Chinese message and ``Retry-After``, logs one line, and the
    repeated request succeeds once the database is back."""
    from fastapi.testclient import TestClient

    from app.web import create_app
    from tests.integration.test_api import DUTY, TOKENS
    from tests.integration.test_pipeline_store import ingest

    container = bootstrap(make_settings(database_url=db_url, api_tokens=TOKENS), adapters={"fake": FakeAdapter()})  # type: ignore[dict-item]
    container.mappers["fake"] = FakeMapper()
    ingest(container.sessions, "e-E1", id="E1", version=1)
    with container.sessions() as s:
        ticket_id = s.query(TicketRecord.id).one()[0]
    cut = Cut(container.engine, db_url)
    client = TestClient(create_app(container), raise_server_exceptions=False)
    try:
        caplog.set_level(logging.INFO)
        # The request's read of the ticket meets a dead connection (on SQLite a cut BEGIN is retried by
        # SQLAlchemy itself, as a connection found dead at checkout is).
        cut.only, cut.times = "FROM tickets", 1
        response = client.post(f"/api/v1/tickets/{ticket_id}/sign-off", headers=DUTY)
        assert cut.cuts == 1
        assert response.status_code == 503, response.text
        assert response.headers["Retry-After"] == "5"
        error = response.json()["error"]
        assert error["code"] == "database_unavailable" and "数据库暂时不可用" in error["message"]
        one_line(caplog, "database unavailable", f"/api/v1/tickets/{ticket_id}/sign-off", "503")
        with container.sessions() as s:  # rolled back: nothing half-done
            assert s.query(OutboxRecord).count() == 0
        # The database is back: the same request, repeated, goes through once.
        assert client.post(f"/api/v1/tickets/{ticket_id}/sign-off", headers=DUTY).status_code == 200
        with container.sessions() as s:
            assert [r.action for r in s.query(OutboxRecord)] == ["sign"]
    finally:
        container.close()
        if cut.admin is not None:
            cut.admin.dispose()
