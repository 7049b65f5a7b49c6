"""A delivering process's heartbeat, so the leases it holds are known abandoned within seconds of its death.

The outbox lease (``OUTBOX__LEASE_S``, 60 s) stays: it bounds how long a *frozen* owner that never
beat can hold a row. A process that beats every ``OUTBOX__HEARTBEAT_S`` and then stops (killed,
crashed, frozen) has its leases treated as expired once its heartbeat is ``OUTBOX__OWNER_TTL_S``
old: the sweeper rings the row and the next worker reads back before anything is re-sent.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import datetime, timedelta

from sqlalchemy.orm import Session, sessionmaker

from gateway.store import liveness
from gateway.store.db import brief, in_transaction

log = logging.getLogger(__name__)


class Heartbeat:
    """Beats for ``owner`` on a daemon thread until stopped."""

    def __init__(self, sessions: sessionmaker[Session], *, owner: str, clock: Callable[[], datetime],
                 interval_s: float, ttl_s: float) -> None:
        self.sessions, self.owner, self.clock = sessions, owner, clock
        self.interval_s, self.ttl = interval_s, timedelta(seconds=ttl_s)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._failing = False

    def beat(self) -> bool:
        """One beat; False (logged once per outage, never raised) when the database is unavailable."""
        try:
            in_transaction(self.sessions, lambda s: liveness.beat(s, owner=self.owner, now=self.clock(), ttl=self.ttl),
                           what="heartbeat")
        except Exception as exc:
            if not self._failing:
                log.warning("heartbeat of %s not written (%s); retrying every %.0fs", self.owner, brief(exc),
                            self.interval_s)
            self._failing = True
            return False
        if self._failing:
            log.info("heartbeat of %s written again", self.owner)
        self._failing = False
        return True

    def start(self) -> None:
        """Beat now, then every ``interval_s`` on a daemon thread."""
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="heartbeat", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop beating; the heartbeat runs out by itself (leases still held are then reclaimed)."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
            self._thread = None

    def _run(self) -> None:
        while not self._stop.is_set():
            self.beat()
            self._stop.wait(self.interval_s)
