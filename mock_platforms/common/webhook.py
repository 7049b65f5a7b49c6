"""Push delivery: POST each event to a webhook, re-sending the same event on a retry schedule."""

from __future__ import annotations

import asyncio
import json
import time
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import httpx

from mock_platforms.common.clock import SHANGHAI, iso_cn, now_cn

Signer = Callable[[bytes], Mapping[str, str]]
Acknowledged = Callable[[httpx.Response], bool]


@dataclass
class PushRecord:
    """One event and the state of its delivery."""

    event_id: str
    event_type: str
    order_no: str
    envelope: dict[str, Any]
    state: str = "pending"  # pending | delivered | gave_up | not_sent
    attempts: int = 0
    last_status: int | None = None
    last_error: str | None = None
    next_attempt_at: str | None = None
    delivered_at: str | None = None

    def as_json(self) -> dict[str, Any]:
        """Return the record as JSON-ready data."""
        return {
            "event_id": self.event_id,
            "event_type": self.event_type,
            "order_no": self.order_no,
            "state": self.state,
            "attempts": self.attempts,
            "last_status": self.last_status,
            "last_error": self.last_error,
            "next_attempt_at": self.next_attempt_at,
            "delivered_at": self.delivered_at,
            "body": self.envelope,
        }


class PushDispatcher:
    """Deliver events to `url` in background asyncio tasks of the running loop."""

    def __init__(
        self,
        url: str | None,
        *,
        signer: Signer,
        acknowledged: Acknowledged,
        retry_schedule: Sequence[float],
        timeout_s: float = 5.0,
        max_concurrency: int = 16,
        log_limit: int = 10_000,
    ) -> None:
        self.url = url
        self._signer = signer
        self._acknowledged = acknowledged
        self.retry_schedule = list(retry_schedule)
        self.timeout_s = timeout_s
        self._max_concurrency = max_concurrency
        self.records: dict[str, PushRecord] = {}
        self.attempt_log: deque[dict[str, Any]] = deque(maxlen=log_limit)
        self._tasks: set[asyncio.Task[None]] = set()
        self._client: httpx.AsyncClient | None = None
        self._gate: asyncio.Semaphore | None = None

    def submit(self, envelope: dict[str, Any]) -> PushRecord:
        """Queue an event envelope (must carry event_id, event_type, order_no) for delivery."""
        record = PushRecord(
            event_id=str(envelope["event_id"]),
            event_type=str(envelope["event_type"]),
            order_no=str(envelope["order_no"]),
            envelope=envelope,
        )
        self.records[record.event_id] = record
        if self.url is None:
            record.state = "not_sent"
            return record
        task = asyncio.get_running_loop().create_task(self._deliver(record, self.url))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return record

    async def _deliver(self, record: PushRecord, url: str) -> None:
        # One body for every attempt: the receiver dedupes on event_id and may compare bodies.
        payload = json.dumps(record.envelope, ensure_ascii=False).encode("utf-8")
        while True:
            if await self._attempt(record, url, payload):
                record.state = "delivered"
                record.delivered_at = iso_cn(now_cn())
                record.next_attempt_at = None
                return
            if record.attempts > len(self.retry_schedule):
                record.state = "gave_up"
                record.next_attempt_at = None
                return
            delay = self.retry_schedule[record.attempts - 1]
            record.next_attempt_at = iso_cn(datetime.fromtimestamp(time.time() + delay, SHANGHAI))
            await asyncio.sleep(delay)

    async def _attempt(self, record: PushRecord, url: str, payload: bytes) -> bool:
        if self._gate is None:
            self._gate = asyncio.Semaphore(self._max_concurrency)
        if self._client is None:
            # trust_env off: a proxy from the environment must not swallow loopback pushes.
            self._client = httpx.AsyncClient(timeout=self.timeout_s, trust_env=False)
        record.attempts += 1
        started = time.monotonic()
        status: int | None = None
        error: str | None = None
        ok = False
        async with self._gate:
            # Signed per attempt: a retry hours later needs a fresh timestamp and nonce.
            headers = {"Content-Type": "application/json; charset=utf-8", **self._signer(payload)}
            try:
                async with asyncio.timeout(self.timeout_s):
                    response = await self._client.post(url, content=payload, headers=headers)
                status = response.status_code
                ok = self._acknowledged(response)
                if not ok:
                    error = f"not acknowledged: HTTP {status} {response.text[:200]!r}"
            except (TimeoutError, httpx.HTTPError) as exc:
                error = f"{type(exc).__name__}: {exc}"
        record.last_status = status
        record.last_error = error
        self.attempt_log.append(
            {
                "event_id": record.event_id,
                "event_type": record.event_type,
                "order_no": record.order_no,
                "attempt": record.attempts,
                "at": iso_cn(now_cn()),
                "status": status,
                "ok": ok,
                "error": error,
                "duration_ms": round((time.monotonic() - started) * 1000),
            }
        )
        return ok

    def pending(self) -> int:
        """Return how many events still await delivery."""
        return sum(1 for record in self.records.values() if record.state == "pending")

    def as_json(self, *, event_type: str | None = None, order_no: str | None = None) -> dict[str, Any]:
        """Return the events and the attempt log, optionally filtered."""

        def wanted(item: Mapping[str, Any]) -> bool:
            return (event_type is None or item["event_type"] == event_type) and (
                order_no is None or item["order_no"] == order_no
            )

        events = [record.as_json() for record in self.records.values()]
        return {
            "url": self.url,
            "events": [event for event in events if wanted(event)],
            "attempts": [attempt for attempt in self.attempt_log if wanted(attempt)],
        }

    async def reset(self) -> None:
        """Cancel every delivery in flight and forget all events."""
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        self.records.clear()
        self.attempt_log.clear()

    async def aclose(self) -> None:
        """Stop deliveries and close the HTTP client."""
        await self.reset()
        if self._client is not None:
            await self._client.aclose()
            self._client = None
        self._gate = None
