"""Repository functions for the outbox: enqueue, claim with a lease, record the outcome, find due rows.

Every state change is a conditional UPDATE, so two workers (or a worker and the sweeper) racing on
one row cannot both win: the loser sees rowcount 0 and walks away.

An *attempt* is a request that goes to the platform: it is counted by ``begin_attempt`` just before
the worker sends (or reads back), never by ``claim`` — a row the circuit breaker or our own pacer
holds back keeps its attempt count, so its backoff does not grow while nothing is tried.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, case, exists, or_, select, update
from sqlalchemy.orm import Session, aliased

from gateway.errors import DomainError, NotFound
from gateway.schema import OutboundState
from gateway.store.liveness import heartbeat_expiry, owner_dead
from gateway.store.tables import OutboxRecord, PlatformStateRecord, TicketRecord

S = OutboundState
CLAIMABLE = (S.pending.value, S.retry.value, S.unknown.value)
# The reason a row waits for the circuit (shown on the dashboard); rows carrying it go out the
# moment the circuit closes (``release_platform``), whatever time they were told to wait for.
PAUSED_BY_CIRCUIT = "平台熔断中，暂停回传"
# Write-backs with the shortest deadlines are rung first when many are due at once: the 2-hour
# response 先行联系 (002 四(二)), then the 24-hour sign-off 签收 (002 四(一)), then everything else.
URGENCY = {"contact": 0, "sign": 1}


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
    attempts: int  # requests that reached (or went to) the platform so far; begin_attempt adds this one
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
    """Take a row with a lease, if it is due (or its lease is abandoned), and first in its ticket's order.

    A lease is abandoned when it has run out, or when its owner's heartbeat has (the process died:
    ``gateway.store.liveness``). Claiming counts no attempt (see ``begin_attempt``).
    """
    row = session.get(OutboxRecord, row_id, populate_existing=True)
    if row is None:
        return None
    r = OutboxRecord
    if row.state in CLAIMABLE:
        if row.next_attempt_at > now:
            return None
        # Re-checked in the UPDATE: a row another worker claimed and held back meanwhile is not due.
        still = and_(r.state == row.state, r.next_attempt_at <= now)
    elif row.state == S.in_flight.value and row.lease_until is not None:
        if row.lease_until >= now and not session.scalar(select(owner_dead(row.lease_owner, now))):
            return None
        still = and_(r.state == S.in_flight.value, r.lease_owner == row.lease_owner,
                     r.lease_until == row.lease_until, or_(r.lease_until < now, owner_dead(r.lease_owner, now)))
    else:
        return None
    stmt = (
        update(r)
        .where(r.id == row_id, r.attempts == row.attempts, still, ~_earlier_unsent(r))
        .values(state=S.in_flight.value, lease_owner=owner, lease_until=now + lease, updated_at=now)
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
        attempts=row.attempts,
        needs_lookup=row.state in (S.unknown.value, S.in_flight.value),
        owner=owner,
        created_at=row.created_at,
    )


def begin_attempt(session: Session, claim_: Claim, *, now: datetime, lease: timedelta) -> Claim | None:
    """Count the attempt about to reach the platform and renew the lease; None if the lease was lost.

    Called right before the request goes out (after the breaker and the pacer let it): a worker that
    was presumed dead meanwhile (its lease taken over) learns it here and never sends.
    """
    stmt = (
        update(OutboxRecord)
        .where(OutboxRecord.id == claim_.id, OutboxRecord.lease_owner == claim_.owner,
               OutboxRecord.state == S.in_flight.value)
        .values(attempts=OutboxRecord.attempts + 1, lease_until=now + lease, updated_at=now)
        .execution_options(synchronize_session=False)
    )
    if session.execute(stmt).rowcount != 1:  # type: ignore[attr-defined]
        return None
    return replace(claim_, attempts=claim_.attempts + 1)


def hold(session: Session, claim_: Claim, *, until: datetime, now: datetime, reason: str) -> bool:
    """Give a claimed row back untried: same attempt count, due again at ``until`` (an unknown row stays
    unknown, so it is still read back first)."""
    state = S.unknown if claim_.needs_lookup else S.retry
    return finish(session, claim_, state=state, now=now, next_attempt_at=until, error=reason)


def release_platform(session: Session, *, platform: str, now: datetime, limit: int = 1000) -> list[int]:
    """The platform's circuit closed: rows it held are due now. Returns the platform's due rows to ring
    (the head of each ticket), most urgent first, marked rung; the sweeper rings any beyond ``limit``."""
    r = OutboxRecord
    session.execute(
        update(r)
        .where(r.platform == platform, r.state.in_(CLAIMABLE), r.last_error == PAUSED_BY_CIRCUIT,
               r.next_attempt_at > now)
        .values(next_attempt_at=now, updated_at=now)
        .execution_options(synchronize_session=False)
    )
    ids = list(session.scalars(
        select(r.id)
        .where(r.platform == platform, r.state.in_(CLAIMABLE), r.next_attempt_at <= now, ~_earlier_unsent(r))
        .order_by(_urgency(r), r.id)
        .limit(limit)
    ))
    if ids:
        session.execute(update(r).where(r.id.in_(ids)).values(rung_at=now).execution_options(synchronize_session=False))
    return ids


def _urgency(row: type[OutboxRecord]) -> Any:
    return case(URGENCY, value=row.action, else_=len(URGENCY))


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
    """Rows to ring: due and not rung since, or with an abandoned lease (run out, or its owner dead);
    only the head row of each ticket, the most urgent write-backs first.

    A platform whose circuit is not closed gets no rings, except one row (its most urgent) once the
    circuit may be probed: a hundred rows rung into an outage would only be held again, and would
    queue ahead of the urgent ones when it ends. The probe that closes the circuit rings the rest
    (``release_platform``).
    """
    r, p = OutboxRecord, PlatformStateRecord
    due = and_(r.state.in_(CLAIMABLE), r.next_attempt_at <= now)
    not_rung = or_(r.rung_at.is_(None), r.rung_at < r.next_attempt_at, r.rung_at < now - ring_again_after)
    in_flight = r.state == S.in_flight.value
    expired = and_(in_flight, r.lease_until < now, or_(r.rung_at.is_(None), r.rung_at < r.lease_until))
    # The owner died holding the lease: ring once since its heartbeat ran out, then as a due row.
    orphaned = and_(in_flight, r.lease_until >= now, owner_dead(r.lease_owner, now),
                    or_(r.rung_at.is_(None), r.rung_at < now - ring_again_after,
                        r.rung_at < heartbeat_expiry(r.lease_owner)))
    circuit_not_closed = exists().where(p.platform == r.platform, p.circuit != "closed")
    stmt = (
        select(r.id)
        .where(or_(and_(due, not_rung), expired, orphaned))
        .where(~_earlier_unsent(r), ~circuit_not_closed)
        .order_by(_urgency(r), r.id)
        .limit(limit)
    )
    ids = list(session.scalars(stmt))
    probe_ready = select(p.platform).where(p.circuit != "closed", or_(p.opened_until.is_(None), p.opened_until <= now))
    for platform in session.scalars(probe_ready):
        probe = session.scalar(
            select(r.id).where(r.platform == platform, due, not_rung, ~_earlier_unsent(r))
            .order_by(_urgency(r), r.id).limit(1)
        )
        if probe is not None:
            ids.append(probe)
    if ids:
        session.execute(
            update(r).where(r.id.in_(ids)).values(rung_at=now).execution_options(synchronize_session=False)
        )
    return ids


def replay(session: Session, *, row_id: int, now: datetime) -> OutboxRecord:
    """Put a dead row back in line (from the dashboard); the read-back runs before it is re-sent."""
    row = session.get(OutboxRecord, row_id, with_for_update=True)
    if row is None:
        raise NotFound("回传记录不存在")
    if row.state != S.dead.value:
        raise DomainError("只能重放失败的回传")
    row.state, row.next_attempt_at, row.rung_at = S.unknown.value, now, now
    row.updated_at = now
    return row
