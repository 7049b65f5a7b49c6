"""Heartbeats of delivering processes: who is alive, so a lease of a dead owner need not run out.

A process that delivers outbox rows beats every ``heartbeat_s`` (``expires_at = now + owner_ttl_s``).
A lease is abandoned when its owner's heartbeat row exists and has expired: the process was killed
(or is frozen) and can no longer send. An owner that never beat (an older release, a test calling
``deliver`` directly) is judged by its lease alone, as before — the absence of a heartbeat proves
nothing, only a stale one does.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, exists, select, update
from sqlalchemy.orm import Session

from gateway.store.sql import insert_ignore
from gateway.store.tables import WorkerHeartbeatRecord

H = WorkerHeartbeatRecord


def beat(session: Session, *, owner: str, now: datetime, ttl: timedelta) -> None:
    """Say ``owner`` is alive until ``now + ttl``."""
    values = {"owner": owner, "beat_at": now, "expires_at": now + ttl}
    if insert_ignore(session, H.__table__, values, conflict=["owner"], returning="owner") is None:  # type: ignore[arg-type]
        session.execute(update(H).where(H.owner == owner).values(beat_at=now, expires_at=now + ttl)
                        .execution_options(synchronize_session=False))


def owner_dead(lease_owner: Any, now: datetime) -> Any:
    """SQL: the owner column ``lease_owner`` names a process whose heartbeat has run out."""
    return exists().where(H.owner == lease_owner, H.expires_at < now)


def heartbeat_expiry(lease_owner: Any) -> Any:
    """SQL: when the heartbeat of the owner named by ``lease_owner`` runs (or ran) out."""
    return select(H.expires_at).where(H.owner == lease_owner).scalar_subquery()


def purge(session: Session, *, expired_before: datetime) -> int:
    """Forget heartbeats that ran out long ago (by then every lease of theirs has expired too)."""
    result = session.execute(delete(H).where(H.expires_at < expired_before))
    return int(result.rowcount or 0)  # type: ignore[attr-defined]
