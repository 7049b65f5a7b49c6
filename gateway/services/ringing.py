"""Ringing the doorbell without waiting for the broker (issue 12 point 2).

A ring tells workers that a committed row is ready. It used to be a synchronous broker call in the
caller's thread, so a stalled Redis (``CLIENT PAUSE``, a failover) stalled whatever rang: the webhook
committer and every operator action (``POST …/sign-off`` took 13 s). The row is already committed and
the scheduler's sweeper rings every due row again, so a ring is best-effort: ``RingQueue`` puts it in
a bounded in-process queue and returns; one background thread sends the queued rings through the
``Bell`` (whose connection has short timeouts). A ring that finds the queue full, or that the broker
refuses or does not take in time, is dropped and counted (``/metrics``): it costs the row latency up
to ``OUTBOX__RING_AGAIN_AFTER_S`` plus one sweep, never the row.

The thread starts on the first ring and ends after a few idle seconds (a new ring starts it again),
so a process that rings nothing holds no thread. ``close`` sends what is queued for at most its
timeout, drops the rest (counted) and joins the thread. An in-process broker (``memory://``) never
blocks, so it is rung ``inline``: in the caller's thread, as before, failures still counted.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import partial

from gateway.ports import Bell

log = logging.getLogger(__name__)

WARN_EVERY_S = 10.0  # while rings keep being dropped, one warning per this many seconds (the rest at debug)
REASONS = ("full", "broker", "closed")


@dataclass(frozen=True)
class RingCounts:
    """What this process's doorbell did since it started (for ``/metrics``)."""

    sent: int
    dropped: dict[str, int]  # reason → rings: "full" (queue full), "broker" (refused or timed out), "closed"
    queued: int  # waiting in the queue now


@dataclass(frozen=True)
class _Ring:
    what: str  # for the log: "outbox [4, 5]"
    send: Callable[[], None]


class RingQueue:
    """A ``Doorbell`` that never blocks its caller: a bounded queue drained by one thread into a ``Bell``."""

    def __init__(self, bell: Bell, *, capacity: int = 1000, inline: bool = False, idle_s: float = 5.0,
                 name: str = "doorbell") -> None:
        self.bell, self.capacity, self.inline, self.idle_s, self.name = bell, capacity, inline, idle_s, name
        self._items: deque[_Ring] = deque()
        self._cond = threading.Condition()
        self._thread: threading.Thread | None = None
        self._busy = 0  # rings taken from the queue and being sent
        self._sent = 0
        self._dropped = dict.fromkeys(REASONS, 0)
        self._warned_at = float("-inf")

    # --- the Doorbell port -------------------------------------------------------------------------------

    def inbox(self, ids: Iterable[int]) -> None:
        """Ring these inbox rows (later, from the ring thread)."""
        if ids := list(ids):
            self._submit(_Ring(f"inbox {ids}", partial(self.bell.inbox, ids)))

    def outbox(self, ids: Iterable[int]) -> None:
        """Ring these outbox rows (later, from the ring thread)."""
        if ids := list(ids):
            self._submit(_Ring(f"outbox {ids}", partial(self.bell.outbox, ids)))

    def poll(self, platform: str) -> None:
        """Ring one pull cycle of ``platform``."""
        self._submit(_Ring(f"poll {platform}", partial(self.bell.poll, platform)))

    def alerts(self, ids: Iterable[int]) -> None:
        """Ring these alert deliveries."""
        if ids := list(ids):
            self._submit(_Ring(f"alerts {ids}", partial(self.bell.alerts, ids)))

    # --- state -------------------------------------------------------------------------------------------

    def counts(self) -> RingCounts:
        """Rings sent and dropped so far, and the queue's depth now."""
        with self._cond:
            return RingCounts(sent=self._sent, dropped=dict(self._dropped), queued=len(self._items))

    def wait_idle(self, timeout: float) -> bool:
        """Wait until every queued ring was sent or dropped; False if ``timeout`` seconds passed first."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while self._items or self._busy:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._cond.wait(left)
            return True

    def close(self, timeout: float = 2.0) -> None:
        """Send what is queued for at most ``timeout`` seconds, drop the rest (counted), end the thread.

        A ring after ``close`` starts a new thread, as the first ring did.
        """
        deadline = time.monotonic() + timeout
        with self._cond:
            while (self._items or self._busy) and self._thread is not None:
                left = deadline - time.monotonic()
                if left <= 0:
                    break
                self._cond.wait(left)
            abandoned = len(self._items)
            self._items.clear()
            self._dropped["closed"] += abandoned
            thread, self._thread = self._thread, None  # detached: it ends after the ring in hand, if any
            self._cond.notify_all()
        if abandoned:
            log.warning("%s closing: %d queued rings dropped; the sweeper rings their rows again", self.name,
                        abandoned)
        if thread is not None:
            # A ring in hand takes at most the bell's timeouts; the thread is a daemon either way.
            thread.join(max(deadline - time.monotonic(), 0.0) + 1.0)
        self.bell.close()

    # --- inside ------------------------------------------------------------------------------------------

    def _submit(self, ring: _Ring) -> None:
        if self.inline:
            self._send(ring)
            return
        with self._cond:
            if len(self._items) >= self.capacity:
                self._dropped["full"] += 1
                full = True
            else:
                full = False
                self._items.append(ring)
                if self._thread is None:
                    self._thread = threading.Thread(target=self._drain, name=self.name, daemon=True)
                    self._thread.start()
                self._cond.notify_all()
        if full:
            self._warn("%s: queue full (%d rings), %s dropped; the sweeper rings it again", self.name,
                       self.capacity, ring.what)

    def _drain(self) -> None:
        me = threading.current_thread()
        while True:
            with self._cond:
                while self._thread is me and not self._items:
                    if not self._cond.wait(self.idle_s) and not self._items and self._thread is me:
                        self._thread = None  # idle: end; the next ring starts a new thread
                        return
                if self._thread is not me:  # closed (or replaced): leave the queue to its owner
                    return
                ring = self._items.popleft()
                self._busy += 1
            try:
                self._send(ring)
            finally:
                with self._cond:
                    self._busy -= 1
                    self._cond.notify_all()

    def _send(self, ring: _Ring) -> None:
        try:
            ring.send()
        except Exception as exc:  # broker away, refused or too slow: the row is safe in the database
            with self._cond:
                self._dropped["broker"] += 1
            self._warn("%s: could not ring %s: %s: %s; the sweeper rings it again", self.name, ring.what,
                       type(exc).__name__, exc)
        else:
            with self._cond:
                self._sent += 1

    def _warn(self, message: str, *args: object) -> None:
        """One warning per ``WARN_EVERY_S`` while drops go on (a Redis outage must not flood the log)."""
        now = time.monotonic()
        with self._cond:
            loud = now - self._warned_at >= WARN_EVERY_S
            if loud:
                self._warned_at = now
        log.log(logging.WARNING if loud else logging.DEBUG, message, *args)
