"""The SLA engine: thresholds at their instant, once each, repeats, escalation, calendar and auto sign-off."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

import pytest
from pydantic import SecretStr
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from gateway.alerts.store import acknowledge
from gateway.settings import AlertSettings, AutoSignRule, SlaSettings, WebhookSinkSettings
from gateway.sla import runtime as sla_runtime
from gateway.sla.engine import Rings, SlaEngine
from gateway.store.db import make_engine, make_session_factory, transaction
from gateway.store.tables import OutboxRecord, TicketEventRecord, TicketRecord
from gateway.store.tables_sla import AlertDeliveryRecord
from tests.sla_support import alerts, new_ticket, sh, timers

ROBOT = WebhookSinkSettings(name="duty-robot", kind="wecom", url=SecretStr("https://robot.test/send?key=K"))


class Clock:
    """A settable clock."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def world(db_url: str) -> tuple[sessionmaker[Session], SlaEngine, Clock, list[int], list[int]]:
    engine = make_engine(db_url)
    sla_runtime.bind(engine, SlaSettings(auto_sign={"mayor": AutoSignRule(enabled=True, before_due_s=3600)}),
                     AlertSettings(webhooks=[ROBOT], repeat_interval_s=600, escalate_after_s=1800))
    sessions = make_session_factory(engine)
    clock = Clock(sh(2026, 11, 20, 9))
    rung: list[int] = []
    outbox_rung: list[int] = []
    sla = SlaEngine(sessions, runtime=sla_runtime.runtime_for_engine(engine), clock=clock,
                    rings=Rings(deliveries=rung.extend, outbox=outbox_rung.extend))
    return sessions, sla, clock, rung, outbox_rung


World = tuple[sessionmaker[Session], SlaEngine, Clock, list[int], list[int]]


def sign_off_alerts(sessions: sessionmaker[Session]) -> list[tuple[int | None, str]]:
    return [(a.threshold, a.state) for a in alerts(sessions) if a.timer_kind == "sign_off"]


def test_each_threshold_fires_once_at_its_instant_and_lower_ones_are_superseded(world: World) -> None:
    sessions, sla, clock, rung, _ = world
    new_ticket(sessions, issued_at=sh(2026, 11, 20, 9))  # sign-off due 21st 09:00
    assert sla.fire_due(sh(2026, 11, 20, 20, 59, 59)).alerts == []
    first = sla.fire_due(sh(2026, 11, 20, 21, 0, 0))  # exactly 50 %
    assert len(first.alerts) == 1 and len(first.deliveries) == 1
    assert sla.fire_due(sh(2026, 11, 20, 21, 0, 1)).alerts == []  # never twice

    # An outage: the engine comes back after 75 % and 90 % have both passed
    late = sla.fire_due(sh(2026, 11, 21, 7, 0))
    assert len(late.alerts) == 2 and len(late.deliveries) == 1  # one notification for the group
    assert sign_off_alerts(sessions) == [(50, "resolved"), (75, "resolved"), (90, "active")]

    clock.now = sh(2026, 11, 21, 9, 0, 1)
    breach = sla.fire_due(clock.now)
    assert len(breach.alerts) == 1
    assert sign_off_alerts(sessions)[-1] == (100, "active")
    assert [t.state for k, t in timers(sessions, 1).items() if k == "sign_off"] == ["breached"]
    assert rung == [*first.deliveries, *late.deliveries, *breach.deliveries]
    with sessions() as s:
        lines = [d.lines for d in s.scalars(select(AlertDeliveryRecord).order_by(AlertDeliveryRecord.id))]
    assert lines[1][0].startswith("【即将超时】12345工单") and "签收剩余2小时" in lines[1][0]
    assert lines[2][0].startswith("【已超时】")


def test_an_unacknowledged_breach_repeats_and_escalates_to_the_leaders_once(world: World) -> None:
    sessions, sla, clock, _, _ = world
    new_ticket(sessions, issued_at=sh(2026, 11, 20, 9))
    sla.fire_due(sh(2026, 11, 21, 9, 0, 1))
    clock.now = sh(2026, 11, 21, 9, 11)
    assert sla.housekeeping(clock.now)["repeats"] == 1
    assert sla.housekeeping(clock.now)["repeats"] == 0
    clock.now = sh(2026, 11, 21, 9, 31)
    counts = sla.housekeeping(clock.now)
    assert counts["escalations"] == 1 and counts["repeats"] == 1
    assert sla.housekeeping(clock.now)["escalations"] == 0
    escalation = [a for a in alerts(sessions) if a.kind == "escalation"]
    assert len(escalation) == 1 and escalation[0].audience == "leader" and "分管领导" in escalation[0].message

    breach = next(a for a in alerts(sessions) if a.kind == "breach")
    with transaction(sessions) as s:
        acknowledge(s, alert_ids=[breach.id], by="值班员甲", now=clock.now)
    clock.now = sh(2026, 11, 21, 12)
    assert sla.housekeeping(clock.now)["repeats"] == 0


def test_the_missing_calendar_alert_goes_out_once_a_day_from_november(world: World) -> None:
    sessions, sla, _, _, _ = world
    assert sla.housekeeping(sh(2026, 11, 22, 8, 59))["calendar"] == 0  # before the configured hour
    assert sla.housekeeping(sh(2026, 11, 22, 9, 0))["calendar"] == 1
    assert sla.housekeeping(sh(2026, 11, 22, 17, 0))["calendar"] == 0
    assert sla.housekeeping(sh(2026, 11, 23, 9, 0))["calendar"] == 1
    assert sla.housekeeping(sh(2026, 10, 31, 12, 0))["calendar"] == 0  # before 1 November nothing is missing
    messages = [a.message for a in alerts(sessions) if a.kind == "calendar_missing"]
    assert len(messages) == 2 and all("2027年节假日安排尚未导入" in m for m in messages)


def test_auto_sign_off_signs_as_the_system_an_hour_before_the_deadline_and_alerts(world: World) -> None:
    sessions, sla, clock, _, outbox_rung = world
    tid = new_ticket(sessions, issued_at=sh(2026, 11, 20, 9), platform="mayor")
    untouched = new_ticket(sessions, issued_at=sh(2026, 11, 20, 9))  # p12345 has no safety net configured
    assert sla.housekeeping(sh(2026, 11, 21, 7, 59))["auto_signed"] == 0
    clock.now = sh(2026, 11, 21, 8, 1)
    assert sla.housekeeping(clock.now)["auto_signed"] == 1
    assert sla.housekeeping(clock.now)["auto_signed"] == 0
    with sessions() as s:
        ticket = s.get_one(TicketRecord, tid)
        assert (ticket.status, ticket.signed_by) == ("signed", "system")
        row = s.scalars(select(OutboxRecord).where(OutboxRecord.ticket_id == tid)).one()
        assert (row.action, row.created_by) == ("sign", "system") and outbox_rung == [row.id]
        kinds = list(s.scalars(select(TicketEventRecord.actor).where(TicketEventRecord.kind == "signed")))
        assert kinds == ["system"]
        assert s.get_one(TicketRecord, untouched).status == "received"
    assert timers(sessions, tid)["sign_off"].state == "met"
    auto = [a for a in alerts(sessions) if a.kind == "auto_signed"]
    assert len(auto) == 1 and "系统已自动签收" in auto[0].message


def test_a_commit_that_changes_timers_wakes_the_engine_with_the_instant(world: World) -> None:
    sessions, sla, clock, _, _ = world
    got: list[Sequence[tuple[datetime, int]]] = []
    remove = sla.runtime.listen(got.append)
    try:
        clock.now = sh(2026, 11, 20, 9)
        new_ticket(sessions, issued_at=sh(2026, 11, 19, 20, 59))  # 50 % of its sign-off passed a minute ago
    finally:
        remove()
    # The dispatch timer (000 统一派单 二: 9:00 today) is due now, sign-off's 50 % passed at 8:59.
    assert got and sorted(at for at, _ in got[0])[:2] == [sh(2026, 11, 20, 2, 59, 30), sh(2026, 11, 20, 8, 59)]
    sla.hint(got[0])
    assert sla.next_instant() == sh(2026, 11, 20, 2, 59, 30)
    assert len(sla.fire_due(clock.now).alerts) == 5  # sign-off 50 %; dispatch 50, 75, 90 % and its breach
    assert {(a.timer_kind, a.threshold) for a in alerts(sessions)} == {
        ("sign_off", 50), ("dispatch", 50), ("dispatch", 75), ("dispatch", 90), ("dispatch", 100)}


def test_the_heap_is_refreshed_from_the_database_within_the_horizon(world: World) -> None:
    sessions, sla, _, _, _ = world
    new_ticket(sessions, issued_at=sh(2026, 11, 20, 9))
    assert sla.refresh(sh(2026, 11, 20, 20, 0)) == 0  # 50 % at 21:00 is beyond two minutes
    assert sla.refresh(sh(2026, 11, 20, 20, 59)) == 1
    assert sla.next_instant() == sh(2026, 11, 20, 21, 0)
    wait = sla.step(sh(2026, 11, 20, 20, 59))
    assert 0 < wait <= 60 + timedelta(seconds=1).total_seconds()
