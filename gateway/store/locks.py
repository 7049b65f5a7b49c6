"""Named leases in the database: one scheduler leader, one poller per platform."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete, or_, update
from sqlalchemy.orm import Session

from gateway.store.sql import insert_ignore
from gateway.store.tables import LockRecord


def acquire(session: Session, *, name: str, owner: str, ttl: timedelta, now: datetime) -> bool:
    """Take or renew the lease ``name``; False while another owner holds an unexpired lease."""
    inserted = insert_ignore(
        session,
        LockRecord.__table__,  # type: ignore[arg-type]
        {"name": name, "owner": owner, "expires_at": now + ttl},
        conflict=["name"],
        returning="name",
    )
    if inserted:
        return True
    stmt = (
        update(LockRecord)
        .where(LockRecord.name == name, or_(LockRecord.owner == owner, LockRecord.expires_at < now))
        .values(owner=owner, expires_at=now + ttl)
        .execution_options(synchronize_session=False)
    )
    return bool(session.execute(stmt).rowcount == 1)  # type: ignore[attr-defined]


def release(session: Session, *, name: str, owner: str) -> None:
    """Give the lease up early."""
    session.execute(delete(LockRecord).where(LockRecord.name == name, LockRecord.owner == owner))
