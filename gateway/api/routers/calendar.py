"""``/api/v1/calendar``: working days, the loaded years, and loading a year (admin)."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query

from gateway.api.deps import ContainerDep, PrincipalDep, SessionDep
from gateway.api.errors import WRITE
from gateway.api.views import local
from gateway.calendar import CalendarYear
from gateway.errors import DomainError
from gateway.settings import Role
from gateway.sla.calendar_store import stored_year_rows
from gateway.sla.deadlines import to_shanghai
from gateway.sla.recompute import load_year
from gateway.sla.runtime import runtime_for, runtime_for_engine
from gateway.store.db import transaction

router = APIRouter(prefix="/api/v1/calendar", tags=["calendar"], responses=WRITE)


@router.get("/workdays", summary="The due date of N working (or calendar) days after a date")
def workdays(
    session: SessionDep,
    principal: PrincipalDep,
    start: date,
    days: Annotated[int, Query(ge=0, le=366)],
    unit: Literal["working_days", "calendar_days"] = "working_days",
) -> dict[str, Any]:
    """Counted from the day after ``start``, as every deadline is; 0 is 当日, ``start`` itself even on a rest
    day (000 限时办结 一). Provisional when the count touches a year whose State Council notice is not
    loaded (such a year rests on the statutory festivals only). A count past 9999-12-31 is a 422."""
    calendar = runtime_for(session).calendar(session)
    try:
        if days == 0 or unit == "calendar_days":
            due, provisional = start + timedelta(days=days), False
        else:
            result = calendar.add_workdays(start, days)
            due, provisional = result.due_date, result.provisional
    except (OverflowError, ValueError) as exc:  # counting past 9999-12-31
        raise DomainError("日期超出可计算范围", code="invalid_request", status=422) from exc
    return {"due_date": due.isoformat(), "provisional": provisional, "unit": unit,
            "holiday": calendar.holiday_name(due)}


@router.get("/years", summary="Calendar years in use")
def years(session: SessionDep, principal: PrincipalDep, container: ContainerDep) -> dict[str, Any]:
    """Each year with its State Council notice and where it came from; the years still missing."""
    calendar = runtime_for(session).calendar(session)
    loaded = {row.year: row for row in stored_year_rows(session)}
    items = []
    for year in calendar.years():
        data = calendar.year(year)
        assert data is not None
        row = loaded.get(year)
        items.append({
            "year": year,
            "source": "loaded" if row else "bundled",
            "document_number": data.notice.document_number,
            "title": data.notice.title,
            "published_on": data.notice.published_on.isoformat(),
            "rest_days": len(data.rest_days),
            "makeup_workdays": len(data.makeup_workdays),
            "loaded_at": local(row.loaded_at) if row else None,
            "loaded_by": row.loaded_by if row else None,
        })
    today = to_shanghai(container.clock()).date()
    return {"items": items, "missing": list(calendar.missing_years(today))}


@router.post("/years", summary="Load a year (admin): validated, every open deadline recomputed, audited")
def load(
    body: CalendarYear, principal: PrincipalDep, container: ContainerDep, replace: bool = False
) -> dict[str, Any]:
    """The body is a year file (same shape as ``gateway/calendar/data/2025.json``)."""
    principal.require(Role.admin, action="导入节假日安排")
    runtime = runtime_for_engine(container.engine)
    try:
        with transaction(container.sessions) as session:
            report = load_year(session, year=body, runtime=runtime, actor=principal.name, now=container.clock(),
                               replace=replace)
    except ValueError as exc:
        raise DomainError(str(exc), code="calendar_year_exists", status=409) from exc
    return {"year": body.year, "scanned": report.scanned, "recomputed": report.changed}
