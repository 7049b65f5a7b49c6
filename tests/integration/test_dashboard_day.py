"""A day's work on the dashboard (issue 13: 1, 3, 5, 6), through the pages as each role meets them (SQLite and
PostgreSQL): the leader's approvals inbox with its counts in the header, the overview by the nearest deadline
of any kind with 预警中/已超时 leading to the queue, a sent-back reply shown to the unit with the reason, and
each role offered only the forms it can use, the unit list starting with 请选择 and suggesting by 辖区.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, update

from app.bootstrap import Container
from app.web import create_app
from gateway.dashboard.overview import nearest
from gateway.store.db import transaction
from gateway.store.tables import TicketRecord
from gateway.store.tables_dashboard import ApprovalRecord
from gateway.store.tables_sla import SlaTimerRecord
from tests.integration.dashboard_support import NOW, REPLY, UNIT, Browser, add_ticket, build_container, token
from tests.integration.dashboard_support import cheap_hashes as cheap_hashes

# A duty officer who is also a leader: may ask, never approve their own request (四眼原则).
PEOPLE = {"duty_leader": ("值班领导己", ["duty", "leader"], None)}
SUSPEND = {"reason_code": 5, "expected_days": 120, "note": "需多地、多部门联动办理"}


@pytest.fixture
def container(db_url: str, make_settings: Callable[..., Any], tmp_path: Path) -> Iterator[Container]:
    yield from build_container(db_url, make_settings, tmp_path, people=PEOPLE)


@pytest.fixture
def api(container: Container) -> TestClient:
    return TestClient(create_app(container))


def as_user(container: Container, username: str) -> Browser:
    browser = Browser(container)
    assert browser.login(username).status_code == 303
    return browser


def post(api: TestClient, who: str, path: str, **kwargs: Any) -> Any:
    response = api.post(path, headers=token(who), **kwargs)
    assert response.is_success, response.text
    return response


def dispatched(api: TestClient, container: Container, external_id: str, **fields: Any) -> int:
    ticket_id = add_ticket(container, external_id, **fields)
    post(api, "duty", f"/api/v1/tickets/{ticket_id}/sign-off")
    post(api, "duty", f"/api/v1/tickets/{ticket_id}/dispatch", json={"unit": UNIT})
    post(api, "leader", f"/api/v1/tickets/{ticket_id}/dispatch/approve", json={})
    return ticket_id


def drafted(api: TestClient, container: Container, external_id: str) -> int:
    ticket_id = dispatched(api, container, external_id)
    post(api, "unit", f"/api/v1/tickets/{ticket_id}/response", json={})
    post(api, "unit", f"/api/v1/tickets/{ticket_id}/reply", json=REPLY)
    return ticket_id


def forms(html: str) -> set[str]:
    """The ids of the action forms a page offers."""
    return set(re.findall(r'<form method="post" action="[^"]+" id="(form-[a-z-]+)"', html))


def header_count(html: str) -> str:
    found = re.search(r'<span class="count" id="approvals-count" title="([^"]*)">(\d+)</span>', html)
    return f"{found.group(2)} ({found.group(1)})" if found else ""


# -- 1. the approvals inbox ------------------------------------------------------------------------------


def test_the_leaders_inbox_lists_replies_dispatches_extensions_and_suspensions_with_counts_in_the_header(
    api: TestClient, container: Container
) -> None:
    """000 督办 三 (replies), 000 二 (dispatch), 000 限时办结 二 (extension), 002 四(六) (挂单): each waits for a
    leader."""
    reply = drafted(api, container, "A-REPLY")
    post(api, "unit_head", f"/api/v1/tickets/{reply}/reply/review", json={})
    proposal = add_ticket(container, "A-DISPATCH")
    post(api, "duty", f"/api/v1/tickets/{proposal}/sign-off")
    post(api, "duty", f"/api/v1/tickets/{proposal}/dispatch", json={"unit": UNIT})
    extension = dispatched(api, container, "A-EXT")
    post(api, "unit", f"/api/v1/tickets/{extension}/extension", json={"days": 3, "reason": "需调取监控"})
    suspension = dispatched(api, container, "A-SUSP")
    post(api, "unit", f"/api/v1/tickets/{suspension}/suspend/request", json=SUSPEND)

    leader = as_user(container, "leader")
    page = leader.get("/dashboard/approvals").text
    assert header_count(page) == "4 (答复审批 1 · 派单 1 · 延期 1 · 延期挂单 1)"
    for ticket_id, anchor in ((reply, "form-approve"), (proposal, "form-dispatch-approve"),
                              (extension, "form-extension-approve"), (suspension, "form-suspend-approve")):
        assert f'href="/dashboard/tickets/{ticket_id}#{anchor}"' in page
        assert anchor in forms(leader.get(f"/dashboard/tickets/{ticket_id}").text)  # opens at the decision
    assert "预计 120 天" in page and "拟派至 城关派出所" in page
    # The count is on every page of a leader, and on none of a duty officer or a unit.
    assert header_count(leader.get("/dashboard/queue").text).startswith("4 ")
    assert header_count(as_user(container, "duty").get("/dashboard/").text) == ""
    assert as_user(container, "unit").get("/dashboard/approvals").status_code == 403


def test_the_unit_head_step_is_in_the_unit_heads_inbox_and_a_leaders_own_request_is_not_in_theirs(
    api: TestClient, container: Container
) -> None:
    """002 三(二): the unit head reviews first; 四眼原则: nobody is offered their own request."""
    reply = drafted(api, container, "B-REVIEW")
    head = as_user(container, "unit_head")
    page = head.get("/dashboard/approvals").text
    assert header_count(page) == "1 (答复审核 1)" and f"/dashboard/tickets/{reply}#form-review" in page
    assert f"/dashboard/tickets/{reply}#form-approve" not in as_user(container, "leader").get(
        "/dashboard/approvals").text  # not reviewed yet
    own = add_ticket(container, "B-OWN")
    post(api, "duty_leader", f"/api/v1/tickets/{own}/sign-off")
    as_duty = api.post(f"/api/v1/tickets/{own}/dispatch", headers=token("duty_leader"), json={"unit": UNIT})
    assert as_duty.json()["unit"] == UNIT  # a leader's own dispatch takes effect: nothing to approve
    post(api, "duty_leader", f"/api/v1/tickets/{own}/suspend/request", json=SUSPEND)
    mine = as_user(container, "duty_leader").get("/dashboard/approvals").text
    assert f"/dashboard/tickets/{own}#form-suspend-approve" not in mine
    assert f"/dashboard/tickets/{own}#form-suspend-approve" in as_user(container, "leader").get(
        "/dashboard/approvals").text


def test_without_the_unit_head_step_the_unit_head_has_nothing_waiting_and_the_leader_has_the_draft(
    db_url: str, make_settings: Callable[..., Any], tmp_path: Path
) -> None:
    """GATEWAY_DASHBOARD__UNIT_HEAD_REVIEW=false: the step is off, so it is in nobody's inbox."""
    for container in build_container(db_url, make_settings, tmp_path, unit_head_review=False):
        api = TestClient(create_app(container))
        reply = drafted(api, container, "B-NOREVIEW")
        head = as_user(container, "unit_head").get("/dashboard/approvals").text
        assert header_count(head) == "" and 'id="reviews-off"' in head and f"/dashboard/tickets/{reply}" not in head
        leader = as_user(container, "leader").get("/dashboard/approvals").text
        assert header_count(leader) == "1 (答复审批 1)" and f"/dashboard/tickets/{reply}#form-approve" in leader


def test_a_units_suspension_request_waits_for_another_leader_who_records_the_chiefs_signature(
    api: TestClient, container: Container
) -> None:
    """002 四(六): 承办部门…在办理时限到期前提出延期处理挂单申请; 挂单表由主要领导签字."""
    ticket_id = dispatched(api, container, "C-SUSP")
    requested = post(api, "duty_leader", f"/api/v1/tickets/{ticket_id}/suspend/request", json=SUSPEND).json()
    assert requested["suspended_at"] is None and requested["events"][-1]["kind"] == "suspension_proposed"
    own = api.post(f"/api/v1/tickets/{ticket_id}/suspend/approve", headers=token("duty_leader"),
                   json={"chief": "局长王某"})
    assert own.status_code == 403  # four eyes
    unsigned = api.post(f"/api/v1/tickets/{ticket_id}/suspend/approve", headers=token("leader"), json={"chief": " "})
    assert unsigned.status_code == 422 and unsigned.json()["error"]["code"] == "signature_required"
    # Asked before the resolution deadline (27 Nov 23:59:59): approving after it is still in time.
    container.clock = lambda: NOW + timedelta(days=8)
    approved = post(api, "leader", f"/api/v1/tickets/{ticket_id}/suspend/approve", json={"chief": "局长王某"}).json()
    assert approved["suspension"]["chief"] == "局长王某" and approved["suspended_at"] is not None
    assert approved["suspension"]["requested_by"] == "值班领导己"
    with container.sessions() as session:
        states = session.scalars(select(ApprovalRecord.state).where(ApprovalRecord.kind == "suspension")).all()
    assert states == ["approved"]
    late = dispatched(api, container, "C-LATE")
    container.clock = lambda: NOW + timedelta(days=30)
    refused = api.post(f"/api/v1/tickets/{late}/suspend/request", headers=token("unit"), json=SUSPEND)
    assert refused.status_code == 422 and refused.json()["error"]["code"] == "too_late"


def test_a_rejected_suspension_request_leaves_the_clock_running_and_a_unit_asks_only_for_its_own_tickets(
    api: TestClient, container: Container
) -> None:
    ticket_id = dispatched(api, container, "D-SUSP")
    other = api.post(f"/api/v1/tickets/{ticket_id}/suspend/request", headers=token("other_unit"), json=SUSPEND)
    assert other.status_code in (403, 404)
    short = api.post(f"/api/v1/tickets/{ticket_id}/suspend/request", headers=token("unit"),
                     json={**SUSPEND, "expected_days": 60})
    assert short.status_code == 422 and short.json()["error"]["code"] == "too_short"  # > 3 months only
    post(api, "unit", f"/api/v1/tickets/{ticket_id}/suspend/request", json=SUSPEND)
    again = api.post(f"/api/v1/tickets/{ticket_id}/suspend/request", headers=token("unit"), json=SUSPEND)
    assert again.json()["error"]["code"] == "invalid_state"
    rejected = post(api, "leader", f"/api/v1/tickets/{ticket_id}/suspend/reject", json={"reason": "可在时限内办结"})
    assert rejected.json()["suspended_at"] is None
    assert "form-suspend-approve" not in forms(as_user(container, "leader").get(f"/dashboard/tickets/{ticket_id}").text)


# -- 3. the overview by the nearest binding deadline ----------------------------------------------------------


def test_the_overview_puts_the_nearest_deadline_of_any_kind_first(api: TestClient, container: Container) -> None:
    """A 催办 16 minutes away comes before a sign-off 23 hours away: every deadline the engine keeps binds."""
    add_ticket(container, "E-SIGN", issued_at="2026-11-20T09:30:00+08:00")  # sign-off due Sat 09:30
    urgent = dispatched(api, container, "E-URGENT")
    due = (NOW + timedelta(minutes=16)).isoformat()
    post(api, "leader", f"/api/v1/tickets/{urgent}/supervise",
         json={"order": "催办", "due_at": due, "note": "今日反馈"})
    live = as_user(container, "duty").get("/dashboard/live").text
    nearest = live[live.index('id="nearest"'):live.index('id="breached"')]
    assert nearest.index("E-URGENT") < nearest.index("E-SIGN")
    assert "催办期限" in nearest[nearest.index("E-URGENT"):nearest.index("E-SIGN")]
    assert nearest.count("E-URGENT") == 1  # one row per ticket, at its nearest deadline


def test_the_nearest_list_keeps_one_row_per_ticket_however_the_timers_come_in_batches(
    api: TestClient, container: Container
) -> None:
    for n in range(3):
        dispatched(api, container, f"N-{n}", issued_at=f"2026-11-20T0{7 + n}:00:00+08:00")
    add_ticket(container, "N-NEW")
    with container.sessions() as session:
        timers = session.scalars(select(SlaTimerRecord).where(SlaTimerRecord.met_at.is_(None),
                                                              SlaTimerRecord.due_at >= NOW)).all()
        first: dict[int, Any] = {}
        for timer in sorted(timers, key=lambda t: (t.due_at, t.id)):
            first.setdefault(timer.ticket_id, (timer.due_at, timer.id))  # ties go by the timer's id
        expected = sorted(first, key=lambda tid: first[tid])[:3]
        assert len(timers) > len(first)  # several open deadlines per ticket
        for batch in (1, 2, None):  # keyset batches of one timer, two, the default
            rows = nearest(session, now=NOW, unit=None, limit=3, batch=batch)
            assert [r["ticket"].id for r in rows] == expected


def test_the_warning_and_breached_figures_link_to_the_queue_filtered_the_same_way(
    api: TestClient, container: Container
) -> None:
    warned = add_ticket(container, "F-WARN")
    add_ticket(container, "F-CALM")
    late = dispatched(api, container, "F-LATE")
    with transaction(container.sessions) as session:
        session.execute(update(SlaTimerRecord).where(SlaTimerRecord.ticket_id == warned,
                                                     SlaTimerRecord.kind == "sign_off").values(last_threshold=1))
        session.execute(update(SlaTimerRecord).where(SlaTimerRecord.ticket_id == late, SlaTimerRecord.kind.in_(
            ("response", "resolution"))).values(due_at=NOW - timedelta(minutes=5)))  # two late deadlines, one ticket
    duty = as_user(container, "duty")
    live = duty.get("/dashboard/live").text
    for state, figure in (("warning", 1), ("breached", 1)):
        link = re.search(rf'<a class="n" id="stat-{state}" href="([^"]+)"[^>]*>(\d+)</a>', live)
        assert link is not None and int(link.group(2)) == figure
        queue = duty.get(link.group(1).replace("&amp;", "&")).text
        assert f"共 {figure} 件" in queue
    assert "F-WARN" in duty.get("/dashboard/queue?timer_state=warning&sort=due").text
    assert "F-LATE" in duty.get("/dashboard/queue?timer_state=breached&sort=due").text


# -- 5. a sent-back reply, shown to the unit ----------------------------------------------------------------


@pytest.mark.parametrize("who, path, step", [("leader", "reply/send-back", "分管领导"),
                                             ("unit_head", "reply/review/send-back", "部门负责人")])
def test_a_sent_back_reply_shows_to_the_unit_with_the_reason_until_the_next_draft(
    api: TestClient, container: Container, who: str, path: str, step: str
) -> None:
    ticket_id = drafted(api, container, "G-BACK")
    if who == "leader":
        post(api, "unit_head", f"/api/v1/tickets/{ticket_id}/reply/review", json={})
    post(api, who, f"/api/v1/tickets/{ticket_id}/{path}", json={"reason": "调查情况过于简略，请补充监控核查结果"})
    assert api.get(f"/api/v1/tickets/{ticket_id}", headers=token("unit")).json()["sent_back"]["reason"].startswith(
        "调查情况过于简略")
    unit = as_user(container, "unit")
    overview = unit.get("/dashboard/").text
    listed = overview[overview.index('id="sent-back-list"'):]
    assert "G-BACK" in listed and f"{step}" in listed and "调查情况过于简略" in listed
    queue = unit.get("/dashboard/queue?sent_back=1").text
    assert "共 1 件" in queue and "被退回" in queue and "调查情况过于简略" in queue
    page = unit.get(f"/dashboard/tickets/{ticket_id}").text
    assert 'id="sent-back-badge"' in page
    assert re.search(r'id="sent-back"[^>]*>.*调查情况过于简略，请补充监控核查结果', page)
    assert "form-reply" in forms(page)
    post(api, "unit", f"/api/v1/tickets/{ticket_id}/reply", json=REPLY)
    assert "共 0 件" in unit.get("/dashboard/queue?sent_back=1").text
    assert 'id="sent-back"' not in unit.get(f"/dashboard/tickets/{ticket_id}").text
    with container.sessions() as session:  # cleared as SQL NULL, so "IS NULL" finds it
        assert session.scalar(select(TicketRecord.id).where(TicketRecord.sent_back.is_(None))) == ticket_id


# -- 6. only the forms the role can use, and the unit list ---------------------------------------------------


def test_before_the_dispatch_takes_effect_the_duty_officer_sees_no_unit_forms(
    api: TestClient, container: Container
) -> None:
    """000 二: a duty officer's dispatch is a proposal until the leader approves it; unit work waits for it."""
    ticket_id = add_ticket(container, "H-FORMS")
    duty = as_user(container, "duty")
    # The office may raise a matter to the leader at any step (001 三(三) 重大、敏感: 第一时间报告领导).
    flag = "form-intervention-flag"
    assert forms(duty.get(f"/dashboard/tickets/{ticket_id}").text) == {"form-sign-off", "form-complex", flag}
    post(api, "duty", f"/api/v1/tickets/{ticket_id}/sign-off")
    signed = forms(duty.get(f"/dashboard/tickets/{ticket_id}").text)
    assert signed == {"form-dispatch", "form-complex", flag}
    post(api, "duty", f"/api/v1/tickets/{ticket_id}/dispatch", json={"unit": UNIT})
    leader = forms(as_user(container, "leader").get(f"/dashboard/tickets/{ticket_id}").text)
    assert {"form-dispatch-approve", "form-supervise", "form-suspend"} <= leader
    assert not leader & {"form-dispatch", "form-response", "form-reply", "form-extension"}
    post(api, "leader", f"/api/v1/tickets/{ticket_id}/dispatch/approve", json={})
    unit = forms(as_user(container, "unit").get(f"/dashboard/tickets/{ticket_id}").text)
    assert {"form-response", "form-reply", "form-extension", "form-suspend-request"} <= unit
    assert not unit & {"form-dispatch", "form-approve", "form-suspend", "form-complex", "form-supervise"}


def test_the_unit_list_starts_with_please_choose_and_suggests_the_units_of_the_tickets_district(
    api: TestClient, container: Container
) -> None:
    ticket_id = add_ticket(container, "I-PLACE", district="东湖区", subdistrict="湖滨街道")
    post(api, "duty", f"/api/v1/tickets/{ticket_id}/sign-off")
    page = as_user(container, "duty").get(f"/dashboard/tickets/{ticket_id}").text
    select_ = page[page.index('id="dispatch-unit"'):page.index("</select>", page.index('id="dispatch-unit"'))]
    options = re.findall(r'<option value="([^"]*)"\s*(selected)?\s*>', select_)
    assert options[0] == ("", "selected") and len(options) > 10 and not any(sel for _, sel in options[1:])
    assert '<optgroup label="按辖区推荐（东湖区 湖滨街道）"><option value="东城派出所"' in select_
    assert "东湖区 湖滨街道，辖区单位：东城派出所" in page
    # A street-level 辖区 is a closer match than a district-level one.
    admin = as_user(container, "admin")
    with container.sessions() as session:
        from gateway.store.tables_dashboard import UnitRecord

        unit = session.scalars(select(UnitRecord).where(UnitRecord.name == "治安管理大队")).one()
        form = {"unit_id": unit.id, "name": unit.name, "kind": unit.kind, "phone": unit.phone, "sort": unit.sort,
                "active": "on", "area": "湖滨街道"}
    assert admin.post("/dashboard/admin/units", form).status_code == 303
    page = as_user(container, "duty").get(f"/dashboard/tickets/{ticket_id}").text
    assert "辖区单位：治安管理大队、东城派出所" in page
