"""``/api/v1/outbound``: write-backs by state, and replay of dead ones."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from sqlalchemy import select

from gateway.api.deps import ContainerDep, PrincipalDep, SessionDep
from gateway.api.errors import documented
from gateway.api.params import RowId
from gateway.api.views import outbound_view
from gateway.schema import OutboundState
from gateway.services.operations import replay_outbound
from gateway.settings import Role
from gateway.store.tables import OutboxRecord

router = APIRouter(prefix="/api/v1/outbound", tags=["outbound"], responses=documented(401, 403, 404, 409, 422))


@router.get("", summary="Write-backs by state")
def list_outbound(
    session: SessionDep,
    principal: PrincipalDep,
    state: OutboundState | None = None,
    platform: str | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> dict[str, Any]:
    """Newest first; ``state=dead`` is the delivery page's list."""
    principal.require(Role.duty, Role.leader, Role.supervisor, Role.admin, action="查看回传")
    stmt = select(OutboxRecord).order_by(OutboxRecord.id.desc()).limit(limit)
    if state:
        stmt = stmt.where(OutboxRecord.state == state.value)
    if platform:
        stmt = stmt.where(OutboxRecord.platform == platform)
    return {"items": [outbound_view(r) for r in session.scalars(stmt)]}


@router.post("/{row_id}/replay", summary="Replay a dead write-back")
def replay(row_id: RowId, request: Request, principal: PrincipalDep, container: ContainerDep) -> dict[str, Any]:
    """Queue a dead row again; it is read back on the platform before anything is re-sent."""
    with container.commit_then_ring() as (session, ring):  # the use case checks the role and writes the audit log
        row = replay_outbound(session, row_id=row_id, principal=principal, now=container.clock(),
                              ip=request.client.host if request.client else None)
        view = outbound_view(row)
        ring.outbox([row_id])
    return view
