"""总览 (with its live fragment) and 工单列表."""

from __future__ import annotations

import json
from typing import Annotated, Any

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, Response

from gateway.api.routers.tickets import BATCH_MAX, sign_off_each
from gateway.api.routers.tickets import _visible as visible_unit
from gateway.catalogue import CATALOGUE
from gateway.container import Container
from gateway.dashboard import labels
from gateway.dashboard.overview import chart_data, overview
from gateway.dashboard.queue import QueueFilters, queue_page
from gateway.dashboard.render import back, fragment, login_of, page
from gateway.dashboard.security import DASHBOARD
from gateway.errors import DomainError
from gateway.privacy import phone_search
from gateway.settings import Role
from gateway.store.units import list_units

router = APIRouter(prefix=DASHBOARD)


def _overview_context(request: Request) -> dict[str, Any]:
    principal = login_of(request).principal
    container: Container = request.app.state.container
    with container.sessions() as session:
        data = overview(session, now=container.clock(), unit=visible_unit(principal),
                        enabled=set(container.settings.platforms.enabled()))
    # "<" escaped: the JSON sits in a <script type="application/json"> block.
    return {"data": data, "charts": json.dumps(chart_data(data), ensure_ascii=False).replace("<", "\\u003c")}


@router.get("/", response_class=HTMLResponse)
def overview_page(request: Request) -> Response:
    """总览."""
    return page(request, "overview.html", active="overview", **_overview_context(request))


@router.get("/live", response_class=HTMLResponse)
def overview_live(request: Request) -> Response:
    """The overview's live part, polled by htmx every few seconds."""
    return fragment(request, "_overview_live.html", **_overview_context(request))


@router.get("/queue", response_class=HTMLResponse)
def queue(
    request: Request,
    platform: str | None = None,
    status: Annotated[list[str] | None, Query()] = None,
    appeal_type: str | None = None,
    unit: str | None = None,
    timer: Annotated[str | None, Query(pattern="^(sign_off|response|resolution)?$")] = None,
    timer_state: Annotated[str | None, Query(pattern="^(breached|warning|running)?$")] = None,
    q: Annotated[str | None, Query(max_length=100)] = None,
    sent_back: Annotated[str | None, Query(pattern="^(1|)$")] = None,
    sort: Annotated[str, Query(pattern="^(new|due)$")] = "new",
    cursor: Annotated[str | None, Query(max_length=80, pattern=r"^[0-9T:+.\-|]*$")] = None,
) -> Response:
    """工单列表: filters, search, sort by time left, keyset paging (htmx appends the next page)."""
    principal = login_of(request).principal
    container: Container = request.app.state.container
    filters = QueueFilters(platform=platform or None, status=[s for s in status or [] if s], appeal_type=appeal_type
                           or None, unit=unit or None, timer=timer or None, timer_state=timer_state or None,
                           q=(q or "").strip() or None, sort=sort, cursor=cursor or None,
                           sent_back=sent_back == "1")
    scope = visible_unit(principal)
    with container.sessions() as session:
        result = queue_page(session, filters, scope_unit=scope, now=container.clock(), phones=phone_search(principal))
        units = [u.name for u in list_units(session)] if scope is None else [scope]
    params = [(k, v) for k, v in request.query_params.multi_items() if k != "cursor"]
    context: dict[str, Any] = {"page_": result, "filters": filters, "params": params, "units": units, "scope": scope,
               "platforms": list(CATALOGUE), "statuses": labels.STATUS, "appeals": labels.APPEAL,
               "batch_sign": principal.has(Role.duty)}
    if request.headers.get("hx-request") and cursor:
        return fragment(request, "_queue_rows.html", **context)
    return page(request, "queue.html", active="queue", **context)


@router.post("/queue/sign-off")
def batch_sign_off(request: Request, ticket_id: Annotated[list[int], Form(max_length=BATCH_MAX)]) -> Response:
    """批量签收 from the queue (duty, issue 13 point 8): each ticket its own transaction; the result names the
    tickets that could not be signed and why, and the others are signed."""
    principal = login_of(request).principal
    container: Container = request.app.state.container
    where = f"{DASHBOARD}/queue?status=received"
    try:
        outcomes = sign_off_each(container, principal, ticket_id)
    except DomainError as exc:
        return back(request, where, error=str(exc))
    signed = sum(o.ok for o in outcomes)
    failed = [f"{o.external_id or o.id}（{_reason(o.message)}）" for o in outcomes if not o.ok]
    if not failed:
        return back(request, where, ok=f"已签收 {signed} 件，签收回执将回传平台")
    text = f"已签收 {signed} 件；{len(failed)} 件未签收：" + "；".join(failed[:10]) + ("等" if len(failed) > 10 else "")
    return back(request, where, error=text)


def _reason(message: str | None) -> str:
    """The Chinese part of a domain error's message (the English in brackets is for logs and the API)."""
    return (message or "未知原因").split(" (", 1)[0]
