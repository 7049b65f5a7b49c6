"""``/api/v1``: 提级介入 (000 提级介入调查制度; 001 三(三)) — flag a matter for the leader with a reason, the
leader's 批示 and 办结, and the list of matters raised. The same use cases the dashboard's forms call.
"""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field

from gateway.alerts.sinks import routes as sink_routes
from gateway.api.deps import ContainerDep, PrincipalDep, SessionDep
from gateway.api.errors import WRITE
from gateway.api.params import RowId
from gateway.api.routers.tickets import _act, _detail
from gateway.api.views import local
from gateway.container import Container
from gateway.principal import Principal
from gateway.services import intervention
from gateway.sla.runtime import runtime_for_engine

router = APIRouter(prefix="/api/v1", tags=["interventions"], responses=WRITE)


class FlagBody(BaseModel):
    """提级介入: which condition of 000 提级介入调查制度 一 (or 001 三(三) 重大、敏感) and why."""

    rule: Literal["impact", "violation", "other"] = Field(
        default="impact", description="impact 重大、敏感/影响较大; violation 严重违纪违法; other 其他")
    reason: str = Field(min_length=5, max_length=2000, description="理由 (written by the person who flags it)")


class InstructionBody(BaseModel):
    """领导批示."""

    text: str = Field(min_length=5, max_length=4000, description="批示内容 (the leader's own words)")
    supervising_leader: str = Field(default="", max_length=100, description="督办领导 (a leader's display name)")


class CloseBody(BaseModel):
    """提级介入办结."""

    note: str = Field(default="", max_length=2000)


def flag_ticket(container: Container, principal: Principal, ticket_id: int, *, rule: str, reason: str) -> None:
    """Raise the matter in one transaction; the leader's alert rings after the commit."""
    alerts = runtime_for_engine(container.engine).alerts
    with container.commit_then_ring() as (session, ring):
        ring.alerts(intervention.flag(session, ticket_id=ticket_id, principal=principal, now=container.clock(),
                                      rule=rule, reason=reason, routes=sink_routes(alerts),
                                      group_max=alerts.group_max_lines))


@router.post("/tickets/{ticket_id}/intervention", summary="提级介入")
def flag(ticket_id: RowId, body: FlagBody, principal: PrincipalDep, container: ContainerDep) -> dict[str, Any]:
    """Raise the matter to the leader in charge with a reason (duty/supervisor/unit for its own ticket)."""
    flag_ticket(container, principal, ticket_id, rule=body.rule, reason=body.reason)
    with container.sessions() as session:
        return _detail(container, session, principal, ticket_id)


@router.post("/tickets/{ticket_id}/interventions/{intervention_id}/instruction", summary="提级介入批示")
def instruct(ticket_id: RowId, intervention_id: RowId, body: InstructionBody, principal: PrincipalDep,
             container: ContainerDep) -> dict[str, Any]:
    """The leader's 批示, kept in the timeline; may name the supervising leader (leader, not the flagger)."""
    return _act(container, principal, ticket_id, intervention.instruct, intervention_id=intervention_id,
                text=body.text, supervising_leader=body.supervising_leader)


@router.post("/tickets/{ticket_id}/interventions/{intervention_id}/close", summary="提级介入办结")
def close(ticket_id: RowId, intervention_id: RowId, body: CloseBody, principal: PrincipalDep,
          container: ContainerDep) -> dict[str, Any]:
    """Close after a 批示 (leader; the supervising leader when one is named)."""
    return _act(container, principal, ticket_id, intervention.close, intervention_id=intervention_id, note=body.note)


@router.get("/interventions", summary="提级介入事项")
def listing(session: SessionDep, principal: PrincipalDep,
            state: Literal["open", "closed", "all"] = Query(default="open")) -> dict[str, Any]:
    """Matters raised to the leader, newest first, scoped like the queue (a unit sees its own tickets')."""
    unit = principal.unit_scope()
    return {"items": [{**intervention.view(r), "platform": t.platform, "external_id": t.external_id,
                       "title": t.title, "unit": t.unit, "status": t.status, "raised_at": local(r.raised_at)}
                      for r, t in intervention.listing(session, unit=unit, state=state)]}
