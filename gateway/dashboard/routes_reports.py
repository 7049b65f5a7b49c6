"""报表 for a chosen period (per unit and platform, Excel export), the weekly and monthly bulletin, and the
bulletins the scheduler generated (定期通报: open, print, download the workbook that was sent)."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, Response

from gateway.api.routers.tickets import _visible as visible_unit
from gateway.container import Container
from gateway.dashboard.export import bulletin_workbook, report_workbook, row_values
from gateway.dashboard.render import login_of, page
from gateway.dashboard.routes_auth import client_ip
from gateway.dashboard.security import DASHBOARD
from gateway.errors import DomainError, Forbidden
from gateway.principal import Principal
from gateway.services.bulletin import build_bulletin, last_complete
from gateway.services.bulletin_views import get_bulletin, list_bulletins, may_download
from gateway.services.reports import build_report
from gateway.sla.deadlines import to_shanghai
from gateway.store.db import transaction
from gateway.store.users import add_audit

router = APIRouter(prefix=DASHBOARD)
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
MAX_DAYS = 400


def _period(container: Container, start: date | None, end: date | None) -> tuple[date, date]:
    today = to_shanghai(container.clock()).date()
    end = end or today
    start = start or end.replace(day=1)
    if start > end:
        raise DomainError("开始日期不能晚于结束日期", code="invalid_request", status=422)
    if (end - start).days > MAX_DAYS:
        raise DomainError(f"统计期间最长 {MAX_DAYS} 天", code="invalid_request", status=422)
    return start, end


def _audit(container: Container, principal: Principal, request: Request, what: str, **detail: object) -> None:
    with transaction(container.sessions) as session:
        add_audit(session, actor=principal.name, action="report_exported", now=container.clock(),
                  ip=client_ip(request), target=what, **detail)


def _download(body: bytes, filename: str) -> Response:
    return Response(body, media_type=XLSX, headers={
        "Content-Disposition": f"attachment; filename=\"report.xlsx\"; filename*=UTF-8''{quote(filename)}"})


@router.get("/reports", response_class=HTMLResponse)
def reports(request: Request, start: date | None = None, end: date | None = None,
            group: Annotated[str, Query(pattern="^(unit|platform)$")] = "unit") -> Response:
    """报表 for the chosen period."""
    principal = login_of(request).principal
    container: Container = request.app.state.container
    start, end = _period(container, start, end)
    with container.sessions() as session:
        report = build_report(session, start=start, end=end, group=group, settings=container.settings.dashboard,
                              now=container.clock(), unit=visible_unit(principal))
        stored = list_bulletins(session, principal)
    rows = [row_values(r, report.weights) for r in [*report.rows, report.total]]
    return page(request, "reports.html", active="reports", report=report, rows=rows, group=group,
                weights=container.settings.dashboard, bulletins=stored)


@router.get("/bulletins/{bulletin_id}", response_class=HTMLResponse)
def stored_bulletin(request: Request, bulletin_id: int) -> Response:
    """A bulletin the scheduler generated, as it was sent (printable)."""
    principal = login_of(request).principal
    container: Container = request.app.state.container
    with container.sessions() as session:
        record, document = get_bulletin(session, principal, bulletin_id=bulletin_id)
    return page(request, "bulletin_stored.html", active="reports", record=record, doc=document,
                download=may_download(principal, record.audience))


@router.get("/bulletins/{bulletin_id}/export.xlsx")
def stored_bulletin_export(request: Request, bulletin_id: int) -> Response:
    """The workbook that went out with the bulletin (every unit's figures: not for a unit)."""
    principal = login_of(request).principal
    container: Container = request.app.state.container
    with container.sessions() as session:
        record, _ = get_bulletin(session, principal, bulletin_id=bulletin_id)
        if not may_download(principal, record.audience):
            raise Forbidden("无权下载该通报")
        body, title = record.xlsx, record.title
    _audit(container, principal, request, "scheduled_bulletin", bulletin_id=bulletin_id)
    return _download(body, f"{title}.xlsx")


@router.get("/reports/export.xlsx")
def export(request: Request, start: date | None = None, end: date | None = None) -> Response:
    """The period's report as an Excel workbook (per unit and per platform)."""
    principal = login_of(request).principal
    container: Container = request.app.state.container
    start, end = _period(container, start, end)
    scope, settings, now = visible_unit(principal), container.settings.dashboard, container.clock()
    with container.sessions() as session:
        by_unit = build_report(session, start=start, end=end, group="unit", settings=settings, now=now, unit=scope)
        by_platform = build_report(session, start=start, end=end, group="platform", settings=settings, now=now,
                                   unit=scope)
    _audit(container, principal, request, "report", start=start.isoformat(), end=end.isoformat())
    return _download(report_workbook(by_unit, by_platform), f"诉求办理统计_{start:%Y%m%d}-{end:%Y%m%d}.xlsx")


@router.get("/bulletin", response_class=HTMLResponse)
def bulletin(request: Request, kind: Annotated[str, Query(pattern="^(week|month)$")] = "week",
             day: date | None = None) -> Response:
    """周反馈 / 月通报 of the week or month holding ``day`` (default: the last complete one)."""
    principal = login_of(request).principal
    container: Container = request.app.state.container
    now = container.clock()
    day = day or last_complete(kind, to_shanghai(now).date())
    with container.sessions() as session:
        result = build_bulletin(session, kind=kind, day=day, settings=container.settings.dashboard, now=now,
                                unit=visible_unit(principal))
    step = timedelta(days=7) if kind == "week" else timedelta(days=31)
    prev_day = (result.by_unit.start - timedelta(days=1))
    tables = {name: [row_values(r, report.weights) for r in [*report.rows, report.total]]
              for name, report in (("unit_table", result.by_unit), ("platform_table", result.by_platform))}
    return page(request, "bulletin.html", active="reports", b=result, kind=kind, day=day, prev_day=prev_day,
                next_day=min(result.by_unit.end + timedelta(days=1), day + step), weights=result.by_unit.weights,
                unit_table=tables["unit_table"], platform_table=tables["platform_table"])


@router.get("/bulletin/export.xlsx")
def bulletin_export(request: Request, kind: Annotated[str, Query(pattern="^(week|month)$")] = "week",
                    day: date | None = None) -> Response:
    """The bulletin as an Excel workbook."""
    principal = login_of(request).principal
    container: Container = request.app.state.container
    now = container.clock()
    day = day or last_complete(kind, to_shanghai(now).date())
    with container.sessions() as session:
        result = build_bulletin(session, kind=kind, day=day, settings=container.settings.dashboard, now=now,
                                unit=visible_unit(principal))
    _audit(container, principal, request, "bulletin", kind=kind, day=day.isoformat())
    return _download(bulletin_workbook(result), f"{result.title}.xlsx")
