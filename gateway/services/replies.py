"""A reply from draft to platform: complete for its platform, reviewed by the unit head, approved by a
leader — three signatures of different people (four eyes), and nothing in it a person did not write.

- **Complete** (001 四(四); 000 责任追究 五 on false replies): a platform's own parts are required
  (12389 核查报告: 责任认定 ``responsibility`` and 整改情况 ``rectification``; 12345 办理结果
  ``resolved``) and refused with a 422 naming the part in Chinese when empty. The text the citizen reads
  is the drafter's own 答复诉求人 or, when none is written, their 处置结果 — written into the draft here,
  so the approver sees exactly what the platform will get. Whether the citizen was contacted, unless
  the drafter says, is whether 先行联系 was recorded. No mapper adds anything.
- **Reviewed** (002 三(二) 经部门负责人、分管局领导审核签字; 000 督办 三): with
  ``GATEWAY_DASHBOARD__UNIT_HEAD_REVIEW`` (on by default) a draft of a dispatched ticket waits for the
  head of its unit (role ``unit_head``) before a leader may approve it; each review is an approval
  record (kind ``review``) and a timeline entry.
- **Approved** (000 督办 三: 没有分管领导签字的一律不得回复): by a leader who is neither the drafter nor
  the reviewer; holding another role (admin, unit) never stands in for the leader's.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from gateway.catalogue import label, public_text, reply_parts
from gateway.errors import DomainError, Forbidden
from gateway.principal import Principal
from gateway.schema import ReplyDraft, TicketStatus
from gateway.services import ticket_states
from gateway.services.lifecycle import ticket_changed
from gateway.settings import Role
from gateway.sla.deadlines import to_shanghai
from gateway.store.tables import TicketRecord
from gateway.store.tables_dashboard import ApprovalRecord
from gateway.store.tickets import add_event, get_ticket

REVIEW = "review"
REPORT_PARTS = ("responsibility", "rectification")  # only a platform that requires them keeps them


def _blank(value: object) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def complete_draft(draft: ReplyDraft, *, ticket: TicketRecord, when: str = "起草") -> ReplyDraft:
    """The draft exactly as it will go out, or a 422 naming the parts its platform requires and lacks."""
    parts = reply_parts(ticket.platform)
    missing = [(field, name) for field, name in parts if _blank(getattr(draft, field))]
    if missing:
        names = "、".join(n for _, n in missing)
        hint = "，请退回承办单位补充后再审批" if when == "审批" else ""
        raise DomainError(f"{label(ticket.platform)}答复须填写：{names}{hint}",
                          code="invalid_request", status=422)
    required = {field for field, _ in parts}
    updates: dict[str, object] = {}
    for field in REPORT_PARTS:
        value = getattr(draft, field)
        updates[field] = value.strip() if field in required and isinstance(value, str) else None
    if not draft.public_reply.strip():
        updates["public_reply"] = public_text(ticket.platform, draft) or ""
    contacted = ticket.responded_at is not None if draft.contacted is None else draft.contacted
    contacted_at = draft.contacted_at or (ticket.responded_at if contacted else None)
    if contacted and contacted_at is None:
        # Platforms take the contact time with a "contacted" reply; the gateway never makes one up.
        raise DomainError("答复称已联系诉求人，但没有先行联系记录：请先记录先行联系或填写联系时间",
                          code="invalid_request", status=422)
    updates |= {"contacted": contacted, "contacted_at": contacted_at}
    return draft.model_copy(update=updates)


def sent_back_note(principal: Principal, step: str, reason: str, now: datetime) -> dict[str, str]:
    """被退回 (by the unit head or the leader): shown with its reason on the unit's overview, queue and ticket
    until the unit saves a new draft."""
    return {"by": principal.name, "step": step, "reason": reason, "at": to_shanghai(now).isoformat()}


def open_review(session: Session, *, ticket: TicketRecord, principal: Principal, now: datetime) -> None:
    """A new draft of a dispatched ticket waits for its unit head; earlier reviews no longer count."""
    for earlier in session.scalars(select(ApprovalRecord).where(
            ApprovalRecord.ticket_id == ticket.id, ApprovalRecord.kind == REVIEW, ApprovalRecord.state == "pending")):
        earlier.state, earlier.decided_at, earlier.note = "cancelled", now, "答复已重新起草"
    ticket.reply_reviewed_by = ticket.reply_reviewed_at = None
    if ticket.unit:
        session.add(ApprovalRecord(ticket_id=ticket.id, kind=REVIEW, state="pending", requested_by=principal.name,
                                   requested_at=now, detail={"unit": ticket.unit}))


def check_approver(ticket: TicketRecord, principal: Principal, *, review: bool) -> None:
    """Four eyes: a leader who did not draft or review this reply, after the unit head's review."""
    principal.require(Role.leader, action="审批答复")
    if principal.name == ticket.reply_drafted_by:
        raise Forbidden("不能审批本人起草的答复（四眼原则）")
    if ticket.reply_reviewed_by and principal.name == ticket.reply_reviewed_by:
        raise Forbidden("审核人不能再审批同一答复（四眼原则）")
    if review and ticket.unit and not ticket.reply_reviewed_by:
        raise DomainError("答复尚待部门负责人审核，审核后方可报分管领导审批 (002 三(二): the unit head reviews first)",
                          code="invalid_state")


def _pending_review(session: Session, ticket: TicketRecord) -> ApprovalRecord | None:
    return session.scalars(select(ApprovalRecord).where(
        ApprovalRecord.ticket_id == ticket.id, ApprovalRecord.kind == REVIEW, ApprovalRecord.state == "pending",
    ).order_by(ApprovalRecord.id.desc()).with_for_update()).first()


def _reviewable(session: Session, ticket_id: int, principal: Principal, action: str) -> TicketRecord:
    principal.require(Role.unit_head, action=action)
    ticket = get_ticket(session, ticket_id, for_update=True)
    if not principal.unit or ticket.unit != principal.unit:
        raise Forbidden("不是本单位承办的工单")
    if ticket.status != TicketStatus.reply_drafted.value or not ticket.reply:
        raise DomainError("没有待审核的答复", code="invalid_state")
    if ticket.reply_reviewed_by:
        raise DomainError(f"答复已由{ticket.reply_reviewed_by}审核", code="invalid_state")
    if principal.name == ticket.reply_drafted_by:
        raise Forbidden("不能审核本人起草的答复（四眼原则）")
    return ticket


def review_reply(session: Session, *, ticket_id: int, principal: Principal, now: datetime,
                 note: str = "") -> list[int]:
    """部门负责人审核 (002 三(二)): the unit head signs the unit's draft; it goes on to the leader."""
    ticket = _reviewable(session, ticket_id, principal, "审核答复")
    complete_draft(ReplyDraft.model_validate(ticket.reply), ticket=ticket, when="审核")
    record = _pending_review(session, ticket) or ApprovalRecord(
        ticket_id=ticket.id, kind=REVIEW, requested_by=ticket.reply_drafted_by or "", requested_at=now,
        detail={"unit": ticket.unit})
    record.state, record.decided_by, record.decided_at, record.note = "approved", principal.name, now, note or None
    session.add(record)
    ticket.reply_reviewed_by, ticket.reply_reviewed_at = principal.name, now
    session.flush()
    add_event(session, ticket=ticket, actor=principal.name, kind="reply_reviewed", at=now, note=note,
              approval_id=record.id)
    ticket_changed(session, ticket=ticket, now=now, reason="reply_reviewed")
    return []


def send_back_review(session: Session, *, ticket_id: int, principal: Principal, reason: str,
                     now: datetime) -> list[int]:
    """部门负责人退回修改: the draft goes back to the unit's officer."""
    ticket = _reviewable(session, ticket_id, principal, "退回修改")
    record = _pending_review(session, ticket)
    if record is not None:
        record.state, record.decided_by, record.decided_at, record.note = "rejected", principal.name, now, reason
    ticket_states.send_back_reply(ticket)
    ticket.sent_back = sent_back_note(principal, "unit_head", reason, now)
    add_event(session, ticket=ticket, actor=principal.name, kind="reply_review_sent_back", at=now, reason=reason)
    ticket_changed(session, ticket=ticket, now=now, reason="reply_review_sent_back")
    return []
