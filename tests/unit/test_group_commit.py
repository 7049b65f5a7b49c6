"""Group commit: concurrent requests share a commit, and each still gets its own answer."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator

import pytest

from gateway.services.group_commit import GroupCommitter

WAIT = 10.0  # generous bound for events and futures; never a sleep


class Recorder:
    """A flush that records its batches; the first batch can be held until the test releases it."""

    def __init__(self, *, hold_first: bool = False, poison: frozenset[int] = frozenset()) -> None:
        self.batches: list[list[int]] = []
        self.entered = threading.Event()
        self.release = threading.Event()
        if not hold_first:
            self.release.set()
        self.poison = poison
        self.lock = threading.Lock()

    def __call__(self, items: list[int]) -> list[object]:
        with self.lock:
            self.batches.append(list(items))
            first = len(self.batches) == 1
        if first:
            self.entered.set()
            assert self.release.wait(WAIT)
        if self.poison & set(items):  # the database refuses the whole batch
            raise ValueError(f"refused: {sorted(self.poison & set(items))}")
        return [ValueError(f"item {i} rejected") if i < 0 else i * 10 for i in items]


@pytest.fixture
def recorder() -> Iterator[Recorder]:
    rec = Recorder(hold_first=True)
    yield rec
    rec.release.set()


def run(coro: object) -> object:
    return asyncio.run(asyncio.wait_for(coro, WAIT))  # type: ignore[arg-type]


def test_requests_arriving_during_a_commit_share_the_next_one(recorder: Recorder) -> None:
    committer: GroupCommitter[int, object] = GroupCommitter(recorder, name="t", threads=1)

    async def scenario() -> list[object]:
        first = asyncio.ensure_future(committer.submit(1))
        assert await asyncio.to_thread(recorder.entered.wait, WAIT)  # the first commit is in flight
        rest = [asyncio.ensure_future(committer.submit(i)) for i in range(2, 12)]
        await asyncio.sleep(0)  # one loop turn: each submit has queued its item and awaits its answer
        assert committer._queue.qsize() == 10  # all ten wait behind the commit in flight
        recorder.release.set()
        return list(await asyncio.gather(first, *rest))

    try:
        answers = run(scenario())
    finally:
        committer.close()
    assert answers == [i * 10 for i in range(1, 12)]  # each request gets its own item's outcome
    assert recorder.batches == [[1], list(range(2, 12))]  # two commits for eleven requests
    assert (committer.batches, committer.items) == (2, 11)


def test_an_outcome_that_is_an_exception_is_raised_in_its_own_request_only() -> None:
    committer: GroupCommitter[int, object] = GroupCommitter(Recorder(), name="t", threads=1)

    async def scenario() -> list[object]:
        return list(await asyncio.gather(committer.submit(3), committer.submit(-1), committer.submit(4),
                                         return_exceptions=True))

    try:
        answers = run(scenario())
    finally:
        committer.close()
    assert answers[0] == 30 and answers[2] == 40
    assert isinstance(answers[1], ValueError) and "item -1 rejected" in str(answers[1])


def test_a_batch_refused_as_a_whole_is_retried_one_by_one_so_only_the_bad_item_fails() -> None:
    recorder = Recorder(hold_first=True, poison=frozenset({7}))
    committer: GroupCommitter[int, object] = GroupCommitter(recorder, name="t", threads=1)

    async def scenario() -> list[object]:
        first = asyncio.ensure_future(committer.submit(1))
        assert await asyncio.to_thread(recorder.entered.wait, WAIT)
        rest = [asyncio.ensure_future(committer.submit(i)) for i in (5, 7, 9)]
        await asyncio.sleep(0)
        assert committer._queue.qsize() == 3
        recorder.release.set()
        return list(await asyncio.gather(first, *rest, return_exceptions=True))

    try:
        answers = run(scenario())
    finally:
        committer.close()
    assert answers[:2] == [10, 50] and answers[3] == 90
    assert isinstance(answers[2], ValueError) and "refused: [7]" in str(answers[2])
    assert recorder.batches == [[1], [5, 7, 9], [5], [7], [9]]


def test_the_after_commit_step_sees_every_outcome_and_cannot_break_an_answer() -> None:
    seen: list[tuple[list[int], list[object]]] = []

    def then(items: list[int], outcomes: list[object]) -> None:
        seen.append((items, outcomes))
        raise RuntimeError("broker down")  # logged; the answers are already out

    committer: GroupCommitter[int, object] = GroupCommitter(Recorder(), name="t", threads=1, then=then)
    try:
        assert run(committer.submit(2)) == 20
    finally:
        committer.close()
    assert seen == [([2], [20])]


def test_close_commits_what_is_queued_then_runs_closing(recorder: Recorder) -> None:
    closed = threading.Event()
    committer: GroupCommitter[int, object] = GroupCommitter(recorder, name="t", threads=2, closing=closed.set)

    async def scenario() -> list[object]:
        futures = [asyncio.ensure_future(committer.submit(i)) for i in range(1, 6)]
        assert await asyncio.to_thread(recorder.entered.wait, WAIT)
        closer = asyncio.ensure_future(asyncio.to_thread(committer.close))
        recorder.release.set()
        answers = list(await asyncio.gather(*futures))
        await closer
        return answers

    assert run(scenario()) == [10, 20, 30, 40, 50]
    assert closed.is_set()
    assert sorted(i for batch in recorder.batches for i in batch) == [1, 2, 3, 4, 5]
    with pytest.raises(RuntimeError, match="closed"):
        run(committer.submit(6))


def test_a_request_cancelled_while_waiting_still_has_its_item_committed(recorder: Recorder) -> None:
    committer: GroupCommitter[int, object] = GroupCommitter(recorder, name="t", threads=1)

    async def scenario() -> object:
        gone = asyncio.ensure_future(committer.submit(1))
        assert await asyncio.to_thread(recorder.entered.wait, WAIT)
        gone.cancel()  # the client hung up; the platform will re-send and be answered as a duplicate
        recorder.release.set()
        return await committer.submit(2)

    try:
        assert run(scenario()) == 20
    finally:
        committer.close()
    assert recorder.batches[0] == [1]
