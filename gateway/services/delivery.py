"""Deliver one outbox row: claim with a lease, read back if a previous try may have landed, send,
record the outcome (DESIGN.md "Outbound"). Exactly once in effect, at-least-once on the wire.
"""

from __future__ import annotations

import logging
import random
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
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
from gateway.store.db import in_transaction
from gateway.store.tickets import add_event, get_ticket

log = logging.getLogger(__name__)
S = OutboundState


@dataclass(frozen=True)
class DeliveryReport:
    """What one delivery attempt did, and which rows to ring next."""

    row_id: int
    state: OutboundState | None  # None: not claimed (not due, owned elsewhere, or waiting its turn)
    ring_next: int | None = None
    error: str | None = None
    released: tuple[int, ...] = ()  # rows that waited for the circuit this outcome closed, most urgent first


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
    """Deliver one row if it is ours to deliver; every outcome is recorded, nothing is dropped.

    Only a request that goes to the platform counts as an attempt (``outbox.begin_attempt``): a row
    the open circuit or our own pacer holds back keeps its count and so its backoff. A lost database
    connection is retried on a fresh one (``in_transaction``); once the row is ours, recording goes
    on trying for a quarter of the lease, since the alternative is the row waiting for its lease.
    """
    lease = timedelta(seconds=policy.lease_s)
    patience = policy.lease_s / 4
    what = f"outbox row {row_id}"

    def take(session: Session) -> tuple[outbox.Claim | None, datetime | None]:
        now = clock()
        claim = outbox.claim(session, row_id=row_id, owner=owner, now=now, lease=lease)
        breaker = None if claim is None else (circuits or {}).get(claim.platform)
        if claim is None or breaker is None:
            return claim, None
        # Asked in the claim's own transaction: a row the open circuit holds back is given back
        # before anyone sees it in flight, with its attempt count and its place in line unchanged.
        reopen_at = circuit.admit(session, platform=claim.platform, policy=breaker, now=now)
        if reopen_at is not None:
            outbox.hold(session, claim, until=reopen_at, now=now, reason=outbox.PAUSED_BY_CIRCUIT)
        return claim, reopen_at

    claim, paused_until = in_transaction(sessions, take, what=f"{what}: claim")
    if claim is None:
        return DeliveryReport(row_id, None)
    if paused_until is not None:
        return DeliveryReport(claim.id, S.unknown if claim.needs_lookup else S.retry, error=outbox.PAUSED_BY_CIRCUIT)
    if pacer is not None and not pacer.wait(claim.platform, timeout=min(30.0, policy.lease_s / 2)):
        # Our own pace, not the platform's answer: no attempt counted, due again at once (the sweeper
        # rings it on its next tick), so the backlog drains at the rate limit and not slower.
        return _hold(sessions, claim, clock, "our own rate limit is saturated", patience)
    started = in_transaction(
        sessions, lambda s: outbox.begin_attempt(s, claim, now=clock(), lease=lease),
        what=f"{what}: attempt", patience_s=patience,
    )
    if started is None:  # our lease was taken over (we were presumed dead): the new owner reads back
        return DeliveryReport(row_id, None)
    report = _attempt(sessions, started, adapters, mappers, policy, clock, links)
    breaker = (circuits or {}).get(claim.platform)
    if breaker is not None and report.state is not None:
        # The platform answered (a refusal or a 429 still means it is up).
        ok = report.state in (S.sent, S.dead) or (report.error or "").startswith("RateLimited")

        def count(session: Session) -> list[int]:
            now = clock()
            closed = circuit.record(session, platform=claim.platform, ok=ok, policy=breaker, now=now,
                                    error=None if ok else report.error)
            return outbox.release_platform(session, platform=claim.platform, now=now) if closed else []

        released = in_transaction(sessions, count, what=f"{what}: circuit", patience_s=patience)
        if released:
            log.info("circuit of %s closed: %d waiting rows rung, most urgent first", claim.platform, len(released))
            report = replace(report, released=tuple(released))
    return report


def _hold(
    sessions: sessionmaker[Session], claim: outbox.Claim, clock: Callable[[], datetime], reason: str, patience: float
) -> DeliveryReport:
    state = S.unknown if claim.needs_lookup else S.retry  # an unknown row must still be read back first

    def give_back(session: Session) -> bool:
        now = clock()
        return outbox.hold(session, claim, until=now, now=now, reason=reason)

    if not in_transaction(sessions, give_back, what=f"outbox row {claim.id}: hold", patience_s=patience):
        return DeliveryReport(claim.id, None)
    return DeliveryReport(claim.id, state, error=reason)


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
        return _dead(sessions, claim, exc, clock, patience=policy.lease_s / 4)
    except GatewayError as exc:  # any other error of ours: keep the row, try again later
        return _later(sessions, claim, S.retry, exc, policy, clock, None)
    except Exception as exc:  # a bug must cost latency, never a reply
        log.exception("unexpected error delivering outbox row %s", claim.id)
        return _later(sessions, claim, S.retry, exc, policy, clock, None)
    return _sent(sessions, claim, result, clock, policy.lease_s / 4)


def _sent(
    sessions: sessionmaker[Session], claim: outbox.Claim, result: SendResult, clock: Callable[[], datetime],
    patience: float = 0.0,
) -> DeliveryReport:
    def record(session: Session) -> DeliveryReport:
        now = clock()
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

    # A repeat after a lost commit finds the row sent already (finish is conditional): no second event.
    return in_transaction(sessions, record, what=f"outbox row {claim.id}: sent", patience_s=patience)


def _later(
    sessions: sessionmaker[Session],
    claim: outbox.Claim,
    state: OutboundState,
    exc: BaseException,
    policy: OutboxSettings,
    clock: Callable[[], datetime],
    retry_after: float | None,
) -> DeliveryReport:
    error = f"{type(exc).__name__}: {exc}"[:2000]
    if policy.max_attempts and claim.attempts >= policy.max_attempts and state is S.retry:
        return _dead(sessions, claim, exc, clock, reason=f"gave up after {claim.attempts} attempts: {error}",
                     patience=policy.lease_s / 4)
    delay = backoff(claim.attempts, policy, retry_after)

    def record(session: Session) -> None:
        now = clock()
        outbox.finish(session, claim, state=state, now=now, error=error, next_attempt_at=now + timedelta(seconds=delay))

    in_transaction(sessions, record, what=f"outbox row {claim.id}: {state.value}", patience_s=policy.lease_s / 4)
    log.info("outbox row %s: %s, next try in %.1fs (%s)", claim.id, state.value, delay, error)
    return DeliveryReport(claim.id, state, error=error)


def _dead(
    sessions: sessionmaker[Session],
    claim: outbox.Claim,
    exc: BaseException,
    clock: Callable[[], datetime],
    reason: str | None = None,
    patience: float = 0.0,
) -> DeliveryReport:
    error = reason or f"{type(exc).__name__}: {exc}"[:2000]

    def record(session: Session) -> bool:
        now = clock()
        if not outbox.finish(session, claim, state=S.dead, now=now, error=error):
            return False
        ticket = get_ticket(session, claim.ticket_id)
        add_event(session, ticket=ticket, actor="system", kind="outbound_dead", at=now,
                  action=claim.action, outbox_id=claim.id, error=error)
        return True

    if not in_transaction(sessions, record, what=f"outbox row {claim.id}: dead", patience_s=patience):
        return DeliveryReport(claim.id, None)
    log.warning("outbox row %s is dead: %s", claim.id, error)
    return DeliveryReport(claim.id, S.dead, error=error)
