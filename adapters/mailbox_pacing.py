"""Client-side pacing for the 局长信箱 (PLATFORMS.md §4: 5 requests/s, 429 with ``Retry-After``).

A token bucket shared by every thread of one adapter: requests are spaced to ``rate_per_s`` (with a
burst of ``burst``), and a 429 pauses the whole bucket for the platform's ``Retry-After`` so the
other threads do not walk into the same wall. A caller that would have to wait longer than
``max_wait_s`` is not made to sleep: it gets ``RateLimited`` at once and the outbox (or the next
poll) tries later. The cross-process limit is the core's; this one keeps a single process polite.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from gateway.errors import RateLimited


class Pacer:
    """A thread-safe token bucket that sleeps the caller until its request may go out."""

    def __init__(
        self,
        rate_per_s: float,
        *,
        burst: int = 1,
        max_wait_s: float = 5.0,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if rate_per_s <= 0 or burst < 1:
            raise ValueError("rate_per_s must be positive and burst at least 1")
        self.interval = 1.0 / rate_per_s
        self.burst = burst
        self.max_wait_s = max_wait_s
        self._clock = clock
        self._sleep = sleep
        self._lock = threading.Lock()
        # GCRA: the theoretical arrival time of the next request; a burst may run ahead of it.
        self._tat = clock()
        self._paused_until = 0.0

    def acquire(self) -> None:
        """Wait for this request's slot; ``RateLimited`` when that would take longer than ``max_wait_s``."""
        with self._lock:
            now = self._clock()
            earliest = max(now, self._paused_until)
            tat = max(self._tat, earliest)
            start = max(tat - (self.burst - 1) * self.interval, earliest)
            wait = start - now
            if wait > self.max_wait_s:
                # Not reserved: a caller sent away must not push everyone else's slot later.
                raise RateLimited(f"局长信箱 pacing: next request slot in {wait:.2f}s", retry_after=wait)
            self._tat = tat + self.interval
        if wait > 0:
            self._sleep(wait)

    def pause(self, seconds: float) -> None:
        """Hold every request back for ``seconds`` (the platform's ``Retry-After``)."""
        with self._lock:
            self._paused_until = max(self._paused_until, self._clock() + max(0.0, seconds))
