"""告警 (active, acknowledged, history; acknowledge) and 回传 (dead write-backs; replay)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from gateway.alerts.store import active_groups, group_ids
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
from gateway.store.tables_auth import AuditRecord
from gateway.store.tables_sla import AlertRecord

router = APIRouter(prefix=DASHBOARD)
PAGE = 50


@router.get("/alerts", response_class=HTMLResponse)
def alerts(
    request: Request,
    state: Annotated[str, Query(pattern="^(active|acknowledged|resolved|all)$")] = "active",
    before: Annotated[int | None, Query(ge=1)] = None,
    group: Annotated[str | None, Query(max_length=200)] = None,
) -> Response:
    """告警: the active ones first, grouped per kind/threshold and unit; acknowledged and resolved are the history."""
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
    key = parse_group(group) if group else None
    with container.sessions() as session:
        if key is not None:  # one group's rows (its ids are the active ones of that kind and unit)
            stmt = stmt.where(AlertRecord.id.in_(group_ids(session, **key, scope=scope)))
        rows = list(session.scalars(stmt.order_by(AlertRecord.id.desc()).limit(PAGE + 1)))
        by_state = select(AlertRecord.state, func.count()).group_by(AlertRecord.state)
        counts: dict[str, Any] = dict(session.execute(by_state).all()) if scope is None else {}
        groups = active_groups(session, unit=scope) if state == "active" else []
        notes = ack_notes(session, [a for a in rows if a.state == "acknowledged"])
    more = len(rows) > PAGE
    return page(request, "alerts.html", active="alerts", alerts=rows[:PAGE], state=state, counts=counts,
                next_before=rows[PAGE - 1].id if more else None, groups=groups, group=group, notes=notes,
                group_key=group_value, can_ack=principal.has(Role.duty, Role.leader, Role.supervisor))


def group_value(kind: str, threshold: int | None, unit: str | None) -> str:
    """A group as one form/query value: kind|threshold|unit, empty for none."""
    return f"{kind}|{'' if threshold is None else threshold}|{unit or ''}"


def parse_group(value: str) -> dict[str, Any]:
    """The inverse of ``group_value``; a malformed value is refused in Chinese."""
    parts = value.split("|", 2)
    if len(parts) != 3 or not parts[0] or not (parts[1] == "" or parts[1].isdigit()):
        raise DomainError("告警分组参数有误", code="invalid_input")
    return {"kind": parts[0], "threshold": int(parts[1]) if parts[1] else None, "unit": parts[2] or None}


def ack_notes(session: Session, acknowledged: list[AlertRecord]) -> dict[int, str]:
    """The note given when each alert was acknowledged (kept on its audit entry, found by its instant)."""
    if not acknowledged:
        return {}
    stmt = select(AuditRecord.target, AuditRecord.detail).where(
        AuditRecord.at.in_({a.acknowledged_at for a in acknowledged if a.acknowledged_at is not None}),
        AuditRecord.action == "alert_acknowledged", AuditRecord.target.in_([f"alert:{a.id}" for a in acknowledged]))
    return {int(str(target).split(":", 1)[1]): str(detail["note"]) for target, detail in session.execute(stmt)
            if isinstance(detail, dict) and detail.get("note")}


@router.post("/alerts/{alert_id}/ack")
def ack(alert_id: int, request: Request) -> Response:
    """确认告警."""
    return _acknowledge(request, ids=[alert_id], note="")


@router.post("/alerts/ack")
def ack_many(
    request: Request, ids: Annotated[list[int] | None, Form()] = None,
    group: Annotated[str, Form(max_length=200)] = "", note: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    """批量确认: the checked rows, or a whole group, with one note recorded on each alert."""
    if not ids and not group:
        return back(request, f"{DASHBOARD}/alerts", error="请勾选要确认的告警，或选择整组确认")
    return _acknowledge(request, ids=ids or [], note=note, group=group or None)


def _acknowledge(request: Request, *, ids: list[int], note: str, group: str | None = None) -> Response:
    principal = login_of(request).principal
    container: Container = request.app.state.container
    try:
        with transaction(container.sessions) as session:
            if group is not None:
                ids = group_ids(session, **parse_group(group), scope=visible_unit(principal))
                if not ids:
                    raise DomainError("该组已没有未确认的告警", code="invalid_state")
            done, skipped = acknowledge_alert(session, alert_ids=ids, principal=principal, now=container.clock(),
                                              note=note, ip=client_ip(request))
    except DomainError as exc:
        return back(request, f"{DASHBOARD}/alerts", error=str(exc))
    text = "告警已确认" if len(done) == 1 and not skipped else f"已确认 {len(done)} 条告警"
    if skipped:
        text += f"（{len(skipped)} 条已由他人确认，未重复确认）"
    return back(request, f"{DASHBOARD}/alerts", ok=text)


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
