"""延期挂单 long suspension (002 §4(6)): the resolution clock stops while a matter needs > 3 months.

Allowed only before the resolution deadline, for one of the eight listed reasons, when the
handling needs more than three months, with the bureau chief's signature (主要领导签字) recorded.
The SLA engine pauses the resolution timer while ``suspended_at`` is set and moves its deadline by
the suspended time on resume. A unit asks (申请延期挂单, before the deadline) and a leader other than the
asker decides, recording the chief's signature; a leader may also suspend directly with it.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from gateway.errors import DomainError, Forbidden
from gateway.principal import Principal
from gateway.services.deadlines import ticket_deadlines
from gateway.services.lifecycle import ticket_changed
from gateway.settings import Role
from gateway.store.tables import TicketRecord
from gateway.store.tables_dashboard import ApprovalRecord
from gateway.store.tickets import add_event, get_ticket

MIN_DAYS = 90  # "办理时限超过三个月以上"
REASONS: dict[int, str] = {
    1: "无明确法律规定和政策依据，需报上级主管部门研究解决",
    2: "属于重大项目，建设周期长、短期内无法完成",
    3: "时间跨度大、证据资料不足，需多方走访、调查佐证",
    4: "涉及合同、约定纠纷，需第三方检测或司法部门介入调查",
    5: "需要多地、多部门联动办理",
    6: "调查事实与反映人陈述不一致，需进一步深入调查",
    7: "因疫情防控、换届选举、机构改革等不能及时调查核实",
    8: "其他需申请延期挂单的情形",
}
OPEN = ("signed", "dispatched", "responded", "reply_drafted")
SUSPENSION = "suspension"  # the approval kind of a unit's 挂单 request


def _check(session: Session, ticket: TicketRecord, *, reason_code: int, expected_days: int, asked_at: datetime) -> None:
    """The conditions of 002 四(六), judged at ``asked_at`` (when the unit asked, for a request)."""
    if ticket.suspended_at is not None:
        raise DomainError("工单已挂单", code="invalid_state")
    if ticket.status not in OPEN:
        raise DomainError(f"工单状态“{ticket.status}”不能挂单",
                          code="invalid_state")
    if reason_code not in REASONS:
        raise DomainError("挂单须属于规定的八种情形之一", code="invalid_reason", status=422)
    if expected_days <= MIN_DAYS:
        raise DomainError("办理时限需超过三个月方可挂单", code="too_short", status=422)
    resolution = ticket_deadlines(session, ticket, asked_at)["resolution"]
    if resolution["due_at"] is not None and asked_at >= resolution["due_at"]:
        raise DomainError("须在办理时限到期前申请挂单", code="too_late",
                          status=422)


def _apply(session: Session, ticket: TicketRecord, *, actor: str, reason_code: int, note: str, chief: str,
           expected_days: int, now: datetime, **more: object) -> None:
    if not chief.strip():
        raise DomainError("挂单须经主要领导签字", code="signature_required", status=422)
    ticket.suspended_at = now
    ticket.suspension = {"reason_code": reason_code, "reason": REASONS[reason_code], "note": note,
                         "chief": chief, "expected_days": expected_days, "by": actor, **more}
    add_event(session, ticket=ticket, actor=actor, kind="suspended", at=now, **ticket.suspension)
    ticket_changed(session, ticket=ticket, now=now, reason="suspended")


def suspend(
    session: Session,
    *,
    ticket_id: int,
    principal: Principal,
    reason_code: int,
    note: str,
    chief: str,
    expected_days: int,
    now: datetime,
) -> list[int]:
    """挂单: stop the resolution clock; refused with the rule it breaks."""
    principal.require(Role.leader, action="延期挂单")
    ticket = get_ticket(session, ticket_id, for_update=True)
    _check(session, ticket, reason_code=reason_code, expected_days=expected_days, asked_at=now)
    _apply(session, ticket, actor=principal.name, reason_code=reason_code, note=note, chief=chief,
           expected_days=expected_days, now=now)
    return []


def pending_request(session: Session, ticket_id: int, *, for_update: bool = False) -> ApprovalRecord | None:
    """The unit's 挂单 request waiting for a leader, if any."""
    stmt = select(ApprovalRecord).where(ApprovalRecord.ticket_id == ticket_id, ApprovalRecord.kind == SUSPENSION,
                                        ApprovalRecord.state == "pending")
    if for_update:
        stmt = stmt.with_for_update()
    return session.scalars(stmt.order_by(ApprovalRecord.id.desc())).first()


def request_suspension(
    session: Session, *, ticket_id: int, principal: Principal, reason_code: int, note: str, expected_days: int,
    now: datetime,
) -> list[int]:
    """申请延期挂单 (002 四(六): 承办部门…可在办理时限到期前提出延期处理挂单申请): the unit asks before the
    deadline; a leader decides, recording the bureau chief's signature (主要领导签字) on the 挂单表."""
    principal.require(Role.unit, Role.duty, action="申请延期挂单")
    ticket = get_ticket(session, ticket_id, for_update=True)
    if (scope := principal.unit_scope()) is not None and ticket.unit != scope:
        raise DomainError("不是本单位承办的工单", code="forbidden", status=403)
    if pending_request(session, ticket.id) is not None:
        raise DomainError("已有待审批的挂单申请", code="invalid_state")
    _check(session, ticket, reason_code=reason_code, expected_days=expected_days, asked_at=now)
    record = ApprovalRecord(ticket_id=ticket.id, kind=SUSPENSION, state="pending", requested_by=principal.name,
                            requested_at=now, detail={"reason_code": reason_code, "reason": REASONS[reason_code],
                                                      "expected_days": expected_days, "note": note})
    session.add(record)
    session.flush()
    add_event(session, ticket=ticket, actor=principal.name, kind="suspension_proposed", at=now,
              reason=REASONS[reason_code], expected_days=expected_days, note=note, approval_id=record.id)
    ticket_changed(session, ticket=ticket, now=now, reason="suspension_proposed")
    return []


def approve_suspension(
    session: Session, *, ticket_id: int, principal: Principal, chief: str, now: datetime, note: str = "",
) -> list[int]:
    """批准挂单: a leader other than the one who asked (四眼原则), with the chief's signature; the request's timing
    was judged when the unit asked (before the deadline), so approving after it does not refuse it."""
    principal.require(Role.leader, action="审批挂单")
    ticket = get_ticket(session, ticket_id, for_update=True)
    record = pending_request(session, ticket.id, for_update=True)
    if record is None:
        raise DomainError("没有待审批的挂单申请", code="invalid_state")
    if record.requested_by == principal.name:
        raise Forbidden("不能审批本人提出的挂单申请（四眼原则）")
    code, days = int(record.detail["reason_code"]), int(record.detail["expected_days"])
    _check(session, ticket, reason_code=code, expected_days=days, asked_at=record.requested_at)
    _apply(session, ticket, actor=principal.name, reason_code=code, note=str(record.detail.get("note") or ""),
           chief=chief, expected_days=days, now=now, requested_by=record.requested_by, approval_note=note)
    record.state, record.decided_by, record.decided_at, record.note = "approved", principal.name, now, note or None
    return []


def reject_suspension(
    session: Session, *, ticket_id: int, principal: Principal, reason: str, now: datetime
) -> list[int]:
    """驳回挂单申请: the resolution clock keeps running."""
    principal.require(Role.leader, action="驳回挂单")
    ticket = get_ticket(session, ticket_id, for_update=True)
    record = pending_request(session, ticket.id, for_update=True)
    if record is None:
        raise DomainError("没有待审批的挂单申请", code="invalid_state")
    record.state, record.decided_by, record.decided_at, record.note = "rejected", principal.name, now, reason
    add_event(session, ticket=ticket, actor=principal.name, kind="suspension_rejected", at=now, reason=reason,
              approval_id=record.id)
    ticket_changed(session, ticket=ticket, now=now, reason="suspension_rejected")
    return []


def resume(session: Session, *, ticket_id: int, principal: Principal, note: str, now: datetime) -> list[int]:
    """解除挂单: the resolution clock runs again, its deadline moved by the suspended time."""
    principal.require(Role.leader, action="解除挂单")
    ticket = get_ticket(session, ticket_id, for_update=True)
    if ticket.suspended_at is None:
        raise DomainError("工单未挂单", code="invalid_state")
    suspended_for = now - ticket.suspended_at
    ticket.suspended_at = None
    add_event(session, ticket=ticket, actor=principal.name, kind="resumed", at=now, note=note,
              suspended_days=round(suspended_for.total_seconds() / 86400, 2))
    ticket_changed(session, ticket=ticket, now=now, reason="resumed")
    return []
