"""不满意件甄别及跟踪 (dissatisfaction screening), seed 000 不满意件甄别及跟踪制度.

The steps, each by its own person (四、甄别及跟踪流程):
1. 申请 — the officer of the handling unit (unit role) asks for screening of a ticket the citizen is not
   satisfied with (一、甄别范围: 群众…不满意…且办案民警（申请）要求甄别的).
2. 甄别审批表 — the office (duty) proposes who screens: 纪检监察, 督察, 法制 or 办公室（指挥中心） (二).
3. 签批 — a leader (分管领导) who neither asked nor proposed approves and hands it over (报分管领导签批后交办实施).
4. 甄别结果表 — supervision staff (督察) classify the cause in one of the four classes (三) with findings.
5. 签字 — a leader other than the screener signs the result (分管领导签字后).
6. 书面答复 — the office answers the unit and the officer in writing (由市局办公室…给予书面答复).

Effects (三(一)(二), 五): class 4 (民警严格执法) is 无过错 — the ticket is left out of the unit's 满意率 and the
officer gets that answer; classes 1–3 go into 跟踪 (tracking: the unit must handle it again, 重新办理, and
both results count in the yearly assessment) and are marked for accountability (批评教育; 违法违纪 to 纪检监察).
The text sets no deadline for any step ("及时"), so none is timed.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from gateway.errors import DomainError, Forbidden
from gateway.principal import Principal
from gateway.services.closing import AFTER_HANDLING, dissatisfied
from gateway.services.lifecycle import ticket_changed
from gateway.settings import Role
from gateway.store.tables import TicketRecord
from gateway.store.tables_dashboard import ApprovalRecord
from gateway.store.tickets import add_event, get_ticket

ARTICLE = "000 不满意件甄别"
KIND = "screening"
BODIES: dict[str, str] = {"discipline": "纪检监察", "supervision": "督察", "legal": "法制",
                          "office": "办公室（指挥中心）"}
CAUSES: dict[int, str] = {
    1: "民警执法过错造成",
    2: "民警态度问题造成",
    3: "民警解释或表达不清楚造成",
    4: "民警严格执法造成",
}
STAGES: dict[str, str] = {"applied": "待办公室填写甄别审批表", "proposed": "待分管领导签批",
                          "assigned": "待实施单位甄别", "screened": "待分管领导签字",
                          "decided": "待办公室书面答复", "answered": "已答复"}


def current(session: Session, ticket_id: int, *, for_update: bool = False) -> ApprovalRecord | None:
    """The ticket's screening in progress (state pending), if any."""
    stmt = select(ApprovalRecord).where(ApprovalRecord.ticket_id == ticket_id, ApprovalRecord.kind == KIND,
                                        ApprovalRecord.state == "pending")
    if for_update:
        stmt = stmt.with_for_update()
    return session.scalars(stmt.order_by(ApprovalRecord.id.desc())).first()


def _at(session: Session, ticket_id: int, stage: str) -> tuple[TicketRecord, ApprovalRecord]:
    ticket = get_ticket(session, ticket_id, for_update=True)
    record = current(session, ticket_id, for_update=True)
    if record is None or record.detail.get("stage") != stage:
        raise DomainError(f"甄别不在“{STAGES[stage]}”阶段",
                          code="invalid_state")
    return ticket, record


def _not(principal: Principal, record: ApprovalRecord, *keys: str) -> None:
    names = {record.requested_by} | {str(record.detail.get(k) or "") for k in keys}
    if principal.name in names:
        raise Forbidden("甄别各环节须由不同的人办理（四眼原则）")


def _step(session: Session, ticket: TicketRecord, record: ApprovalRecord, principal: Principal, now: datetime,
          stage: str, **detail: Any) -> list[int]:
    record.detail = {**record.detail, **detail, "stage": stage}
    add_event(session, ticket=ticket, actor=principal.name, kind=f"screening_{stage}", at=now, approval_id=record.id,
              **detail)
    ticket_changed(session, ticket=ticket, now=now, reason=f"screening_{stage}")
    return []


def apply(session: Session, *, ticket_id: int, principal: Principal, now: datetime, reason: str) -> list[int]:
    """甄别申请 by the officer of the handling unit, for a ticket the citizen is not satisfied with."""
    principal.require(Role.unit, action="申请甄别")
    ticket = get_ticket(session, ticket_id, for_update=True)
    if principal.unit_scope() != ticket.unit:
        raise Forbidden("只能为本单位承办的工单申请甄别")
    if ticket.status not in AFTER_HANDLING or not dissatisfied(ticket):
        raise DomainError(f"只有群众不满意的工单才能申请甄别（{ARTICLE} 一）",
                          code="not_applicable", status=422)
    if current(session, ticket.id) is not None:
        raise DomainError("该工单已在甄别中", code="invalid_state")
    if len(reason.strip()) < 5:
        raise DomainError("须写明申请甄别的理由", code="reason_required", status=422)
    record = ApprovalRecord(ticket_id=ticket.id, kind=KIND, state="pending", requested_by=principal.name,
                            requested_at=now, detail={"stage": "applied", "application": reason.strip(),
                                                      "unit": ticket.unit, "article": ARTICLE})
    session.add(record)
    session.flush()
    add_event(session, ticket=ticket, actor=principal.name, kind="screening_applied", at=now, approval_id=record.id,
              reason=reason.strip())
    return []


def propose(session: Session, *, ticket_id: int, principal: Principal, now: datetime, body: str,
            note: str = "") -> list[int]:
    """甄别审批表: the office names who is to screen (纪检监察、督察、法制、办公室)."""
    principal.require(Role.duty, action="填写甄别审批表")
    ticket, record = _at(session, ticket_id, "applied")
    if body not in BODIES:
        raise DomainError(f"实施甄别的单位须为{'、'.join(BODIES.values())}之一",
                          code="invalid_body", status=422)
    _not(principal, record)
    return _step(session, ticket, record, principal, now, "proposed", body=body, body_label=BODIES[body],
                 proposed_by=principal.name, proposal_note=note)


def assign(session: Session, *, ticket_id: int, principal: Principal, now: datetime, note: str = "") -> list[int]:
    """分管领导签批: hands the screening to the proposed body; never the applicant's or proposer's own."""
    principal.require(Role.leader, action="签批甄别")
    ticket, record = _at(session, ticket_id, "proposed")
    _not(principal, record, "proposed_by")
    return _step(session, ticket, record, principal, now, "assigned", assigned_by=principal.name, assign_note=note)


def record_result(session: Session, *, ticket_id: int, principal: Principal, now: datetime, cause: int,
                  findings: str) -> list[int]:
    """不满意件甄别结果表: the cause in one of the four classes, by supervision staff."""
    principal.require(Role.supervisor, action="填写甄别结果表")
    ticket, record = _at(session, ticket_id, "assigned")
    if cause not in CAUSES:
        raise DomainError(f"甄别结果须为四类原因之一（{ARTICLE} 三）", code="invalid_cause", status=422)
    if len(findings.strip()) < 10:
        raise DomainError("须写明甄别调查情况（不少于10字）", code="findings_required", status=422)
    _not(principal, record, "proposed_by", "assigned_by")
    return _step(session, ticket, record, principal, now, "screened", cause=cause, cause_label=CAUSES[cause],
                 findings=findings.strip(), screened_by=principal.name)


def decide(session: Session, *, ticket_id: int, principal: Principal, now: datetime, note: str = "") -> list[int]:
    """分管领导签字 on the result: the outcome takes effect (满意率, 跟踪, accountability)."""
    principal.require(Role.leader, action="签字确认甄别结果")
    ticket, record = _at(session, ticket_id, "screened")
    _not(principal, record, "proposed_by", "screened_by")
    cause = int(record.detail["cause"])
    ticket.screening = {"cause": cause, "label": CAUSES[cause], "no_fault": cause == 4, "tracking": cause != 4,
                        "decided_by": principal.name, "decided_at": now.isoformat(), "approval_id": record.id,
                        "article": ARTICLE}
    return _step(session, ticket, record, principal, now, "decided", decided_by=principal.name, decide_note=note,
                 no_fault=cause == 4, tracking=cause != 4)


def answer(session: Session, *, ticket_id: int, principal: Principal, now: datetime, text: str) -> list[int]:
    """书面答复 to the unit and the officer by the office; closes the screening."""
    principal.require(Role.duty, action="甄别书面答复")
    ticket, record = _at(session, ticket_id, "decided")
    if len(text.strip()) < 5:
        raise DomainError("须写明书面答复", code="answer_required", status=422)
    if record.detail.get("no_fault") and "无过错" not in text:
        raise DomainError("第四类原因须明确答复民警“无过错”（000 不满意件甄别 三(二)）(the answer must say 无过错)",
                          code="answer_incomplete", status=422)
    record.state, record.decided_by, record.decided_at = "approved", principal.name, now
    return _step(session, ticket, record, principal, now, "answered", answer=text.strip(), answered_by=principal.name)


def reject(session: Session, *, ticket_id: int, principal: Principal, now: datetime, reason: str) -> list[int]:
    """The leader declines to screen (at 签批) or sends the result back (at 签字): the screening ends."""
    principal.require(Role.leader, action="驳回甄别")
    ticket = get_ticket(session, ticket_id, for_update=True)
    record = current(session, ticket_id, for_update=True)
    if record is None or record.detail.get("stage") not in ("proposed", "screened"):
        raise DomainError("没有待分管领导签批的甄别", code="invalid_state")
    record.state, record.decided_by, record.decided_at, record.note = "rejected", principal.name, now, reason
    add_event(session, ticket=ticket, actor=principal.name, kind="screening_rejected", at=now, reason=reason,
              approval_id=record.id)
    return []
