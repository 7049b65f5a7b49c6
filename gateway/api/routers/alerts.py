"""``/api/v1/alerts``: the alert feed of the dashboard, and acknowledging an alert."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field, model_validator

from gateway.alerts.store import group_ids, list_alerts
from gateway.api.deps import ContainerDep, PrincipalDep, SessionDep
from gateway.api.errors import documented
from gateway.api.params import MAX_ID, Cursor, RowId, cursor_id
from gateway.api.views import local
from gateway.errors import NotFound
from gateway.services import operations
from gateway.settings import Role
from gateway.store.db import transaction
from gateway.store.tables_sla import AlertRecord

router = APIRouter(prefix="/api/v1/alerts", tags=["alerts"], responses=documented(401, 403, 404, 409, 422))
WATCHERS = (Role.duty, Role.leader, Role.supervisor)


class AlertGroupKey(BaseModel):
    """One group of the 告警 page: the active alerts of a kind (and threshold) for a unit."""

    kind: str = Field(max_length=24)
    threshold: int | None = Field(default=None, ge=0, le=1000)
    unit: str | None = Field(default=None, max_length=100, description="null: alerts without a unit")


class AckMany(BaseModel):
    """确认告警 in bulk: the ids, or one whole group; one note recorded on each."""

    ids: list[Annotated[int, Field(ge=1, le=MAX_ID)]] = Field(default_factory=list, max_length=operations.BULK_MAX)
    group: AlertGroupKey | None = None
    note: str = Field(default="", max_length=operations.NOTE_MAX)

    @model_validator(mode="after")
    def _one_of(self) -> AckMany:
        if bool(self.ids) == (self.group is not None):
            raise ValueError("give either ids or group")
        return self


def alert_view(alert: AlertRecord) -> dict[str, Any]:
    """One alert as the dashboard shows it."""
    return {
        "id": alert.id,
        "kind": alert.kind,
        "severity": alert.severity,
        "state": alert.state,
        "audience": alert.audience,
        "message": alert.message,
        "ticket_id": alert.ticket_id,
        "platform": alert.platform,
        "external_id": alert.external_id,
        "timer": alert.timer_kind,
        "cycle": alert.cycle,
        "threshold": alert.threshold,
        "due_at": local(alert.due_at),
        "fire_at": local(alert.fire_at),
        "created_at": local(alert.created_at),
        "acknowledged_by": alert.acknowledged_by,
        "acknowledged_at": local(alert.acknowledged_at),
        "repeat_count": alert.repeat_count,
        "escalated_at": local(alert.escalated_at),
    }


@router.get("", summary="Alerts, newest first")
def list_feed(
    session: SessionDep,
    principal: PrincipalDep,
    state: Literal["active", "acknowledged", "resolved", "all"] = "active",
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    cursor: Cursor = None,
) -> dict[str, Any]:
    """``state=active`` (default), ``acknowledged``, ``resolved`` or ``all``; page with ``next_cursor``."""
    principal.require(*WATCHERS, action="查看告警")
    items = list_alerts(session, state=state, limit=limit, before_id=cursor_id(cursor))
    next_cursor = str(items[-1].id) if len(items) == limit else None
    return {"items": [alert_view(a) for a in items], "next_cursor": next_cursor}


@router.post("/ack", summary="批量确认告警")
def ack_many(body: AckMany, principal: PrincipalDep, container: ContainerDep) -> dict[str, Any]:
    """Acknowledge many alerts at once (``ids``, or a ``group`` of the active ones) with one ``note``.

    All or nothing for ids that do not exist (404); alerts someone acknowledged meanwhile are listed
    in ``skipped``; 409 when every one of them was acknowledged already.
    """
    principal.require(*WATCHERS, action="确认告警")
    with transaction(container.sessions) as session:
        ids = body.ids
        if body.group is not None:
            key = body.group
            ids = group_ids(session, kind=key.kind, threshold=key.threshold, unit=key.unit,
                            scope=principal.unit_scope(), limit=operations.BULK_MAX)
            if not ids:
                raise NotFound("该组没有未确认的告警")
        done, skipped = operations.acknowledge_alert(session, alert_ids=ids, principal=principal,
                                                     now=container.clock(), note=body.note)
        return {"acknowledged": [a.id for a in done], "skipped": [a.id for a in skipped], "count": len(done)}


@router.post("/{alert_id}/ack", summary="确认告警")
def ack(alert_id: RowId, principal: PrincipalDep, container: ContainerDep) -> dict[str, Any]:
    """Acknowledge: stops the repeats and the escalation of this alert."""
    principal.require(*WATCHERS, action="确认告警")
    with transaction(container.sessions) as session:
        # The same audited use case as the dashboard's button.
        done, _ = operations.acknowledge_alert(session, alert_ids=[alert_id], principal=principal,
                                               now=container.clock())
        return alert_view(done[0])
