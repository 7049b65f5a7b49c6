"""``/api/v1/outbound``: write-backs by state, and replay of dead ones."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query
from sqlalchemy import select

from gateway.api.deps import ContainerDep, PrincipalDep, SessionDep
from gateway.api.views import outbound_view
from gateway.schema import OutboundState
from gateway.settings import Role
from gateway.store import outbox
from gateway.store.db import transaction
from gateway.store.tables import OutboxRecord
from gateway.store.tickets import add_event, get_ticket

router = APIRouter(prefix="/api/v1/outbound", tags=["outbound"])


@router.get("", summary="Write-backs by state")
def list_outbound(
    session: SessionDep,
    principal: PrincipalDep,
    state: OutboundState | None = None,
    platform: str | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> dict[str, Any]:
    """Newest first; ``state=dead`` is the delivery page's list."""
    principal.require(Role.duty, Role.leader, Role.supervisor, action="查看回传")
    stmt = select(OutboxRecord).order_by(OutboxRecord.id.desc()).limit(limit)
    if state:
        stmt = stmt.where(OutboxRecord.state == state.value)
    if platform:
        stmt = stmt.where(OutboxRecord.platform == platform)
    return {"items": [outbound_view(r) for r in session.scalars(stmt)]}


@router.post("/{row_id}/replay", summary="Replay a dead write-back")
def replay(row_id: int, principal: PrincipalDep, container: ContainerDep) -> dict[str, Any]:
    """Queue a dead row again; it is read back on the platform before anything is re-sent."""
    principal.require(Role.duty, Role.admin, action="重新回传")
    now = container.clock()
    with transaction(container.sessions) as session:
        row = outbox.replay(session, row_id=row_id, now=now)
        add_event(session, ticket=get_ticket(session, row.ticket_id), actor=principal.name,
                  kind="outbound_replayed", at=now, outbox_id=row.id, action=row.action)
        view = outbound_view(row)
    container.doorbell.outbox([row_id])
    return view
