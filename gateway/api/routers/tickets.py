"""``/api/v1/tickets``: the unified queue, one ticket, and the operator actions on it."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field
from sqlalchemy import select
from sqlalchemy.orm import Session

from gateway.api.deps import ContainerDep, PrincipalDep, SessionDep
from gateway.api.errors import WRITE
from gateway.api.params import Cursor, RowId, cursor_id
from gateway.api.views import ticket_detail, ticket_summary
from gateway.container import Container
from gateway.errors import DomainError
from gateway.principal import Principal
from gateway.privacy import phone_search
from gateway.schema import AppealType, ReplyDraft, TicketStatus
from gateway.services import actions, intervention, replies, suspension
from gateway.services.deadlines import deadlines_for
from gateway.services.linking import case_view, visible_events
from gateway.settings import Role
from gateway.store.tables import TicketRecord
from gateway.store.tickets import get_ticket, list_events, list_outbound, list_tickets, ticket_query

router = APIRouter(prefix="/api/v1/tickets", tags=["tickets"], responses=WRITE)

BATCH_MAX = 100  # tickets per batch sign-off: one page of the queue and then some
# The deadlines a ticket shows by name (``gateway.services.deadlines``); any other name is a 422.
TimerName = Literal["sign_off", "dispatch", "response", "first_feedback", "plan", "resolution", "supervision"]


class TicketPage(BaseModel):
    """A page of the queue; pass ``next_cursor`` back as ``cursor`` for the next one."""

    items: list[dict[str, Any]]
    next_cursor: str | None


class BatchSignBody(BaseModel):
    """批量签收: the tickets to sign off, each in its own transaction."""

    ids: list[RowId] = Field(min_length=1, max_length=BATCH_MAX)


class BatchOutcome(BaseModel):
    """One ticket of a batch: signed, or why not (the others go on)."""

    id: int
    external_id: str | None
    ok: bool
    code: str | None = None
    message: str | None = None


class DispatchBody(BaseModel):
    """派单 to one handling unit."""

    unit: str = Field(min_length=1, max_length=100)


class ResponseBody(BaseModel):
    """先行联系 or 介入处置: what meets the 2-hour response (002 四(二))."""

    note: str = Field(default="已与诉求人取得联系", max_length=1000)
    contact_phone: str = Field(default="", max_length=32)
    how: Literal["contact", "intervention"] = Field(
        default="contact", description="contact: 先行联系 the citizen; intervention: 介入处置 (on site, 出警…)"
    )


class ReasonBody(BaseModel):
    """An action that needs a reason."""

    reason: str = Field(min_length=2, max_length=2000)


class ReturnBody(ReasonBody):
    """退回 / 转办; the director's mailbox also takes where it goes."""

    target: Literal["信访", "其他单位"] | None = Field(default=None, description="局长信箱转办去向")


class ExtensionBody(BaseModel):
    """延期申请; 12389 (001 四(三)) also needs the written report of progress so far."""

    days: int = Field(ge=1, le=5)
    reason: str = Field(min_length=2, max_length=2000)
    report: str = Field(default="", max_length=2000, description="阶段进展情况 (书面报告)")


class SuspendBody(BaseModel):
    """延期挂单 (002 §4(6))."""

    reason_code: int = Field(ge=1, le=8, description="规定的八种情形之一 (1–8)")
    note: str = Field(min_length=2, max_length=2000, description="情况说明")
    chief: str = Field(min_length=1, max_length=100, description="签字的主要领导")
    expected_days: int = Field(ge=1, le=3650, description="预计还需办理的天数 (须超过 90)")


class NoteBody(BaseModel):
    """An action with an optional note."""

    note: str = Field(default="", max_length=2000)


class ProgressBody(BaseModel):
    """阶段反馈."""

    note: str = Field(min_length=1, max_length=2000)


def _visible(principal: Principal) -> str | None:
    # A unit user sees its own unit's tickets only; no role (or a unit role without a unit) sees nothing.
    return principal.unit_scope()


@router.get("", response_model=TicketPage, summary="The unified queue")
def list_queue(
    session: SessionDep,
    principal: PrincipalDep,
    container: ContainerDep,
    platform: str | None = None,
    status: Annotated[list[TicketStatus] | None, Query()] = None,
    appeal_type: AppealType | None = None,
    timer: TimerName | None = None,
    breached: bool | None = None,
    q: Annotated[str | None, Query(max_length=100)] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    cursor: Cursor = None,
) -> TicketPage:
    """Newest first; filter by platform, status, appeal type, text; ``breached`` looks at ``timer``."""
    stmt = ticket_query(platform=platform, status=status, appeal_type=appeal_type, unit=_visible(principal), q=q,
                        phones=phone_search(principal))
    now = container.clock()
    items: list[dict[str, Any]] = []
    before = cursor_id(cursor)
    # Timer filters are computed, so page through the filtered query until the page is full.
    while len(items) < limit:
        batch = list_tickets(session, stmt, limit=limit, before_id=before)
        if not batch:
            before = None
            break
        page_timers = deadlines_for(session, [t.id for t in batch], now)
        for ticket in batch:
            timers = page_timers[ticket.id]
            if breached is not None:
                names = [timer] if timer else list(timers)
                is_breached = any(timers[n]["state"] == "breached" for n in names if n in timers)
                if is_breached != breached:
                    continue
            items.append(ticket_summary(ticket, now, timers))
            if len(items) == limit:
                break
        before = batch[-1].id if len(items) < limit else int(items[-1]["id"])
        if len(batch) < limit and len(items) < limit:
            before = None
            break
    return TicketPage(items=items, next_cursor=str(before) if before is not None and items else None)


def _detail(container: Container, session: Session, principal: Principal, ticket_id: int) -> dict[str, Any]:
    ticket = get_ticket(session, ticket_id)
    if (unit := _visible(principal)) is not None and ticket.unit != unit:
        from gateway.errors import NotFound

        raise NotFound("工单不存在")
    detail = ticket_detail(
        ticket, principal, container.clock(),
        events=visible_events(session, ticket=ticket, events=list_events(session, ticket_id=ticket_id),
                              principal=principal),
        outbound=list_outbound(session, ticket_id=ticket_id),
        case=case_view(session, ticket=ticket, principal=principal),
    )
    detail["interventions"] = intervention.for_ticket(session, ticket_id)  # 提级介入 (000 提级介入调查制度)
    return detail


@router.get("/{ticket_id}", summary="One ticket with deadlines, timeline and write-backs")
def get_one(ticket_id: RowId, session: SessionDep, principal: PrincipalDep, container: ContainerDep) -> dict[str, Any]:
    """The ticket; personal data masked unless the caller's role may see it."""
    return _detail(container, session, principal, ticket_id)


def _act(container: Container, principal: Principal, ticket_id: int, use_case: Callable[..., list[int]],
         **kwargs: Any) -> dict[str, Any]:
    with container.commit_then_ring() as (session, ring):
        ring.outbox(use_case(session, ticket_id=ticket_id, principal=principal, now=container.clock(), **kwargs))
    with container.sessions() as session:
        return _detail(container, session, principal, ticket_id)


def sign_off_each(container: Container, principal: Principal, ids: list[int]) -> list[BatchOutcome]:
    """签收 each ticket in its own transaction (issue 13, point 8): one that cannot be signed (already signed,
    not found) is reported and the others are signed; each signed ticket rings its write-back as one sign-off does."""
    principal.require(Role.duty, action="批量签收")
    with container.sessions() as session:
        rows = session.execute(select(TicketRecord.id, TicketRecord.external_id).where(TicketRecord.id.in_(ids)))
        numbers = {ticket_id: external_id for ticket_id, external_id in rows}
    outcomes: list[BatchOutcome] = []
    for ticket_id in dict.fromkeys(ids):  # once each, in the order given
        try:
            with container.commit_then_ring() as (session, ring):
                ring.outbox(actions.sign_off(session, ticket_id=ticket_id, principal=principal, now=container.clock()))
        except DomainError as exc:
            outcomes.append(BatchOutcome(id=ticket_id, external_id=numbers.get(ticket_id), ok=False, code=exc.code,
                                         message=str(exc)))
            continue
        outcomes.append(BatchOutcome(id=ticket_id, external_id=numbers.get(ticket_id), ok=True))
    return outcomes


@router.post("/sign-off", summary="批量签收")
def sign_off_batch(body: BatchSignBody, principal: PrincipalDep, container: ContainerDep) -> list[BatchOutcome]:
    """Sign off several tickets (duty); each is its own transaction, and the answer says per ticket how it went."""
    return sign_off_each(container, principal, body.ids)


@router.post("/{ticket_id}/sign-off", summary="签收")
def sign_off(ticket_id: RowId, principal: PrincipalDep, container: ContainerDep) -> dict[str, Any]:
    """Sign the ticket off on the platform (duty)."""
    return _act(container, principal, ticket_id, actions.sign_off)


@router.post("/{ticket_id}/return", summary="退回")
def return_ticket(ticket_id: RowId, body: ReturnBody, principal: PrincipalDep,
                  container: ContainerDep) -> dict[str, Any]:
    """Return a ticket that is not ours, with the reason (duty)."""
    return _act(container, principal, ticket_id, actions.request_return, reason=body.reason, target=body.target)


@router.post("/{ticket_id}/dispatch", summary="派单")
def dispatch(ticket_id: RowId, body: DispatchBody, principal: PrincipalDep, container: ContainerDep) -> dict[str, Any]:
    """Hand the ticket to one handling unit (duty/leader); a duty dispatch is confirmed by a leader."""
    return _act(container, principal, ticket_id, actions.dispatch, unit=body.unit,
                approval=container.settings.dashboard.dispatch_approval)


@router.post("/{ticket_id}/response", summary="先行联系 / 响应")
def respond(ticket_id: RowId, body: ResponseBody, principal: PrincipalDep, container: ContainerDep) -> dict[str, Any]:
    """Record the first contact with the citizen (unit)."""
    return _act(container, principal, ticket_id, actions.record_response, note=body.note,
                contact_phone=body.contact_phone, how=body.how)


@router.post("/{ticket_id}/progress", summary="阶段反馈")
def progress(ticket_id: RowId, body: ProgressBody, principal: PrincipalDep, container: ContainerDep) -> dict[str, Any]:
    """Send a progress note to the platform (unit)."""
    return _act(container, principal, ticket_id, actions.report_progress, note=body.note)


class ReplyBody(ReplyDraft):
    """The reply draft, and which of the ticket's evidence files go with it."""

    evidence_ids: list[int] | None = Field(
        default=None, description="Evidence files of this ticket sent with the reply; omitted = as chosen before"
    )


@router.post("/{ticket_id}/reply", summary="起草答复")
def draft_reply(ticket_id: RowId, body: ReplyBody, principal: PrincipalDep, container: ContainerDep) -> dict[str, Any]:
    """Save the reply draft with its four required parts (unit); 12389 also needs ``responsibility`` (责任认定)
    and ``rectification`` (整改情况), 12345 ``resolved`` — 422 naming the part when missing. It waits for the
    unit head's review (when enabled) and a leader's approval."""
    draft = ReplyDraft.model_validate(body.model_dump(exclude={"evidence_ids"}))
    return _act(container, principal, ticket_id, actions.draft_reply, draft=draft, evidence_ids=body.evidence_ids,
                review=container.settings.dashboard.unit_head_review)


@router.post("/{ticket_id}/reply/review", summary="部门负责人审核答复")
def review_reply(ticket_id: RowId, body: NoteBody, principal: PrincipalDep, container: ContainerDep) -> dict[str, Any]:
    """The head of the ticket's unit reviews the draft before the leader (unit_head; not the drafter)."""
    return _act(container, principal, ticket_id, replies.review_reply, note=body.note)


@router.post("/{ticket_id}/reply/review/send-back", summary="部门负责人退回修改")
def send_back_review(ticket_id: RowId, body: ReasonBody, principal: PrincipalDep,
                     container: ContainerDep) -> dict[str, Any]:
    """The unit head sends the draft back to the unit's officer with a reason (unit_head)."""
    return _act(container, principal, ticket_id, replies.send_back_review, reason=body.reason)


@router.post("/{ticket_id}/reply/approve", summary="审批答复")
def approve_reply(ticket_id: RowId, principal: PrincipalDep, container: ContainerDep) -> dict[str, Any]:
    """Approve the draft (a leader who neither drafted nor reviewed it); only then is it queued to the platform."""
    return _act(container, principal, ticket_id, actions.approve_reply,
                review=container.settings.dashboard.unit_head_review)


@router.post("/{ticket_id}/reply/send-back", summary="退回修改")
def send_back(ticket_id: RowId, body: ReasonBody, principal: PrincipalDep, container: ContainerDep) -> dict[str, Any]:
    """Send the draft back to the unit with a reason (leader)."""
    return _act(container, principal, ticket_id, actions.send_back_reply, reason=body.reason)


@router.post("/{ticket_id}/extension", summary="申请延期")
def extension(ticket_id: RowId, body: ExtensionBody, principal: PrincipalDep,
              container: ContainerDep) -> dict[str, Any]:
    """Ask the platform for more time (unit/leader)."""
    return _act(container, principal, ticket_id, actions.request_extension, days=body.days, reason=body.reason,
                report=body.report)


@router.post("/{ticket_id}/suspend", summary="延期挂单")
def suspend(ticket_id: RowId, body: SuspendBody, principal: PrincipalDep, container: ContainerDep) -> dict[str, Any]:
    """Stop the resolution clock for a matter that needs more than three months (leader)."""
    return _act(container, principal, ticket_id, suspension.suspend, reason_code=body.reason_code, note=body.note,
                chief=body.chief, expected_days=body.expected_days)


@router.post("/{ticket_id}/resume", summary="解除挂单")
def resume(ticket_id: RowId, body: NoteBody, principal: PrincipalDep, container: ContainerDep) -> dict[str, Any]:
    """Start the resolution clock again; the deadline moves by the suspended time (leader)."""
    return _act(container, principal, ticket_id, suspension.resume, note=body.note)
