"""The leader's decisions on requests (dispatch, extension) and 重办 after an unsatisfied callback.

Like ``gateway.services.actions``: each checks role and state, changes the ticket, appends to the
timeline, writes outbox rows in the same transaction and returns their ids for the caller to ring.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from gateway.errors import DomainError, Forbidden
from gateway.principal import Principal
from gateway.services import ticket_states, workflow
from gateway.services.complained import check_not_complained
from gateway.services.lifecycle import ticket_changed
from gateway.services.linking import assign_case_unit
from gateway.settings import Role
from gateway.store.tables_dashboard import ApprovalRecord
from gateway.store.tickets import add_event, get_ticket
from gateway.store.units import check_unit

UNSATISFIED = ("dissatisfied",)


def _waiting(session: Session, ticket_id: int, kind: str, what: str) -> ApprovalRecord:
    record = workflow.pending(session, ticket_id=ticket_id, kind=kind, for_update=True)
    if record is None:
        raise DomainError(f"没有待审批的{what}", code="invalid_state")
    return record


def _four_eyes(record: ApprovalRecord, principal: Principal, what: str) -> None:
    # Four eyes on every dispatch and extension: whoever asked does not approve it.
    if record.requested_by == principal.name:
        raise Forbidden(f"不能审批本人提出的{what}（四眼原则）")


def approve_dispatch(
    session: Session, *, ticket_id: int, principal: Principal, now: datetime, unit: str | None = None,
    note: str = "",
) -> list[int]:
    """批准派单, optionally to another unit (改派); a proposal waiting for approval takes effect now."""
    principal.require(Role.leader, action="审批派单")
    ticket = get_ticket(session, ticket_id, for_update=True)
    record = _waiting(session, ticket_id, workflow.DISPATCH, "派单")
    _four_eyes(record, principal, "派单")
    target = (unit or "").strip() or str(record.detail.get("unit") or "")
    check_unit(session, name=target)
    check_not_complained(session, ticket, target)  # 001 五, again: a proposal may predate the check
    moved = target != ticket.unit
    if moved or not record.detail.get("effective"):
        ticket_states.require(ticket, ticket_states.DISPATCHABLE, "改派", detail="")
        ticket_states.dispatch(ticket, unit=target, at=now)
        add_event(session, ticket=ticket, actor=principal.name, kind="dispatched", at=now, unit=target,
                  approval_id=record.id)
        assign_case_unit(session, ticket=ticket, unit=target, actor=principal.name, now=now)
    record.state, record.decided_by, record.decided_at, record.note = "approved", principal.name, now, note or None
    add_event(session, ticket=ticket, actor=principal.name, kind="dispatch_approved", at=now, unit=target,
              requested_by=record.requested_by, approval_id=record.id, note=note)
    ticket_changed(session, ticket=ticket, now=now, reason="dispatch_approved")
    return []


def reject_dispatch(session: Session, *, ticket_id: int, principal: Principal, reason: str, now: datetime) -> list[int]:
    """驳回派单建议: only a proposal that has not taken effect; a dispatch in force is redirected instead."""
    principal.require(Role.leader, action="驳回派单")
    ticket = get_ticket(session, ticket_id, for_update=True)
    record = _waiting(session, ticket_id, workflow.DISPATCH, "派单")
    if record.detail.get("effective"):
        raise DomainError("派单已生效，请选择改派单位后批准",
                          code="invalid_state")
    record.state, record.decided_by, record.decided_at, record.note = "rejected", principal.name, now, reason
    add_event(session, ticket=ticket, actor=principal.name, kind="dispatch_rejected", at=now, reason=reason,
              approval_id=record.id)
    ticket_changed(session, ticket=ticket, now=now, reason="dispatch_rejected")
    return []


def approve_extension(
    session: Session, *, ticket_id: int, principal: Principal, now: datetime, note: str = ""
) -> list[int]:
    """批准延期: the unit's request goes to the platform now; its one-day notice was judged when it was asked
    (000 限时办结 二), so a request made in time on Friday is not refused at Monday's approval."""
    principal.require(Role.leader, action="审批延期")
    ticket = get_ticket(session, ticket_id, for_update=True)
    record = _waiting(session, ticket_id, workflow.EXTENSION, "延期申请")
    _four_eyes(record, principal, "延期申请")
    days, reason = int(record.detail["days"]), str(record.detail["reason"])
    report = str(record.detail.get("report") or "")
    due = workflow.check_extension(session, ticket=ticket, days=days, now=record.requested_at)
    record.state, record.decided_by, record.decided_at, record.note = "approved", principal.name, now, note or None
    add_event(session, ticket=ticket, actor=principal.name, kind="extension_approved", at=now, days=days,
              requested_by=record.requested_by, approval_id=record.id, note=note)
    ids = workflow.send_extension(session, ticket=ticket, actor=principal.name, days=days, reason=reason, now=now,
                                  report=report, approved_by=principal.name, new_due_at=due.due_at.isoformat())
    ticket_changed(session, ticket=ticket, now=now, reason="extension_requested")
    return ids


def reject_extension(
    session: Session, *, ticket_id: int, principal: Principal, reason: str, now: datetime
) -> list[int]:
    """驳回延期: the unit keeps its deadline."""
    principal.require(Role.leader, action="驳回延期")
    ticket = get_ticket(session, ticket_id, for_update=True)
    record = _waiting(session, ticket_id, workflow.EXTENSION, "延期申请")
    record.state, record.decided_by, record.decided_at, record.note = "rejected", principal.name, now, reason
    add_event(session, ticket=ticket, actor=principal.name, kind="extension_rejected", at=now, reason=reason,
              approval_id=record.id)
    ticket_changed(session, ticket=ticket, now=now, reason="extension_rejected")
    return []


def mark_rework(session: Session, *, ticket_id: int, principal: Principal, reason: str, now: datetime) -> list[int]:
    """重办: after an unsatisfied callback the matter goes back to its unit for a new handling cycle."""
    principal.require(Role.duty, Role.leader, action="重办")
    ticket = get_ticket(session, ticket_id, for_update=True)
    ticket_states.require(ticket, ticket_states.SENT, "重办", detail="rework needs a sent reply")
    if str((ticket.callback or {}).get("satisfaction")) not in UNSATISFIED:
        raise DomainError("只有回访不满意的工单才能重办", code="invalid_state")
    ticket_states.reopen(ticket)
    ticket.updated_at = now
    # Same kind as the platform's 重办 notice: the SLA engine opens the next cycle from this instant.
    add_event(session, ticket=ticket, actor=principal.name, kind="reopened", at=now, reason=reason, source="bureau",
              cycle=ticket.reopen_count + 1)
    ticket_changed(session, ticket=ticket, now=now, reason="reopened")
    return []
