"""提级介入 on the dashboard (000 提级介入调查制度; 001 三(三)): the ticket page's card and its forms (the same
use cases as the JSON API) and the 提级介入 page listing the matters raised to the leader.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from gateway.api.routers.interventions import flag_ticket
from gateway.container import Container
from gateway.dashboard.render import back, login_of, page
from gateway.dashboard.routes_actions import Note, perform
from gateway.dashboard.security import DASHBOARD
from gateway.errors import DomainError
from gateway.principal import Principal
from gateway.services import intervention
from gateway.settings import Role
from gateway.store.tables_auth import UserRecord

router = APIRouter(prefix=DASHBOARD)
ITEM = "/tickets/{ticket_id}/interventions/{intervention_id}"
Text = Annotated[str, Form(min_length=5, max_length=4000)]


def leaders(session: Session) -> list[str]:
    """Active leader accounts, by the name timelines record: who may be named 督办领导."""
    users = session.scalars(select(UserRecord).where(UserRecord.active).order_by(UserRecord.display_name)).all()
    return [u.display_name for u in users if Role.leader.value in (u.roles or [])]


def intervention_actions(session: Session, principal: Principal, ticket: dict[str, Any]) -> dict[str, Any]:
    """The 提级介入 card of the ticket page: the matters raised and the forms this person may use on each."""
    items: list[dict[str, Any]] = ticket.get("interventions") or []
    me, has = principal.name, principal.has
    own = not has(Role.unit, Role.unit_head) or has(Role.duty, Role.supervisor) or ticket.get("unit") == principal.unit
    raised = {i["rule"] for i in items}
    rules = {r: intervention.RULES[r][0] for r in intervention.FLAGGED if r not in raised}
    can_flag = (has(*intervention.FLAGGERS) and own and bool(rules)
                and ticket.get("status") not in ("return_requested", "returned"))
    forms: dict[int, set[str]] = {}
    for item in items:
        mine: set[str] = set()
        if item["state"] != "closed" and has(Role.leader) and item["raised_by"] != me:
            mine.add("instruct")
            if item["instruction_count"] and item["supervising_leader"] in (None, me):
                mine.add("close")
        forms[item["id"]] = mine
    return {"raised": items, "flag_rules": rules if can_flag else {}, "forms": forms,
            "leaders": leaders(session) if any(forms.values()) else []}


@router.post("/tickets/{ticket_id}/intervention")
def flag(ticket_id: int, request: Request, reason: Text,
         rule: Annotated[str, Form(max_length=16)] = "impact") -> Response:
    """提级介入 by a person, with the reason (duty, 督察, the unit for its own ticket)."""
    principal = login_of(request).principal
    container: Container = request.app.state.container
    where = f"{DASHBOARD}/tickets/{ticket_id}#intervention"
    try:
        flag_ticket(container, principal, ticket_id, rule=rule, reason=reason)
    except DomainError as exc:
        return back(request, where, error=str(exc))
    return back(request, where, ok="已提级介入，已通知分管领导")


@router.post(ITEM + "/instruction")
def instruct(ticket_id: int, intervention_id: int, request: Request, text: Text,
             supervising_leader: Annotated[str, Form(max_length=100)] = "") -> Response:
    """领导批示."""
    return perform(request, ticket_id, intervention.instruct, "已记录批示", intervention_id=intervention_id,
                   text=text, supervising_leader=supervising_leader)


@router.post(ITEM + "/close")
def close(ticket_id: int, intervention_id: int, request: Request, note: Note = "") -> Response:
    """提级介入办结."""
    return perform(request, ticket_id, intervention.close, "提级介入已办结", intervention_id=intervention_id, note=note)


@router.get("/interventions", response_class=HTMLResponse)
def interventions_page(request: Request,
                       state: Annotated[str, Query(pattern="^(open|closed|all)$")] = "open") -> Response:
    """提级介入: matters raised to the leader, newest first (scoped like the queue)."""
    principal = login_of(request).principal
    container: Container = request.app.state.container
    with container.sessions() as session:
        rows = intervention.listing(session, unit=principal.unit_scope(), state=state)
        items = [(intervention.view(r), t) for r, t in rows]
    return page(request, "interventions.html", active="overview", items=items, state=state,
                rules=intervention.RULES)
