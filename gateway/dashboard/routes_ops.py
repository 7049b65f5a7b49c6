"""告警 (active, acknowledged, history; acknowledge) and 回传 (dead write-backs; replay)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy import func, select

from gateway.api.routers.tickets import _visible as visible_unit
from gateway.container import Container
from gateway.dashboard.render import back, login_of, page, require
from gateway.dashboard.routes_auth import client_ip
from gateway.dashboard.security import DASHBOARD
from gateway.errors import DomainError
from gateway.services.operations import acknowledge_alert, replay_outbound
from gateway.settings import Role
from gateway.store.db import transaction
from gateway.store.tables import OutboxRecord, TicketRecord
from gateway.store.tables_sla import AlertRecord

router = APIRouter(prefix=DASHBOARD)
PAGE = 50


@router.get("/alerts", response_class=HTMLResponse)
def alerts(
    request: Request,
    state: Annotated[str, Query(pattern="^(active|acknowledged|resolved|all)$")] = "active",
    before: Annotated[int | None, Query(ge=1)] = None,
) -> Response:
    """告警: the active ones first; acknowledged and resolved ones are the history."""
    principal = login_of(request).principal
    require(principal, Role.duty, Role.leader, Role.supervisor, action="告警")  # as GET /api/v1/alerts
    container: Container = request.app.state.container
    scope = visible_unit(principal)
    stmt = select(AlertRecord)
    if state != "all":
        stmt = stmt.where(AlertRecord.state == state)
    if scope is not None:  # a unit sees the alerts of its own tickets only
        stmt = stmt.join(TicketRecord, TicketRecord.id == AlertRecord.ticket_id).where(TicketRecord.unit == scope)
    if before is not None:
        stmt = stmt.where(AlertRecord.id < before)
    with container.sessions() as session:
        rows = list(session.scalars(stmt.order_by(AlertRecord.id.desc()).limit(PAGE + 1)))
        by_state = select(AlertRecord.state, func.count()).group_by(AlertRecord.state)
        counts: dict[str, Any] = dict(session.execute(by_state).all()) if scope is None else {}
    more = len(rows) > PAGE
    return page(request, "alerts.html", active="alerts", alerts=rows[:PAGE], state=state, counts=counts,
                next_before=rows[PAGE - 1].id if more else None,
                can_ack=principal.has(Role.duty, Role.leader, Role.supervisor))


@router.post("/alerts/{alert_id}/ack")
def ack(alert_id: int, request: Request) -> Response:
    """确认告警."""
    principal = login_of(request).principal
    container: Container = request.app.state.container
    try:
        with transaction(container.sessions) as session:
            acknowledge_alert(session, alert_id=alert_id, principal=principal, now=container.clock(),
                              ip=client_ip(request))
    except DomainError as exc:
        return back(request, f"{DASHBOARD}/alerts", error=str(exc))
    return back(request, f"{DASHBOARD}/alerts", ok="告警已确认")


@router.get("/delivery", response_class=HTMLResponse)
def delivery(
    request: Request,
    state: Annotated[str, Query(pattern="^(dead|retry|unknown|pending|in_flight|sent)$")] = "dead",
    platform: str | None = None,
    before: Annotated[int | None, Query(ge=1)] = None,
) -> Response:
    """回传: write-backs by state, dead ones first, with the platform's reason and a replay button."""
    principal = login_of(request).principal
    require(principal, Role.duty, Role.leader, Role.supervisor, Role.admin, action="回传")
    container: Container = request.app.state.container
    stmt = (select(OutboxRecord, TicketRecord.title).join(TicketRecord, TicketRecord.id == OutboxRecord.ticket_id)
            .where(OutboxRecord.state == state))
    if platform:
        stmt = stmt.where(OutboxRecord.platform == platform)
    if before is not None:
        stmt = stmt.where(OutboxRecord.id < before)
    with container.sessions() as session:
        rows = session.execute(stmt.order_by(OutboxRecord.id.desc()).limit(PAGE + 1)).all()
        counts = dict(session.execute(select(OutboxRecord.state, func.count())
                                      .group_by(OutboxRecord.state)).all())
    more = len(rows) > PAGE
    return page(request, "delivery.html", active="delivery", rows=rows[:PAGE], state=state, platform=platform,
                counts=counts, next_before=rows[PAGE - 1][0].id if more else None,
                can_replay=principal.has(Role.duty, Role.admin))


@router.post("/delivery/{row_id}/replay")
def replay(row_id: int, request: Request) -> Response:
    """重新回传 a dead write-back."""
    principal = login_of(request).principal
    container: Container = request.app.state.container
    try:
        with container.commit_then_ring() as (session, ring):
            replay_outbound(session, row_id=row_id, principal=principal, now=container.clock(),
                            ip=client_ip(request))
            ring.outbox([row_id])
    except DomainError as exc:
        return back(request, f"{DASHBOARD}/delivery", error=str(exc))
    return back(request, f"{DASHBOARD}/delivery", ok="已重新排队回传（先向平台核实，不会重复发送）")
