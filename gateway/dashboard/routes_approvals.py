"""待办审批 page: what waits for this person's signature (``gateway.dashboard.approvals``), each item linking
to the ticket at the form that decides it.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from gateway.container import Container
from gateway.dashboard.approvals import ANCHOR, inbox
from gateway.dashboard.render import login_of, page, require
from gateway.dashboard.security import DASHBOARD
from gateway.services import intervention
from gateway.settings import Role

router = APIRouter(prefix=DASHBOARD)


@router.get("/approvals", response_class=HTMLResponse)
def approvals(request: Request) -> Response:
    """待办审批 of the signed-in unit head or leader."""
    principal = login_of(request).principal
    require(principal, Role.unit_head, Role.leader, action="待办审批")
    container: Container = request.app.state.container
    review = container.settings.dashboard.unit_head_review
    with container.sessions() as session:
        box = inbox(session, principal, review=review)
    return page(request, "approvals.html", active="approvals", review_mode=review, box=box, anchor=ANCHOR,
                rule_labels={k: v[0] for k, v in intervention.RULES.items()})
