"""The ticket's state machine: every change of ``TicketRecord.status``, by name, in one place.

Use cases (``actions``, ``decisions``, ``replies``), the platform's word (``processing``) and the
delivery of a reply (``delivery``) move a ticket only through these transitions; each says from which
statuses it may start, where it goes and which fields move with it. RULES.md §2 gives the flow:

    received ─签收→ signed ─派单→ dispatched ─先行联系→ responded ─起草→ reply_drafted ─审批→ approved ─回传→ replied
        └─退回→ return_requested ─平台决定→ returned | received
    reply_drafted ─退回修改→ responded | dispatched        replied | closed ─重办→ dispatched | signed

A refused transition is a ``DomainError`` with code ``invalid_state`` naming the status in Chinese.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import datetime

from gateway.errors import DomainError
from gateway.schema import TicketStatus
from gateway.store.tables import TicketRecord

log = logging.getLogger(__name__)

T = TicketStatus
IN_HAND = (T.signed, T.dispatched, T.responded, T.reply_drafted)  # a unit may act on it
DISPATCHABLE = (T.signed, T.dispatched)  # 派单 and 改派; also what 先行联系 needs
SENT = (T.replied, T.closed)  # a reply went out: 重办 may reopen it
RANK = {s: i for i, s in enumerate(TicketStatus)}  # the order of the flow, for the platform's hints

STATUS_LABELS: dict[str, str] = {
    T.received: "待签收",
    T.signed: "已签收",
    T.dispatched: "已派单",
    T.responded: "已响应",
    T.reply_drafted: "答复待审批",
    T.approved: "已审批待回传",
    T.replied: "已回复",
    T.return_requested: "退回申请中",
    T.returned: "已退回",
    T.closed: "已办结",
}


def require(ticket: TicketRecord, allowed: Iterable[TicketStatus], action: str, *, detail: str | None = None) -> None:
    """Refuse ``action`` unless the ticket is in one of ``allowed`` (``detail``: the English reason, logged)."""
    allowed = tuple(allowed)
    if ticket.status in {s.value for s in allowed}:
        return
    if detail is None:
        detail = f"{action} needs one of {[s.value for s in allowed]}"
    why = f"; {detail}" if detail else ""
    # The English reason goes to the log for the developers; the person reads Chinese only.
    log.info("refused %s: ticket %s is %s%s", action, ticket.id, ticket.status, why)
    raise DomainError(f"工单当前状态“{STATUS_LABELS.get(ticket.status, '未知')}”不能{action}", code="invalid_state")


def _handling(ticket: TicketRecord) -> TicketStatus:
    """Back in the unit's hands: responded when the first contact was made, else dispatched."""
    return T.responded if ticket.responded_at else T.dispatched


def _clear_approval(ticket: TicketRecord) -> None:
    ticket.reply_approved_by, ticket.reply_approved_at, ticket.replied_at = None, None, None


# --- the bureau's own steps ------------------------------------------------------------------------


def sign(ticket: TicketRecord, *, by: str, at: datetime) -> None:
    """签收: received → signed."""
    require(ticket, (T.received,), "签收")
    ticket.status, ticket.signed_at, ticket.signed_by = T.signed.value, at, by


def request_return(ticket: TicketRecord) -> None:
    """退回: received → return_requested (the platform decides)."""
    require(ticket, (T.received,), "退回")
    ticket.status = T.return_requested.value


def dispatch(ticket: TicketRecord, *, unit: str, at: datetime) -> None:
    """派单 / 改派 taking effect: signed | dispatched → dispatched to ``unit`` (its response clock starts)."""
    require(ticket, DISPATCHABLE, "派单")
    ticket.status, ticket.unit, ticket.dispatched_at = T.dispatched.value, unit, at


def respond(ticket: TicketRecord, *, at: datetime) -> None:
    """先行联系 / 介入处置: signed | dispatched → responded."""
    require(ticket, DISPATCHABLE, "先行联系")
    ticket.status, ticket.responded_at = T.responded.value, at


def draft_reply(ticket: TicketRecord, *, by: str) -> None:
    """答复草稿: in hand → reply_drafted; any earlier approval is void."""
    require(ticket, IN_HAND, "起草答复")
    ticket.reply_drafted_by, ticket.status = by, T.reply_drafted.value
    ticket.reply_approved_by = ticket.reply_approved_at = None


def approve_reply(ticket: TicketRecord, *, by: str, at: datetime) -> None:
    """领导审批: reply_drafted → approved (the reply is queued to the platform)."""
    require(ticket, (T.reply_drafted,), "审批答复")
    ticket.status, ticket.reply_approved_by, ticket.reply_approved_at = T.approved.value, by, at


def send_back_reply(ticket: TicketRecord) -> None:
    """退回修改 (the leader or the unit head): the draft goes back to the unit → responded | dispatched."""
    ticket.status = _handling(ticket).value


def terminate(ticket: TicketRecord, *, at: datetime) -> None:
    """终结办理 approved (002 四(七)): a ticket in hand or answered → closed, its clocks stop."""
    require(ticket, (*IN_HAND, T.approved, T.replied, T.closed), "终结办理")
    ticket.status, ticket.terminated_at = T.closed.value, at


def reopen(ticket: TicketRecord) -> None:
    """重办 (the bureau's, or the platform's notice): a new handling cycle → dispatched | signed."""
    ticket.reopen_count += 1
    ticket.status = (T.dispatched if ticket.unit else T.signed).value
    _clear_approval(ticket)


# --- what the platform says ------------------------------------------------------------------------


def reply_sent(ticket: TicketRecord, *, at: datetime) -> bool:
    """The platform accepted the approved reply: approved → replied. False (nothing moves) otherwise."""
    if ticket.status != T.approved.value:
        return False
    ticket.status, ticket.replied_at = T.replied.value, at
    return True


def reply_rejected(ticket: TicketRecord) -> None:
    """审核退回 by the platform: the reply must be redrafted and approved again → responded | dispatched."""
    ticket.status = _handling(ticket).value
    _clear_approval(ticket)


def return_decided(ticket: TicketRecord, *, approved: bool) -> None:
    """The platform's answer to 退回: returned, or back to received."""
    ticket.status = (T.returned if approved else T.received).value


def platform_hint(ticket: TicketRecord, hint: TicketStatus | None) -> None:
    """The status a platform snapshot implies; it only ever moves the ticket forward in the flow."""
    if hint is not None and RANK[hint] > RANK[TicketStatus(ticket.status)]:
        ticket.status = hint.value
