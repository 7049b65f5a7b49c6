"""Issue 16 (points 1, 2, 3, 10): 终结办理 (002 四(七)), 诉求合理/不合理 and the 三级结案终审表 (002 三(二)),
不满意件甄别 (000 不满意件甄别及跟踪制度) and 办结通报 (000 沟通通报 三), through the JSON API and the dashboard
(SQLite and PostgreSQL)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from app.bootstrap import Container
from app.web import create_app
from gateway.services import reports
from gateway.settings import AlertSettings, SlaSettings
from gateway.sla import runtime as sla_runtime
from gateway.store.tables import TicketEventRecord, TicketRecord
from gateway.store.tables_sla import SlaTimerRecord
from tests.integration.dashboard_support import NOW, REPLY, UNIT, Browser, add_ticket, build_container, token
from tests.integration.dashboard_support import cheap_hashes as cheap_hashes

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 200
# The bureau chief (主要领导) holds the leader role; duty_leader tests four eyes on a 特殊事项 exemption.
PEOPLE = {"chief": ("局长甲", ["leader"], None), "duty_leader": ("值班领导乙", ["duty", "leader"], None)}
NOTICE = {"how": "phone", "told": "已电话告知处理结果", "opinion": "表示不认可，要求赔偿", "satisfied": False,
          "rights_told": True}


@pytest.fixture
def profile() -> str:
    return "default"


@pytest.fixture
def container(db_url: str, make_settings: Callable[..., Any], tmp_path: Path, profile: str) -> Iterator[Container]:
    for built in build_container(db_url, make_settings, tmp_path, people=PEOPLE):
        sla_runtime.bind(built.engine, SlaSettings(profile=profile), AlertSettings())  # the bureau's regulation
        yield built


@pytest.fixture
def api(container: Container) -> TestClient:
    return TestClient(create_app(container))


def post(api: TestClient, who: str, path: str, **kwargs: Any) -> Any:
    return api.post(path, headers=token(who), **kwargs)


def drafted(api: TestClient, container: Container, external_id: str = "C-1") -> int:
    """Signed, dispatched (leader's approval), contacted, the reply drafted and reviewed by the unit head."""
    tid = add_ticket(container, external_id)
    base = f"/api/v1/tickets/{tid}"
    assert post(api, "duty", f"{base}/sign-off").is_success
    assert post(api, "duty", f"{base}/dispatch", json={"unit": UNIT}).is_success
    assert post(api, "leader", f"{base}/dispatch/approve", json={}).is_success
    assert post(api, "unit", f"{base}/response", json={}).is_success
    assert post(api, "unit", f"{base}/reply", json=REPLY).is_success
    assert post(api, "unit_head", f"{base}/reply/review", json={}).is_success
    return tid


def error(response: Any) -> tuple[int, str]:
    return response.status_code, response.json()["error"]["code"]


# --- 1. 终结办理, 002 四(七) --------------------------------------------------------------------------------

def test_termination_002_四_七_needs_a_listed_reason_the_visit_and_evidence_then_another_leaders_approval(
    api: TestClient, container: Container,
) -> None:
    tid = drafted(api, container)
    base = f"/api/v1/tickets/{tid}"
    asked = {"reason_code": 8, "explanation": "已依法办理完毕，同一诉求人无新情况新证据反复提出",
             "visit": "三上门：已上门劝解并说明依据", "evidence_ids": [999]}
    assert error(post(api, "unit", f"{base}/termination", json=asked)) == (422, "evidence_required")
    assert post(api, "unit", f"{base}/termination", json={**asked, "reason_code": 10}).status_code == 422
    photo = post(api, "unit", f"{base}/evidence", files={"file": ("上门劝解.png", PNG, "image/png")}).json()
    assert post(api, "unit", f"{base}/termination", json={**asked, "evidence_ids": [photo["id"]]}).is_success
    assert post(api, "unit", f"{base}/termination/approve", json={"chief": "局长甲"}).status_code == 403
    assert post(api, "leader", f"{base}/termination/approve", json={"chief": ""}).status_code == 422
    done = post(api, "leader", f"{base}/termination/approve", json={"chief": "局长甲"}).json()
    assert done["status"] == "closed" and done["terminated_at"] is not None
    kinds = [(e["kind"], e["detail"].get("action")) for e in done["events"]]
    assert ("terminated", None) in kinds and ("not_on_platform", "terminate") in kinds  # no platform has the call
    with container.sessions() as s:
        resolution = s.scalars(select(SlaTimerRecord).where(SlaTimerRecord.ticket_id == tid,
                                                            SlaTimerRecord.kind == "resolution")).one()
        assert resolution.state == "cancelled"  # a terminated matter is neither on time nor late
        report = reports.build_report(s, start=date(2026, 11, 1), end=date(2026, 11, 30), group="unit",
                                      settings=container.settings.dashboard, now=NOW)
    assert report.total.terminated == 1  # counted apart (002 四(七))


def test_a_unit_cannot_terminate_another_units_ticket_and_the_requester_cannot_approve_002_四_七(
    api: TestClient, container: Container,
) -> None:
    tid = drafted(api, container)
    base = f"/api/v1/tickets/{tid}"
    photo = post(api, "unit", f"{base}/evidence", files={"file": ("a.png", PNG, "image/png")}).json()
    asked = {"reason_code": 4, "explanation": "办理中涉及个人隐私，不宜继续调查处办", "visit": "已上门劝解",
             "evidence_ids": [photo["id"]]}
    assert post(api, "other_unit", f"{base}/termination", json=asked).status_code == 403
    assert post(api, "duty_leader", f"{base}/termination", json=asked).is_success
    assert post(api, "duty_leader", f"{base}/termination/approve", json={"chief": "局长甲"}).status_code == 403
    rejected = post(api, "leader", f"{base}/termination/reject", json={"reason": "仍需继续办理"}).json()
    assert rejected["status"] == "reply_drafted" and rejected["terminated_at"] is None


# --- 2. 诉求合理/不合理 and the 三级结案终审表, 002 三(二) ------------------------------------------------------

@pytest.mark.parametrize("profile", ["002"])
def test_under_002_三_二_approval_needs_the_reasonableness_and_the_three_signatures_in_order(
    api: TestClient, container: Container,
) -> None:
    tid = drafted(api, container)
    base = f"/api/v1/tickets/{tid}"
    assert error(post(api, "leader", f"{base}/reply/approve")) == (422, "reasonable_required")
    assert post(api, "unit", f"{base}/reasonable", json={"value": "unreasonable"}).is_success
    assert post(api, "unit", f"{base}/closing-notice", json=NOTICE).is_success  # the citizen is not satisfied
    assert error(post(api, "leader", f"{base}/reply/approve")) == (422, "final_review_required")
    assert post(api, "unit", f"{base}/final-review", json={"explanation": "短"}).status_code == 422
    explanation = {"explanation": "诉求人要求赔偿无法律依据，已多次上门解释，诉求不合理"}
    assert post(api, "unit", f"{base}/final-review", json=explanation).is_success
    assert post(api, "leader", f"{base}/final-review/sign", json={}).status_code == 403  # 部门负责人 first
    assert post(api, "other_unit", f"{base}/final-review/sign", json={}).status_code == 403
    assert post(api, "unit_head", f"{base}/final-review/sign", json={"note": "同意"}).is_success
    assert post(api, "leader", f"{base}/final-review/sign", json={}).is_success
    assert post(api, "leader", f"{base}/final-review/sign", json={}).status_code == 403  # a third, other person
    assert error(post(api, "leader", f"{base}/reply/approve")) == (422, "final_review_required")
    assert post(api, "chief", f"{base}/final-review/sign", json={}).is_success
    form = api.get(f"{base}/final-review", headers=token("duty")).json()
    assert form["state"] == "approved" and form["reasonable"] == "unreasonable"
    assert [(s["title"], s["by"]) for s in form["signatures"]] == [
        ("部门负责人", "unit_head-api"), ("分管局领导", "leader-api"), ("旗局主要领导", "局长甲")]
    assert post(api, "leader", f"{base}/reply/approve").is_success


def test_the_final_review_form_is_only_for_an_unreasonable_request_the_citizen_rejects_002_三_二(
    api: TestClient, container: Container,
) -> None:
    tid = drafted(api, container)
    base = f"/api/v1/tickets/{tid}"
    explanation = {"explanation": "诉求人要求赔偿无法律依据，已多次上门解释"}
    assert post(api, "unit", f"{base}/reasonable", json={"value": "reasonable"}).json()["reasonable"] == "reasonable"
    assert post(api, "unit", f"{base}/closing-notice", json=NOTICE).is_success
    assert error(post(api, "unit", f"{base}/final-review", json=explanation)) == (422, "not_applicable")
    assert post(api, "unit", f"{base}/reasonable", json={"value": "maybe"}).status_code == 422
    assert api.get(f"{base}/final-review", headers=token("duty")).status_code == 404
    # under the default profile the leader's approval is not held to it: the judgement is still recorded
    assert post(api, "leader", f"{base}/reply/approve").is_success
    lists = api.get("/api/v1/closing", headers=token("duty")).json()
    assert lists["unjudged"] == []  # judged before it was answered


def test_the_dashboard_prints_the_final_review_form_with_its_signatures_002_三_二(
    api: TestClient, container: Container,
) -> None:
    tid = drafted(api, container)
    base = f"/api/v1/tickets/{tid}"
    post(api, "unit", f"{base}/reasonable", json={"value": "unreasonable"})
    post(api, "unit", f"{base}/closing-notice", json=NOTICE)
    unit, head = Browser(container), Browser(container)
    unit.login("unit"), head.login("unit_head")
    page = f"/dashboard/tickets/{tid}"
    assert 'id="form-final-review"' in unit.get(page).text
    unit.post(f"{page}/final-review", {"explanation": "诉求人要求赔偿无法律依据，已多次上门解释"})
    assert 'id="form-final-review-sign"' in head.get(page).text
    head.post(f"{page}/final-review/sign", {"note": "情况属实"})
    printed = head.get(f"{page}/final-review/print")
    assert printed.status_code == 200 and "三级结案终审表" in printed.text
    assert "城关所所长" in printed.text and "待签字" in printed.text  # the leader's and the chief's lines wait
    assert "诉求人要求赔偿无法律依据" in printed.text
    assert Browser(container).get(f"{page}/final-review/print", follow_redirects=False).status_code in (302, 303)


# --- 3. 不满意件甄别, 000 不满意件甄别及跟踪制度 ----------------------------------------------------------------

def screened(api: TestClient, tid: int, cause: int) -> Any:
    base = f"/api/v1/tickets/{tid}"
    assert post(api, "unit", f"{base}/screening", json={"reason": "民警依法执法，群众对处罚不满"}).is_success
    assert post(api, "duty", f"{base}/screening/propose", json={"body": "supervision"}).is_success
    assert post(api, "leader", f"{base}/screening/assign", json={}).is_success
    findings = {"cause": cause, "findings": "经调取执法记录仪，民警执法规范、用语文明"}
    assert post(api, "supervisor", f"{base}/screening/result", json=findings).is_success
    assert post(api, "chief", f"{base}/screening/decide", json={}).is_success
    return post(api, "duty", f"{base}/screening/answer", json={"text": "经甄别，民警无过错，予以表扬"})


def test_screening_000_runs_its_six_steps_and_a_class_4_cause_leaves_the_satisfaction_rate(
    api: TestClient, container: Container,
) -> None:
    tid = drafted(api, container)
    base = f"/api/v1/tickets/{tid}"
    assert error(post(api, "unit", f"{base}/screening", json={"reason": "群众不满意"})) == (422, "not_applicable")
    post(api, "unit", f"{base}/closing-notice", json=NOTICE)
    answered = screened(api, tid, 4).json()
    assert answered["screening"]["no_fault"] is True and answered["screening"]["tracking"] is False
    kinds = [e["kind"] for e in answered["events"] if e["kind"].startswith("screening_")]
    assert kinds == ["screening_applied", "screening_proposed", "screening_assigned", "screening_screened",
                     "screening_decided", "screening_answered"]
    with container.sessions() as s:
        ticket = s.get(TicketRecord, tid)
        assert ticket is not None
        ticket.callback = {"satisfaction": "dissatisfied"}
        s.commit()
        report = reports.build_report(s, start=date(2026, 11, 1), end=date(2026, 11, 30), group="unit",
                                      settings=container.settings.dashboard, now=NOW)
    assert report.total.no_fault == 1 and report.total.satisfied == [0.0, 0]  # no fault: left out of 满意率


def test_screening_000_refuses_the_same_person_twice_a_fifth_cause_and_an_answer_without_无过错(
    api: TestClient, container: Container,
) -> None:
    tid = drafted(api, container)
    base = f"/api/v1/tickets/{tid}"
    post(api, "unit", f"{base}/closing-notice", json=NOTICE)
    assert post(api, "unit", f"{base}/screening", json={"reason": "民警依法执法，群众对处罚不满"}).is_success
    assert post(api, "duty", f"{base}/screening/assign", json={}).status_code == 403  # the leader signs
    assert error(post(api, "leader", f"{base}/screening/assign", json={})) == (409, "invalid_state")  # proposal first
    assert post(api, "duty_leader", f"{base}/screening/propose", json={"body": "legal"}).is_success
    assert post(api, "duty_leader", f"{base}/screening/assign", json={}).status_code == 403  # four eyes
    assert post(api, "leader", f"{base}/screening/assign", json={}).is_success
    bad = {"cause": 5, "findings": "经调取执法记录仪，民警执法规范"}
    assert post(api, "supervisor", f"{base}/screening/result", json=bad).status_code == 422
    assert post(api, "supervisor", f"{base}/screening/result", json={**bad, "cause": 4}).is_success
    assert post(api, "leader", f"{base}/screening/decide", json={}).is_success
    refused = post(api, "duty", f"{base}/screening/answer", json={"text": "已甄别完毕"})
    assert error(refused) == (422, "answer_incomplete")  # 000 不满意件甄别 三(二): 明确答复“无过错”


def test_a_screening_for_cause_1_to_3_goes_into_tracking_000_不满意件甄别_三_一(
    api: TestClient, container: Container,
) -> None:
    tid = drafted(api, container)
    post(api, "unit", f"{base_of(tid)}/closing-notice", json=NOTICE)
    assert screened(api, tid, 2).is_success
    ticket = api.get(base_of(tid), headers=token("duty")).json()
    assert ticket["screening"]["tracking"] is True and ticket["screening"]["label"] == "民警态度问题造成"
    lists = api.get("/api/v1/closing", headers=token("duty")).json()
    assert [(r["ticket_id"], r["tracking"]) for r in lists["screened"]] == [(tid, True)]


def base_of(tid: int) -> str:
    return f"/api/v1/tickets/{tid}"


# --- 10. 办结通报, 000 沟通通报 三 ----------------------------------------------------------------------------

@pytest.mark.parametrize("profile", ["000"])
def test_under_000_沟通通报_三_the_reply_waits_for_the_closing_notice(api: TestClient, container: Container) -> None:
    tid = drafted(api, container)
    base = f"/api/v1/tickets/{tid}"
    assert error(post(api, "leader", f"{base}/reply/approve")) == (422, "notice_required")
    assert error(post(api, "unit", f"{base}/closing-notice", json={**NOTICE, "how": ""})) == (422, "invalid_how")
    incomplete = {**NOTICE, "satisfied": None}
    assert error(post(api, "unit", f"{base}/closing-notice", json=incomplete)) == (422, "notice_incomplete")
    assert post(api, "other_unit", f"{base}/closing-notice", json=NOTICE).status_code == 403
    noted = post(api, "unit", f"{base}/closing-notice", json=NOTICE).json()
    assert noted["closing_notice"]["opinion"] == "表示不认可，要求赔偿" and noted["closing_notice"]["by"] == "unit-api"
    assert post(api, "leader", f"{base}/reply/approve").json()["status"] == "approved"


@pytest.mark.parametrize("profile", ["000"])
def test_a_special_matter_exemption_000_沟通通报_三_is_accepted_by_another_persons_approval(
    api: TestClient, container: Container,
) -> None:
    tid = drafted(api, container)
    base = f"/api/v1/tickets/{tid}"
    assert error(post(api, "duty", f"{base}/closing-notice", json={"exempt_reason": "涉"})) == (422, "reason_required")
    exempt = {"exempt_reason": "涉及在办刑事案件，暂不通报"}
    assert post(api, "duty_leader", f"{base}/closing-notice", json=exempt).is_success
    assert post(api, "duty_leader", f"{base}/reply/approve").status_code == 403
    assert post(api, "leader", f"{base}/reply/approve").is_success
    with container.sessions() as s:
        event = s.scalars(select(TicketEventRecord).where(TicketEventRecord.ticket_id == tid,
                                                          TicketEventRecord.kind == "closing_notice")).one()
        assert event.detail["exempt"] is True and event.detail["article"] == "000 沟通通报 三"


def test_the_closing_page_lists_what_waits_and_a_unit_sees_its_own_only(api: TestClient, container: Container) -> None:
    tid = drafted(api, container)
    other = drafted(api, container, "C-2")
    with container.sessions() as s:
        ticket = s.get(TicketRecord, other)
        assert ticket is not None
        ticket.unit = "东城派出所"
        s.commit()
    duty, unit = Browser(container), Browser(container)
    duty.login("duty"), unit.login("unit")
    page = duty.get("/dashboard/closing")
    assert page.status_code == 200 and "结案管理" in page.text and "待办结通报" in page.text
    assert f"/dashboard/tickets/{tid}" in page.text and f"/dashboard/tickets/{other}" in page.text
    own = unit.get("/dashboard/closing").text
    assert f"/dashboard/tickets/{tid}" in own and f"/dashboard/tickets/{other}\"" not in own


def test_a_leaders_approvals_page_lists_a_termination_request_but_not_their_own_002_四_七(
    api: TestClient, container: Container,
) -> None:
    tid = drafted(api, container)
    base = f"/api/v1/tickets/{tid}"
    photo = post(api, "unit", f"{base}/evidence", files={"file": ("a.png", PNG, "image/png")}).json()
    asked = {"reason_code": 6, "explanation": "相关部门已相互磋商并给出明确答复", "visit": "已上门劝解",
             "evidence_ids": [photo["id"]]}
    assert post(api, "unit", f"{base}/termination", json=asked).is_success
    leader = Browser(container)
    leader.login("leader")
    listed = leader.get("/dashboard/approvals").text
    assert "终结办理" in listed and f"/dashboard/tickets/{tid}" in listed
    assert 'id="form-termination-approve"' in leader.get(f"/dashboard/tickets/{tid}").text
    leader.post(f"/dashboard/tickets/{tid}/termination/approve", {"chief": "局长甲"})
    assert "已批准终结办理" in leader.flash()
    assert "已终结" in leader.get(f"/dashboard/tickets/{tid}").text


def test_the_ticket_card_records_the_closing_notice_and_walks_a_screening_000(
    api: TestClient, container: Container,
) -> None:
    tid = drafted(api, container)
    page = f"/dashboard/tickets/{tid}"
    unit, duty, supervisor = Browser(container), Browser(container), Browser(container)
    unit.login("unit"), duty.login("duty"), supervisor.login("supervisor")
    unit.post(f"{page}/closing-notice", {"how": "visit", "told": "上门告知处理结果", "opinion": "仍不认可处罚",
                                         "satisfied": "no", "rights_told": "1"})
    assert "已记录办结通报" in unit.flash()
    shown = unit.get(page).text
    assert "上门通报：上门告知处理结果" in shown and "已告知权利义务" in shown and 'id="form-screening"' in shown
    unit.post(f"{page}/screening", {"reason": "民警依法处罚，群众不认可"})
    assert 'id="form-screening-propose"' in duty.get(page).text
    duty.post(f"{page}/screening/propose", {"body": "supervision"})
    waiting = supervisor.get(page).text
    assert "待分管领导签批" in waiting and 'id="form-screening-result"' not in waiting  # the leader signs first
    lists = duty.get("/dashboard/closing").text
    assert "待分管领导签批" in lists and f"/dashboard/tickets/{tid}" in lists
