"""Deliver one alert notification to one sink: claim with a lease, send, record the outcome.

The outbox pattern again, for sinks: rows are written in the transaction that emits the alerts, a
worker claims one with a conditional UPDATE, and the scheduler re-rings rows that are due or whose
lease expired. A sink's failure is recorded on its own row and retried with backoff; the others go on.
"""

from __future__ import annotations

import logging
import random
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, or_, select, update
from sqlalchemy.orm import Session, sessionmaker

from gateway.alerts.sinks import AlertSink, Notification, SinkError
from gateway.settings import AlertSettings
from gateway.store.db import transaction
from gateway.store.tables_sla import AlertDeliveryRecord

log = logging.getLogger(__name__)
CLAIMABLE = ("pending", "retry")


@dataclass(frozen=True)
class DeliveryOutcome:
    """What one attempt did (None: not claimed — not due, or owned by another worker)."""

    delivery_id: int
    state: str | None
    error: str | None = None


def deliver(
    sessions: sessionmaker[Session], *, delivery_id: int, sinks: Mapping[str, AlertSink], config: AlertSettings,
    owner: str, clock: Callable[[], datetime],
) -> DeliveryOutcome:
    """Send one delivery row if it is ours to send; every outcome is recorded."""
    now = clock()
    with transaction(sessions) as session:
        row = session.get(AlertDeliveryRecord, delivery_id, populate_existing=True)
        if row is None or not _claimable(row, now):
            return DeliveryOutcome(delivery_id, None)
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
