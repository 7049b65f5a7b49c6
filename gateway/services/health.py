"""Platform health for the dashboard and /metrics: polling, delivery circuit, outbox backlog."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from gateway.catalogue import CATALOGUE, label
from gateway.store.tables import InboxRecord, OutboxRecord, PlatformStateRecord, PollCursorRecord

OPEN_STATES = ("pending", "in_flight", "retry", "unknown")


def platform_health(session: Session, *, now: datetime, enabled: set[str] | None = None) -> list[dict[str, Any]]:
    """One entry per known platform: last successful poll, errors, circuit, backlog and its oldest age."""
    cursors = {c.platform: c for c in session.scalars(select(PollCursorRecord))}
    states = {s.platform: s for s in session.scalars(select(PlatformStateRecord))}
    backlog: dict[str, Any] = dict(
        session.execute(
            select(OutboxRecord.platform, func.count()).where(OutboxRecord.state.in_(OPEN_STATES))
            .group_by(OutboxRecord.platform)
        ).all()
    )
    oldest: dict[str, Any] = dict(
        session.execute(
            select(OutboxRecord.platform, func.min(OutboxRecord.created_at)).where(OutboxRecord.state.in_(OPEN_STATES))
            .group_by(OutboxRecord.platform)
        ).all()
    )
    dead: dict[str, Any] = dict(
        session.execute(
            select(OutboxRecord.platform, func.count()).where(OutboxRecord.state == "dead")
            .group_by(OutboxRecord.platform)
        ).all()
    )
    failed_inbox: dict[str, Any] = dict(
        session.execute(
            select(InboxRecord.platform, func.count()).where(InboxRecord.state == "failed")
            .group_by(InboxRecord.platform)
        ).all()
    )
    out = []
    keys = list(CATALOGUE) + sorted({*backlog, *dead, *cursors, *states} - set(CATALOGUE))
    for key in keys:
        cursor, state = cursors.get(key), states.get(key)
        attempts = (state.window_ok + state.window_err) if state else 0
        first = oldest.get(key)
        out.append({
            "platform": key,
            "label": label(key),
            "enabled": enabled is None or key in enabled,
            "last_poll_ok_at": cursor.last_success_at if cursor else None,
            "poll_error": cursor.last_error if cursor and cursor.consecutive_errors else None,
            "poll_consecutive_errors": cursor.consecutive_errors if cursor else 0,
            "circuit": state.circuit if state else "closed",
            "circuit_open_until": state.opened_until if state else None,
            "delivery_error_rate": round(state.window_err / attempts, 3) if state and attempts else 0.0,
            "last_delivery_ok_at": state.last_ok_at if state else None,
            "last_delivery_error": state.last_error if state else None,
            "outbox_backlog": int(backlog.get(key, 0)),
            "outbox_oldest_age_s": int((now - first).total_seconds()) if first else None,
            "outbox_dead": int(dead.get(key, 0)),
            "inbox_failed": int(failed_inbox.get(key, 0)),
        })
    return out
