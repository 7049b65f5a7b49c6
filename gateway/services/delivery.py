"""Deliver one outbox row: claim with a lease, read back if a previous try may have landed, send,
record the outcome (DESIGN.md "Outbound"). Exactly once in effect, at-least-once on the wire.
"""

from __future__ import annotations

import logging
import random
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.orm import Session, sessionmaker

from gateway.catalogue import takes_files
from gateway.errors import (
    GatewayError,
    MappingError,
    OutcomeUnknown,
    PermanentError,
    RateLimited,
    TransientError,
)
from gateway.ports import Mapper, PlatformAdapter, SendResult
from gateway.schema import OutboundState
from gateway.services import circuit, ticket_states
from gateway.services.evidence import EvidenceLinks, resolve_links
from gateway.services.lifecycle import ticket_changed
from gateway.services.ratelimit import PlatformPacer
from gateway.settings import OutboxSettings
from gateway.store import outbox
from gateway.store.db import transaction
from gateway.store.tickets import add_event, get_ticket

log = logging.getLogger(__name__)
S = OutboundState


@dataclass(frozen=True)
class DeliveryReport:
    """What one delivery attempt did, and which row to ring next."""

    row_id: int
    state: OutboundState | None  # None: not claimed (not due, owned elsewhere, or waiting its turn)
    ring_next: int | None = None
    error: str | None = None


def backoff(attempts: int, policy: OutboxSettings, retry_after: float | None) -> float:
    """Exponential backoff with full jitter, never shorter than the platform's Retry-After."""
    ceiling = min(policy.backoff_max_s, policy.backoff_base_s * (2 ** max(attempts - 1, 0)))
    delay = random.uniform(policy.backoff_base_s / 2, max(ceiling, policy.backoff_base_s / 2))
    return max(delay, retry_after or 0.0)


def deliver(
    sessions: sessionmaker[Session],
    *,
    row_id: int,
    adapters: Mapping[str, PlatformAdapter],
    mappers: Mapping[str, Mapper],
    policy: OutboxSettings,
    owner: str,
    clock: Callable[[], datetime],
    circuits: Mapping[str, circuit.CircuitPolicy] | None = None,
    pacer: PlatformPacer | None = None,
    links: EvidenceLinks | None = None,
) -> DeliveryReport:
    """Deliver one row if it is ours to deliver; every outcome is recorded, nothing is dropped."""
    with transaction(sessions) as session:
        claim = outbox.claim(session, row_id=row_id, owner=owner, now=clock(), lease=timedelta(seconds=policy.lease_s))
    if claim is None:
        return DeliveryReport(row_id, None)
    breaker = (circuits or {}).get(claim.platform)
    if breaker is not None:
        with transaction(sessions) as session:
            reopen_at = circuit.admit(session, platform=claim.platform, policy=breaker, now=clock())
        if reopen_at is not None:
            return _paused(sessions, claim, reopen_at, clock)
    if pacer is not None and not pacer.wait(claim.platform, timeout=min(30.0, policy.lease_s / 2)):
        state = S.unknown if claim.needs_lookup else S.retry  # an unknown row must still be read back first
        return _later(sessions, claim, state, TransientError("our own rate limit is saturated"), policy, clock, 1.0)
    report = _attempt(sessions, claim, adapters, mappers, policy, clock, links)
    if breaker is not None and report.state is not None:
        # The platform answered (a refusal or a 429 still means it is up).
        ok = report.state in (S.sent, S.dead) or (report.error or "").startswith("RateLimited")
        with transaction(sessions) as session:
            circuit.record(session, platform=claim.platform, ok=ok, policy=breaker, now=clock(),
                           error=None if ok else report.error)
    return report


def _paused(
    sessions: sessionmaker[Session], claim: outbox.Claim, until: datetime, clock: Callable[[], datetime]
) -> DeliveryReport:
    # The circuit is open: keep the row (an unknown one stays unknown, so it is still read back first).
    state = S.unknown if claim.needs_lookup else S.retry
    with transaction(sessions) as session:
        outbox.finish(session, claim, state=state, now=clock(), next_attempt_at=until,
                      error="平台熔断中，暂停回传 (circuit open: delivery paused)")
    return DeliveryReport(claim.id, state)


def _attempt(
    sessions: sessionmaker[Session],
    claim: outbox.Claim,
    adapters: Mapping[str, PlatformAdapter],
    mappers: Mapping[str, Mapper],
    policy: OutboxSettings,
    clock: Callable[[], datetime],
    links: EvidenceLinks | None = None,
) -> DeliveryReport:
    adapter, mapper = adapters.get(claim.platform), mappers.get(claim.platform)
    try:
        if adapter is None or mapper is None:
            raise PermanentError(f"platform {claim.platform!r} is not enabled in this deployment")
        payload = claim.payload
        if takes_files(claim.platform):  # the platform fetches evidence files by URL
            payload = resolve_links(payload, links, issued=claim.created_at or clock())
        body = mapper.outbound(claim.action, payload)
        result: SendResult | None = None
        if claim.needs_lookup:
            try:
                found = adapter.lookup(claim.action, claim.external_id, body, claim.request_id)
            except TransientError as exc:
                # The read-back itself failed: the row stays unknown, so the next try reads back again
                # (a platform without idempotency, like 12389, must never get a blind re-send).
                return _later(sessions, claim, S.unknown, exc, policy, clock, exc.retry_after)
            if found.applied:
                result = SendResult(receipt_id=found.receipt_id, detail={"reconciled": True})
        if result is None:
            result = adapter.send(claim.action, claim.external_id, body, claim.request_id)
    except RateLimited as exc:
        return _later(sessions, claim, S.retry, exc, policy, clock, exc.retry_after)
    except TransientError as exc:
        return _later(sessions, claim, S.retry, exc, policy, clock, exc.retry_after)
    except OutcomeUnknown as exc:
        return _later(sessions, claim, S.unknown, exc, policy, clock, None)
    except (PermanentError, MappingError) as exc:
        return _dead(sessions, claim, exc, clock)
    except GatewayError as exc:  # any other error of ours: keep the row, try again later
        return _later(sessions, claim, S.retry, exc, policy, clock, None)
    except Exception as exc:  # a bug must cost latency, never a reply
        log.exception("unexpected error delivering outbox row %s", claim.id)
        return _later(sessions, claim, S.retry, exc, policy, clock, None)
    return _sent(sessions, claim, result, clock)


def _sent(
    sessions: sessionmaker[Session], claim: outbox.Claim, result: SendResult, clock: Callable[[], datetime]
) -> DeliveryReport:
    now = clock()
    with transaction(sessions) as session:
        if not outbox.finish(session, claim, state=S.sent, now=now, receipt_id=result.receipt_id):
            return DeliveryReport(claim.id, None)
        ticket = get_ticket(session, claim.ticket_id, for_update=True)
        if claim.action == "reply":
            ticket_states.reply_sent(ticket, at=now)
        add_event(session, ticket=ticket, actor="system", kind="outbound_sent", at=now,
                  action=claim.action, outbox_id=claim.id, receipt_id=result.receipt_id,
                  attempts=claim.attempts, **result.detail)
        ticket_changed(session, ticket=ticket, now=now, reason="outbound_sent")
        successor = outbox.next_in_line(session, ticket_id=claim.ticket_id)
    return DeliveryReport(claim.id, S.sent, ring_next=successor)


def _later(
    sessions: sessionmaker[Session],
    claim: outbox.Claim,
    state: OutboundState,
    exc: BaseException,
    policy: OutboxSettings,
    clock: Callable[[], datetime],
    retry_after: float | None,
) -> DeliveryReport:
    now = clock()
    error = f"{type(exc).__name__}: {exc}"[:2000]
    if policy.max_attempts and claim.attempts >= policy.max_attempts and state is S.retry:
        return _dead(sessions, claim, exc, clock, reason=f"gave up after {claim.attempts} attempts: {error}")
    delay = backoff(claim.attempts, policy, retry_after)
    with transaction(sessions) as session:
        outbox.finish(session, claim, state=state, now=now, error=error,
                      next_attempt_at=now + timedelta(seconds=delay))
    log.info("outbox row %s: %s, next try in %.1fs (%s)", claim.id, state.value, delay, error)
    return DeliveryReport(claim.id, state, error=error)


def _dead(
    sessions: sessionmaker[Session],
    claim: outbox.Claim,
    exc: BaseException,
    clock: Callable[[], datetime],
    reason: str | None = None,
) -> DeliveryReport:
    now = clock()
    error = reason or f"{type(exc).__name__}: {exc}"[:2000]
    with transaction(sessions) as session:
        if not outbox.finish(session, claim, state=S.dead, now=now, error=error):
            return DeliveryReport(claim.id, None)
        ticket = get_ticket(session, claim.ticket_id)
        add_event(session, ticket=ticket, actor="system", kind="outbound_dead", at=now,
                  action=claim.action, outbox_id=claim.id, error=error)
    log.warning("outbox row %s is dead: %s", claim.id, error)
    return DeliveryReport(claim.id, S.dead, error=error)
