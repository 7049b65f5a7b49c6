"""The engine's slower duties: repeat unacknowledged breaches, escalate them to the leaders, the daily
missing-calendar alert, and the auto sign-off safety net. Each is exactly once by a dedup key or a
row lock, so two engines running them at once do each thing once.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from gateway.alerts import messages
from gateway.alerts.store import NewAlert, Route, emit, enqueue_deliveries, options
from gateway.errors import DomainError
from gateway.principal import SYSTEM
from gateway.services import actions
from gateway.sla.deadlines import to_shanghai
from gateway.sla.runtime import SlaRuntime
from gateway.store.db import transaction
from gateway.store.tables import TicketRecord
from gateway.store.tables_sla import AlertRecord, SlaTimerRecord

log = logging.getLogger(__name__)
BATCH = 200


def _locked(session: Session, stmt: object) -> object:
    if session.get_bind().dialect.name == "postgresql":
        return stmt.with_for_update(skip_locked=True)  # type: ignore[attr-defined]
    return stmt


def repeat_breaches(session: Session, *, runtime: SlaRuntime, routes: Sequence[Route], now: datetime) -> list[int]:
    """Notify again each active, unacknowledged breach whose repeat is due; returns delivery ids."""
    stmt = _locked(session, select(AlertRecord).where(
        AlertRecord.kind == "breach", AlertRecord.state == "active", AlertRecord.next_repeat_at <= now
    ).order_by(AlertRecord.next_repeat_at).limit(BATCH))
    due = list(session.scalars(stmt))  # type: ignore[call-overload]
    repeated: list[tuple[int, NewAlert]] = []
    for alert in due:
        alert.repeat_count += 1
        alert.next_repeat_at = now + timedelta(seconds=runtime.alerts.repeat_interval_s)
        overdue = now - alert.due_at if alert.due_at else timedelta(0)
        text = messages.repeat_message(alert.message, alert.repeat_count, overdue)
        repeated.append((alert.id, NewAlert(f"{alert.dedup_key}:r{alert.repeat_count}", "repeat", "critical",
                                            text, now, audience=alert.audience)))
    return enqueue_deliveries(session, repeated, routes=routes, now=now, **options(runtime.alerts),
                              title=messages.TITLES["repeat"]) if repeated else []


def escalate_breaches(session: Session, *, runtime: SlaRuntime, routes: Sequence[Route], now: datetime) -> list[int]:
    """A breach nobody acknowledged in time goes to the leader role (a new alert, once per breach)."""
    after = timedelta(seconds=runtime.alerts.escalate_after_s)
    stmt = _locked(session, select(AlertRecord).where(
        AlertRecord.kind == "breach", AlertRecord.state == "active", AlertRecord.escalated_at.is_(None),
        AlertRecord.created_at <= now - after,
    ).order_by(AlertRecord.id).limit(BATCH))
    breaches = list(session.scalars(stmt))  # type: ignore[call-overload]
    new = []
    for breach in breaches:
        breach.escalated_at = now
        new.append(NewAlert(
            dedup_key=f"escalation:{breach.dedup_key}", kind="escalation", severity="critical",
            message=messages.escalation_message(breach.message, now - breach.created_at), fire_at=now,
            audience="leader", ticket_id=breach.ticket_id, timer_id=breach.timer_id, platform=breach.platform,
            external_id=breach.external_id, timer_kind=breach.timer_kind, cycle=breach.cycle,
            threshold=breach.threshold, due_at=breach.due_at,
        ))
    emitted = emit(session, new, now=now)
    return enqueue_deliveries(session, emitted, routes=routes, now=now, **options(runtime.alerts))


def calendar_missing(session: Session, *, runtime: SlaRuntime, routes: Sequence[Route], now: datetime) -> list[int]:
    """From 1 November, once a day while next year's arrangement is missing (DESIGN.md)."""
    local = to_shanghai(now)
    if local.hour < runtime.sla.calendar_alert_hour:
        return []
    missing = runtime.calendar(session).missing_years(local.date())
    new = [
        NewAlert(dedup_key=f"calendar:{year}:{local.date().isoformat()}", kind="calendar_missing",
                 severity="warning", message=messages.calendar_message(year, local), fire_at=now)
        for year in missing
    ]
    emitted = emit(session, new, now=now)
    return enqueue_deliveries(session, emitted, routes=routes, now=now, **options(runtime.alerts))


def auto_sign(
    sessions: sessionmaker[Session], *, runtime: SlaRuntime, routes: Sequence[Route], now: datetime
) -> tuple[list[int], list[int]]:
    """Sign tickets nobody signed or returned, close to their deadline (platforms that opt in).

    Each ticket in its own transaction: ``actions.sign_off`` as the system writes the outbox row and
    the timeline entry; an operator who got there first makes it refuse, and the ticket is skipped.
    Returns (outbox ids, delivery ids) to ring after commit.
    """
    outbox_ids: list[int] = []
    delivery_ids: list[int] = []
    for platform, rule in runtime.sla.auto_sign.items():
        if not rule.enabled:
            continue
        before = timedelta(seconds=rule.before_due_s)
        with sessions() as session:
            candidates = list(session.execute(
                select(SlaTimerRecord.ticket_id, SlaTimerRecord.due_at).where(
                    SlaTimerRecord.kind == "sign_off", SlaTimerRecord.state.in_(("running", "breached")),
                    SlaTimerRecord.platform == platform, SlaTimerRecord.due_at <= now + before,
                ).limit(BATCH)
            ))
        for ticket_id, due_at in candidates:
            try:
                with transaction(sessions) as session:
                    outbox_ids += actions.sign_off(session, ticket_id=ticket_id, principal=SYSTEM, now=now)
                    ticket = session.get_one(TicketRecord, ticket_id)
                    alert = NewAlert(
                        dedup_key=f"autosign:{ticket_id}", kind="auto_signed", severity="warning", fire_at=now,
                        message=messages.auto_signed_message(platform, ticket.external_id, due_at, before),
                        ticket_id=ticket_id, platform=platform, external_id=ticket.external_id,
                        timer_kind="sign_off", cycle=1, due_at=due_at,
                    )
                    emitted = emit(session, [alert], now=now)
                    delivery_ids += enqueue_deliveries(session, emitted, routes=routes, now=now,
                                                       **options(runtime.alerts))
            except DomainError as exc:  # signed, returned or moved on meanwhile: nothing to do
                log.info("auto sign-off of ticket %s skipped: %s", ticket_id, exc)
    return outbox_ids, delivery_ids
