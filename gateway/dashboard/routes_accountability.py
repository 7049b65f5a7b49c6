"""问责记录 on the dashboard (000 责任追究制度, 001 四(五)): the records filtered by unit, year and state, with their
tickets; 督察's proposal form (pre-filled from a suggestion); a leader's approve/reject (四眼原则); the candidates
the gateway suggests; the yearly figures per unit (002 四(二): 纳入部门实绩考核) and their Excel export.
"""

from __future__ import annotations

import re
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, Response

from gateway.container import Container
from gateway.dashboard.export import accountability_workbook
from gateway.dashboard.render import back, login_of, page
from gateway.dashboard.routes_actions import Note, Reason
from gateway.dashboard.routes_reports import XLSX, _audit
from gateway.dashboard.security import DASHBOARD
from gateway.errors import DomainError
from gateway.principal import Principal
from gateway.schema import SHANGHAI
from gateway.services import accountability
from gateway.settings import Role
from gateway.store.db import transaction
from gateway.store.units import list_units

router = APIRouter(prefix=f"{DASHBOARD}/accountability")
WHERE = f"{DASHBOARD}/accountability"
YearQuery = Annotated[int | None, Query(ge=2000, le=2999)]
IDS = re.compile(r"^[\d\s,，、]*$")


def _this_year(container: Container) -> int:
    return container.clock().astimezone(SHANGHAI).year


@router.get("", response_class=HTMLResponse)
def accountability_page(
    request: Request, unit: Annotated[str, Query(max_length=100)] = "", year: YearQuery = None,
    state: Annotated[str, Query(pattern="^(|proposed|approved|rejected)$")] = "",
    ticket_ids: Annotated[str, Query(max_length=400)] = "", cause: Annotated[str, Query(max_length=24)] = "",
    person: Annotated[str, Query(max_length=100)] = "",
) -> Response:
    """问责记录: the list (scoped: a unit reads its own approved records), the forms, suggestions, yearly figures."""
    principal = login_of(request).principal
    container: Container = request.app.state.container
    chosen = year or _this_year(container)
    with container.sessions() as session:
        records = accountability.list_records(session, principal, unit=unit.strip(), year=year, state=state)
        figures = accountability.yearly(session, principal, year=chosen)
        found = (accountability.suggestions(session, principal, year=chosen, now=container.clock())
                 if principal.has(Role.supervisor, Role.leader) else None)
        units = [u.name for u in list_units(session)] if principal.has(Role.supervisor) else []
    prefill = {"ticket_ids": ticket_ids, "cause": cause, "unit": unit, "person": person}
    return page(request, "accountability.html", active="accountability", records=records, figures=figures,
                suggestions=found, units=units, unit=unit, year=year, chosen=chosen, state=state, prefill=prefill,
                causes=accountability.CAUSES, measures=accountability.MEASURES,
                person_roles=accountability.PERSON_ROLES, states=accountability.STATES,
                may_decide=lambda r: _may_decide(principal, r))


def _may_decide(principal: Principal, record: dict[str, Any]) -> bool:
    """Whether the approve/reject forms are offered: a leader, neither the proposer nor the person concerned."""
    return (record["state"] == "proposed" and principal.has(Role.leader)
            and principal.name not in (record["proposed_by"], record["person"]))


def _ids(text: str) -> list[int]:
    if not IDS.match(text):
        raise DomainError("关联工单须填写工单编号，以逗号分隔", code="invalid_ids",
                          status=422)
    return [int(part) for part in re.split(r"[\s,，、]+", text) if part and len(part) <= 18]


@router.post("")
def propose(
    request: Request, unit: Annotated[str, Form(min_length=1, max_length=100)],
    cause: Annotated[str, Form(max_length=24)], facts: Annotated[str, Form(min_length=10, max_length=4000)],
    ticket_ids: Annotated[str, Form(min_length=1, max_length=400)],
    measures: Annotated[list[str] | None, Form(max_length=10)] = None,
    person: Annotated[str, Form(max_length=100)] = "", person_role: Annotated[str, Form(max_length=24)] = "",
    points: Annotated[float, Form(ge=0, le=100)] = 0.0, year: Annotated[int | None, Form(ge=2000, le=2999)] = None,
) -> Response:
    """提出问责建议 (督察)."""
    principal = login_of(request).principal
    container: Container = request.app.state.container
    try:
        with transaction(container.sessions) as session:
            record = accountability.propose(
                session, principal=principal, now=container.clock(), unit=unit, cause=cause, measures=measures or [],
                facts=facts, ticket_ids=_ids(ticket_ids), person=person, person_role=person_role, points=points,
                year=year)
            done = f"已提出问责建议（第 {record.id} 号），待分管领导审批"
    except DomainError as exc:
        return back(request, WHERE, error=str(exc))
    return back(request, WHERE, ok=done)


@router.post("/{record_id}/approve")
def approve(record_id: int, request: Request, note: Note = "") -> Response:
    """批准问责建议 (another leader)."""
    return _decide(request, lambda s, p, now: accountability.approve(s, principal=p, now=now, record_id=record_id,
                                                                      note=note), "已批准，计入年度考核")


@router.post("/{record_id}/reject")
def reject(record_id: int, request: Request, reason: Reason) -> Response:
    """驳回问责建议 (another leader)."""
    return _decide(request, lambda s, p, now: accountability.reject(s, principal=p, now=now, record_id=record_id,
                                                                     reason=reason), "已驳回问责建议")


def _decide(request: Request, act: Any, done: str) -> Response:
    principal = login_of(request).principal
    container: Container = request.app.state.container
    try:
        with transaction(container.sessions) as session:
            act(session, principal, container.clock())
    except DomainError as exc:
        return back(request, WHERE, error=str(exc))
    return back(request, WHERE, ok=done)


@router.get("/export.xlsx")
def export(request: Request, year: YearQuery = None) -> Response:
    """年度问责情况.xlsx: per unit (counts per measure and cause, persons, score deducted), per person, records."""
    principal = login_of(request).principal
    container: Container = request.app.state.container
    chosen = year or _this_year(container)
    with container.sessions() as session:
        figures = accountability.yearly(session, principal, year=chosen)
    _audit(container, principal, request, "accountability", year=chosen)
    name = quote(f"年度问责情况_{chosen}.xlsx")
    return Response(accountability_workbook(figures), media_type=XLSX, headers={
        "Content-Disposition": f"attachment; filename=\"accountability-{chosen}.xlsx\"; filename*=UTF-8''{name}"})

