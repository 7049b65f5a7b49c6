"""待办审批: what waits for this person's signature — a unit head's reviews (002 三(二)), a leader's
reply approvals, dispatch and extension decisions (000 二, 000 督办 三) — never their own requests.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from gateway.container import Container
from gateway.dashboard.render import login_of, page, require
from gateway.dashboard.security import DASHBOARD
from gateway.principal import Principal
from gateway.services import workflow
from gateway.settings import Role
from gateway.store.tables import TicketRecord
from gateway.store.tables_dashboard import ApprovalRecord

router = APIRouter(prefix=DASHBOARD)
LIMIT = 200


def _reviews(session: Session, principal: Principal) -> list[TicketRecord]:
    """Drafts of the unit head's own unit that no unit head has reviewed, not drafted by them."""
    if not principal.has(Role.unit_head) or not principal.unit:
        return []
    return list(session.scalars(select(TicketRecord).where(
        TicketRecord.status == "reply_drafted", TicketRecord.unit == principal.unit,
        TicketRecord.reply_reviewed_by.is_(None),
        or_(TicketRecord.reply_drafted_by.is_(None), TicketRecord.reply_drafted_by != principal.name),
    ).order_by(TicketRecord.id).limit(LIMIT)))


def _replies(session: Session, principal: Principal, review: bool) -> list[TicketRecord]:
    """Drafts ready for a leader: reviewed (or needing no review), neither drafted nor reviewed by them."""
    if not principal.has(Role.leader):
        return []
    stmt = select(TicketRecord).where(
        TicketRecord.status == "reply_drafted",
        or_(TicketRecord.reply_drafted_by.is_(None), TicketRecord.reply_drafted_by != principal.name),
        or_(TicketRecord.reply_reviewed_by.is_(None), TicketRecord.reply_reviewed_by != principal.name))
    if review:
        stmt = stmt.where(or_(TicketRecord.reply_reviewed_by.is_not(None), TicketRecord.unit.is_(None)))
    return list(session.scalars(stmt.order_by(TicketRecord.id).limit(LIMIT)))


def _requests(session: Session, principal: Principal) -> list[tuple[ApprovalRecord, TicketRecord]]:
    """Dispatch and extension requests waiting for a leader, other than the leader's own."""
    if not principal.has(Role.leader):
        return []
    rows = session.execute(select(ApprovalRecord, TicketRecord).join(
        TicketRecord, TicketRecord.id == ApprovalRecord.ticket_id).where(
        ApprovalRecord.state == "pending", ApprovalRecord.kind.in_((workflow.DISPATCH, workflow.EXTENSION)),
        ApprovalRecord.requested_by != principal.name,
    ).order_by(ApprovalRecord.id).limit(LIMIT)).all()
    return [(a, t) for a, t in rows]


@router.get("/approvals", response_class=HTMLResponse)
def approvals(request: Request) -> Response:
    """待办审批 of the signed-in unit head or leader."""
    principal = login_of(request).principal
    require(principal, Role.unit_head, Role.leader, action="待办审批")
    container: Container = request.app.state.container
    review = container.settings.dashboard.unit_head_review
    with container.sessions() as session:
        context: dict[str, Any] = {"reviews": _reviews(session, principal),
                                   "replies": _replies(session, principal, review),
                                   "requests": _requests(session, principal)}
    return page(request, "approvals.html", active="approvals", review_mode=review, **context)
