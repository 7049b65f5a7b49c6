"""A sliding-window rate limiter keyed by client identity."""

from __future__ import annotations

import math
from collections import deque


class SlidingWindowLimiter:
    """Allow at most `limit` calls per `window_s` seconds per key.

    A sliding log rather than a token bucket: "20 requests/s" then means exactly that for any
    one-second span, which is what a client honouring the limit will assume.
    """

    def __init__(self, limit: int, window_s: float = 1.0) -> None:
        self.limit = limit
        self.window_s = window_s
        self._hits: dict[str, deque[float]] = {}
        self.rejected = 0

    def hit(self, key: str, now: float) -> int | None:
        """Record a call at `now`; return None if allowed, else the Retry-After seconds (≥ 1)."""
        if self.limit <= 0:
            return None
        hits = self._hits.setdefault(key, deque())
        while hits and hits[0] <= now - self.window_s:
            hits.popleft()
        if len(hits) >= self.limit:
            self.rejected += 1
            wait = hits[0] + self.window_s - now
            return max(1, math.ceil(wait))
        hits.append(now)
        return None

    def reset(self) -> None:
        """Forget all recorded calls."""
        self._hits.clear()
        self.rejected = 0
