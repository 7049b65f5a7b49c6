"""Delivery recovers in seconds (issue 12): held rows keep their attempts, dead owners' leases are taken over.

Once on SQLite and once on PostgreSQL, on the real store, with a fixed clock.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from gateway.errors import TransientError
from gateway.ports import SendResult
from gateway.services import circuit, delivery, liveness
from gateway.services.circuit import CircuitPolicy
from gateway.settings import OutboxSettings
from gateway.store import liveness as liveness_store
from gateway.store import outbox
from gateway.store.db import make_session_factory, transaction
from gateway.store.tables import OutboxRecord, TicketRecord, WorkerHeartbeatRecord
from tests.fakes import FakeAdapter, FakeMapper
from tests.integration.test_pipeline_store import ingest
from tests.sla_support import bound_engine

NOW = datetime(2026, 11, 20, 2, 0, tzinfo=UTC)
POLICY = OutboxSettings(backoff_base_s=10, backoff_max_s=900, lease_s=60)
BREAKER = {"fake": CircuitPolicy(failure_threshold=2, reset_s=30)}


@pytest.fixture
def sessions(db_url: str) -> sessionmaker[Session]:
    return make_session_factory(bound_engine(db_url))


@pytest.fixture(autouse=True)
def no_jitter(monkeypatch: pytest.MonkeyPatch) -> None:
    # The longest delay the backoff allows, so that a grown backoff is always visible.
    monkeypatch.setattr(delivery.random, "uniform", lambda low, high: high)


def write_back(sessions: sessionmaker[Session], external_id: str, action: str, platform: str = "fake") -> int:
    """A ticket of the fake platform (or another) with one queued write-back; returns the outbox row id."""
    ingest(sessions, f"e-{external_id}", id=external_id, version=1, platform=platform)
    with transaction(sessions) as s:
        ticket = s.scalars(select(TicketRecord).where(TicketRecord.external_id == external_id)).one()
        return outbox.enqueue(s, ticket=ticket, action=action, payload={"note": action}, actor="test", now=NOW).id


def row(sessions: sessionmaker[Session], row_id: int) -> OutboxRecord:
    with sessions() as s:
        return s.get_one(OutboxRecord, row_id)


def attempt(sessions: sessionmaker[Session], adapter: FakeAdapter, row_id: int, at: datetime, *,
            owner: str = "w1", pacer: Any = None) -> delivery.DeliveryReport:
    return delivery.deliver(sessions, row_id=row_id, adapters={"fake": adapter}, mappers={"fake": FakeMapper()},
                            policy=POLICY, owner=owner, clock=lambda: at, circuits=BREAKER, pacer=pacer)


def test_rows_held_by_the_open_circuit_keep_their_attempts_and_go_out_first_thing_when_it_closes(
    sessions: sessionmaker[Session],
) -> None:
    probe = write_back(sessions, "A1", "sign")
    waiting = [write_back(sessions, "A2", "reply"), write_back(sessions, "A3", "sign"),
               write_back(sessions, "A4", "contact")]
    adapter = FakeAdapter(script=[TransientError("503"), TransientError("503")])
    assert attempt(sessions, adapter, probe, NOW).state == "retry"
    assert attempt(sessions, adapter, probe, NOW + timedelta(seconds=10)).state == "retry"  # the circuit opens
    reopen = NOW + timedelta(seconds=40)
    for n in range(3):  # every row the sweeper rings while the circuit is open is held, untried
        for row_id in waiting:
            report = attempt(sessions, adapter, row_id, NOW + timedelta(seconds=11 + n))
            assert report.state == (None if n else "retry")  # held once; not due again before the circuit
    assert len(adapter.sends) == 2
    for row_id in waiting:
        held = row(sessions, row_id)
        assert (held.attempts, held.state, held.next_attempt_at) == (0, "retry", reopen)
        assert held.last_error == outbox.PAUSED_BY_CIRCUIT

    # The platform is back. While the half-open probe is on the wire, other workers meet the held rows
    # (due again at +40 s) and must wait for its answer: held again, to the next period.
    def others_meanwhile(action: str, ext: str, body: Any, request_id: str) -> Any:
        for row_id in waiting:
            assert attempt(sessions, adapter, row_id, reopen).state == "retry"
        return SendResult(receipt_id=adapter.applied.setdefault(request_id, "R-probe"))

    adapter.script = [others_meanwhile]
    closed = attempt(sessions, adapter, probe, reopen)
    assert closed.state == "sent"
    # The probe closed the circuit: the held rows are due at once, the 2-hour response (先行联系,
    # 002 四(二)) first, then the sign-off (002 四(一)), then the rest.
    assert list(closed.released) == [waiting[2], waiting[1], waiting[0]]
    assert all(row(sessions, r).next_attempt_at == reopen for r in waiting)
    for row_id in closed.released:
        assert attempt(sessions, adapter, row_id, reopen).state == "sent"
    assert [a for a, *_ in adapter.sends] == ["sign", "sign", "sign", "contact", "sign", "reply"]
    assert [row(sessions, r).attempts for r in waiting] == [1, 1, 1]  # one real request each


def test_a_real_failure_after_a_pause_backs_off_from_the_attempts_actually_made(
    sessions: sessionmaker[Session],
) -> None:
    probe, other = write_back(sessions, "B1", "sign"), write_back(sessions, "B2", "contact")
    adapter = FakeAdapter(script=[TransientError("503"), TransientError("503")])
    attempt(sessions, adapter, probe, NOW)
    attempt(sessions, adapter, probe, NOW + timedelta(seconds=10))  # open until +40 s
    assert attempt(sessions, adapter, other, NOW + timedelta(seconds=20)).state == "retry"  # held
    at = NOW + timedelta(seconds=41)
    adapter.script = [TransientError("503 again")]
    assert attempt(sessions, adapter, other, at).state == "retry"  # the half-open probe fails
    failed = row(sessions, other)
    # Its first real attempt: the first backoff step (10 s), not one grown by the pauses.
    assert failed.attempts == 1 and failed.next_attempt_at == at + timedelta(seconds=POLICY.backoff_base_s)


class SaturatedPacer:
    """Our own rate limit has no slot left within the wait."""

    def __init__(self) -> None:
        self.waits = 0

    def wait(self, platform: str, *, timeout: float) -> bool:
        self.waits += 1
        return False


def test_a_row_our_own_pacer_holds_back_keeps_its_attempts_and_is_due_again_at_once(
    sessions: sessionmaker[Session],
) -> None:
    row_id = write_back(sessions, "C1", "contact")
    adapter, pacer = FakeAdapter(), SaturatedPacer()
    for n in range(3):
        assert attempt(sessions, adapter, row_id, NOW + timedelta(seconds=n), pacer=pacer).state == "retry"
    held = row(sessions, row_id)
    assert (held.attempts, held.next_attempt_at, adapter.sends) == (0, NOW + timedelta(seconds=2), [])
    assert pacer.waits == 3
    assert attempt(sessions, adapter, row_id, NOW + timedelta(seconds=3)).state == "sent"
    assert row(sessions, row_id).attempts == 1


def test_the_sweeper_rings_the_two_hour_response_before_other_due_write_backs(
    sessions: sessionmaker[Session],
) -> None:
    reply, sign, contact = (write_back(sessions, "D1", "reply"), write_back(sessions, "D2", "sign"),
                            write_back(sessions, "D3", "contact"))
    with transaction(sessions) as s:  # rung when queued; the sweeper rings them again 15 s later
        due = outbox.due_ids(s, now=NOW + timedelta(seconds=16), ring_again_after=timedelta(seconds=15))
    assert due == [contact, sign, reply]  # 002 四(二) 2 hours, 002 四(一) 24 hours, then the rest


def test_while_a_circuit_is_open_the_sweeper_rings_one_probe_and_other_platforms_go_on(
    sessions: sessionmaker[Session],
) -> None:
    reply, sign, contact = (write_back(sessions, "H1", "reply"), write_back(sessions, "H2", "sign"),
                            write_back(sessions, "H3", "contact"))
    elsewhere = write_back(sessions, "H4", "sign", platform="other")
    with transaction(sessions) as s:  # two failures in a row: the circuit of "fake" opens until +30 s
        for _ in range(2):
            circuit.record(s, platform="fake", ok=False, policy=BREAKER["fake"], now=NOW)

    def sweep(at: datetime) -> list[int]:
        with transaction(sessions) as s:
            return outbox.due_ids(s, now=at, ring_again_after=timedelta(seconds=15))

    assert sweep(NOW + timedelta(seconds=16)) == [elsewhere]  # nothing rung into the outage
    # The circuit may be probed: one row, the 2-hour response (先行联系, 002 四(二)), not all three.
    assert sweep(NOW + timedelta(seconds=31)) == [contact]
    probe = attempt(sessions, FakeAdapter(), contact, NOW + timedelta(seconds=31))
    assert probe.state == "sent"
    assert list(probe.released) == [sign, reply]  # the closing worker rings the rest, urgent first
    assert sweep(NOW + timedelta(seconds=32)) == [elsewhere]  # those are rung already: not twice


def beat(sessions: sessionmaker[Session], owner: str, at: datetime, ttl_s: float = 10) -> None:
    with transaction(sessions) as s:
        liveness_store.beat(s, owner=owner, now=at, ttl=timedelta(seconds=ttl_s))


def test_a_lease_whose_owner_stopped_beating_is_read_back_within_seconds_not_after_the_lease(
    sessions: sessionmaker[Session],
) -> None:
    row_id = write_back(sessions, "E1", "reply")
    beat(sessions, "w1", NOW)
    with transaction(sessions) as s:  # w1 claims, sends (the platform applies it), and is killed
        claim = outbox.claim(s, row_id=row_id, owner="w1", now=NOW, lease=timedelta(seconds=60))
    assert claim is not None
    adapter = FakeAdapter()
    adapter.apply_silently(claim.request_id)

    def sweep(at: datetime) -> list[int]:
        with transaction(sessions) as s:
            return outbox.due_ids(s, now=at, ring_again_after=timedelta(seconds=15))

    beat(sessions, "w1", NOW + timedelta(seconds=2))  # alive: its lease stands
    assert sweep(NOW + timedelta(seconds=5)) == []
    assert attempt(sessions, adapter, row_id, NOW + timedelta(seconds=5), owner="w2").state is None
    # Killed after that beat: by +13 s its heartbeat (10 s) has run out, 49 s before its lease would.
    assert sweep(NOW + timedelta(seconds=13)) == [row_id]
    assert sweep(NOW + timedelta(seconds=14)) == []  # rung once, not on every tick
    assert attempt(sessions, adapter, row_id, NOW + timedelta(seconds=13), owner="w2").state == "sent"
    assert adapter.sends == [] and adapter.lookups == [claim.request_id]  # read back, never re-sent
    assert row(sessions, row_id).receipt_id == adapter.applied[claim.request_id]


def test_an_owner_that_never_beat_keeps_its_lease_until_it_runs_out(sessions: sessionmaker[Session]) -> None:
    row_id = write_back(sessions, "F1", "reply")
    with transaction(sessions) as s:  # an older release, or a process without a heartbeat
        assert outbox.claim(s, row_id=row_id, owner="old", now=NOW, lease=timedelta(seconds=60)) is not None
    adapter = FakeAdapter()
    assert attempt(sessions, adapter, row_id, NOW + timedelta(seconds=59), owner="w2").state is None
    assert attempt(sessions, adapter, row_id, NOW + timedelta(seconds=61), owner="w2").state == "sent"
    assert adapter.lookups and len(adapter.sends) == 1  # read back (not applied), then sent


def test_a_worker_presumed_dead_never_sends_once_its_row_was_taken_over(sessions: sessionmaker[Session]) -> None:
    row_id = write_back(sessions, "G1", "reply")
    beat(sessions, "w1", NOW)
    with transaction(sessions) as s:
        slow = outbox.claim(s, row_id=row_id, owner="w1", now=NOW, lease=timedelta(seconds=60))
    assert slow is not None
    adapter = FakeAdapter()
    # w1 froze (its heartbeat ran out) before it began its attempt; w2 takes the row over and sends it.
    assert attempt(sessions, adapter, row_id, NOW + timedelta(seconds=11), owner="w2").state == "sent"
    with transaction(sessions) as s:  # w1 thaws: its attempt is refused, so it sends nothing
        assert outbox.begin_attempt(s, slow, now=NOW + timedelta(seconds=12), lease=timedelta(seconds=60)) is None
    assert len(adapter.sends) == 1


def test_the_heartbeat_writes_its_owner_and_old_heartbeats_are_purged(sessions: sessionmaker[Session]) -> None:
    clock = [NOW]
    heart = liveness.Heartbeat(sessions, owner="w9", clock=lambda: clock[0], interval_s=2, ttl_s=10)
    assert heart.beat()
    clock[0] = NOW + timedelta(seconds=2)
    assert heart.beat()
    with sessions() as s:
        record = s.get_one(WorkerHeartbeatRecord, "w9")
        assert (record.beat_at, record.expires_at) == (NOW + timedelta(seconds=2), NOW + timedelta(seconds=12))
    with transaction(sessions) as s:
        assert liveness_store.purge(s, expired_before=NOW + timedelta(seconds=12)) == 0
        assert liveness_store.purge(s, expired_before=NOW + timedelta(seconds=13)) == 1
