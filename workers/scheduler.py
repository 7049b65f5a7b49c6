"""The scheduler: ticks polls, the outbox/inbox sweeper, housekeeping, the SLA engine and the bulletins.

Safe to run two: one holds the ``scheduler`` lease and ticks; the other waits to take over. Every
tick is idempotent anyway (rings are conditional on ``rung_at``; claims are conditional updates).
The SLA engine runs in its own thread while this process leads, sleeping until the next threshold
instant (``gateway.sla.engine``); its alerts are exactly once even if both processes ran it. Bulletins
(日提醒, 周反馈, 月通报, 12389 分析) are looked for once a minute and made once per period: the ``bulletins`` row
is unique per kind and period, so two schedulers that both ran it still make one (``gateway.services.bulletins``).
"""

from __future__ import annotations

import logging
import threading
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from gateway.services import bulletins, inbound
from gateway.sla.engine import Rings, SlaEngine
from gateway.sla.runtime import runtime_for_engine
from gateway.store import liveness, locks, outbox
from gateway.store.db import DatabaseUnavailable, retry_on_disconnect, transaction

if TYPE_CHECKING:
    from gateway.container import Container

log = logging.getLogger(__name__)
BULLETIN_CHECK = timedelta(seconds=60)


class Scheduler:
    """Periodic work for one deployment."""

    def __init__(self, container: Container) -> None:
        self.c = container
        self._last_poll: dict[str, datetime] = {}
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._lead_until: datetime | None = None
        self.sla = SlaEngine(container.sessions, runtime=runtime_for_engine(container.engine), clock=container.clock,
                             rings=Rings(deliveries=container.doorbell.alerts, outbox=container.doorbell.outbox))
        self._sla_thread: threading.Thread | None = None
        self._bulletins_done: set[str] = set()  # periods this process knows are made
        self._next_bulletins: datetime | None = None

    def leading(self) -> bool:
        """Whether this process holds an unexpired scheduler lease (the SLA thread asks)."""
        return self._lead_until is not None and self.c.clock() < self._lead_until

    def tick(self) -> dict[str, int]:
        """One round: if we lead, ring what is due. Returns counts, for logs and tests.

        A lost database connection is retried once on a fresh one (every step is idempotent); if the
        database is still away this raises ``DatabaseUnavailable`` and ``run`` logs one line.
        """
        return retry_on_disconnect(self._tick, what="scheduler tick")

    def _tick(self) -> dict[str, int]:
        c, now = self.c, self.c.clock()
        ring_again = timedelta(seconds=c.settings.outbox.ring_again_after_s)
        with transaction(c.sessions) as session:
            lead = locks.acquire(session, name="scheduler", owner=c.owner,
                                 ttl=timedelta(seconds=c.settings.scheduler.lock_ttl_s), now=now)
        if not lead:
            self._lead_until = None
            return {"leader": 0}
        self._lead_until = now + timedelta(seconds=c.settings.scheduler.lock_ttl_s / 2)
        with transaction(c.sessions) as session:
            out_ids = outbox.due_ids(session, now=now, ring_again_after=ring_again)
            in_ids = inbound.due_inbox_ids(session, now=now, ring_again_after=ring_again)
            inbound.purge_nonces(session, older_than=now - timedelta(seconds=900))
            # Heartbeats that ran out a lease ago: no lease of theirs is left to judge by them.
            liveness.purge(session, expired_before=now - timedelta(seconds=c.settings.outbox.lease_s))
        c.doorbell.outbox(out_ids)
        c.doorbell.inbox(in_ids)
        polled = 0
        for key, platform in c.settings.platforms.enabled().items():
            last = self._last_poll.get(key)
            if last is None or (now - last).total_seconds() >= platform.poll_interval_s:
                self._last_poll[key] = now
                c.doorbell.poll(key)
                polled += 1
        made = self.bulletins(now)
        return {"leader": 1, "outbox": len(out_ids), "inbox": len(in_ids), "polls": polled, "bulletins": made}

    def bulletins(self, now: datetime) -> int:
        """Generate the bulletins due now (at most once a minute); returns how many this process made."""
        if self._next_bulletins is not None and now < self._next_bulletins:
            return 0
        self._next_bulletins = now + BULLETIN_CHECK
        made = bulletins.generate_due(self.c.sessions, settings=self.c.settings, now=now, done=self._bulletins_done,
                                      ring=self.c.doorbell.alerts)
        for bulletin_id in made:
            log.info("bulletin %s generated", bulletin_id)
        return len(made)

    def run(self) -> None:
        """Tick until ``stop``; a failing tick is logged and the loop goes on."""
        interval = self.c.settings.scheduler.sweep_interval_s
        while not self._stop.is_set():
            self.run_once()
            self._stop.wait(interval)

    def run_once(self) -> None:
        """One tick of ``run``: a database that is away is one log line; anything else a traceback."""
        try:
            self.tick()
        except DatabaseUnavailable as exc:
            log.warning("%s; the next tick tries again", exc)
        except Exception:
            log.exception("scheduler tick failed")

    def start(self) -> None:
        """Run in a daemon thread (embedded mode)."""
        self._thread = threading.Thread(target=self.run, name="scheduler", daemon=True)
        self._thread.start()
        self._sla_thread = threading.Thread(target=self.sla.run, args=(self._stop, self.leading), name="sla",
                                            daemon=True)
        self._sla_thread.start()

    def stop(self) -> None:
        """Stop the loop and give up the lease."""
        self._stop.set()
        self.sla.stop_waiting()
        if self._thread:
            self._thread.join(timeout=10)
        if self._sla_thread:
            self._sla_thread.join(timeout=10)
        try:
            with transaction(self.c.sessions) as session:
                locks.release(session, name="scheduler", owner=self.c.owner)
        except Exception as exc:  # the lease then simply runs out
            log.warning("scheduler lease not released: %s", type(exc).__name__)
