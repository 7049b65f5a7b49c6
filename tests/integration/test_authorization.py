"""Every write action of the API × every role: an allowed one succeeds, a forbidden one answers 403 and
changes nothing (tickets, timeline, outbox, approvals, evidence, alerts, inbox) — SQLite and PostgreSQL.

Roles fail closed: each role does what it names and nothing more — admin administers and approves
nothing (000 督办 三: the leader signs), the unit head reviews its unit's replies (002 三(二)).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, update

from app.bootstrap import Container
from app.web import create_app
from gateway.principal import Principal
from gateway.schema import ReplyDraft
from gateway.services import actions, closing, intervention, oversight, replies, screening, suspension, termination
from gateway.settings import Role
from gateway.store.db import transaction
from gateway.store.tables import InboxRecord, OutboxRecord, TicketEventRecord, TicketRecord
from gateway.store.tables_dashboard import ApprovalRecord, EvidenceRecord, InterventionRecord
from gateway.store.tables_sla import AlertRecord
from tests.integration.dashboard_support import NOW, PEOPLE, REPLY, UNIT, add_ticket, build_container, token
from tests.integration.dashboard_support import cheap_hashes as cheap_hashes

DUTY = Principal("值班员甲", frozenset({Role.duty}))
UNIT_P = Principal("城关所民警", frozenset({Role.unit}), UNIT)
LEADER = Principal("分管领导丙", frozenset({Role.leader}))
HEAD_P = Principal("城关所所长", frozenset({Role.unit_head}), UNIT)
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
ORDER = {"order": "督办", "due_at": "2026-11-25T17:00:00+08:00", "note": "请于25日前办结回复"}
SUSPEND = {"reason_code": 5, "note": "需多部门联动办理", "chief": "局长甲", "expected_days": 120}
SUSPEND_ASK = {"reason_code": 5, "note": "需多部门联动办理", "expected_days": 120}  # 002 四(六): the unit asks
SUPERVISOR_P = Principal("督察丁", frozenset({Role.supervisor}))
NOTICE = {"how": "phone", "told": "已告知处理结果", "opinion": "不认可", "satisfied": False}


def _do(container: Container, use_case: Callable[..., list[int]], ticket_id: int, principal: Principal,
        **kwargs: Any) -> None:
    with transaction(container.sessions) as session:
        use_case(session, ticket_id=ticket_id, principal=principal, now=NOW, **kwargs)


def _to(container: Container, ticket_id: int, stage: str) -> None:
    """Walk a fresh ticket through the bureau's steps up to ``stage``."""
    steps: list[tuple[str, Callable[..., list[int]], Principal, dict[str, Any]]] = [
        ("signed", actions.sign_off, DUTY, {}),
        ("dispatched", actions.dispatch, DUTY, {"unit": UNIT, "approval": "after"}),
        ("responded", actions.record_response, UNIT_P, {"note": "已联系", "contact_phone": ""}),
        ("drafted", actions.draft_reply, UNIT_P, {"draft": ReplyDraft.model_validate(REPLY)}),
        ("reviewed", replies.review_reply, HEAD_P, {}),
    ]
    for name, use_case, principal, kwargs in steps:
        _do(container, use_case, ticket_id, principal, **kwargs)
        if name == stage:
            return


def _setup(container: Container, action: str) -> tuple[str, dict[str, Any]]:
    """Bring a ticket to where ``action`` applies; returns the request path and its arguments."""
    tid = add_ticket(container, f"T-{action}")
    base = f"/api/v1/tickets/{tid}"
    simple: dict[str, tuple[str | None, str, dict[str, Any]]] = {
        "sign-off": (None, "/sign-off", {}),
        "return": (None, "/return", {"json": {"reason": "不属本局管辖"}}),
        "dispatch": ("signed", "/dispatch", {"json": {"unit": UNIT}}),
        "dispatch-approve": ("dispatched", "/dispatch/approve", {"json": {}}),
        "response": ("dispatched", "/response", {"json": {"note": "已联系"}}),
        "progress": ("dispatched", "/progress", {"json": {"note": "正在核查"}}),
        "reply": ("responded", "/reply", {"json": REPLY}),
        "review": ("drafted", "/reply/review", {"json": {"note": "同意"}}),
        "review-send-back": ("drafted", "/reply/review/send-back", {"json": {"reason": "调查情况不详"}}),
        "approve": ("reviewed", "/reply/approve", {}),
        "send-back": ("drafted", "/reply/send-back", {"json": {"reason": "调查情况不详"}}),
        "extension": ("dispatched", "/extension", {"json": {"days": 3, "reason": "需调取监控"}}),
        "evidence": ("dispatched", "/evidence", {"files": {"file": ("现场.png", PNG, "image/png")}}),
        "suspend": ("dispatched", "/suspend", {"json": SUSPEND}),
        "suspend-request": ("dispatched", "/suspend/request", {"json": SUSPEND_ASK}),
        "supervise": ("dispatched", "/supervise", {"json": ORDER}),
        "complex": ("dispatched", "/complex", {"json": {"reason": "涉及多部门联动"}}),
    }
    if action in simple:
        stage, path, kwargs = simple[action]
        if stage:
            _to(container, tid, stage)
        return base + path, kwargs
    if action == "dispatch-reject":
        _to(container, tid, "signed")
        _do(container, actions.dispatch, tid, DUTY, unit=UNIT, approval="before")
        return base + "/dispatch/reject", {"json": {"reason": "应由治安大队办理"}}
    if action in ("extension-approve", "extension-reject"):
        _to(container, tid, "dispatched")
        _do(container, actions.request_extension, tid, UNIT_P, days=3, reason="需调取监控")
        body = {"json": {"note": "同意"}} if action == "extension-approve" else {"json": {"reason": "期限内可办结"}}
        return base + "/" + action.replace("-", "/"), body
    if action in ("suspend-approve", "suspend-reject"):
        _to(container, tid, "dispatched")
        _do(container, suspension.request_suspension, tid, UNIT_P, **SUSPEND_ASK)
        body = {"json": {"chief": "局长甲"}} if action == "suspend-approve" else {"json": {"reason": "期限内可办结"}}
        return base + "/" + action.replace("-", "/"), body
    if action == "plan":
        _to(container, tid, "dispatched")
        _do(container, oversight.mark_complex, tid, LEADER, complex_=True, reason="涉及多部门联动")
        return base + "/plan", {"json": {"plan": "会同城管联合整治，预计月底办结"}}
    if action == "resume":
        _to(container, tid, "dispatched")
        _do(container, suspension.suspend, tid, LEADER, **SUSPEND)
        return base + "/resume", {"json": {"note": "已具备办理条件"}}
    if action == "rework":
        with transaction(container.sessions) as session:
            session.execute(update(TicketRecord).where(TicketRecord.id == tid).values(
                status="replied", unit=UNIT, callback={"satisfaction": "dissatisfied"}))
        return base + "/rework", {"json": {"reason": "诉求人不满意，重新核查"}}
    if action in CLOSING:  # issue 16: 办结通报, 合理性, 三级结案终审表, 终结办理, 不满意件甄别
        return base + "/" + ROUTES[action], _closing_setup(container, tid, action)
    if action.startswith("intervention"):  # 提级介入, 000 提级介入调查制度; 001 三(三)
        _to(container, tid, "dispatched")
        if action == "intervention":
            return base + "/intervention", {"json": {"rule": "impact", "reason": "涉及群体性事件，舆情敏感"}}
        with transaction(container.sessions) as session:
            intervention.flag(session, ticket_id=tid, principal=DUTY, now=NOW, rule="impact", reason="舆情敏感事项",
                              routes=[], group_max=20)
            iid = session.scalars(select(InterventionRecord.id).where(InterventionRecord.ticket_id == tid)).one()
        if action == "intervention-close":
            _do(container, intervention.instruct, tid, Principal("局长甲", frozenset({Role.leader})),
                intervention_id=iid, text="请督察支队牵头核查")
        step = action.removeprefix("intervention-")
        return f"{base}/interventions/{iid}/{step}", {"json": {"text": "请督察支队牵头核查"} if step == "instruction"
                                                      else {"note": "已核查"}}
    if action == "replay":
        _to(container, tid, "signed")
        with transaction(container.sessions) as session:
            session.execute(update(OutboxRecord).values(state="dead", last_error="400 单号不存在"))
            row_id = session.scalars(select(OutboxRecord.id)).one()
        return f"/api/v1/outbound/{row_id}/replay", {}
    if action == "ack":
        with transaction(container.sessions) as session:
            alert = AlertRecord(dedup_key=f"t{tid}", kind="breach", severity="critical", state="active",
                                audience="duty", ticket_id=tid, message="签收超时", fire_at=NOW, created_at=NOW)
            session.add(alert)
            session.flush()
            alert_id = alert.id
        return f"/api/v1/alerts/{alert_id}/ack", {}
    raise AssertionError(action)


def _closing_setup(container: Container, tid: int, action: str) -> dict[str, Any]:
    """A drafted ticket brought to where an issue-16 action applies; returns the request's arguments."""
    _to(container, tid, "drafted")
    if action in ("closing-notice", "reasonable"):
        return {"json": NOTICE if action == "closing-notice" else {"value": "unreasonable"}}
    if action.startswith("termination"):
        with transaction(container.sessions) as session:
            record = EvidenceRecord(ticket_id=tid, name="a.png", kind="png", mime="image/png", size=64, sha256="0" * 64,
                                    stored_as=f"{tid}/a.png", uploaded_by="城关所民警", uploaded_at=NOW)
            session.add(record)
            session.flush()
            evidence_id = record.id
        if action == "termination":
            return {"json": {"reason_code": 8, "explanation": "同一诉求人无新情况、新证据反复提出",
                             "visit": "已上门劝解", "evidence_ids": [evidence_id]}}
        _do(container, termination.request_termination, tid, UNIT_P, reason_code=8,
            explanation="同一诉求人无新情况反复提出", visit="已上门劝解", evidence_ids=[evidence_id])
        return {"json": {"chief": "局长甲"} if action.endswith("approve") else {"reason": "仍需办理"}}
    _do(container, closing.record_notice, tid, UNIT_P, **NOTICE)
    if action.startswith("final-review"):
        _do(container, closing.record_reasonable, tid, UNIT_P, value="unreasonable")
        if action == "final-review":
            return {"json": {"explanation": "诉求人要求无法律依据，已多次上门解释"}}
        _do(container, closing.open_final_review, tid, UNIT_P, explanation="诉求人要求无法律依据，已多次上门解释")
        return {"json": {"note": "同意"} if action.endswith("sign") else {"reason": "说明不充分"}}
    steps: list[tuple[Callable[..., list[int]], Principal, dict[str, Any]]] = [
        (screening.apply, UNIT_P, {"reason": "民警依法执法，群众对处罚不满"}),
        (screening.propose, DUTY, {"body": "supervision"}),
        (screening.assign, LEADER, {}),
        (screening.record_result, SUPERVISOR_P, {"cause": 2, "findings": "经调取执法记录仪，民警用语生硬"}),
        (screening.decide, Principal("局长甲", frozenset({Role.leader})), {}),
    ]
    before = {"screening": 0, "screening-propose": 1, "screening-assign": 2, "screening-reject": 2,
              "screening-result": 3, "screening-decide": 4, "screening-answer": 5}[action]
    for use_case, principal, kwargs in steps[:before]:
        _do(container, use_case, tid, principal, **kwargs)
    return {"json": {"screening": {"reason": "民警依法执法，群众对处罚不满"}, "screening-propose": {"body": "legal"},
                     "screening-result": {"cause": 1, "findings": "经调取执法记录仪，民警执法有过错"},
                     "screening-answer": {"text": "经甄别，系民警态度问题，已批评教育"},
                     "screening-reject": {"reason": "不符合甄别条件"}}.get(action, {})}


CLOSING = {
    "closing-notice": "closing-notice", "reasonable": "reasonable", "final-review": "final-review",
    "final-review-sign": "final-review/sign", "final-review-send-back": "final-review/send-back",
    "termination": "termination", "termination-approve": "termination/approve",
    "termination-reject": "termination/reject", "screening": "screening", "screening-propose": "screening/propose",
    "screening-assign": "screening/assign", "screening-result": "screening/result",
    "screening-decide": "screening/decide", "screening-answer": "screening/answer",
    "screening-reject": "screening/reject",
}
ROUTES = {
    "sign-off": "sign-off", "return": "return", "dispatch": "dispatch", "dispatch-approve": "dispatch/approve",
    "dispatch-reject": "dispatch/reject", "response": "response", "progress": "progress", "reply": "reply",
    "review": "reply/review", "review-send-back": "reply/review/send-back",
    "approve": "reply/approve", "send-back": "reply/send-back", "extension": "extension",
    "extension-approve": "extension/approve", "extension-reject": "extension/reject", "rework": "rework",
    "evidence": "evidence", "suspend": "suspend", "resume": "resume", "supervise": "supervise",
    "suspend-request": "suspend/request", "suspend-approve": "suspend/approve", "suspend-reject": "suspend/reject",
    "complex": "complex", "plan": "plan", **CLOSING,
    "intervention": "intervention", "intervention-instruction": "interventions/{intervention_id}/instruction",
    "intervention-close": "interventions/{intervention_id}/close",
}
ALLOWED: dict[str, set[str]] = {
    "sign-off": {"duty"},
    "return": {"duty"},
    "dispatch": {"duty", "leader"},
    "dispatch-approve": {"leader"},
    "dispatch-reject": {"leader"},
    "response": {"duty", "unit"},
    "progress": {"duty", "unit"},
    "reply": {"duty", "unit"},
    "review": {"unit_head"},  # 002 三(二): the unit head of the ticket's unit
    "review-send-back": {"unit_head"},
    "approve": {"leader"},  # admin approves nothing (it holds no leader role)
    "send-back": {"leader"},
    "extension": {"duty", "unit", "leader"},
    "extension-approve": {"leader"},
    "extension-reject": {"leader"},
    "rework": {"duty", "leader"},
    "evidence": {"duty", "unit"},
    "suspend": {"leader"},
    "suspend-request": {"duty", "unit"},  # 002 四(六): 承办部门 asks (duty may act for it)
    "suspend-approve": {"leader"},
    "suspend-reject": {"leader"},
    "resume": {"leader"},
    "supervise": {"leader", "supervisor"},
    "complex": {"duty", "leader"},
    "plan": {"duty", "unit"},
    "closing-notice": {"duty", "unit"},  # 000 沟通通报 三
    "reasonable": {"duty", "unit", "unit_head", "leader"},  # 002 三(二)
    "final-review": {"duty", "unit"},
    "final-review-sign": {"unit_head"},  # 部门负责人 signs first (002 三(二))
    "final-review-send-back": {"unit_head"},
    "termination": {"duty", "unit"},  # 002 四(七)
    "termination-approve": {"leader"},
    "termination-reject": {"leader"},
    "screening": {"unit"},  # 000 不满意件甄别 四: the officer asks, the office proposes, the leader signs…
    "screening-propose": {"duty"},
    "screening-assign": {"leader"},
    "screening-result": {"supervisor"},
    "screening-decide": {"leader"},
    "screening-answer": {"duty"},
    "screening-reject": {"leader"},
    "intervention": {"duty", "supervisor", "unit", "unit_head"},  # 001 三(三): 值机人员 or the unit flags it
    "intervention-instruction": {"leader"},  # 000 提级介入 四: 经分管领导签字
    "intervention-close": {"leader"},
    "replay": {"duty", "admin"},
    "ack": {"duty", "leader", "supervisor"},
}
CASES = [(action, who) for action in ALLOWED for who in PEOPLE]


@pytest.fixture
def container(db_url: str, make_settings: Callable[..., Any], tmp_path: Path) -> Iterator[Container]:
    yield from build_container(db_url, make_settings, tmp_path)


def snapshot(container: Container) -> dict[str, Any]:
    """Everything an action could change."""
    with container.sessions() as s:
        return {
            "tickets": s.execute(select(TicketRecord.id, TicketRecord.status, TicketRecord.unit, TicketRecord.version,
                                        TicketRecord.reopen_count).order_by(TicketRecord.id)).all(),
            "events": s.execute(select(TicketEventRecord.id, TicketEventRecord.kind)).all(),
            "outbox": s.execute(select(OutboxRecord.id, OutboxRecord.state).order_by(OutboxRecord.id)).all(),
            "approvals": s.execute(select(ApprovalRecord.id, ApprovalRecord.state)).all(),
            "evidence": s.execute(select(EvidenceRecord.id)).all(),
            "alerts": s.execute(select(AlertRecord.id, AlertRecord.state)).all(),
            "inbox": s.execute(select(InboxRecord.id, InboxRecord.state)).all(),
        }


@pytest.mark.parametrize(("action", "who"), CASES, ids=[f"{a}-by-{w}" for a, w in CASES])
def test_each_action_is_allowed_only_to_its_roles_and_a_refusal_is_a_403_that_changes_nothing(
    container: Container, tmp_path: Path, action: str, who: str
) -> None:
    path, kwargs = _setup(container, action)
    client = TestClient(create_app(container))
    before = snapshot(container)
    response = client.post(path, headers=token(who), **kwargs)
    if who in ALLOWED[action]:  # no role implies another: admin does only what admin names
        assert response.is_success, (response.status_code, response.text)
        assert snapshot(container) != before
    else:
        assert response.status_code == 403, (response.status_code, response.text)
        assert response.json()["error"]["code"] == "forbidden"
        assert snapshot(container) == before
        assert not any((tmp_path / "evidence").rglob("*.png"))


def test_the_table_covers_every_write_route_of_a_ticket(container: Container) -> None:
    spec = TestClient(create_app(container)).get("/openapi.json").json()
    writes = {p for p, ops in spec["paths"].items() if "post" in ops and p.startswith("/api/v1/tickets/{ticket_id}/")}
    covered = {"/api/v1/tickets/{ticket_id}/" + route for route in ROUTES.values()}
    assert writes == covered
