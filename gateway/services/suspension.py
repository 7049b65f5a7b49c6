"""延期挂单 long suspension (002 §4(6)): the resolution clock stops while a matter needs > 3 months.

Allowed only before the resolution deadline, for one of the eight listed reasons, when the
handling needs more than three months, with the bureau chief's signature (主要领导签字) recorded.
The SLA engine pauses the resolution timer while ``suspended_at`` is set and moves its deadline by
the suspended time on resume.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from gateway.errors import DomainError
from gateway.principal import Principal
from gateway.services.deadlines import ticket_deadlines
from gateway.services.lifecycle import ticket_changed
from gateway.settings import Role
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
    if ticket.suspended_at is not None:
        raise DomainError("工单已挂单 (already suspended)", code="invalid_state")
    if ticket.status not in OPEN:
        raise DomainError(f"工单状态“{ticket.status}”不能挂单 (only a ticket in hand can be suspended)",
                          code="invalid_state")
    if reason_code not in REASONS:
        raise DomainError("挂单须属于规定的八种情形之一 (reason_code 1–8)", code="invalid_reason", status=422)
    if expected_days <= MIN_DAYS:
        raise DomainError("办理时限需超过三个月方可挂单 (expected_days must exceed 90)", code="too_short", status=422)
    if not chief.strip():
        raise DomainError("挂单须经主要领导签字 (chief's signature required)", code="signature_required", status=422)
    resolution = ticket_deadlines(session, ticket, now)["resolution"]
    if resolution["due_at"] is not None and now >= resolution["due_at"]:
        raise DomainError("须在办理时限到期前申请挂单 (must be asked before the deadline)", code="too_late",
                          status=422)
    ticket.suspended_at = now
    ticket.suspension = {"reason_code": reason_code, "reason": REASONS[reason_code], "note": note,
                         "chief": chief, "expected_days": expected_days, "by": principal.name}
    add_event(session, ticket=ticket, actor=principal.name, kind="suspended", at=now, **ticket.suspension)
    ticket_changed(session, ticket=ticket, now=now, reason="suspended")
    return []


def resume(session: Session, *, ticket_id: int, principal: Principal, note: str, now: datetime) -> list[int]:
    """解除挂单: the resolution clock runs again, its deadline moved by the suspended time."""
    principal.require(Role.leader, action="解除挂单")
    ticket = get_ticket(session, ticket_id, for_update=True)
    if ticket.suspended_at is None:
        raise DomainError("工单未挂单 (not suspended)", code="invalid_state")
    suspended_for = now - ticket.suspended_at
    ticket.suspended_at = None
    add_event(session, ticket=ticket, actor=principal.name, kind="resumed", at=now, note=note,
              suspended_days=round(suspended_for.total_seconds() / 86400, 2))
    ticket_changed(session, ticket=ticket, now=now, reason="resumed")
    return []
