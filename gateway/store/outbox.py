"""Repository functions for the outbox: enqueue, claim with a lease, record the outcome, find due rows.

Every state change is a conditional UPDATE, so two workers (or a worker and the sweeper) racing on
one row cannot both win: the loser sees rowcount 0 and walks away.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, exists, or_, select, update
from sqlalchemy.orm import Session, aliased

from gateway.errors import DomainError, NotFound
from gateway.schema import OutboundState
from gateway.store.tables import OutboxRecord, TicketRecord

S = OutboundState
CLAIMABLE = (S.pending.value, S.retry.value, S.unknown.value)


@dataclass(frozen=True)
class Claim:
    """A row this worker now owns until ``lease_until``."""

    id: int
    ticket_id: int
    platform: str
    external_id: str
    action: str
    payload: dict[str, Any]
    request_id: str
    attempts: int
    needs_lookup: bool  # a previous attempt may have reached the platform
    owner: str
    created_at: datetime | None = None  # when the write-back was queued (fixes its evidence links' expiry)


def enqueue(
    session: Session, *, ticket: TicketRecord, action: str, payload: dict[str, Any], actor: str, now: datetime
) -> OutboxRecord:
    """Write one outbox row in the caller's transaction; the request id is fixed here, once."""
    row = OutboxRecord(
        ticket_id=ticket.id,
        platform=ticket.platform,
        external_id=ticket.external_id,
        action=action,
        payload=payload,
        request_id=f"hg{uuid.uuid4().hex}",  # 34 chars: fits 12389 wbbh (≤ 40) and 12345 (≤ 64)
        state=S.pending.value,
        attempts=0,
        next_attempt_at=now,
        rung_at=now,
        created_by=actor,
        created_at=now,
        updated_at=now,
    )
    session.add(row)
    session.flush()
    return row


def _earlier_unsent(row: type[OutboxRecord]) -> Any:
    earlier = aliased(OutboxRecord)
    return exists().where(
        earlier.ticket_id == row.ticket_id, earlier.id < row.id, earlier.state != S.sent.value
    )


def claim(session: Session, *, row_id: int, owner: str, now: datetime, lease: timedelta) -> Claim | None:
    """Take a due row with a lease, if it is due, unowned and first in its ticket's order."""
    row = session.get(OutboxRecord, row_id, populate_existing=True)
    if row is None:
        return None
    due = row.state in CLAIMABLE and row.next_attempt_at <= now
    expired = row.state == S.in_flight.value and row.lease_until is not None and row.lease_until < now
    if not (due or expired):
        return None
    stmt = (
        update(OutboxRecord)
        .where(
            OutboxRecord.id == row_id,
            OutboxRecord.state == row.state,
            OutboxRecord.attempts == row.attempts,
            ~_earlier_unsent(OutboxRecord),
        )
        .values(
            state=S.in_flight.value,
            lease_owner=owner,
            lease_until=now + lease,
            attempts=OutboxRecord.attempts + 1,
            updated_at=now,
        )
        .execution_options(synchronize_session=False)
    )
    if session.execute(stmt).rowcount != 1:  # type: ignore[attr-defined]
        return None
    return Claim(
        id=row.id,
        ticket_id=row.ticket_id,
        platform=row.platform,
        external_id=row.external_id,
        action=row.action,
        payload=dict(row.payload),
        request_id=row.request_id,
        attempts=row.attempts + 1,
        needs_lookup=row.state in (S.unknown.value, S.in_flight.value),
        owner=owner,
        created_at=row.created_at,
    )


def finish(
    session: Session,
    claim_: Claim,
    *,
    state: OutboundState,
    now: datetime,
    next_attempt_at: datetime | None = None,
    error: str | None = None,
    receipt_id: str | None = None,
) -> bool:
    """Record an outcome, only if our lease still holds; False when another worker took over."""
    values: dict[str, Any] = {
        "state": state.value,
        "lease_owner": None,
        "lease_until": None,
        "updated_at": now,
        "last_error": error,
    }
    if next_attempt_at is not None:
        values["next_attempt_at"] = next_attempt_at
    if state is S.sent:
        values.update(receipt_id=receipt_id, sent_at=now, last_error=None)
    stmt = (
        update(OutboxRecord)
        .where(
            OutboxRecord.id == claim_.id,
            OutboxRecord.lease_owner == claim_.owner,
            OutboxRecord.state == S.in_flight.value,
        )
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    return bool(session.execute(stmt).rowcount == 1)  # type: ignore[attr-defined]


def next_in_line(session: Session, *, ticket_id: int) -> int | None:
    """The first unsent row of a ticket, to ring once its predecessor is sent."""
    stmt = (
        select(OutboxRecord.id)
        .where(OutboxRecord.ticket_id == ticket_id, OutboxRecord.state != S.sent.value)
        .order_by(OutboxRecord.id)
        .limit(1)
    )
    return session.scalar(stmt)


def due_ids(session: Session, *, now: datetime, ring_again_after: timedelta, limit: int = 500) -> list[int]:
    """Rows to ring: due and not rung since, or leased past expiry; only the head row of each ticket."""
    r = OutboxRecord
    due = and_(r.state.in_(CLAIMABLE), r.next_attempt_at <= now)
    expired = and_(r.state == S.in_flight.value, r.lease_until < now)
    not_rung = or_(r.rung_at.is_(None), r.rung_at < r.next_attempt_at, r.rung_at < now - ring_again_after)
    stmt = (
        select(r.id)
        .where(or_(and_(due, not_rung), and_(expired, or_(r.rung_at.is_(None), r.rung_at < r.lease_until))))
        .where(~_earlier_unsent(r))
        .order_by(r.id)
        .limit(limit)
    )
    ids = list(session.scalars(stmt))
    if ids:
        session.execute(
            update(r).where(r.id.in_(ids)).values(rung_at=now).execution_options(synchronize_session=False)
        )
    return ids


def replay(session: Session, *, row_id: int, now: datetime) -> OutboxRecord:
    """Put a dead row back in line (from the dashboard); the read-back runs before it is re-sent."""
    row = session.get(OutboxRecord, row_id, with_for_update=True)
    if row is None:
        raise NotFound(f"回传记录不存在 (outbox row {row_id} not found)")
    if row.state != S.dead.value:
        raise DomainError(f"只能重放失败的回传 (only dead rows can be replayed; row is {row.state})")
    row.state, row.next_attempt_at, row.rung_at = S.unknown.value, now, now
    row.updated_at = now
    return row
