"""Group commit: concurrent requests share one transaction, one commit and one doorbell.

The webhook must answer ``{"code": 0}`` only after the event is committed, and a commit costs a
round trip and a WAL flush whatever it holds. One transaction per push made the webhook a third
of the echo ceiling (benchmarks/bench_pipeline.py); here each request hands its item to a
committer thread and awaits its own outcome, and the thread writes everything that queued up
while the previous commit was in flight in one go. Under light load a batch is one item, so
nothing waits for a batch to fill: latency is never traded for throughput.

A batch that fails as a whole (a row the database refuses, a deadlock, the database gone) is
retried one item at a time, so one bad item never fails its neighbours; an item that still
fails gets its exception back in its own request.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import queue
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

log = logging.getLogger(__name__)

T = TypeVar("T")
R = TypeVar("R")

@dataclass
class _Waiter(Generic[T]):
    item: T
    future: asyncio.Future[object]
    loop: asyncio.AbstractEventLoop


_STOP = object()


class GroupCommitter(Generic[T, R]):
    """Runs ``flush(batch) -> outcomes`` on its own threads for whatever requests have queued.

    ``flush`` gets up to ``max_batch`` items and returns one outcome per item, in order (a result,
    or an exception for that item alone); it raises when the batch as a whole failed. ``then``
    runs after the requests have their answers, with the items and outcomes (e.g. to ring
    workers): the answer never waits for it. ``closing`` runs once the threads have stopped.
    """

    def __init__(
        self,
        flush: Callable[[list[T]], Sequence[R | BaseException]],
        *,
        name: str,
        threads: int = 2,
        max_batch: int = 256,
        then: Callable[[list[T], list[R | BaseException]], None] | None = None,
        closing: Callable[[], None] | None = None,
    ) -> None:
        self._flush, self._then, self._closing, self._name = flush, then, closing, name
        self._threads_wanted, self.max_batch = threads, max_batch
        self._queue: queue.SimpleQueue[_Waiter[T] | object] = queue.SimpleQueue()
        self._threads: list[threading.Thread] = []
        self._lock = threading.Lock()
        self._closed = False
        self.batches = 0  # counters for tests and benchmarks
        self.items = 0

    async def submit(self, item: T) -> R:
        """Queue ``item`` for the next commit and wait for its outcome (raised if it is an exception)."""
        if not self._threads:
            self._start()
        if self._closed:
            raise RuntimeError(f"{self._name}: closed")
        loop = asyncio.get_running_loop()
        waiter = _Waiter(item, loop.create_future(), loop)
        self._queue.put(waiter)
        result = await waiter.future
        return result  # type: ignore[return-value]

    def close(self, timeout: float = 10.0) -> None:
        """Finish what is queued, then stop the threads."""
        with self._lock:
            self._closed = True
            threads, self._threads = self._threads, []
        if threads:
            log.info("%s: %d items in %d commits", self._name, self.items, self.batches)
        for _ in threads:
            self._queue.put(_STOP)
        for thread in threads:
            thread.join(timeout)
        if self._closing is not None:
            self._closing()

    def _start(self) -> None:
        with self._lock:
            if self._threads or self._closed:
                return
            for n in range(self._threads_wanted):
                thread = threading.Thread(target=self._run, name=f"{self._name}-{n}", daemon=True)
                thread.start()
                self._threads.append(thread)

    def _run(self) -> None:
        while True:
            first = self._queue.get()
            if first is _STOP:
                return
            batch: list[_Waiter[T]] = [first]  # type: ignore[list-item]
            stop = False
            while len(batch) < self.max_batch:
                try:
                    more = self._queue.get_nowait()
                except queue.Empty:
                    break
                if more is _STOP:
                    stop = True
                    break
                batch.append(more)  # type: ignore[arg-type]
            self._commit(batch)
            if stop:
                return

    def _commit(self, batch: list[_Waiter[T]]) -> None:
        items = [w.item for w in batch]
        outcomes = self._outcomes(items)
        self.batches += 1
        self.items += len(items)
        by_loop: dict[asyncio.AbstractEventLoop, list[tuple[asyncio.Future[object], object]]] = {}
        for waiter, outcome in zip(batch, outcomes, strict=True):
            by_loop.setdefault(waiter.loop, []).append((waiter.future, outcome))
        for loop, settled in by_loop.items():  # one wake-up per event loop, not one per request
            with contextlib.suppress(RuntimeError):  # that loop is gone (shutdown): nobody waits any more
                loop.call_soon_threadsafe(_settle, settled)
        if self._then is not None:
            try:
                self._then(items, outcomes)
            except Exception:
                log.exception("%s: after-commit step failed (the sweeper covers it)", self._name)

    def _outcomes(self, items: list[T]) -> list[R | BaseException]:
        try:
            return self._checked(items)
        except Exception as exc:
            if len(items) == 1:
                return [exc]
            log.warning("%s: batch of %d failed (%s); retrying one by one", self._name, len(items), exc)
        outcomes: list[R | BaseException] = []
        for item in items:
            try:
                outcomes.extend(self._checked([item]))
            except Exception as exc:
                outcomes.append(exc)
        return outcomes

    def _checked(self, items: list[T]) -> list[R | BaseException]:
        outcomes = list(self._flush(items))
        if len(outcomes) != len(items):
            raise RuntimeError(f"{self._name}: flush returned {len(outcomes)} outcomes for {len(items)} items")
        return outcomes


def _settle(settled: list[tuple[asyncio.Future[object], object]]) -> None:
    for future, outcome in settled:
        if future.done():  # the request was cancelled (client gone); its item is stored all the same
            continue
        if isinstance(outcome, BaseException):
            future.set_exception(outcome)
        else:
            future.set_result(outcome)
