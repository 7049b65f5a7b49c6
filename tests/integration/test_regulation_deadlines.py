"""The deadline rules of the regulations end to end: stored timers, the API's ``deadlines``, alerts, audit.

Each test names the article it checks. SQLite and PostgreSQL alike (``db_url``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from app.bootstrap import Container
from app.web import create_app
from gateway.principal import Principal
from gateway.services import actions, decisions, oversight
from gateway.services.reports import build_report
from gateway.settings import AlertSettings, DashboardSettings, Role, SlaSettings
from gateway.sla import runtime as sla_runtime
from gateway.sla.engine import Rings, SlaEngine
from gateway.sla.recompute import apply_policy, record_policy
from gateway.store.db import make_engine, make_session_factory, transaction
from gateway.store.tables import OutboxRecord
from gateway.store.tables_sla import SlaAuditRecord
from tests.integration.dashboard_support import Browser, build_container, token
from tests.integration.dashboard_support import cheap_hashes as cheap_hashes
from tests.sla_support import alerts, bound_engine, new_ticket, notice, sh, timer_events, timers, utc

DUTY = Principal("值班员甲", frozenset({Role.duty}))
UNIT = Principal("承办人乙", frozenset({Role.unit}), unit="城关派出所")
LEADER = Principal("分管领导丙", frozenset({Role.leader}))


@pytest.fixture
def container(db_url: str, make_settings: Callable[..., Any], tmp_path: Path) -> Iterator[Container]:
    yield from build_container(db_url, make_settings, tmp_path, dispatch_approval="before")


@pytest.fixture
def api(container: Container) -> TestClient:
    return TestClient(create_app(container))


def at(container: Container, moment: datetime) -> None:
    container.clock = lambda: moment.astimezone(UTC)


def post(api: TestClient, who: str, path: str, **kwargs: Any) -> Any:
    return api.post(path, headers=token(who), **kwargs)


def act(sessions: sessionmaker[Session], use_case: Any, ticket_id: int, now: datetime, **kw: Any) -> list[int]:
    with transaction(sessions) as s:
        return use_case(s, ticket_id=ticket_id, now=now, **kw)  # type: ignore[no-any-return]


def bound(db_url: str, profile: str) -> sessionmaker[Session]:
    engine = make_engine(db_url)
    sla_runtime.bind(engine, SlaSettings(profile=profile), AlertSettings())
    return make_session_factory(engine)


def test_a_help_request_on_a_national_day_holiday_is_due_that_night_000_限时办结_一(
    api: TestClient, container: Container
) -> None:
    tid = new_ticket(container.sessions, issued_at=sh(2026, 10, 3, 10), appeal_type="help")
    at(container, sh(2026, 10, 3, 22))
    got = api.get(f"/api/v1/tickets/{tid}", headers=token("duty")).json()["deadlines"]["resolution"]
    assert got["due_at"] == "2026-10-03T23:59:59+08:00" and got["seconds_left"] == 7199  # not 10-08
    assert (got["rule"], got["source"], got["basis"]) == ("000 限时办结 一", "policy", "依据：000 限时办结 一")


def test_the_platforms_earlier_limit_is_the_one_binding_deadline_with_its_source_000_限时办结_一(
    api: TestClient, container: Container
) -> None:
    # The mayor hotline's blsx of 1 working day from Friday: Monday, earlier than our 5 working days.
    tid = new_ticket(container.sessions, issued_at=sh(2026, 11, 20, 9), platform="mayor", appeal_type="help",
                     platform_time_limit=1, platform_time_unit="working_days")
    body = api.get(f"/api/v1/tickets/{tid}", headers=token("duty")).json()
    got = body["deadlines"]["resolution"]
    assert got["due_at"] == "2026-11-23T23:59:59+08:00"
    assert (got["source"], got["rule"], got["basis"]) == ("platform", "000 限时办结 一", "依据：平台时限")
    assert got["label"] == "平台办理时限 1个工作日"


def test_the_response_clock_starts_when_the_dispatch_takes_effect_and_a_draft_does_not_meet_it_002_四二(
    api: TestClient, container: Container
) -> None:
    tid = new_ticket(container.sessions, issued_at=sh(2026, 11, 20, 9))
    at(container, sh(2026, 11, 20, 10))
    post(api, "duty", f"/api/v1/tickets/{tid}/sign-off")
    at(container, sh(2026, 11, 20, 10, 30))
    proposed = post(api, "duty", f"/api/v1/tickets/{tid}/dispatch", json={"unit": "城关派出所"}).json()
    assert proposed["deadlines"]["response"]["state"] == "not_started"  # waiting for the leader: not received
    at(container, sh(2026, 11, 20, 14))
    approved = post(api, "leader", f"/api/v1/tickets/{tid}/dispatch/approve", json={}).json()
    assert approved["deadlines"]["response"]["due_at"] == "2026-11-20T16:00:00+08:00"
    assert approved["deadlines"]["response"]["rule"] == "002 四(二)"
    at(container, sh(2026, 11, 20, 15))
    draft = {"is_true": "属实", "investigation": "经民警现场核查，反映情况属实。", "disposition": "已责令整改",
             "citizen_opinion": "诉求人表示认可", "resolved": "已解决"}  # 12345 needs its 办理结果
    drafted = post(api, "unit", f"/api/v1/tickets/{tid}/reply", json=draft).json()
    assert drafted["deadlines"]["response"]["state"] == "running"  # a reply draft is no intervention
    at(container, sh(2026, 11, 20, 15, 30))
    post(api, "leader", f"/api/v1/tickets/{tid}/reply/send-back", json={"reason": "先联系诉求人"})
    met = post(api, "unit", f"/api/v1/tickets/{tid}/response", json={"note": "民警上门处置", "how": "intervention"})
    response = met.json()["deadlines"]["response"]
    assert (response["state"], response["met_at"]) == ("met", "2026-11-20T15:30:00+08:00")
    assert next(e for e in met.json()["events"] if e["kind"] == "responded")["detail"]["how"] == "intervention"


def test_a_dispatch_to_another_unit_before_the_first_contact_gives_the_new_unit_its_window_002_四二(
    db_url: str,
) -> None:
    sessions = make_session_factory(bound_engine(db_url))
    tid = new_ticket(sessions, issued_at=sh(2026, 11, 20, 9))
    act(sessions, actions.sign_off, tid, sh(2026, 11, 20, 9, 30), principal=DUTY)
    act(sessions, actions.dispatch, tid, sh(2026, 11, 20, 9, 40), principal=LEADER, unit="城关派出所")
    act(sessions, actions.dispatch, tid, sh(2026, 11, 20, 12, 0), principal=LEADER, unit="东城派出所")
    got = timers(sessions, tid)
    assert got["response"].state == "breached" and got["response"].due_at == utc(sh(2026, 11, 20, 11, 40))
    assert got["response.1.1"].state == "running" and got["response.1.1"].due_at == utc(sh(2026, 11, 20, 14))
    assert got["dispatch"].state == "met" and got["dispatch"].met_at == utc(sh(2026, 11, 20, 9, 40))


def test_the_dispatch_deadline_is_nine_the_next_working_day_and_alerts_like_the_others_000_统一派单_二(
    db_url: str,
) -> None:
    sessions = make_session_factory(bound_engine(db_url))
    tid = new_ticket(sessions, issued_at=sh(2026, 11, 20, 10))  # Friday: Saturday rests, so Monday 9:00
    dispatch = timers(sessions, tid)["dispatch"]
    assert dispatch.due_at == utc(sh(2026, 11, 23, 9)) and dispatch.rule == "000 统一派单 二"
    clock = sh(2026, 11, 23, 9, 0, 1)
    sla = SlaEngine(sessions, runtime=sla_runtime.runtime_for_engine(sessions.kw["bind"]), clock=lambda: clock,
                    rings=Rings(deliveries=lambda _: None, outbox=lambda _: None))
    sla.fire_due(clock)
    fired = {(a.timer_kind, a.threshold) for a in alerts(sessions)}
    assert {("dispatch", 50), ("dispatch", 75), ("dispatch", 90), ("dispatch", 100)} <= fired
    breach = next(a for a in alerts(sessions) if a.timer_kind == "dispatch" and a.kind == "breach")
    assert "派单" in breach.message


def test_a_proposed_dispatch_meets_neither_the_dispatch_nor_starts_the_response_until_the_leader_approves_000_二(
    db_url: str,
) -> None:
    # 000 统一派单 二: 经分管局领导审阅后…于第二日9时前进行派单 — the leader's review comes before the dispatch and
    # both fall within the time; 002 四(二): the unit's 2 hours run from when it receives the order.
    sessions = make_session_factory(bound_engine(db_url))
    tid = new_ticket(sessions, issued_at=sh(2026, 11, 20, 10))  # Friday: dispatch due Monday 9:00
    act(sessions, actions.sign_off, tid, sh(2026, 11, 20, 11), principal=DUTY)
    act(sessions, actions.dispatch, tid, sh(2026, 11, 23, 8, 30), principal=DUTY, unit="城关派出所",
        approval="before")
    proposed = timers(sessions, tid)
    assert proposed["dispatch"].state == "running" and proposed["dispatch"].met_at is None
    assert "response" not in proposed  # the unit has no order yet
    act(sessions, decisions.approve_dispatch, tid, sh(2026, 11, 23, 9, 30), principal=LEADER)
    got = timers(sessions, tid)
    assert got["dispatch"].met_at == utc(sh(2026, 11, 23, 9, 30)) and got["dispatch"].state == "breached"
    assert got["response"].started_at == utc(sh(2026, 11, 23, 9, 30))
    assert got["response"].due_at == utc(sh(2026, 11, 23, 11, 30)) and got["response"].state == "running"


def test_an_extension_asked_in_time_on_friday_is_not_refused_at_mondays_approval_000_限时办结_二(
    api: TestClient, container: Container
) -> None:
    tid = new_ticket(container.sessions, issued_at=sh(2026, 11, 16, 9))  # due Monday 23rd 23:59:59
    act(container.sessions, actions.sign_off, tid, sh(2026, 11, 16, 10), principal=DUTY)
    act(container.sessions, actions.dispatch, tid, sh(2026, 11, 16, 10, 5), principal=LEADER, unit="城关派出所")
    at(container, sh(2026, 11, 20, 16))
    asked = post(api, "unit", f"/api/v1/tickets/{tid}/extension", json={"days": 3, "reason": "需调取监控"})
    assert asked.status_code == 200
    at(container, sh(2026, 11, 23, 10))  # 14 hours before the deadline: too late to ask, not to approve
    approved = post(api, "leader", f"/api/v1/tickets/{tid}/extension/approve", json={"note": "同意"})
    assert approved.status_code == 200, approved.text
    requested = next(e for e in approved.json()["events"] if e["kind"] == "extension_requested")
    assert requested["detail"]["new_due_at"].startswith("2026-11-26T23:59:59")  # 3 calendar days


def test_a_12389_extension_needs_the_written_progress_report_001_四三(
    api: TestClient, container: Container
) -> None:
    tid = new_ticket(container.sessions, issued_at=sh(2026, 11, 16, 9), platform="p12389", appeal_type="report",
                     level="一般")
    act(container.sessions, actions.sign_off, tid, sh(2026, 11, 16, 10), principal=DUTY)
    at(container, sh(2026, 11, 20, 10))
    refused = post(api, "leader", f"/api/v1/tickets/{tid}/extension", json={"days": 3, "reason": "需调取监控"})
    assert refused.status_code == 422 and refused.json()["error"]["code"] == "report_required"
    assert "001 四(三)" in refused.json()["error"]["message"]
    report = "已询问当事民警两人，调取执法记录仪视频待鉴定"
    sent = post(api, "leader", f"/api/v1/tickets/{tid}/extension",
                json={"days": 3, "reason": "需调取监控", "report": report})
    assert sent.status_code == 200
    with container.sessions() as s:
        row = s.scalars(select(OutboxRecord).where(OutboxRecord.action == "extension")).one()
    assert row.payload["reason"] == f"需调取监控\n阶段进展情况：{report}"


def test_a_platform_supervision_with_a_reply_time_is_a_timer_that_alerts_and_binds_000_限时办结_二(
    db_url: str,
) -> None:
    sessions = make_session_factory(bound_engine(db_url))
    tid = new_ticket(sessions, issued_at=sh(2026, 11, 16, 9))  # our limit: Monday 23rd
    notice(sessions, tid, "supervised", sh(2026, 11, 17, 9), supervise_no="DB-1", level="platform",
           note="请加快办理", reply_by="2026-11-19T18:00:00+08:00")
    got = timers(sessions, tid)
    assert got["supervision"].due_at == utc(sh(2026, 11, 19, 18)) and got["supervision"].source == "platform"
    assert got["resolution"].due_at == utc(sh(2026, 11, 19, 18))  # the earlier 督办 time binds the reply
    assert (got["resolution"].source, got["resolution"].rule) == ("platform", "000 限时办结 二")
    clock = sh(2026, 11, 19, 18, 0, 1)
    sla = SlaEngine(sessions, runtime=sla_runtime.runtime_for_engine(sessions.kw["bind"]), clock=lambda: clock,
                    rings=Rings(deliveries=lambda _: None, outbox=lambda _: None))
    sla.fire_due(clock)
    assert ("supervision", 100) in {(a.timer_kind, a.threshold) for a in alerts(sessions)}


def test_a_leaders_own_supervision_and_urge_are_timed_shown_and_reported(
    api: TestClient, container: Container
) -> None:
    tid = new_ticket(container.sessions, issued_at=sh(2026, 11, 16, 9))
    act(container.sessions, actions.sign_off, tid, sh(2026, 11, 16, 10), principal=DUTY)
    act(container.sessions, actions.dispatch, tid, sh(2026, 11, 16, 10, 5), principal=LEADER, unit="城关派出所")
    at(container, sh(2026, 11, 17, 9))
    order = {"order": "督办", "due_at": "2026-11-19T17:00:00+08:00", "note": "请于19日17时前办结回复"}
    assert post(api, "unit", f"/api/v1/tickets/{tid}/supervise", json=order).status_code == 403
    assert post(api, "leader", f"/api/v1/tickets/{tid}/supervise",
                json={**order, "due_at": "2026-11-16T17:00:00+08:00"}).status_code == 422  # in the past
    body = post(api, "leader", f"/api/v1/tickets/{tid}/supervise", json=order).json()
    assert body["supervised"] is True
    [shown] = body["supervisions"]
    assert (shown["order"], shown["issued_by"], shown["note"], shown["due_at"]) == (
        "督办", "leader-api", "请于19日17时前办结回复", "2026-11-19T17:00:00+08:00")
    resolution = body["deadlines"]["resolution"]
    assert resolution["due_at"] == "2026-11-19T17:00:00+08:00" and resolution["basis"] == "依据：督办时限"
    urge = post(api, "leader", f"/api/v1/tickets/{tid}/supervise",
                json={"order": "催办", "due_at": "2026-11-18T12:00:00+08:00", "note": "请报送进展"}).json()
    assert urge["deadlines"]["supervision"]["kind"] == "urge"  # the nearest open one
    at(container, sh(2026, 11, 18, 9))
    progressed = post(api, "unit", f"/api/v1/tickets/{tid}/progress", json={"note": "已调取监控"}).json()
    states = {o["order"]: o["state"] for o in progressed["supervisions"]}
    assert states == {"督办": "running", "催办": "met"}  # a 催办 is answered by a progress report
    with container.sessions() as s:
        report = build_report(s, start=date(2026, 11, 16), end=date(2026, 11, 16), group="platform",
                              settings=DashboardSettings(), now=sh(2026, 11, 18, 9))
    assert (report.total.supervised, report.total.orders) == (1, [1, 1])


def test_profile_002_gives_12345_the_three_137_timers_002_工作要求二(db_url: str) -> None:
    sessions = bound(db_url, "002")
    tid = new_ticket(sessions, issued_at=sh(2026, 11, 16, 10), platform_due_at=sh(2026, 11, 30, 18))
    got = timers(sessions, tid)
    assert set(got) == {"sign_off", "first_feedback", "resolution"}  # no 09:00 dispatch rule in 002
    assert got["first_feedback"].due_at == utc(sh(2026, 11, 17, 23, 59, 59))
    assert got["resolution"].due_at == utc(sh(2026, 11, 19, 23, 59, 59))  # "3天内": calendar days
    assert got["resolution"].rule == "002 工作要求(二)"
    act(sessions, actions.sign_off, tid, sh(2026, 11, 16, 11), principal=DUTY)
    act(sessions, actions.dispatch, tid, sh(2026, 11, 16, 11, 30), principal=LEADER, unit="城关派出所")
    act(sessions, actions.report_progress, tid, sh(2026, 11, 16, 15), principal=UNIT, note="已初步核实")
    assert timers(sessions, tid)["first_feedback"].met_at == utc(sh(2026, 11, 16, 15))
    act(sessions, oversight.mark_complex, tid, sh(2026, 11, 17, 9), principal=LEADER, complex_=True,
        reason="涉及多部门")
    got = timers(sessions, tid)
    assert got["plan"].due_at == utc(sh(2026, 11, 23, 23, 59, 59))  # 7 days from receipt
    assert got["resolution"].due_at == utc(sh(2026, 11, 30, 18)) and got["resolution"].source == "platform"
    act(sessions, oversight.submit_plan, tid, sh(2026, 11, 20, 9), principal=UNIT,
        plan="会同城管联合整治，预计月底办结")
    assert timers(sessions, tid)["plan"].state == "met"


def test_marking_complex_after_the_deadline_passed_is_refused_000_限时办结_一(db_url: str) -> None:
    sessions = make_session_factory(bound_engine(db_url))
    tid = new_ticket(sessions, issued_at=sh(2026, 11, 16, 9), appeal_type="consultation")
    with pytest.raises(Exception, match="办结期限已过"):
        act(sessions, oversight.mark_complex, tid, sh(2026, 11, 17, 9), principal=LEADER, complex_=True,
            reason="事后补认定")
    act(sessions, oversight.mark_complex, tid, sh(2026, 11, 16, 15), principal=LEADER, complex_=True,
        reason="需查询多年档案")
    assert timers(sessions, tid)["resolution"].due_at == utc(sh(2026, 11, 23, 23, 59, 59))


def test_a_change_of_profile_recomputes_every_open_deadline_audited(db_url: str) -> None:
    sessions = make_session_factory(bound_engine(db_url))
    tid = new_ticket(sessions, issued_at=sh(2026, 11, 16, 10), platform_due_at=sh(2026, 11, 30, 18))
    with transaction(sessions) as s:
        record_policy(s, policy=SlaSettings(), now=sh(2026, 11, 16, 10))
    assert timers(sessions, tid)["resolution"].due_at == utc(sh(2026, 11, 23, 23, 59, 59))
    runtime = sla_runtime.bind(sessions.kw["bind"], SlaSettings(profile="002"), AlertSettings())
    with transaction(sessions) as s:
        report = apply_policy(s, runtime=runtime, now=sh(2026, 11, 17, 8))
    assert report is not None and report.changed == 2  # resolution moved, dispatch cancelled
    got = timers(sessions, tid)
    assert got["resolution"].due_at == utc(sh(2026, 11, 19, 23, 59, 59))
    assert got["resolution"].rule == "002 工作要求(二)"
    assert got["dispatch"].state == "cancelled"
    assert ("resolution", "recomputed", "system") in timer_events(sessions, tid)
    with sessions() as s:
        entry = s.scalars(select(SlaAuditRecord).where(SlaAuditRecord.action == "policy_changed")).one()
    assert (entry.detail["profile"], entry.detail["changed"]) == ("002", 2)
    with transaction(sessions) as s:
        assert apply_policy(s, runtime=runtime, now=sh(2026, 11, 17, 9)) is None  # applied once


def test_the_admin_page_shows_the_active_profile_and_the_ticket_one_binding_deadline(container: Container) -> None:
    tid = new_ticket(container.sessions, issued_at=sh(2026, 11, 20, 9), platform="mayor", appeal_type="help",
                     platform_time_limit=1, platform_time_unit="working_days", platform_due_at=sh(2026, 11, 27, 18))
    browser = Browser(container)
    browser.login("admin")
    page = browser.get("/dashboard/admin/policy").text
    assert "默认（综合四地规定" in page and "000 统一派单 二" in page and "001 四(三)" in page
    assert "GATEWAY_SLA__PROFILE" in page
    ticket = browser.get(f"/dashboard/tickets/{tid}").text
    assert "依据：平台时限" in ticket and "平台办结时限" not in ticket  # one binding deadline, no second one
    assert "2026-11-27" not in ticket


def test_a_leader_issues_a_supervision_from_the_ticket_page_in_local_time_000_限时办结_二(
    container: Container,
) -> None:
    tid = new_ticket(container.sessions, issued_at=sh(2026, 11, 20, 9))
    leader = Browser(container)
    leader.login("leader")
    assert 'id="form-supervise"' in leader.get(f"/dashboard/tickets/{tid}").text
    leader.post(f"/dashboard/tickets/{tid}/supervise", {"order": "催办", "due_at": "2026-11-21T12:00",
                                                         "note": "请报送核查进展"})
    assert leader.flash() == "ok: 已下达催办"
    leader.post(f"/dashboard/tickets/{tid}/complex", {"complex": "true", "reason": "涉及多部门联动"})
    assert leader.flash() == "ok: 已认定为复杂问题"
    page = leader.get(f"/dashboard/tickets/{tid}").text
    card = page[page.index('id="supervisions"'):]
    assert "局催办" in card and "请报送核查进展" in card and "2026-11-21 12:00" in card
    assert 'id="complex-badge"' in page
    assert timers(container.sessions, tid)["urge"].due_at == utc(sh(2026, 11, 21, 12))
