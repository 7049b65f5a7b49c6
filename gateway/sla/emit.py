"""Emit the warnings and breaches of timers whose next threshold is due: one transaction per batch.

Rows are taken with FOR UPDATE SKIP LOCKED on PostgreSQL, so two engines share the work instead of
waiting on each other; SQLite serialises writers anyway (BEGIN IMMEDIATE). Either way the unique
``dedup_key`` of each alert is what makes it exactly once: a batch that dies before commit leaves
nothing behind, and whoever handles those timers next emits the alerts.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from gateway.alerts import messages
from gateway.alerts.store import NewAlert, Route, emit, enqueue_deliveries, options
from gateway.sla.runtime import SlaRuntime
from gateway.sla.thresholds import BREACH, crossed, fire_at, next_alert
from gateway.store.tables import TicketRecord
from gateway.store.tables_sla import AlertRecord, SlaTimerEventRecord, SlaTimerRecord


@dataclass
class EmitReport:
    """What one batch did."""

    timers: int = 0
    alerts: list[int] = field(default_factory=list)
    deliveries: list[int] = field(default_factory=list)


def dedup_key(timer: SlaTimerRecord, threshold: int) -> str:
    """One alert per (ticket, timer, cycle, threshold): e.g. ``sla:42:resolution:2.1:90``."""
    return f"sla:{timer.ticket_id}:{timer.kind}:{timer.cycle}.{timer.seq}:{threshold}"


def emit_due(
    session: Session, *, runtime: SlaRuntime, routes: Sequence[Route], now: datetime, limit: int,
    before_commit: Callable[[], None] | None = None,
) -> EmitReport:
    """Handle up to ``limit`` timers whose next alert instant has come; returns counts and delivery ids."""
    stmt = (
        select(SlaTimerRecord)
        .where(SlaTimerRecord.next_alert_at <= now)
        .order_by(SlaTimerRecord.next_alert_at)
        .limit(limit)
    )
    if session.get_bind().dialect.name == "postgresql":
        stmt = stmt.with_for_update(skip_locked=True)
    timers = list(session.scalars(stmt))
    report = EmitReport(timers=len(timers))
    if not timers:
        return report
    numbers = dict(session.execute(
        select(TicketRecord.id, TicketRecord.external_id).where(TicketRecord.id.in_({t.ticket_id for t in timers}))
    ).all())
    repeat = timedelta(seconds=runtime.alerts.repeat_interval_s)
    alerts: list[NewAlert] = []
    tops: dict[int, list[int]] = {}
    for timer in timers:
        passed = crossed(timer.started_at, timer.due_at, runtime.thresholds, timer.last_threshold, now)
        if passed:
            top = passed[-1]
            # Thresholds crossed together (a late start, an outage) are all recorded, but only the
            # highest is live and notified: the lower ones are superseded on arrival (dedup).
            alerts += [_alert(timer, p, numbers.get(timer.ticket_id, "?"), p == top, now + repeat) for p in passed]
            tops.setdefault(top, []).append(timer.id)
            timer.last_threshold = top
            if top >= BREACH:
                timer.state = "breached"
                session.add(SlaTimerEventRecord(timer_id=timer.id, ticket_id=timer.ticket_id, at=now,
                                                kind="breached", actor="system", reason="已超过期限"))
        nxt = next_alert(timer.started_at, timer.due_at, runtime.thresholds, timer.last_threshold)
        timer.next_threshold, timer.next_alert_at = (nxt.threshold, nxt.at) if nxt else (None, None)
        timer.updated_at = now
    emitted = emit(session, alerts, now=now)
    for top, ids in tops.items():
        session.execute(
            update(AlertRecord)
            .where(AlertRecord.timer_id.in_(ids), AlertRecord.state == "active", AlertRecord.kind == "warning",
                   AlertRecord.threshold < top, AlertRecord.created_at < now)
            .values(state="resolved", resolved_at=now)
            .execution_options(synchronize_session=False)
        )
    report.alerts = [i for i, _ in emitted]
    report.deliveries = enqueue_deliveries(session, emitted, routes=routes, now=now,
                                           **options(runtime.alerts))
    if before_commit is not None:
        before_commit()
    return report


def _alert(timer: SlaTimerRecord, threshold: int, external_id: str, live: bool, repeat_at: datetime) -> NewAlert:
    at = fire_at(timer.started_at, timer.due_at, threshold)
    breach = threshold >= BREACH
    return NewAlert(
        dedup_key=dedup_key(timer, threshold),
        kind="breach" if breach else "warning",
        severity=messages.severity_for(threshold),
        message=messages.timer_message(
            platform=timer.platform, external_id=external_id, timer_kind=timer.kind, cycle=timer.cycle,
            threshold=threshold, fire_at=at, due_at=timer.due_at, provisional=timer.provisional,
        ),
        fire_at=at,
        state="active" if live else "resolved",
        ticket_id=timer.ticket_id,
        timer_id=timer.id,
        platform=timer.platform,
        external_id=external_id,
        timer_kind=timer.kind,
        cycle=timer.cycle,
        threshold=threshold,
        due_at=timer.due_at,
        next_repeat_at=repeat_at if breach and live else None,
    )
