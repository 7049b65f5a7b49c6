"""督办/催办 orders with a deadline, and the complex-matter judgement with its plan (137).

- 督办 / 催办 (000 分管局领导牵头督办制度, 002 二(三), 003 三(四)): a leader or supervisor sets a deadline and
  a note on a ticket. The SLA engine makes it a timer with warnings and a breach like any other; a 督办
  is met by the reply, a 催办 by a progress report or the reply. A 督办's deadline also binds the
  resolution when it is earlier (000 限时办结 二: 以市局办公室要求的时间为准).
- 复杂问题 (000 限时办结 一 "较为复杂的咨询诉求"; 002 工作要求(二) "特殊情况和复杂问题7天内提出方案"): the
  duty office or a leader marks a ticket complex, before its resolution deadline has passed (so that
  a missed same-day answer cannot be turned into five working days afterwards); the unit then records
  its plan (解决方案), which goes to the platform as a progress report where the platform takes one.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from sqlalchemy.orm import Session

from gateway.errors import DomainError
from gateway.principal import Principal
from gateway.schema import ProgressPayload
from gateway.services.deadlines import ticket_deadlines
from gateway.services.lifecycle import ticket_changed
from gateway.services.writeback import queue_writeback
from gateway.settings import Role
from gateway.sla.deadlines import to_shanghai
from gateway.store.tables import TicketRecord
from gateway.store.tickets import add_event, get_ticket

OPEN = ("received", "signed", "dispatched", "responded", "reply_drafted", "approved")
IN_HAND = ("signed", "dispatched", "responded", "reply_drafted")
Order = Literal["督办", "催办"]


def _open(ticket: TicketRecord, allowed: tuple[str, ...], action: str) -> None:
    if ticket.status not in allowed:
        raise DomainError(f"工单当前状态不能{action}", code="invalid_state")


def issue_order(
    session: Session, *, ticket_id: int, principal: Principal, order: Order, due_at: datetime, note: str,
    now: datetime,
) -> list[int]:
    """督办 or 催办 with a deadline and a note; the SLA engine watches it from now on."""
    principal.require(Role.leader, Role.supervisor, action=order)
    ticket = get_ticket(session, ticket_id, for_update=True)
    _open(ticket, OPEN, order)
    if order not in ("督办", "催办"):
        raise DomainError(f"未知的督办类型 {order!r} (order must be 督办 or 催办)", code="invalid_order", status=422)
    if due_at.tzinfo is None:
        raise DomainError("期限须带时区，如 +08:00", code="invalid_time", status=422)
    if due_at <= now:
        raise DomainError(f"{order}期限须晚于现在", code="invalid_time",
                          status=422)
    if not note.strip():
        raise DomainError(f"{order}须写明要求", code="note_required", status=422)
    if order == "督办":
        ticket.supervised = True
    else:
        ticket.urge_count += 1
    add_event(session, ticket=ticket, actor=principal.name, kind="supervision_issued", at=now, order=order,
              due_at=to_shanghai(due_at).isoformat(), note=note.strip())
    ticket_changed(session, ticket=ticket, now=now, reason="supervision_issued")
    return []


def mark_complex(
    session: Session, *, ticket_id: int, principal: Principal, complex_: bool, reason: str, now: datetime,
) -> list[int]:
    """认定 (or withdraw) 复杂问题: the ticket's limit and the 137 plan timer follow."""
    principal.require(Role.duty, Role.leader, action="认定复杂问题")
    ticket = get_ticket(session, ticket_id, for_update=True)
    _open(ticket, OPEN, "认定复杂问题")
    if ticket.complex == complex_:
        raise DomainError("工单已是该认定", code="invalid_state")
    if not reason.strip():
        raise DomainError("须说明认定理由", code="reason_required", status=422)
    resolution = ticket_deadlines(session, ticket, now)["resolution"]
    if complex_ and resolution["due_at"] is not None and now > resolution["due_at"]:
        raise DomainError("办结期限已过，不能再认定为复杂问题",
                          code="too_late", status=422)
    ticket.complex = complex_
    add_event(session, ticket=ticket, actor=principal.name, kind="complex_marked" if complex_ else "complex_unmarked",
              at=now, reason=reason.strip())
    ticket_changed(session, ticket=ticket, now=now, reason="complex_marked" if complex_ else "complex_unmarked")
    return []


def submit_plan(session: Session, *, ticket_id: int, principal: Principal, plan: str, now: datetime) -> list[int]:
    """解决方案 for a complex ticket (002 工作要求(二)); to the platform as a progress report."""
    principal.require(Role.unit, Role.duty, action="提出解决方案")
    ticket = get_ticket(session, ticket_id, for_update=True)
    scope = principal.unit_scope()  # a unit user acts on its own unit's tickets only (fails closed)
    if scope is not None and ticket.unit != scope:
        raise DomainError("不是本单位承办的工单", code="forbidden", status=403)
    _open(ticket, IN_HAND, "提出解决方案")
    if not ticket.complex:
        raise DomainError("只有认定为复杂问题的工单需要提出解决方案",
                          code="invalid_state")
    text = plan.strip()
    if len(text) < 5:
        raise DomainError("解决方案须写明措施和预期办结时间", code="plan_required", status=422)
    payload = ProgressPayload(note=f"【解决方案】{text}").model_dump(mode="json")
    ids = queue_writeback(session, ticket=ticket, action="progress", payload=payload, actor=principal.name, now=now)
    add_event(session, ticket=ticket, actor=principal.name, kind="plan_submitted", at=now, note=text, outbox_ids=ids)
    ticket_changed(session, ticket=ticket, now=now, reason="plan_submitted")
    return ids
