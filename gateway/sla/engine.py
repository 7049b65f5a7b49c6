"""The SLA engine: sleeps until the next threshold instant, then emits what is due — not a slow poll.

A heap holds the instants of the thresholds due within ``horizon_s`` (refreshed from the
``next_alert_at`` index every ``refresh_interval_s``, and fed at once by in-process commits that
change timers). The loop sleeps until the earliest of: the heap's top, the next refresh, the next
housekeeping, the next safety sweep. What is due is always read back from the database, so the heap
can be stale or lost without harm; the unique dedup key keeps every alert exactly once.
"""

from __future__ import annotations

import heapq
import logging
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import exists, select
from sqlalchemy.orm import Session, sessionmaker

from gateway.alerts import delivery as alert_delivery
from gateway.alerts.sinks import routes as sink_routes
from gateway.services import intervention
from gateway.sla import housekeeping
from gateway.sla.emit import EmitReport, emit_due
from gateway.sla.recompute import apply_policy
from gateway.sla.runtime import Hint, SlaRuntime
from gateway.sla.timers import sync_ticket
from gateway.store.db import DatabaseUnavailable, retry_on_disconnect, transaction
from gateway.store.tables import TicketRecord
from gateway.store.tables_sla import SlaTimerRecord

log = logging.getLogger(__name__)
Ring = Callable[[Sequence[int]], None]


@dataclass
class Rings:
    """Doorbells to ring after commit: alert deliveries and outbox rows (auto sign-off)."""

    deliveries: Ring
    outbox: Ring


class SlaEngine:
    """Emits SLA alerts at their instant; safe to run in several processes at once."""

    def __init__(self, sessions: sessionmaker[Session], *, runtime: SlaRuntime, clock: Callable[[], datetime],
                 rings: Rings, before_commit: Callable[[], None] | None = None) -> None:
        self.sessions, self.runtime, self.clock, self.rings = sessions, runtime, clock, rings
        self.routes = sink_routes(runtime.alerts)
        self.before_commit = before_commit  # test seam: runs inside each emitting transaction
        self._heap: list[Hint] = []
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._next_refresh = self._next_house = self._next_sweep = datetime.min.replace(tzinfo=None)
        self._backfilled = False

    # -- in-process wake-ups -------------------------------------------------------------------
    def hint(self, hints: Sequence[Hint]) -> None:
        """Timers changed in this process: push their instants and wake the loop."""
        horizon = self.clock() + timedelta(seconds=self.runtime.sla.horizon_s)
        with self._lock:
            for hint in hints:
                if hint[0] <= horizon:
                    heapq.heappush(self._heap, hint)
        self._wake.set()

    def refresh(self, now: datetime) -> int:
        """Reload the heap from the database: thresholds due within the horizon."""
        sla = self.runtime.sla
        with self.sessions() as session:
            rows = session.execute(
                select(SlaTimerRecord.next_alert_at, SlaTimerRecord.id)
                .where(SlaTimerRecord.next_alert_at <= now + timedelta(seconds=sla.horizon_s))
                .order_by(SlaTimerRecord.next_alert_at).limit(sla.heap_limit)
            ).all()
        with self._lock:
            self._heap = [(at, timer_id) for at, timer_id in rows if at is not None]
            heapq.heapify(self._heap)
        return len(rows)

    def next_instant(self) -> datetime | None:
        """The earliest threshold instant in the heap."""
        with self._lock:
            return self._heap[0][0] if self._heap else None

    # -- work ------------------------------------------------------------------------------------
    def fire_due(self, now: datetime) -> EmitReport:
        """Emit everything due now, batch by batch, and ring the deliveries."""
        with self._lock:
            while self._heap and self._heap[0][0] <= now:
                heapq.heappop(self._heap)
        total = EmitReport()
        for _ in range(10_000):  # bounded: a row that would not advance cannot spin the loop forever
            with transaction(self.sessions) as session:
                report = emit_due(session, runtime=self.runtime, routes=self.routes, now=now,
                                  limit=self.runtime.sla.batch_size, before_commit=self.before_commit)
            self.rings.deliveries(report.deliveries)
            total.timers += report.timers
            total.alerts += report.alerts
            total.deliveries += report.deliveries
            if report.timers < self.runtime.sla.batch_size:
                break
        return total

    def housekeeping(self, now: datetime) -> dict[str, int]:
        """Repeats, escalations, the calendar alert, auto sign-off and re-ringing deliveries."""
        rt, routes = self.runtime, self.routes
        with transaction(self.sessions) as session:
            repeats = housekeeping.repeat_breaches(session, runtime=rt, routes=routes, now=now)
            escalations = housekeeping.escalate_breaches(session, runtime=rt, routes=routes, now=now)
            calendar = housekeeping.calendar_missing(session, runtime=rt, routes=routes, now=now)
        self.rings.deliveries([*repeats, *escalations, *calendar])
        with transaction(self.sessions) as session:  # 提级介入 (000 提级介入调查制度 一), its own transaction
            raised = intervention.sweep(session, policy=rt.alerts.intervention, routes=routes,
                                        group_max=rt.alerts.group_max_lines, now=now)
        self.rings.deliveries(raised)
        outbox_ids, signed = housekeeping.auto_sign(self.sessions, runtime=rt, routes=routes, now=now)
        self.rings.outbox(outbox_ids)
        self.rings.deliveries(signed)
        with transaction(self.sessions) as session:
            due = alert_delivery.due_ids(session, now=now, ring_again_after=timedelta(seconds=30))
        self.rings.deliveries(due)
        return {"repeats": len(repeats), "escalations": len(escalations), "calendar": len(calendar),
                "interventions": len(raised),
                "auto_signed": len(outbox_ids), "rerung": len(due)}

    def backfill(self, now: datetime, limit: int = 500) -> int:
        """Give timers to open tickets that have none (tickets from before the SLA tables existed)."""
        with self.sessions() as session:
            ids = list(session.scalars(
                select(TicketRecord.id)
                .where(TicketRecord.status.not_in(("closed", "returned")))
                .where(~exists().where(SlaTimerRecord.ticket_id == TicketRecord.id))
                .limit(limit)
            ))
        for ticket_id in ids:
            with transaction(self.sessions) as session:
                ticket = session.get_one(TicketRecord, ticket_id, with_for_update=True)
                sync_ticket(session, ticket=ticket, now=now, reason="sla_backfill")
        return len(ids)

    def apply_policy(self, now: datetime) -> int | None:
        """After the deadline policy changed (a new profile or override): every open deadline recomputed."""
        with transaction(self.sessions) as session:
            report = apply_policy(session, runtime=self.runtime, now=now)
        if report is not None:
            log.info("deadline policy %s applied: %s open timers, %s moved", self.runtime.sla.profile,
                     report.scanned, report.changed)
        return None if report is None else report.changed

    def step(self, now: datetime) -> float:
        """Do whatever is due at ``now``; returns seconds until something else is due."""
        sla = self.runtime.sla
        if not self._backfilled:
            self.apply_policy(now)
            self.backfill(now)
            self._backfilled = True
        if _naive(now) >= self._next_refresh:
            self.refresh(now)
            self._next_refresh = _naive(now + timedelta(seconds=sla.refresh_interval_s))
        top = self.next_instant()
        if _naive(now) >= self._next_sweep or (top is not None and top <= now):
            self.fire_due(now)  # the safety sweep is the same query, without waiting for the heap
            if _naive(now) >= self._next_sweep:
                self._next_sweep = _naive(now + timedelta(seconds=sla.sweep_interval_s))
        if _naive(now) >= self._next_house:
            self.housekeeping(now)
            self._next_house = _naive(now + timedelta(seconds=sla.housekeeping_interval_s))
        top = self.next_instant()
        wakes = [self._next_refresh, self._next_sweep, self._next_house]
        if top is not None:
            wakes.append(_naive(top))
        return max(0.0, (min(wakes) - _naive(now)).total_seconds())

    def run(self, stop: threading.Event, leading: Callable[[], bool]) -> None:
        """Loop until ``stop``: step while this process leads, sleep until the next instant or a wake-up."""
        remove = self.runtime.listen(self.hint)
        try:
            while not stop.is_set():
                wait = 1.0
                if leading():
                    wait = min(self.step_once(), self.runtime.sla.refresh_interval_s)
                if self._wake.wait(timeout=wait):
                    self._wake.clear()
        finally:
            remove()

    def step_once(self) -> float:
        """One ``step`` for the loop: a lost connection is retried once on a fresh one (each part of a
        step is idempotent and marks itself done only when it committed); a database still away is
        one log line, anything else a traceback. Returns seconds to wait."""
        try:
            return retry_on_disconnect(lambda: self.step(self.clock()), what="SLA tick")
        except DatabaseUnavailable as exc:
            log.warning("%s; the next tick tries again", exc)
        except Exception:
            log.exception("SLA engine step failed")
        return 1.0

    def stop_waiting(self) -> None:
        """Wake the loop (used on stop)."""
        self._wake.set()


def _naive(moment: datetime) -> datetime:
    # Bookkeeping instants compare as naive UTC so the initial datetime.min needs no zone.
    return moment.replace(tzinfo=None) if moment.tzinfo is None else moment.astimezone(UTC).replace(tzinfo=None)
