"""The mailbox adapter's pacer: requests spaced below 5/s, Retry-After shared, no caller left sleeping long."""

from __future__ import annotations

import threading
import time

import pytest

from adapters.mailbox_pacing import Pacer
from gateway.errors import RateLimited


class FakeTime:
    """A clock that only moves when someone sleeps (or the test says so)."""

    def __init__(self, *, advance: bool = True) -> None:
        self.now = 500.0
        self.advance = advance  # False: callers arrive together, as threads do
        self.sleeps: list[float] = []

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(round(seconds, 6))
        if self.advance:
            self.now += seconds


def pacer(rate: float = 4.0, *, advance: bool = True, **options: float) -> tuple[Pacer, FakeTime]:
    fake = FakeTime(advance=advance)
    burst = int(options.pop("burst", 1))
    return Pacer(rate, burst=burst, clock=fake.clock, sleep=fake.sleep, **options), fake


def test_back_to_back_requests_are_spaced_one_interval_apart() -> None:
    gate, fake = pacer(4.0)

    for _ in range(4):
        gate.acquire()

    assert fake.sleeps == [0.25, 0.25, 0.25]


def test_a_burst_goes_out_at_once_and_then_the_rate_applies() -> None:
    gate, fake = pacer(2.0, burst=3)

    for _ in range(5):
        gate.acquire()

    assert fake.sleeps == [0.5, 0.5]


def test_an_idle_pacer_lets_the_next_request_through_without_waiting() -> None:
    gate, fake = pacer(4.0)
    gate.acquire()
    fake.now += 10

    gate.acquire()

    assert fake.sleeps == []


def test_a_caller_that_would_wait_too_long_is_sent_away_without_taking_a_slot() -> None:
    gate, fake = pacer(1.0, advance=False, max_wait_s=1.5)
    gate.acquire()
    gate.acquire()  # its slot is 1 s away

    with pytest.raises(RateLimited) as caught:
        gate.acquire()  # its slot would be 2 s away

    assert caught.value.retry_after == pytest.approx(2.0)
    fake.now += 1.0
    gate.acquire()  # the refused caller did not push this one later: 1 s, not 2 s
    assert fake.sleeps == [1.0, 1.0]


def test_a_pause_holds_every_request_back_until_retry_after_has_passed() -> None:
    gate, fake = pacer(4.0)
    gate.pause(3.0)

    gate.acquire()
    gate.acquire()

    assert fake.sleeps == [3.0, 0.25]


def test_a_pause_longer_than_the_longest_wait_sends_callers_away_with_the_remaining_time() -> None:
    gate, _ = pacer(4.0, max_wait_s=5.0)
    gate.pause(30.0)

    with pytest.raises(RateLimited) as caught:
        gate.acquire()

    assert caught.value.retry_after == pytest.approx(30.0)


@pytest.mark.parametrize(("rate", "burst"), [(0.0, 1), (-1.0, 1), (4.0, 0)])
def test_a_pacer_without_a_positive_rate_or_burst_is_refused(rate: float, burst: int) -> None:
    with pytest.raises(ValueError):
        Pacer(rate, burst=burst)


def test_threads_sharing_one_pacer_each_get_their_own_slot() -> None:
    gate = Pacer(100.0, max_wait_s=10.0)
    started = time.monotonic()

    def work() -> None:
        for _ in range(3):
            gate.acquire()

    threads = [threading.Thread(target=work) for _ in range(10)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert time.monotonic() - started >= 29 * 0.01 * 0.95  # 30 slots, 10 ms apart
