"""Our own pace toward each platform, shared by every worker process when the broker is Redis."""

from __future__ import annotations

import threading
import time
from collections.abc import Mapping

from limits import RateLimitItemPerSecond
from limits.storage import storage_from_string
from limits.strategies import MovingWindowRateLimiter


class PlatformPacer:
    """Blocks a worker thread until a request to the platform fits in its per-second budget."""

    def __init__(self, rates: Mapping[str, float], storage_url: str = "memory://") -> None:
        # limits speaks redis://; anything else (memory://, amqp://) paces within this process only.
        url = storage_url if storage_url.startswith(("redis://", "rediss://")) else "memory://"
        self._limiter = MovingWindowRateLimiter(storage_from_string(url))
        self._items = {key: RateLimitItemPerSecond(max(1, int(rate))) for key, rate in rates.items()}
        self._lock = threading.Lock()

    def wait(self, platform: str, *, timeout: float = 30.0) -> bool:
        """Take one request slot (waiting for it); False if none came within ``timeout`` seconds."""
        item = self._items.get(platform)
        if item is None:
            return True
        deadline = time.monotonic() + timeout
        while True:
            with self._lock:
                if self._limiter.hit(item, "hotline-gateway", platform):
                    return True
                stats = self._limiter.get_window_stats(item, "hotline-gateway", platform)
            pause = min(max(stats.reset_time - time.time(), 0.01), 1.0)
            if time.monotonic() + pause > deadline:
                return False
            time.sleep(pause)
