"""SLA timers follow the ticket's lifecycle, persisted, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from gateway.principal import Principal
from gateway.schema import ReplyDraft
from gateway.services import actions, delivery
from gateway.services.deadlines import ticket_deadlines
from gateway.services.lifecycle import ticket_changed
from gateway.settings import OutboxSettings, Role
from gateway.store import outbox
from gateway.store.db import make_session_factory, transaction
from gateway.store.tables import OutboxRecord, TicketRecord
from gateway.store.tables_sla import SlaTimerEventRecord, SlaTimerRecord
from tests.fakes import FakeAdapter, FakeMapper
from tests.sla_support import bound_engine, new_ticket, notice, sh, timer_events, timers, utc

DUTY = Principal("值班员甲", frozenset({Role.duty}))
UNIT = Principal("承办人乙", frozenset({Role.unit}), "城关派出所")
LEADER = Principal("分管领导丙", frozenset({Role.leader}))
REPLY = ReplyDraft(is_true="属实", investigation="经民警现场核查，反映情况属实。", disposition="已责令整改",
                   citizen_opinion="诉求人表示认可", resolved="已解决")


@pytest.fixture
def sessions(db_url: str) -> sessionmaker[Session]:
    return make_session_factory(bound_engine(db_url))


def act(sessions: sessionmaker[Session], use_case: object, ticket_id: int, at: object, **kw: object) -> list[int]:
    with transaction(sessions) as s:
        return use_case(s, ticket_id=ticket_id, now=at, **kw)  # type: ignore[operator, no-any-return]


def deliver_all(sessions: sessionmaker[Session], at: object) -> None:
    with sessions() as s:
        ids = list(s.scalars(select(OutboxRecord.id).order_by(OutboxRecord.id)))
    for row_id in ids:
        delivery.deliver(sessions, row_id=row_id, adapters={"p12345": FakeAdapter()}, mappers={"p12345": FakeMapper()},
                         policy=OutboxSettings(), owner="test", clock=lambda: at)  # type: ignore[dict-item]


def test_timers_start_meet_and_log_who_along_the_bureau_path(sessions: sessionmaker[Session]) -> None:
    # Given a 12345 complaint issued two days before the 2026 Spring Festival break
    tid = new_ticket(sessions, issued_at=sh(2026, 2, 12, 10))
    started = timers(sessions, tid)
    assert set(started) == {"sign_off", "dispatch", "resolution"}
    assert started["sign_off"].due_at == utc(sh(2026, 2, 13, 10))
    assert started["dispatch"].due_at == utc(sh(2026, 2, 13, 9))  # 000 统一派单 二: 9:00 the next day
    assert started["resolution"].due_at == utc(sh(2026, 2, 26, 23, 59, 59))  # 13th, makeup 14th, then 24–26

    # When the duty officer signs, the unit responds, the leader approves and the reply is delivered
    act(sessions, actions.sign_off, tid, sh(2026, 2, 12, 11), principal=DUTY)
    act(sessions, actions.dispatch, tid, sh(2026, 2, 12, 11, 5), principal=DUTY, unit="城关派出所",
        approval="after")
    act(sessions, actions.record_response, tid, sh(2026, 2, 12, 12, 30), principal=UNIT, note="已联系",
        contact_phone="")
    act(sessions, actions.draft_reply, tid, sh(2026, 2, 24, 9), principal=UNIT, draft=REPLY, review=False)
    act(sessions, actions.approve_reply, tid, sh(2026, 2, 24, 10), principal=LEADER, review=False)
    deliver_all(sessions, sh(2026, 2, 24, 10, 1))

    # Then every timer is met, at the instant of the step that met it, and the log says who
    done = timers(sessions, tid)
    assert {k: t.state for k, t in done.items()} == {"sign_off": "met", "dispatch": "met", "response": "met",
                                                     "resolution": "met"}
    assert done["response"].due_at == utc(sh(2026, 2, 12, 13, 5))  # 2 h from the dispatch (002 四(二))
    assert done["response"].met_at == utc(sh(2026, 2, 12, 12, 30))
    assert done["resolution"].met_at == utc(sh(2026, 2, 24, 10, 1))
    assert all(t.next_alert_at is None for t in done.values())
    log = timer_events(sessions, tid)
    assert ("sign_off", "met", "值班员甲") in log and ("response", "started", "值班员甲") in log
    assert ("response", "met", "承办人乙") in log and ("resolution", "met", "system") in log


def test_a_late_sign_off_is_recorded_as_breached_and_the_api_shows_it(sessions: sessionmaker[Session]) -> None:
    tid = new_ticket(sessions, issued_at=sh(2026, 11, 20, 9))
    act(sessions, actions.sign_off, tid, sh(2026, 11, 21, 9, 30), principal=DUTY)
    act(sessions, actions.dispatch, tid, sh(2026, 11, 21, 9, 35), principal=DUTY, unit="城关派出所",
        approval="after")
    with sessions() as s:
        view = ticket_deadlines(s, s.get_one(TicketRecord, tid), sh(2026, 11, 21, 10))
    assert view["sign_off"]["state"] == "breached" and view["sign_off"]["met_at"] == utc(sh(2026, 11, 21, 9, 30))
    assert view["response"]["state"] == "running" and view["response"]["seconds_left"] == 5700
    assert view["resolution"]["state"] == "running" and view["resolution"]["provisional"] is False


def test_a_return_meets_the_sign_off_and_pauses_resolution_until_the_platform_refuses_it(
    sessions: sessionmaker[Session],
) -> None:
    tid = new_ticket(sessions, issued_at=sh(2026, 11, 16, 9))  # Monday; 5 working days → Monday 23rd
    act(sessions, actions.request_return, tid, sh(2026, 11, 16, 10), principal=DUTY, reason="不属于本单位管辖")
    paused = timers(sessions, tid)
    assert paused["sign_off"].state == "met" and paused["resolution"].state == "paused"
    assert paused["resolution"].next_alert_at is None

    notice(sessions, tid, "return_decided", sh(2026, 11, 17, 10), approved=False, note="不予退回")
    resumed = timers(sessions, tid)["resolution"]
    assert resumed.state == "running"
    assert resumed.due_at == utc(sh(2026, 11, 23, 23, 59, 59) + timedelta(hours=24))  # moved by the pause
    assert resumed.paused_total_s == 24 * 3600
    kinds = [e[1] for e in timer_events(sessions, tid) if e[0] == "resolution"]
    assert kinds == ["started", "paused", "resumed"]


def test_an_approved_return_cancels_what_is_left(sessions: sessionmaker[Session]) -> None:
    tid = new_ticket(sessions, issued_at=sh(2026, 11, 16, 9))
    act(sessions, actions.request_return, tid, sh(2026, 11, 16, 10), principal=DUTY, reason="不属于本单位管辖")
    notice(sessions, tid, "return_decided", sh(2026, 11, 17, 10), approved=True)
    assert timers(sessions, tid)["resolution"].state == "cancelled"


def test_an_extension_the_platform_approves_replaces_the_resolution_deadline(sessions: sessionmaker[Session]) -> None:
    tid = new_ticket(sessions, issued_at=sh(2026, 11, 16, 9))
    act(sessions, actions.sign_off, tid, sh(2026, 11, 16, 10), principal=DUTY)
    act(sessions, actions.request_extension, tid, sh(2026, 11, 18, 10), principal=LEADER, days=3, reason="需调取监控")
    notice(sessions, tid, "extension_decided", sh(2026, 11, 19, 10), approved=True,
           new_due_at="2026-11-26T23:59:59+08:00", note="同意延期3个工作日")
    got = timers(sessions, tid)
    assert got["resolution"].state == "superseded"
    assert got["extension.1.1"].due_at == utc(sh(2026, 11, 26, 23, 59, 59))
    with sessions() as s:
        view = ticket_deadlines(s, s.get_one(TicketRecord, tid), sh(2026, 11, 20, 10))
    assert view["resolution"]["kind"] == "extension" and view["resolution"]["state"] == "running"
    # The same decision applied again changes nothing.
    notice(sessions, tid, "extension_decided", sh(2026, 11, 19, 10, 5), approved=True,
           new_due_at="2026-11-26T23:59:59+08:00")
    assert set(timers(sessions, tid)) == {"sign_off", "dispatch", "resolution", "extension.1.1"}


def test_an_extension_without_a_platform_date_adds_the_requested_days(sessions: sessionmaker[Session]) -> None:
    tid = new_ticket(sessions, issued_at=sh(2026, 11, 16, 9))  # due Monday 23rd 23:59:59
    act(sessions, actions.sign_off, tid, sh(2026, 11, 16, 10), principal=DUTY)
    act(sessions, actions.request_extension, tid, sh(2026, 11, 18, 10), principal=LEADER, days=2, reason="需调取监控")
    notice(sessions, tid, "extension_decided", sh(2026, 11, 19, 10), approved=True)
    assert timers(sessions, tid)["extension.1.1"].due_at == utc(sh(2026, 11, 25, 23, 59, 59))


def test_rework_opens_a_new_cycle_counted_from_the_reopening(sessions: sessionmaker[Session]) -> None:
    tid = new_ticket(sessions, issued_at=sh(2026, 11, 2, 9))
    act(sessions, actions.sign_off, tid, sh(2026, 11, 2, 10), principal=DUTY)
    act(sessions, actions.dispatch, tid, sh(2026, 11, 2, 10, 5), principal=DUTY, unit="城关派出所",
        approval="after")
    act(sessions, actions.record_response, tid, sh(2026, 11, 2, 11), principal=UNIT, note="已联系", contact_phone="")
    act(sessions, actions.draft_reply, tid, sh(2026, 11, 5, 9), principal=UNIT, draft=REPLY, review=False)
    act(sessions, actions.approve_reply, tid, sh(2026, 11, 5, 10), principal=LEADER, review=False)
    deliver_all(sessions, sh(2026, 11, 5, 10, 1))
    notice(sessions, tid, "reopened", sh(2026, 11, 10, 9), reason="回访不满意")

    got = timers(sessions, tid)
    assert got["resolution"].state == "met"
    second = got["resolution.2"]
    assert second.state == "running" and second.started_at == utc(sh(2026, 11, 10, 9))
    assert second.due_at == utc(sh(2026, 11, 17, 23, 59, 59))  # 5 working days from the reopening day
    with sessions() as s:
        view = ticket_deadlines(s, s.get_one(TicketRecord, tid), sh(2026, 11, 11, 9))
    assert view["resolution"]["cycle"] == 2


def test_the_hook_is_idempotent(sessions: sessionmaker[Session]) -> None:
    tid = new_ticket(sessions, issued_at=sh(2026, 11, 16, 9))
    act(sessions, actions.sign_off, tid, sh(2026, 11, 16, 10), principal=DUTY)

    def counts() -> tuple[int, int]:
        with sessions() as s:
            return (int(s.scalar(select(func.count()).select_from(SlaTimerRecord)) or 0),
                    int(s.scalar(select(func.count()).select_from(SlaTimerEventRecord)) or 0))

    before = counts()
    for _ in range(3):
        with transaction(sessions) as s:
            ticket_changed(s, ticket=s.get_one(TicketRecord, tid), now=sh(2026, 11, 16, 12), reason="urged")
    assert counts() == before


def test_a_platform_deadline_earlier_than_the_policy_wins_and_follows_updates(sessions: sessionmaker[Session]) -> None:
    tid = new_ticket(sessions, issued_at=sh(2026, 2, 12, 10), platform_due_at=sh(2026, 2, 25, 23, 59, 59))
    assert timers(sessions, tid)["resolution"].due_at == utc(sh(2026, 2, 25, 23, 59, 59))
    with transaction(sessions) as s:
        ticket = s.get_one(TicketRecord, tid)
        ticket.platform_due_at = sh(2026, 2, 24, 18)
        ticket_changed(s, ticket=ticket, now=sh(2026, 2, 13, 9), reason="platform_updated")
    assert timers(sessions, tid)["resolution"].due_at == utc(sh(2026, 2, 24, 18))
    assert ("resolution", "recomputed", "system") in timer_events(sessions, tid)


def test_outbox_rows_are_untouched_by_the_timers(sessions: sessionmaker[Session]) -> None:
    tid = new_ticket(sessions, issued_at=sh(2026, 11, 16, 9))
    ids = act(sessions, actions.sign_off, tid, sh(2026, 11, 16, 10), principal=DUTY)
    with transaction(sessions) as s:
        assert outbox.next_in_line(s, ticket_id=tid) == ids[0]
