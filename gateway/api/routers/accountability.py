"""``/api/v1/accountability``: 问责 records (000 责任追究制度, 001 四(五)) — proposed by 督察, approved by another
leader (四眼原则) — the candidates the gateway suggests (never recorded by itself), and the yearly figures per unit
for the assessment (002 四(二): 纳入部门实绩考核). The same use cases the dashboard's 问责记录 page calls.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field

from gateway.api.deps import ContainerDep, PrincipalDep, SessionDep
from gateway.api.errors import WRITE
from gateway.api.params import MAX_ID, RowId
from gateway.schema import SHANGHAI
from gateway.services import accountability
from gateway.store.db import transaction

router = APIRouter(prefix="/api/v1/accountability", tags=["accountability"], responses=WRITE)
Year = Annotated[int | None, Query(ge=2000, le=2999, description="the assessment year (this year by default)")]
CauseName = Literal["overdue", "overdue_open", "sent_back", "repeat", "shirking", "false_reply", "screening",
                    "misconduct", "discipline"]
MeasureName = Literal["circular", "deduction", "talk", "education", "party_discipline", "to_discipline_body",
                      "suspend_duty", "confinement", "rank_proposal", "to_judiciary"]
PersonRole = Literal["", "chief", "leader", "handler", "reviewer", "officer", "other"]


class ProposalBody(BaseModel):
    """问责建议 by supervision staff: the unit (and person), the cause, the measures, the tickets, the facts."""

    unit: str = Field(min_length=1, max_length=100, description="责任单位")
    person: str = Field(default="", max_length=100, description="责任人; empty: the unit itself")
    person_role: PersonRole = Field(default="", description="责任人身份 (具办人 handler, 审核人 reviewer…)")
    cause: CauseName
    measures: list[MeasureName] = Field(min_length=1, max_length=10)
    points: float = Field(default=0.0, ge=0, le=100, description="年度绩效考核扣分 (with the deduction measure)")
    year: int | None = Field(default=None, ge=2000, le=2999, description="the assessment year it counts in")
    facts: str = Field(min_length=10, max_length=4000, description="问责事实")
    ticket_ids: list[Annotated[int, Field(ge=1, le=MAX_ID)]] = Field(min_length=1, max_length=50)


class DecisionNote(BaseModel):
    """The approving leader's remark."""

    note: str = Field(default="", max_length=2000)


class RejectBody(BaseModel):
    """Why the proposal is rejected."""

    reason: str = Field(min_length=2, max_length=2000)


def _year(container: Any, year: int | None) -> int:
    return year or container.clock().astimezone(SHANGHAI).year


@router.get("", summary="问责记录")
def list_records(session: SessionDep, principal: PrincipalDep, unit: Annotated[str, Query(max_length=100)] = "",
                 year: Year = None, state: Literal["", "proposed", "approved", "rejected"] = "",
                 ticket_id: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None) -> dict[str, Any]:
    """Newest first, with the linked tickets (never a citizen); a unit reads its own approved records only."""
    return {"items": accountability.list_records(session, principal, unit=unit.strip(), year=year, state=state,
                                                 ticket_id=ticket_id)}


@router.post("", summary="提出问责建议")
def propose(body: ProposalBody, principal: PrincipalDep, container: ContainerDep) -> dict[str, Any]:
    """督察 proposes (001 四(五)); it counts only once another leader approved it."""
    with transaction(container.sessions) as session:
        record = accountability.propose(session, principal=principal, now=container.clock(), **body.model_dump())
        return accountability.view(record, accountability.linked_tickets(session, record.id))


@router.get("/suggestions", summary="问责线索")
def suggestions(session: SessionDep, principal: PrincipalDep, container: ContainerDep, year: Year = None,
                min_send_backs: Annotated[int, Query(ge=1, le=20)] = accountability.MIN_SEND_BACKS,
                ) -> dict[str, Any]:
    """Tickets overdue, screened at the unit's fault, sent back, repeated — for 督察 to judge (supervisor/leader)."""
    return {"items": accountability.suggestions(session, principal, year=_year(container, year),
                                                now=container.clock(), min_send_backs=min_send_backs)}


@router.get("/yearly", summary="年度问责情况（纳入部门实绩考核）")
def yearly(session: SessionDep, principal: PrincipalDep, container: ContainerDep, year: Year = None,
           ) -> dict[str, Any]:
    """Per unit: approved measures by kind and cause, people concerned, score deducted (002 四(二))."""
    return accountability.yearly(session, principal, year=_year(container, year))


@router.get("/{record_id}", summary="问责记录详情")
def get_record(record_id: RowId, session: SessionDep, principal: PrincipalDep) -> dict[str, Any]:
    """One record with its tickets (404 where the caller may not read it)."""
    return accountability.get_record(session, principal, record_id)


@router.post("/{record_id}/approve", summary="批准问责建议")
def approve(record_id: RowId, body: DecisionNote, principal: PrincipalDep, container: ContainerDep,
            ) -> dict[str, Any]:
    """A leader other than the proposer and the person concerned (四眼原则)."""
    with transaction(container.sessions) as session:
        record = accountability.approve(session, principal=principal, now=container.clock(), record_id=record_id,
                                        note=body.note)
        return accountability.view(record, accountability.linked_tickets(session, record.id))


@router.post("/{record_id}/reject", summary="驳回问责建议")
def reject(record_id: RowId, body: RejectBody, principal: PrincipalDep, container: ContainerDep) -> dict[str, Any]:
    """A leader other than the proposer, with the reason; nothing counts."""
    with transaction(container.sessions) as session:
        record = accountability.reject(session, principal=principal, now=container.clock(), record_id=record_id,
                                       reason=body.reason)
        return accountability.view(record, accountability.linked_tickets(session, record.id))
