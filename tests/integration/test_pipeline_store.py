"""Inbox → ticket and outbox delivery on the real store, once on SQLite and once on PostgreSQL."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from gateway.errors import OutcomeUnknown, PermanentError, RateLimited, SignatureError, TransientError
from gateway.principal import Principal
from gateway.schema import ReplyDraft
from gateway.services import actions, delivery, inbound, processing
from gateway.settings import OutboxSettings, Role
from gateway.store import outbox
from gateway.store.db import make_session_factory, transaction
from gateway.store.tables import InboxRecord, OutboxRecord, TicketEventRecord, TicketRecord
from tests.fakes import FakeAdapter, FakeMapper, raw
from tests.sla_support import bound_engine

NOW = datetime(2026, 11, 20, 2, 0, tzinfo=UTC)
DUTY = Principal("值班员甲", frozenset({Role.duty}))
UNIT = Principal("承办人乙", frozenset({Role.unit}))
LEADER = Principal("分管领导丙", frozenset({Role.leader}))
POLICY = OutboxSettings(backoff_base_s=1, backoff_max_s=60, lease_s=30)


@pytest.fixture
def sessions(db_url: str) -> sessionmaker[Session]:
    return make_session_factory(bound_engine(db_url))


def ingest(sessions: sessionmaker[Session], event_id: str, **data: Any) -> int | None:
    with transaction(sessions) as s:
        row_id = inbound.store_item(s, platform="fake", item=raw(event_id, **data), source="push", now=NOW)
    if row_id is not None:
        with transaction(sessions) as s:
            processing.process_inbox_row(s, row_id=row_id, mappers={"fake": FakeMapper()}, now=NOW)
    return row_id


def count(sessions: sessionmaker[Session], model: Any) -> int:
    with sessions() as s:
        return int(s.scalar(select(func.count()).select_from(model)) or 0)


def test_the_same_event_stored_twice_makes_one_inbox_row_and_one_ticket(
    sessions: sessionmaker[Session],
) -> None:
    assert ingest(sessions, "e1", id="A1", version=1) is not None
    assert ingest(sessions, "e1", id="A1", version=1) is None
    assert ingest(sessions, "pull:A1:1", id="A1", version=1) is not None  # the pull of the same version
    assert count(sessions, InboxRecord) == 2
    assert count(sessions, TicketRecord) == 1
    with sessions() as s:
        states = sorted(s.scalars(select(InboxRecord.state)))
    assert states == ["done", "stale"]


def test_a_late_older_version_never_moves_the_ticket_backwards(sessions: sessionmaker[Session]) -> None:
    ingest(sessions, "e1", id="A1", version=1, title="旧标题")
    ingest(sessions, "e3", id="A1", version=3, title="新标题")
    ingest(sessions, "e2", id="A1", version=2, title="过时标题")
    with sessions() as s:
        ticket = s.scalars(select(TicketRecord)).one()
        assert (ticket.source_version, ticket.title) == (3, "新标题")
        kinds = list(s.scalars(select(TicketEventRecord.kind).order_by(TicketEventRecord.id)))
    assert kinds == ["received", "platform_updated"]


def test_an_unknown_enum_value_is_kept_as_a_visible_error_and_replayable(
    sessions: sessionmaker[Session],
) -> None:
    row_id = ingest(sessions, "e1", id="A1", version=1, type="神秘类型")
    with sessions() as s:
        row = s.get_one(InboxRecord, row_id)
        assert row.state == "failed" and "appealType" in (row.error or "") and "神秘类型" in (row.error or "")
    assert count(sessions, TicketRecord) == 0

    # The mapper is fixed (it learns the new value); the untouched raw row is replayed and goes through.
    class FixedMapper(FakeMapper):
        def inbound(self, event_type: str, payload: str) -> Any:
            return super().inbound(
                event_type, payload.replace("\\u795e\\u79d8\\u7c7b\\u578b", "\\u54a8\\u8be2")
            )

    with transaction(sessions) as s:
        inbound.replay_inbox(s, row_id=row_id or 0, now=NOW)
    with transaction(sessions) as s:
        processing.process_inbox_row(s, row_id=row_id or 0, mappers={"fake": FixedMapper()}, now=NOW)
    assert count(sessions, TicketRecord) == 1


def test_a_notice_before_its_ticket_waits_and_is_released_when_the_ticket_arrives(
    sessions: sessionmaker[Session],
) -> None:
    notice_id = ingest(sessions, "n1", id="A1", notice="urged")
    with sessions() as s:
        assert s.get_one(InboxRecord, notice_id).state == "waiting"
    with transaction(sessions) as s:
        row_id = inbound.store_item(
            s, platform="fake", item=raw("e1", id="A1", version=1), source="push", now=NOW
        )
    with transaction(sessions) as s:
        released = processing.process_inbox_row(
            s, row_id=row_id or 0, mappers={"fake": FakeMapper()}, now=NOW
        )
    assert released == [notice_id]
    with transaction(sessions) as s:
        processing.process_inbox_row(s, row_id=notice_id or 0, mappers={"fake": FakeMapper()}, now=NOW)
    with sessions() as s:
        assert s.scalars(select(TicketRecord)).one().urge_count == 1


def test_a_replayed_nonce_is_refused(sessions: sessionmaker[Session]) -> None:
    with transaction(sessions) as s:
        inbound.claim_nonce(s, platform="fake", nonce="abc", now=NOW)
    with pytest.raises(SignatureError), transaction(sessions) as s:
        inbound.claim_nonce(s, platform="fake", nonce="abc", now=NOW)


def signed_ticket(sessions: sessionmaker[Session]) -> int:
    ingest(sessions, "e1", id="A1", version=1)
    with sessions() as s:
        ticket_id = s.scalars(select(TicketRecord.id)).one()
    with transaction(sessions) as s:
        actions.sign_off(s, ticket_id=ticket_id, principal=DUTY, now=NOW)
    return ticket_id


def run(
    sessions: sessionmaker[Session], adapter: FakeAdapter, row_id: int, at: datetime = NOW, owner: str = "w1"
) -> delivery.DeliveryReport:
    return delivery.deliver(
        sessions,
        row_id=row_id,
        adapters={"fake": adapter},
        mappers={"fake": FakeMapper()},
        policy=POLICY,
        owner=owner,
        clock=lambda: at,
    )


def outbox_rows(sessions: sessionmaker[Session]) -> list[OutboxRecord]:
    with sessions() as s:
        return list(s.scalars(select(OutboxRecord).order_by(OutboxRecord.id)))


def approve_reply(sessions: sessionmaker[Session], ticket_id: int) -> None:
    draft = ReplyDraft(
        is_true="属实",
        investigation="经核查，反映情况属实。",
        disposition="已责令整改",
        citizen_opinion="诉求人表示满意",
    )
    with transaction(sessions) as s:  # the duty office drafts for a ticket not dispatched to a unit
        actions.draft_reply(s, ticket_id=ticket_id, principal=DUTY, draft=draft, now=NOW)
    with transaction(sessions) as s:
        actions.approve_reply(s, ticket_id=ticket_id, principal=LEADER, now=NOW)


def test_sign_off_writes_an_outbox_row_in_the_same_transaction_and_it_is_sent_once(
    sessions: sessionmaker[Session],
) -> None:
    signed_ticket(sessions)
    (row,) = outbox_rows(sessions)
    adapter = FakeAdapter()
    assert run(sessions, adapter, row.id).state is not None
    assert run(sessions, adapter, row.id).state is None  # already sent: nothing to claim
    (row,) = outbox_rows(sessions)
    assert (row.state, row.receipt_id, len(adapter.sends)) == ("sent", "R1", 1)


def test_the_reply_waits_for_the_sign_off_of_the_same_ticket(sessions: sessionmaker[Session]) -> None:
    ticket_id = signed_ticket(sessions)
    approve_reply(sessions, ticket_id)
    sign_row, reply_row = outbox_rows(sessions)
    adapter = FakeAdapter()
    assert run(sessions, adapter, reply_row.id).state is None  # sign not sent yet: reply may not go
    report = run(sessions, adapter, sign_row.id)
    assert report.ring_next == reply_row.id
    run(sessions, adapter, reply_row.id)
    assert [a for a, *_ in adapter.sends] == ["sign", "reply"]
    with sessions() as s:
        assert s.get_one(TicketRecord, ticket_id).status == "replied"


def test_a_transient_error_schedules_a_retry_that_honours_retry_after(
    sessions: sessionmaker[Session],
) -> None:
    signed_ticket(sessions)
    (row,) = outbox_rows(sessions)
    adapter = FakeAdapter(script=[RateLimited("429", retry_after=120), TransientError("503")])
    assert run(sessions, adapter, row.id).state == "retry"
    (row,) = outbox_rows(sessions)
    assert row.next_attempt_at >= NOW + timedelta(seconds=120)
    assert run(sessions, adapter, row.id, at=NOW + timedelta(seconds=60)).state is None  # not due yet
    later = row.next_attempt_at + timedelta(seconds=1)
    assert run(sessions, adapter, row.id, at=later).state == "retry"
    assert run(sessions, adapter, row.id, at=later + timedelta(hours=1)).state == "sent"
    assert len(adapter.sends) == 3


def test_a_permanent_refusal_makes_the_row_dead_with_the_reason_and_it_can_be_replayed(
    sessions: sessionmaker[Session],
) -> None:
    signed_ticket(sessions)
    (row,) = outbox_rows(sessions)
    adapter = FakeAdapter(script=[PermanentError("409 40901 wrong state", status=409)])
    assert run(sessions, adapter, row.id).state == "dead"
    (row,) = outbox_rows(sessions)
    assert "40901" in (row.last_error or "")
    with transaction(sessions) as s:
        outbox.replay(s, row_id=row.id, now=NOW)
    assert run(sessions, adapter, row.id).state == "sent"
    assert adapter.lookups == [row.request_id]  # read back before the re-send


def test_an_unknown_outcome_is_reconciled_by_read_back_and_never_re_sent(
    sessions: sessionmaker[Session],
) -> None:
    ticket_id = signed_ticket(sessions)
    approve_reply(sessions, ticket_id)
    adapter = FakeAdapter()
    sign_row, reply_row = outbox_rows(sessions)
    run(sessions, adapter, sign_row.id)

    def applied_then_lost(action: str, ext: str, body: Any, request_id: str) -> Any:
        adapter.apply_silently(request_id)
        raise OutcomeUnknown("read timeout after sending")

    adapter.script = [applied_then_lost]
    assert run(sessions, adapter, reply_row.id).state == "unknown"
    assert run(sessions, adapter, reply_row.id, at=NOW + timedelta(minutes=5)).state == "sent"
    assert [a for a, *_ in adapter.sends] == ["sign", "reply"]  # the reply went on the wire once
    assert len(adapter.applied) == 2


def test_a_worker_that_died_mid_send_leaves_a_lease_that_expires_and_is_read_back(
    sessions: sessionmaker[Session],
) -> None:
    signed_ticket(sessions)
    (row,) = outbox_rows(sessions)
    with transaction(sessions) as s:  # worker w1 claims, sends (applied), then dies before recording
        claim = outbox.claim(s, row_id=row.id, owner="w1", now=NOW, lease=timedelta(seconds=30))
    assert claim is not None
    adapter = FakeAdapter()
    adapter.apply_silently(row.request_id)
    assert run(sessions, adapter, row.id, at=NOW + timedelta(seconds=10), owner="w2").state is None  # leased
    with sessions() as s:
        due = outbox.due_ids(s, now=NOW + timedelta(seconds=31), ring_again_after=timedelta(seconds=15))
    assert due == [row.id]
    assert run(sessions, adapter, row.id, at=NOW + timedelta(seconds=31), owner="w2").state == "sent"
    assert adapter.sends == [] and adapter.lookups == [row.request_id]
    with transaction(sessions) as s:  # w1 wakes up late: its outcome is refused
        assert outbox.finish(s, claim, state=outbox.S.retry, now=NOW + timedelta(seconds=40)) is False


def test_two_workers_racing_for_one_row_send_it_once(sessions: sessionmaker[Session]) -> None:
    signed_ticket(sessions)
    (row,) = outbox_rows(sessions)
    adapter = FakeAdapter()
    barrier = threading.Barrier(4)
    results: list[Any] = []

    def worker(n: int) -> None:
        barrier.wait()
        results.append(run(sessions, adapter, row.id, owner=f"w{n}").state)

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(map(str, results)) == ["None", "None", "None", "sent"]
    assert len(adapter.sends) == 1


def test_a_reply_is_never_approved_by_a_non_leader(sessions: sessionmaker[Session]) -> None:
    ticket_id = signed_ticket(sessions)
    draft = ReplyDraft(
        is_true="属实", investigation="经核查，反映情况属实。", disposition="已整改", citizen_opinion="满意"
    )
    with transaction(sessions) as s:
        actions.draft_reply(s, ticket_id=ticket_id, principal=DUTY, draft=draft, now=NOW)
    from gateway.errors import Forbidden

    with pytest.raises(Forbidden), transaction(sessions) as s:
        actions.approve_reply(s, ticket_id=ticket_id, principal=UNIT, now=NOW)
    assert [r.action for r in outbox_rows(sessions)] == ["sign"]


def test_a_platform_that_keeps_failing_opens_the_circuit_and_delivery_pauses_without_dropping(
    sessions: sessionmaker[Session],
) -> None:
    from gateway.services.circuit import CircuitPolicy

    signed_ticket(sessions)
    (row,) = outbox_rows(sessions)
    breaker = {"fake": CircuitPolicy(failure_threshold=2, reset_s=60)}
    adapter = FakeAdapter(script=[TransientError("503"), TransientError("503")])

    def attempt(at: datetime) -> delivery.DeliveryReport:
        return delivery.deliver(sessions, row_id=row.id, adapters={"fake": adapter}, mappers={"fake": FakeMapper()},
                                policy=POLICY, owner="w1", clock=lambda: at, circuits=breaker)

    assert attempt(NOW).state == "retry"
    assert attempt(NOW + timedelta(minutes=2)).state == "retry"  # second failure: the circuit opens
    paused = attempt(NOW + timedelta(minutes=2, seconds=30))
    assert paused.state == "retry" and len(adapter.sends) == 2  # paused: nothing sent while open
    (row,) = outbox_rows(sessions)
    assert row.last_error == "平台熔断中，暂停回传"  # shown on the delivery page: Chinese only (issue 13 point 7)
    assert row.next_attempt_at == NOW + timedelta(minutes=2, seconds=60)
    assert attempt(NOW + timedelta(minutes=3, seconds=1)).state == "sent"  # the half-open probe succeeds
    with sessions() as s:
        from gateway.store.tables import PlatformStateRecord

        assert s.get_one(PlatformStateRecord, "fake").circuit == "closed"


def test_a_push_claims_its_nonce_and_stores_once_and_a_replayed_nonce_stores_nothing(
    sessions: sessionmaker[Session],
) -> None:
    item = raw("evt-1", id="A1", version=1)
    with transaction(sessions) as s:
        first = inbound.store_push(s, platform="fake", nonce="n1", item=item, now=NOW)
    with transaction(sessions) as s:  # the platform re-sends the same event, freshly signed
        again = inbound.store_push(s, platform="fake", nonce="n2", item=item, now=NOW)
    with pytest.raises(SignatureError), transaction(sessions) as s:  # a captured request replayed
        inbound.store_push(s, platform="fake", nonce="n1", item=raw("evt-2", id="A2", version=1), now=NOW)
    assert first is not None and again is None
    with sessions() as s:
        row = s.get_one(InboxRecord, first)
        assert (row.event_id, row.state, row.received_at) == ("evt-1", "pending", NOW)
    assert count(sessions, InboxRecord) == 1


def test_a_batch_of_pushes_answers_each_push_as_if_it_came_alone(sessions: sessionmaker[Session]) -> None:
    """Group commit: new events, re-sends, replays and a nonce twice in one batch, each judged on its own."""
    engine = sessions.kw["bind"]
    with transaction(sessions) as s:
        inbound.store_push(s, platform="fake", nonce="old", item=raw("evt-0", id="A0", version=1), now=NOW)
    push = inbound.Push
    batch = [
        push("fake", "n1", raw("evt-1", id="A1", version=1)),  # new
        push("fake", "n2", raw("evt-0", id="A0", version=1)),  # re-send of a stored event, fresh nonce
        push("fake", "old", raw("evt-2", id="A2", version=1)),  # replay of a nonce already used
        push("fake", "n3", raw("evt-3", id="A3", version=1)),  # new
        push("fake", "n3", raw("evt-4", id="A4", version=1)),  # same nonce again in this batch: replay
        push("fake", "n4", raw("evt-1", id="A1", version=1)),  # same event again in this batch: re-send
        push("other", "n1", raw("evt-1", id="B1", version=1)),  # nonces and events are per platform
    ]
    with engine.begin() as conn:
        outcomes = inbound.store_pushes(conn, batch, now=NOW)
    kinds = ["replay" if isinstance(o, SignatureError) else "dup" if o is None else "new" for o in outcomes]
    assert kinds == ["new", "dup", "replay", "new", "replay", "dup", "new"]
    with sessions() as s:
        stored = {(r.platform, r.event_id): r.id for r in s.scalars(select(InboxRecord))}
        assert stored == {("fake", "evt-0"): stored[("fake", "evt-0")], ("fake", "evt-1"): outcomes[0],
                          ("fake", "evt-3"): outcomes[3], ("other", "evt-1"): outcomes[6]}
        assert s.get_one(InboxRecord, outcomes[3]).payload == batch[3].item.payload
        assert s.get_one(InboxRecord, outcomes[3]).state == "pending"
    assert "evt-2" not in {e for _, e in stored} and "evt-4" not in {e for _, e in stored}


def test_a_batch_is_atomic_nothing_of_it_is_kept_when_it_fails(sessions: sessionmaker[Session]) -> None:
    engine = sessions.kw["bind"]
    batch = [inbound.Push("fake", "n1", raw("evt-1", id="A1", version=1)),
             inbound.Push("fake", "n2", raw("evt-2", id="A2", version=1))]
    with pytest.raises(RuntimeError), engine.begin() as conn:
        inbound.store_pushes(conn, batch, now=NOW)
        raise RuntimeError("the commit never happens")
    assert count(sessions, InboxRecord) == 0
    with engine.begin() as conn:  # and its nonces were not burnt: the platform's re-send is accepted
        assert all(isinstance(o, int) for o in inbound.store_pushes(conn, batch, now=NOW))
