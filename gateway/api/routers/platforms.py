"""``/api/v1/platforms``: each platform's health; ``/api/v1/inbox``: failed inbound events and replay."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query
from sqlalchemy import select

from gateway.api.deps import ContainerDep, PrincipalDep, SessionDep
from gateway.api.errors import documented
from gateway.api.params import RowId
from gateway.api.views import local
from gateway.services import inbound
from gateway.services.health import platform_health
from gateway.settings import Role
from gateway.store.tables import InboxRecord

router = APIRouter(tags=["platforms"], responses=documented(401, 403, 404, 409, 422))


@router.get("/api/v1/platforms/health", summary="Per-platform health")
def health(session: SessionDep, principal: PrincipalDep, container: ContainerDep) -> dict[str, Any]:
    """Last successful poll, errors, circuit state, outbox backlog and its oldest age, per platform."""
    principal.require(Role.duty, Role.leader, Role.supervisor, Role.admin, action="查看平台状态")
    items = platform_health(session, now=container.clock(), enabled=set(container.settings.platforms.enabled()))
    for item in items:
        for key in ("last_poll_ok_at", "circuit_open_until", "last_delivery_ok_at"):
            item[key] = local(item[key])
    return {"items": items}


@router.get("/api/v1/inbox", summary="Inbound events by state")
def list_inbox(
    session: SessionDep,
    principal: PrincipalDep,
    state: Annotated[str, Query(pattern="^(pending|waiting|done|stale|failed)$")] = "failed",
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> dict[str, Any]:
    """Failed rows show what the mapper could not read (field and value), replayable after a fix."""
    principal.require(Role.duty, Role.admin, action="查看入站事件")
    stmt = select(InboxRecord).where(InboxRecord.state == state).order_by(InboxRecord.id.desc()).limit(limit)
    return {"items": [
        {"id": r.id, "platform": r.platform, "event_id": r.event_id, "event_type": r.event_type,
         "external_id": r.external_id, "state": r.state, "error": r.error, "attempts": r.attempts,
         "received_at": local(r.received_at)}
        for r in session.scalars(stmt)
    ]}


@router.post("/api/v1/inbox/{row_id}/replay", summary="Replay a failed inbound event")
def replay_inbox(row_id: RowId, principal: PrincipalDep, container: ContainerDep) -> dict[str, Any]:
    """Map the stored raw event again (after a mapper fix); nothing is re-fetched from the platform."""
    principal.require(Role.duty, Role.admin, action="重放入站事件")
    with container.commit_then_ring() as (session, ring):
        row = inbound.replay_inbox(session, row_id=row_id, now=container.clock())
        result = {"id": row.id, "state": row.state}
        ring.inbox([row_id])
    return result
