"""Deliver one alert notification to one sink: claim with a lease, send, record the outcome.

The outbox pattern again, for sinks: rows are written in the transaction that emits the alerts, a
worker claims one with a conditional UPDATE, and the scheduler re-rings rows that are due or whose
lease expired. A sink's failure is recorded on its own row and retried with backoff; the others go on.
A sink that keeps failing is paused by its circuit breaker: its rows wait for one probe per period
instead of each holding a worker thread for the sink's timeout.
"""

from __future__ import annotations

import logging
import random
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, or_, select, update
from sqlalchemy.orm import Session, sessionmaker

from gateway.alerts.sinks import AlertSink, Attachment, Notification, SinkError
from gateway.settings import AlertSettings
from gateway.store.db import transaction
from gateway.store.tables_sla import AlertDeliveryRecord, BulletinRecord

log = logging.getLogger(__name__)
CLAIMABLE = ("pending", "retry")


@dataclass(frozen=True)
class DeliveryOutcome:
    """What one attempt did (None: not claimed — not due, or owned by another worker)."""

    delivery_id: int
    state: str | None
    error: str | None = None


@dataclass
class SinkBreaker:
    """A circuit breaker per sink, in each worker process (alerts are sent by workers only).

    After ``threshold`` failures in a row the sink is open for ``reset_s``: its rows are put off to
    then without a send. Then one delivery goes through as the probe: success closes the breaker, a
    failure opens it for another period. A refusal (permanent error) is an answer: the sink is up.
    """

    threshold: int = 3
    reset_s: float = 60.0
    _failures: dict[str, int] = field(default_factory=dict)
    _open_until: dict[str, datetime] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def admit(self, sink: str, now: datetime) -> datetime | None:
        """None when a delivery may go now; otherwise when the sink may be tried again."""
        with self._lock:
            until = self._open_until.get(sink)
            if until is None:
                return None
            if now < until:
                return until
            self._open_until[sink] = now + timedelta(seconds=self.reset_s)  # this delivery is the probe
            return None

    def record(self, sink: str, *, ok: bool, now: datetime) -> None:
        """Count one outcome of a send to ``sink``."""
        with self._lock:
            if ok:
                self._failures.pop(sink, None)
                self._open_until.pop(sink, None)
                return
            failures = self._failures[sink] = self._failures.get(sink, 0) + 1
            if failures >= self.threshold or sink in self._open_until:
                self._open_until[sink] = now + timedelta(seconds=self.reset_s)

    def is_open(self, sink: str, now: datetime) -> bool:
        """Whether ``sink`` is paused now (for health views and tests)."""
        with self._lock:
            until = self._open_until.get(sink)
            return until is not None and now < until


def deliver(
    sessions: sessionmaker[Session], *, delivery_id: int, sinks: Mapping[str, AlertSink], config: AlertSettings,
    owner: str, clock: Callable[[], datetime], breaker: SinkBreaker | None = None,
) -> DeliveryOutcome:
    """Send one delivery row if it is ours to send; every outcome is recorded."""
    now = clock()
    with transaction(sessions) as session:
        row = session.get(AlertDeliveryRecord, delivery_id, populate_existing=True)
        if row is None or not _claimable(row, now):
            return DeliveryOutcome(delivery_id, None)
        reopen = None if breaker is None else breaker.admit(row.sink, now)
        if reopen is not None:  # the sink is paused: put the row off to the probe, without an attempt
            paused = "告警渠道暂停（连续失败，熔断中）"
            session.execute(
                update(AlertDeliveryRecord)
                .where(AlertDeliveryRecord.id == delivery_id, AlertDeliveryRecord.state == row.state,
                       AlertDeliveryRecord.attempts == row.attempts)
                .values(state="retry", next_attempt_at=reopen, lease_owner=None, lease_until=None,
                        last_error=paused)
                .execution_options(synchronize_session=False)
            )
            return DeliveryOutcome(delivery_id, "retry", paused)
        claimed = session.execute(
            update(AlertDeliveryRecord)
            .where(AlertDeliveryRecord.id == delivery_id, AlertDeliveryRecord.state == row.state,
                   AlertDeliveryRecord.attempts == row.attempts)
            .values(state="in_flight", lease_owner=owner, attempts=row.attempts + 1,
                    lease_until=now + timedelta(seconds=config.delivery_lease_s))
            .execution_options(synchronize_session=False)
        ).rowcount  # type: ignore[attr-defined]
        if claimed != 1:
            return DeliveryOutcome(delivery_id, None)
        sink_name, attempts = row.sink, row.attempts + 1
        note = Notification(row.title, tuple(str(line) for line in row.lines), row.severity)
        if row.bulletin_id is not None:  # a scheduled bulletin: its workbook goes with it, for sinks that take files
            bulletin = session.get_one(BulletinRecord, row.bulletin_id)
            note = Notification(row.title, note.lines, row.severity, kind="bulletin",
                                attachment=Attachment(f"{bulletin.title}.xlsx", bulletin.xlsx))
    sink = sinks.get(sink_name)
    error: str | None = None
    permanent = False
    try:
        if sink is None:
            raise SinkError(f"sink {sink_name!r} is not configured any more", permanent=True)
        sink.send(note)
    except SinkError as exc:
        error, permanent = str(exc)[:2000], exc.permanent
    except Exception as exc:  # a bug in a sink costs that sink a retry, never the others
        log.exception("alert sink %s failed", sink_name)
        error = f"{type(exc).__name__}: {exc}"[:2000]
    now = clock()
    if breaker is not None:
        breaker.record(sink_name, ok=error is None or permanent, now=now)
    values: dict[str, Any]
    if error is None:
        state, values = "sent", {"sent_at": now, "last_error": None}
    elif permanent or attempts >= config.delivery_max_attempts:
        state, values = "dead", {"last_error": error}
    else:
        delay = min(config.delivery_backoff_max_s, config.delivery_backoff_base_s * 2 ** (attempts - 1))
        state = "retry"
        values = {"last_error": error, "next_attempt_at": now + timedelta(seconds=random.uniform(delay / 2, delay))}
    with transaction(sessions) as session:
        session.execute(
            update(AlertDeliveryRecord)
            .where(AlertDeliveryRecord.id == delivery_id, AlertDeliveryRecord.lease_owner == owner,
                   AlertDeliveryRecord.state == "in_flight")
            .values(state=state, lease_owner=None, lease_until=None, **values)
            .execution_options(synchronize_session=False)
        )
    if error is not None:
        log.warning("alert delivery %s to %s: %s (%s)", delivery_id, sink_name, state, error)
    return DeliveryOutcome(delivery_id, state, error)


def _claimable(row: AlertDeliveryRecord, now: datetime) -> bool:
    if row.state in CLAIMABLE:
        return row.next_attempt_at <= now
    return row.state == "in_flight" and row.lease_until is not None and row.lease_until < now


def due_ids(session: Session, *, now: datetime, ring_again_after: timedelta, limit: int = 500) -> list[int]:
    """Rows to ring: due and not rung since, or leased past expiry; marks them rung."""
    r = AlertDeliveryRecord
    due = and_(r.state.in_(CLAIMABLE), r.next_attempt_at <= now,
               or_(r.rung_at.is_(None), r.rung_at < r.next_attempt_at, r.rung_at < now - ring_again_after))
    expired = and_(r.state == "in_flight", r.lease_until < now,
                   or_(r.rung_at.is_(None), r.rung_at < r.lease_until))
    ids = list(session.scalars(select(r.id).where(or_(due, expired)).order_by(r.id).limit(limit)))
    if ids:
        session.execute(update(r).where(r.id.in_(ids)).values(rung_at=now).execution_options(synchronize_session=False))
    return ids
