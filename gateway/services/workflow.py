"""Approval steps inside the operator use cases: a duty dispatch waits for or is confirmed by a leader
(000 统一派单: 分管领导审批后派单), and a unit's extension (延期) is checked against the policy when it is
asked (000 限时办结 二: a day before the deadline, at most 5 calendar days, one per ticket; 001 四(三): a
12389 case's written progress report) and waits for a leader.

``gateway.services.actions`` calls these; the leader's decisions live in ``gateway.services.decisions``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from gateway.errors import DomainError
from gateway.principal import Principal
from gateway.schema import ExtensionPayload
from gateway.services.writeback import queue_writeback
from gateway.settings import Role
from gateway.sla.deadlines import Due, extension_due
from gateway.sla.runtime import runtime_for
from gateway.store.tables import TicketEventRecord, TicketRecord
from gateway.store.tables_dashboard import ApprovalRecord
from gateway.store.tables_sla import OPEN_STATES, SlaTimerRecord
from gateway.store.tickets import add_event

DISPATCH, EXTENSION = "dispatch", "extension"


def pending(session: Session, *, ticket_id: int, kind: str, for_update: bool = False) -> ApprovalRecord | None:
    """The request of ``kind`` waiting for a leader on this ticket, if any."""
    stmt = select(ApprovalRecord).where(
        ApprovalRecord.ticket_id == ticket_id, ApprovalRecord.kind == kind, ApprovalRecord.state == "pending"
    )
    if for_update:
        stmt = stmt.with_for_update()
    return session.scalars(stmt.order_by(ApprovalRecord.id.desc())).first()


def _request(session: Session, *, ticket: TicketRecord, kind: str, principal: Principal, now: datetime,
             **detail: Any) -> ApprovalRecord:
    record = ApprovalRecord(ticket_id=ticket.id, kind=kind, state="pending", requested_by=principal.name,
                            requested_at=now, detail=detail)
    session.add(record)
    session.flush()
    return record


def propose_dispatch(session: Session, *, ticket: TicketRecord, principal: Principal, unit: str,
                     now: datetime) -> list[int]:
    """拟派: the duty officer's dispatch waits for the leader ("before" policy); the ticket stays signed."""
    for earlier in session.scalars(select(ApprovalRecord).where(
            ApprovalRecord.ticket_id == ticket.id, ApprovalRecord.kind == DISPATCH,
            ApprovalRecord.state == "pending")):
        earlier.state, earlier.decided_at, earlier.note = "cancelled", now, "被新的派单建议取代"
    record = _request(session, ticket=ticket, kind=DISPATCH, principal=principal, now=now, unit=unit, effective=False)
    add_event(session, ticket=ticket, actor=principal.name, kind="dispatch_proposed", at=now, unit=unit,
              approval_id=record.id)
    return []


def after_dispatch(session: Session, *, ticket: TicketRecord, principal: Principal, unit: str, now: datetime) -> None:
    """A dispatch took effect: a leader's is approved by itself, a duty officer's waits for confirmation."""
    earlier = pending(session, ticket_id=ticket.id, kind=DISPATCH, for_update=True)
    if principal.has(Role.leader):
        if earlier is not None:
            earlier.state, earlier.decided_by, earlier.decided_at = "approved", principal.name, now
            earlier.note = f"领导直接派单至{unit}"
        return
    if earlier is not None:
        earlier.state, earlier.decided_at, earlier.note = "cancelled", now, "重新派单"
    record = _request(session, ticket=ticket, kind=DISPATCH, principal=principal, now=now, unit=unit, effective=True)
    add_event(session, ticket=ticket, actor=principal.name, kind="dispatch_approval_requested", at=now, unit=unit,
              approval_id=record.id)


def confirm_dispatch_with_reply(session: Session, *, ticket: TicketRecord, principal: Principal,
                                now: datetime) -> None:
    """The leader who approves the reply also confirms the unit that handled it, if nobody did yet."""
    earlier = pending(session, ticket_id=ticket.id, kind=DISPATCH, for_update=True)
    if earlier is None or not earlier.detail.get("effective"):
        return
    earlier.state, earlier.decided_by, earlier.decided_at = "approved", principal.name, now
    earlier.note = "随答复一并审批"
    add_event(session, ticket=ticket, actor=principal.name, kind="dispatch_approved", at=now, unit=ticket.unit,
              requested_by=earlier.requested_by, approval_id=earlier.id, note=earlier.note)


def resolution_due(session: Session, *, ticket: TicketRecord) -> tuple[datetime | None, int]:
    """The deadline the ticket is now held to (办结 or 延期) and the extensions already granted this cycle."""
    cycle = ticket.reopen_count + 1
    timers = list(session.scalars(select(SlaTimerRecord).where(
        SlaTimerRecord.ticket_id == ticket.id, SlaTimerRecord.cycle == cycle,
        SlaTimerRecord.kind.in_(("resolution", "extension")),
    ).order_by(SlaTimerRecord.seq)))
    # A request sent to the platform counts until the platform refuses it: asking twice while the first
    # is being decided would break the one-extension rule just as much as a granted one.
    events = session.scalars(select(TicketEventRecord).where(
        TicketEventRecord.ticket_id == ticket.id,
        TicketEventRecord.kind.in_(("reopened", "extension_requested", "extension_decided")),
    ).order_by(TicketEventRecord.id)).all()
    sent = 0
    for event in events:
        if event.kind == "reopened":
            sent = 0
        elif event.kind == "extension_requested":
            sent += 1
        elif not event.detail.get("approved"):
            sent = max(sent - 1, 0)
    granted = max(sum(1 for t in timers if t.kind == "extension"), sent)
    live = [t for t in timers if t.state in OPEN_STATES]
    if live:
        return live[-1].due_at, granted
    return ticket.platform_due_at, granted


def check_extension(session: Session, *, ticket: TicketRecord, days: int, now: datetime) -> Due:
    """The new deadline an extension asked at ``now`` would give, or ``ExtensionRefused`` saying which rule
    it breaks. A leader approving a unit's request passes the time it was asked: the one-day notice of
    000 限时办结 二 is the unit's to keep, and a request made in time is not refused at a later approval."""
    current, granted = resolution_due(session, ticket=ticket)
    if current is None:
        raise DomainError("本工单没有办结期限，无需申请延期",
                          code="extension_refused", status=422)
    runtime = runtime_for(session)
    return extension_due(current, days, now, granted, runtime.calendar(session), runtime.sla)


def check_report(session: Session, *, ticket: TicketRecord, report: str) -> None:
    """001 四(三): 到期不能办结的，应书面报告阶段进展情况，并说明延期理由 — where the profile asks for it."""
    rule = runtime_for(session).sla.extension
    if ticket.platform in rule.report_platforms and len(report.strip()) < 5:
        raise DomainError(f"延期须书面报告阶段进展情况（{rule.report_article}）",
                          code="report_required", status=422)


def propose_extension(session: Session, *, ticket: TicketRecord, principal: Principal, days: int, reason: str,
                      due: Due, now: datetime, report: str = "") -> list[int]:
    """延期申请 by the unit: waits for the leader; nothing goes to the platform yet."""
    if pending(session, ticket_id=ticket.id, kind=EXTENSION) is not None:
        raise DomainError("已有待审批的延期申请", code="invalid_state")
    record = _request(session, ticket=ticket, kind=EXTENSION, principal=principal, now=now, days=days, reason=reason,
                      cycle=ticket.reopen_count + 1, new_due_at=due.due_at.isoformat(), report=report)
    add_event(session, ticket=ticket, actor=principal.name, kind="extension_proposed", at=now, days=days,
              reason=reason, report=report or None, new_due_at=due.due_at.isoformat(), approval_id=record.id)
    return []


def send_extension(session: Session, *, ticket: TicketRecord, actor: str, days: int, reason: str, now: datetime,
                   report: str = "", **detail: Any) -> list[int]:
    """The extension request goes to the platform (outbox row in this transaction), with the unit's
    written progress report after its reason where there is one (both as the unit wrote them)."""
    text = f"{reason}\n阶段进展情况：{report.strip()}" if report.strip() else reason
    payload = ExtensionPayload(days=days, reason=text).model_dump(mode="json")
    ids = queue_writeback(session, ticket=ticket, action="extension", payload=payload, actor=actor, now=now)
    add_event(session, ticket=ticket, actor=actor, kind="extension_requested", at=now, days=days, reason=reason,
              report=report.strip() or None, outbox_ids=ids, **detail)
    return ids
