"""Operator use cases on a ticket (RULES.md §2). Each checks role and state, changes the ticket,
appends to the timeline and, where the platform must hear of it, writes an outbox row in the same
transaction. They return the outbox ids for the caller to ring after commit.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy.orm import Session

from gateway.errors import DomainError
from gateway.principal import Principal
from gateway.privacy import supervision_only
from gateway.schema import (
    ContactPayload,
    ProgressPayload,
    ReplyDraft,
    ReplyPayload,
    ReturnPayload,
    SignPayload,
    TicketStatus,
)
from gateway.services import closing, replies, ticket_states, workflow
from gateway.services.complained import check_not_complained
from gateway.services.evidence import REF as EVIDENCE_REF
from gateway.services.evidence import attach_to_reply, list_evidence
from gateway.services.lifecycle import ticket_changed
from gateway.services.linking import assign_case_unit
from gateway.services.ticket_states import DISPATCHABLE, IN_HAND, require
from gateway.services.ticket_states import STATUS_LABELS as STATUS_LABELS  # where others read it
from gateway.services.writeback import queue_writeback
from gateway.settings import Role
from gateway.store.tables import TicketRecord
from gateway.store.tickets import add_event, get_ticket
from gateway.store.units import check_unit

T = TicketStatus


def _unit_scope(ticket: TicketRecord, principal: Principal) -> None:
    # A unit user acts on its own unit's tickets only; a unit role without a unit on none (fail closed).
    scope = principal.unit_scope()
    if scope is not None and ticket.unit != scope:
        raise DomainError("不是本单位承办的工单", code="forbidden", status=403)


def sign_off(session: Session, *, ticket_id: int, principal: Principal, now: datetime) -> list[int]:
    """签收: accept the ticket on the platform (24 h window)."""
    principal.require(Role.duty, action="签收")
    ticket = get_ticket(session, ticket_id, for_update=True)
    ticket_states.sign(ticket, by=principal.name, at=now)
    payload = SignPayload(operator=principal.name, signed_at=now).model_dump(mode="json")
    ids = queue_writeback(session, ticket=ticket, action="sign", payload=payload,
                 actor=principal.name, now=now)
    add_event(session, ticket=ticket, actor=principal.name, kind="signed", at=now, outbox_ids=ids)
    ticket_changed(session, ticket=ticket, now=now, reason="signed")
    return ids


def request_return(
    session: Session, *, ticket_id: int, principal: Principal, reason: str, now: datetime, target: str | None = None
) -> list[int]:
    """退回: not ours to handle; asks the platform to take it back, with the reason."""
    principal.require(Role.duty, action="退回")
    ticket = get_ticket(session, ticket_id, for_update=True)
    ticket_states.request_return(ticket)
    payload = ReturnPayload(reason=reason, target=target).model_dump(mode="json")
    ids = queue_writeback(session, ticket=ticket, action="return", payload=payload,
                 actor=principal.name, now=now)
    add_event(session, ticket=ticket, actor=principal.name, kind="return_requested", at=now,
              reason=reason, outbox_ids=ids)
    ticket_changed(session, ticket=ticket, now=now, reason="return_requested")
    return ids


def dispatch(
    session: Session, *, ticket_id: int, principal: Principal, unit: str, now: datetime, approval: str = "before"
) -> list[int]:
    """派单 to exactly one handling unit.

    A duty officer's dispatch takes effect when the leader approves it (``before``, the default: 000 二
    经分管局领导审阅后…派单) or at once with the leader's confirmation after (``after``). A 12389 case never
    goes to the unit complained about or its line (001 五).
    """
    principal.require(Role.duty, Role.leader, action="派单")
    ticket = get_ticket(session, ticket_id, for_update=True)
    require(ticket, DISPATCHABLE, "派单")
    check_unit(session, name=unit)
    check_not_complained(session, ticket, unit)
    if approval == "before" and not principal.has(Role.leader):
        return workflow.propose_dispatch(session, ticket=ticket, principal=principal, unit=unit, now=now)
    ticket_states.dispatch(ticket, unit=unit, at=now)
    add_event(session, ticket=ticket, actor=principal.name, kind="dispatched", at=now, unit=unit)
    assign_case_unit(session, ticket=ticket, unit=unit, actor=principal.name, now=now)
    workflow.after_dispatch(session, ticket=ticket, principal=principal, unit=unit, now=now)
    ticket_changed(session, ticket=ticket, now=now, reason="dispatched")
    return []


def record_response(
    session: Session, *, ticket_id: int, principal: Principal, note: str, contact_phone: str, now: datetime,
    how: str = "contact",
) -> list[int]:
    """先行联系 or 介入处置 (``how``): what meets the 2 h response window (002 四(二)); a draft never does."""
    principal.require(Role.unit, Role.duty, action="先行联系")
    ticket = get_ticket(session, ticket_id, for_update=True)
    _unit_scope(ticket, principal)
    ticket_states.respond(ticket, at=now)
    # The number the unit called is, unless it says otherwise, the one the citizen left — never a 12389
    # reporter's, which the unit does not see and which goes nowhere on its behalf (001 五).
    left = "" if supervision_only(ticket.platform) else str((ticket.citizen or {}).get("phone") or "")
    phone = contact_phone or left
    payload = ContactPayload(contacted_at=now, contact_phone=phone, note=note).model_dump(mode="json")
    ids = queue_writeback(session, ticket=ticket, action="contact", payload=payload,
                 actor=principal.name, now=now)
    add_event(session, ticket=ticket, actor=principal.name, kind="responded", at=now, note=note, outbox_ids=ids,
              how="intervention" if how == "intervention" else "contact")
    ticket_changed(session, ticket=ticket, now=now, reason="responded")
    return ids


def report_progress(
    session: Session, *, ticket_id: int, principal: Principal, note: str, now: datetime
) -> list[int]:
    """阶段反馈: a progress note to the platform."""
    principal.require(Role.unit, Role.duty, action="阶段反馈")
    ticket = get_ticket(session, ticket_id, for_update=True)
    _unit_scope(ticket, principal)
    require(ticket, IN_HAND, "阶段反馈")
    payload = ProgressPayload(note=note).model_dump(mode="json")
    ids = queue_writeback(session, ticket=ticket, action="progress", payload=payload,
                 actor=principal.name, now=now)
    add_event(session, ticket=ticket, actor=principal.name, kind="progress", at=now, note=note, outbox_ids=ids)
    ticket_changed(session, ticket=ticket, now=now, reason="progress")
    return ids


def draft_reply(
    session: Session, *, ticket_id: int, principal: Principal, draft: ReplyDraft, now: datetime,
    evidence_ids: Sequence[int] | None = None, review: bool = True,
) -> list[int]:
    """答复草稿 with the four required parts, its platform's own (001 四(四)) and its evidence files.

    Any earlier review or approval is void; with ``review`` the unit head reviews it first (002 三(二)).
    """
    principal.require(Role.unit, Role.duty, action="起草答复")
    ticket = get_ticket(session, ticket_id, for_update=True)
    _unit_scope(ticket, principal)
    require(ticket, IN_HAND, "起草答复")
    draft = replies.complete_draft(draft, ticket=ticket)
    # Evidence goes out as signed links to our files, so a reference is only ever made here, from
    # files of this ticket: one written into the draft by a client is dropped, never trusted.
    # No evidence_ids keeps the files chosen before.
    if evidence_ids is None:
        evidence_ids = [r.id for r in list_evidence(session, ticket_id=ticket.id) if r.in_reply]
    kept = [a for a in draft.attachments if not (a.url or "").startswith(EVIDENCE_REF)]
    draft = draft.model_copy(update={"attachments": kept + attach_to_reply(session, ticket=ticket,
                                                                            evidence_ids=evidence_ids)})
    ticket.reply = draft.model_dump(mode="json")
    ticket_states.draft_reply(ticket, by=principal.name)
    ticket.sent_back = None  # a new draft answers the send-back
    if review:
        replies.open_review(session, ticket=ticket, principal=principal, now=now)
    else:
        ticket.reply_reviewed_by = ticket.reply_reviewed_at = None
    add_event(session, ticket=ticket, actor=principal.name, kind="reply_drafted", at=now)
    ticket_changed(session, ticket=ticket, now=now, reason="reply_drafted")
    return []


def approve_reply(
    session: Session, *, ticket_id: int, principal: Principal, now: datetime, review: bool = True
) -> list[int]:
    """领导审批 (000 督办 三: 没有分管领导签字的一律不得回复): queues the reply to the platform.

    Four eyes: a leader who neither drafted nor reviewed it, after the unit head's review when ``review``.
    A draft saved without its platform's parts (001 四(四)) is refused until they are written.
    """
    principal.require(Role.leader, action="审批答复")
    ticket = get_ticket(session, ticket_id, for_update=True)
    require(ticket, (T.reply_drafted,), "审批答复")
    if not ticket.reply:
        raise DomainError("没有待审批的答复", code="invalid_state")
    replies.check_approver(ticket, principal, review=review)
    closing.check_before_approval(session, ticket=ticket, principal=principal)  # 000 沟通通报 三, 002 三(二)
    # The four parts and the platform's own are checked again: what is approved is what goes out.
    draft = replies.complete_draft(ReplyDraft.model_validate(ticket.reply), ticket=ticket, when="审批")
    ticket.reply = draft.model_dump(mode="json")
    ticket_states.approve_reply(ticket, by=principal.name, at=now)
    workflow.confirm_dispatch_with_reply(session, ticket=ticket, principal=principal, now=now)
    payload = ReplyPayload(**draft.model_dump(), approved_by=principal.name, approved_at=now, unit=ticket.unit)
    ids = queue_writeback(session, ticket=ticket, action="reply", payload=payload.model_dump(mode="json"),
                 actor=principal.name, now=now)
    add_event(session, ticket=ticket, actor=principal.name, kind="reply_approved", at=now, outbox_ids=ids)
    ticket_changed(session, ticket=ticket, now=now, reason="reply_approved")
    return ids


def send_back_reply(
    session: Session, *, ticket_id: int, principal: Principal, reason: str, now: datetime
) -> list[int]:
    """领导退回修改: the leader sends the draft back to the unit."""
    principal.require(Role.leader, action="退回修改")
    ticket = get_ticket(session, ticket_id, for_update=True)
    require(ticket, (T.reply_drafted,), "退回修改")
    ticket_states.send_back_reply(ticket)
    ticket.sent_back = replies.sent_back_note(principal, "leader", reason, now)
    add_event(session, ticket=ticket, actor=principal.name, kind="reply_sent_back", at=now, reason=reason)
    ticket_changed(session, ticket=ticket, now=now, reason="reply_sent_back")
    return []


def request_extension(
    session: Session, *, ticket_id: int, principal: Principal, days: int, reason: str, now: datetime,
    report: str = "",
) -> list[int]:
    """延期申请: checked against the policy when asked (000 限时办结 二: a day ahead, at most 5 days; 001 四(三):
    a 12389 case brings its written progress report); a leader's goes out, a unit's waits for one."""
    principal.require(Role.unit, Role.leader, Role.duty, action="申请延期")
    ticket = get_ticket(session, ticket_id, for_update=True)
    _unit_scope(ticket, principal)
    require(ticket, IN_HAND, "申请延期")
    workflow.check_report(session, ticket=ticket, report=report)
    due = workflow.check_extension(session, ticket=ticket, days=days, now=now)
    if not principal.has(Role.leader):
        ids = workflow.propose_extension(session, ticket=ticket, principal=principal, days=days, reason=reason,
                                         due=due, now=now, report=report)
        ticket_changed(session, ticket=ticket, now=now, reason="extension_proposed")
        return ids
    ids = workflow.send_extension(session, ticket=ticket, actor=principal.name, days=days, reason=reason, now=now,
                                  report=report, approved_by=principal.name, new_due_at=due.due_at.isoformat())
    ticket_changed(session, ticket=ticket, now=now, reason="extension_requested")
    return ids
