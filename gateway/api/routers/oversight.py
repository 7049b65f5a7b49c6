"""``/api/v1``: 督办/催办 with a deadline, the complex-matter judgement and its plan, and the deadline policy.

The same use cases the dashboard's forms call (``gateway.services.oversight``); ``tickets._act`` runs
each in one transaction and rings the worker for its outbox rows after commit.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from fastapi import APIRouter
from pydantic import AwareDatetime, BaseModel, Field

from gateway.api.deps import ContainerDep, PrincipalDep
from gateway.api.errors import WRITE
from gateway.api.params import RowId
from gateway.api.routers.tickets import _act
from gateway.services import oversight
from gateway.sla.runtime import runtime_for_engine
from gateway.sla.table import policy_table

router = APIRouter(prefix="/api/v1", tags=["deadlines"], responses=WRITE)


class OrderBody(BaseModel):
    """督办 or 催办: a deadline (ISO-8601 with its offset) and what is asked."""

    order: Literal["督办", "催办"]
    due_at: AwareDatetime
    note: str = Field(min_length=2, max_length=2000)


class ComplexBody(BaseModel):
    """认定 (or withdraw) 复杂问题, with the reason."""

    complex: bool = True
    reason: str = Field(min_length=2, max_length=2000)


class PlanBody(BaseModel):
    """解决方案 of a complex ticket: measures and when it is expected to be resolved."""

    plan: str = Field(min_length=5, max_length=4000)


@router.post("/tickets/{ticket_id}/supervise", summary="督办 / 催办")
def supervise(ticket_id: RowId, body: OrderBody, principal: PrincipalDep, container: ContainerDep) -> dict[str, Any]:
    """Issue the bureau's own 督办 or 催办 with a deadline and a note (leader/supervisor); it is timed."""
    due: datetime = body.due_at
    return _act(container, principal, ticket_id, oversight.issue_order, order=body.order, due_at=due, note=body.note)


@router.post("/tickets/{ticket_id}/complex", summary="认定复杂问题")
def mark_complex(ticket_id: RowId, body: ComplexBody, principal: PrincipalDep,
                 container: ContainerDep) -> dict[str, Any]:
    """Mark the ticket complex or withdraw it (duty/leader), before its resolution deadline has passed."""
    return _act(container, principal, ticket_id, oversight.mark_complex, complex_=body.complex, reason=body.reason)


@router.post("/tickets/{ticket_id}/plan", summary="提出解决方案")
def plan(ticket_id: RowId, body: PlanBody, principal: PrincipalDep, container: ContainerDep) -> dict[str, Any]:
    """Record the plan for a complex ticket (unit); it goes to the platform as a progress report."""
    return _act(container, principal, ticket_id, oversight.submit_plan, plan=body.plan)


@router.get("/sla/policy", summary="The deadline rules in force, with their articles")
def policy(principal: PrincipalDep, container: ContainerDep) -> dict[str, Any]:
    """The active regulation profile as a table: step, platforms, limit, article, changed locally."""
    return policy_table(runtime_for_engine(container.engine).sla)
