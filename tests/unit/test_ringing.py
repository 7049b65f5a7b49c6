"""RingQueue: a ring never waits for the broker; what the broker cannot take is dropped and counted.

Issue 12 point 2: ringing the doorbell (telling workers a committed row is ready) must never block a
request or the webhook committer. Rings go into a bounded queue drained by one thread; a full queue or a
failing broker drops the ring (the sweeper rings the row again) and counts it for ``/metrics``.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

import pytest

from gateway.services.ringing import RingQueue


class Bell:
    """Records what it sends; ``gate`` (when set) holds every send until it opens; ``fail`` raises."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, Any]] = []
        self.threads: set[str] = set()
        self.gate: threading.Event | None = None
        self.entered = threading.Event()
        self.fail: Exception | None = None
        self.closed = False

    def _send(self, kind: str, arg: Any) -> None:
        self.threads.add(threading.current_thread().name)
        self.entered.set()
        if self.gate is not None:
            assert self.gate.wait(10), "the test never opened the gate"
        if self.fail is not None:
            raise self.fail
        self.sent.append((kind, arg))

    def inbox(self, ids: list[int]) -> None:
        self._send("inbox", ids)

    def outbox(self, ids: list[int]) -> None:
        self._send("outbox", ids)

    def poll(self, platform: str) -> None:
        self._send("poll", platform)

    def alerts(self, ids: list[int]) -> None:
        self._send("alerts", ids)

    def close(self) -> None:
        self.closed = True


def wait_for(predicate: Callable[[], Any], timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.01)


def ring_threads(name: str) -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == name]


def test_rings_are_delivered_in_order_from_one_background_thread() -> None:
    bell = Bell()
    rings = RingQueue(bell, capacity=10, name="ring-normal")
    rings.outbox([4, 5])
    rings.inbox(iter([9]))
    rings.poll("p12345")
    rings.alerts([7])
    assert rings.wait_idle(5)
    assert bell.sent == [("outbox", [4, 5]), ("inbox", [9]), ("poll", "p12345"), ("alerts", [7])]
    assert bell.threads == {"ring-normal"}  # not the caller's thread
    counts = rings.counts()
    assert (counts.sent, counts.queued, sum(counts.dropped.values())) == (4, 0, 0)
    rings.close(1)


def test_an_empty_ring_queues_nothing_and_starts_no_thread() -> None:
    rings = RingQueue(Bell(), name="ring-empty")
    rings.outbox([])
    rings.inbox([])
    rings.alerts([])
    assert rings.counts().sent == 0 and ring_threads("ring-empty") == []


def test_a_ring_that_finds_the_queue_full_is_dropped_and_counted_and_the_caller_never_waits() -> None:
    bell = Bell()
    bell.gate = threading.Event()  # the broker stalls: the thread holds the first ring
    rings = RingQueue(bell, capacity=2, name="ring-full")
    rings.outbox([1])
    assert bell.entered.wait(5)
    started = time.monotonic()
    rings.outbox([2])
    rings.outbox([3])  # the queue holds two
    rings.outbox([4])  # dropped: full
    rings.inbox([5])  # dropped: full
    returned_within = time.monotonic() - started
    counts = rings.counts()
    assert counts.dropped == {"full": 2, "broker": 0, "closed": 0}
    assert counts.queued == 2
    bell.gate.set()
    assert rings.wait_idle(5)
    assert bell.sent == [("outbox", [1]), ("outbox", [2]), ("outbox", [3])]  # the dropped ones never went
    assert rings.counts().sent == 3
    print(f"four rings during a stalled send returned in {returned_within * 1000:.1f} ms")
    rings.close(1)


def test_a_ring_the_broker_refuses_is_dropped_and_counted_and_later_rings_still_go() -> None:
    bell = Bell()
    bell.fail = ConnectionError("Redis is away")
    rings = RingQueue(bell, name="ring-broker")
    rings.outbox([1])
    rings.poll("mayor")
    assert rings.wait_idle(5)
    assert rings.counts().dropped == {"full": 0, "broker": 2, "closed": 0}
    bell.fail = None
    rings.outbox([2])
    assert rings.wait_idle(5)
    assert bell.sent == [("outbox", [2])] and rings.counts().sent == 1
    rings.close(1)


def test_the_thread_ends_when_idle_and_the_next_ring_starts_another() -> None:
    bell = Bell()
    rings = RingQueue(bell, idle_s=0.05, name="ring-idle")
    rings.outbox([1])
    assert rings.wait_idle(5)
    wait_for(lambda: ring_threads("ring-idle") == [])
    rings.outbox([2])
    assert rings.wait_idle(5)
    assert bell.sent == [("outbox", [1]), ("outbox", [2])]
    rings.close(1)
    assert ring_threads("ring-idle") == []


def test_close_sends_what_is_queued_and_ends_the_thread() -> None:
    bell = Bell()
    bell.gate = threading.Event()
    rings = RingQueue(bell, name="ring-close")
    rings.outbox([1])
    rings.outbox([2])
    assert bell.entered.wait(5)
    threading.Timer(0.1, bell.gate.set).start()  # the broker answers again while close waits
    rings.close(5)
    assert bell.sent == [("outbox", [1]), ("outbox", [2])] and bell.closed
    assert rings.counts().dropped["closed"] == 0
    assert ring_threads("ring-close") == []


def test_close_abandons_what_the_broker_does_not_take_in_time_counted_and_no_thread_is_left() -> None:
    bell = Bell()
    bell.gate = threading.Event()
    rings = RingQueue(bell, name="ring-abandon")
    rings.outbox([1])
    assert bell.entered.wait(5)
    rings.outbox([2])
    rings.outbox([3])
    closer = threading.Thread(target=rings.close, args=(0.1,))
    closer.start()
    wait_for(lambda: rings.counts().dropped["closed"] == 2)  # after the timeout, not when the broker answers
    bell.gate.set()  # the ring in hand ends (as a stalled Redis send ends at its socket timeout)
    closer.join(5)
    assert not closer.is_alive()
    assert bell.sent == [("outbox", [1])]  # the one in hand went; the two queued were dropped
    wait_for(lambda: ring_threads("ring-abandon") == [])
    rings.outbox([4])  # a ring after close starts again
    assert rings.wait_idle(5) and bell.sent[-1] == ("outbox", [4])
    rings.close(1)


@pytest.mark.parametrize("fail", [None, ConnectionError("refused")])
def test_inline_rings_go_in_the_callers_thread_and_failures_are_still_counted(fail: Exception | None) -> None:
    bell = Bell()
    bell.fail = fail
    rings = RingQueue(bell, inline=True, name="ring-inline")
    rings.outbox([1])  # the in-process broker (memory://) never blocks: sent before the call returns
    assert bell.threads == {threading.current_thread().name}
    counts = rings.counts()
    assert (counts.sent, counts.dropped["broker"]) == ((0, 1) if fail else (1, 0))
    assert ring_threads("ring-inline") == []


def test_a_failing_broker_logs_one_warning_not_one_per_ring(caplog: pytest.LogCaptureFixture) -> None:
    bell = Bell()
    bell.fail = ConnectionError("Redis is away")
    rings = RingQueue(bell, inline=True, name="ring-log")
    caplog.set_level("WARNING", logger="gateway.services.ringing")
    for row_id in range(50):
        rings.outbox([row_id])
    assert rings.counts().dropped["broker"] == 50
    warnings = [r.getMessage() for r in caplog.records if r.name == "gateway.services.ringing"]
    assert len(warnings) == 1 and "the sweeper rings it again" in warnings[0], warnings
