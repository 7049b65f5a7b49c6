"""The 12389 cursor: a newest-first offset list that shifts while paging loses and repeats nothing."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from hypothesis import given, settings
from hypothesis import strategies as st

from adapters.p12389.cursor import (
    MAX_PAGES_PER_SWEEP,
    MAX_REWINDS,
    MAX_SWEEPS,
    RATING_WAIT_S,
    Cursor,
    first_cycle,
)

CST = timezone(timedelta(hours=8))
START = datetime(2025, 11, 22, 10, 15, tzinfo=CST)
NOW_S = int(START.timestamp())


class ShiftingList:
    """A newest-first list where cases arrive at the top between page requests."""

    def __init__(self, size: int) -> None:
        self.cases = [f"C{n:04d}" for n in range(size, 0, -1)]
        self.next = size + 1

    def arrive(self, count: int) -> None:
        for _ in range(count):
            self.cases.insert(0, f"C{self.next:04d}")
            self.next += 1

    def page(self, offset: int, limit: int) -> tuple[list[str], int]:
        return self.cases[offset : offset + limit], len(self.cases)


def run_list_phase(cursor: Cursor, listing: ShiftingList, limit: int, arrivals: list[int]) -> list[str]:
    """Drive the list phase to its end; returns every case handed on, in order."""
    handed: list[str] = []
    pages = 0
    while cursor.phase == "list":
        if pages and arrivals:
            listing.arrive(arrivals[(pages - 1) % len(arrivals)])
        listed, total = listing.page(cursor.list_offset(), limit)
        handed += cursor.take_list_page(listed, total, limit)
        pages += 1
        assert pages <= (MAX_SWEEPS + 1) * MAX_PAGES_PER_SWEEP + MAX_REWINDS, "the list phase does not end"
    return handed


def test_the_first_cycle_looks_back_in_local_time_without_offset() -> None:
    cursor = first_cycle(START, 86_400)
    assert (cursor.since, cursor.phase, cursor.offset) == ("2025-11-21T10:15:00", "list", 0)


def test_the_next_cycle_starts_the_overlap_before_the_last_one_and_keeps_the_watch_list() -> None:
    cursor = first_cycle(START, 86_400)
    cursor.observe("J1", zt="核查中", rated=False, now_s=NOW_S)
    cursor.seen, cursor.phase = ["J1"], "done"

    later = cursor.next_cycle(START + timedelta(minutes=5), overlap_s=120)

    assert (later.since, later.seen, later.phase) == ("2025-11-22T10:13:00", [], "list")
    assert later.watch == {"J1": [NOW_S, None]}


def test_each_request_starts_one_early_at_the_last_case_read() -> None:
    cursor = first_cycle(START, 60)
    listing = ShiftingList(7)
    offsets = []
    while cursor.phase == "list":
        offsets.append(cursor.list_offset())
        cursor.take_list_page(*listing.page(cursor.list_offset(), 3), limit=3)
    assert offsets == [0, 2, 4]
    assert sorted(cursor.seen) == sorted(listing.cases)


def test_arrivals_while_paging_repeat_cases_that_are_dropped_not_handed_on_twice() -> None:
    cursor = first_cycle(START, 60)
    listing = ShiftingList(10)
    before = list(listing.cases)

    handed = run_list_phase(cursor, listing, limit=4, arrivals=[2])

    assert len(handed) == len(set(handed))
    assert set(before) <= set(handed)


def test_a_list_that_moved_up_is_read_again_from_a_page_earlier() -> None:
    cursor = first_cycle(START, 60)
    listing = ShiftingList(9)
    cursor.take_list_page(*listing.page(0, 4), limit=4)  # C0009..C0006
    del listing.cases[0:2]  # two cases left the list: C0005 and C0004 moved above offset 3

    listed, total = listing.page(cursor.list_offset(), 4)  # [C0003..C0001]: anchor C0003 never seen
    cursor.take_list_page(listed, total, limit=4)

    assert (cursor.rewinds, cursor.offset) == (1, 0)
    handed = run_list_phase(cursor, listing, limit=4, arrivals=[])
    assert {"C0005", "C0004"} <= set(cursor.seen) and "C0005" in handed


def test_rewinds_are_bounded_so_a_restless_list_cannot_hold_the_cycle() -> None:
    cursor = first_cycle(START, 60)
    cursor.take_list_page(["A", "B"], None, limit=2)
    for n in range(MAX_REWINDS + 2):
        cursor.offset = 2
        cursor.take_list_page([f"X{n}", f"Y{n}"], None, limit=2)
    assert cursor.rewinds == MAX_REWINDS


def test_fewer_cases_seen_than_the_total_sweeps_the_window_again_a_bounded_number_of_times() -> None:
    cursor = first_cycle(START, 60)
    for sweep in range(MAX_SWEEPS + 1):
        cursor.take_list_page([f"S{sweep}"], total=9, limit=5)
        expected = "list" if sweep < MAX_SWEEPS else "recheck"
        assert (cursor.phase, cursor.offset, cursor.sweeps) == (expected, 0, min(sweep + 1, MAX_SWEEPS))


@settings(max_examples=200, deadline=None)
@given(
    size=st.integers(0, 120),
    limit=st.integers(3, 50),
    arrivals=st.lists(st.integers(0, 6), max_size=5),
)
def test_no_case_present_at_the_start_of_a_cycle_is_lost_or_handed_on_twice(
    size: int, limit: int, arrivals: list[int]
) -> None:
    cursor = first_cycle(START, 60)
    listing = ShiftingList(size)
    before = list(listing.cases)

    # Fewer arrivals per page than the page reads past its anchor: the sweep makes progress.
    handed = run_list_phase(cursor, listing, limit, [min(a, limit - 2) for a in arrivals])

    assert set(before) <= set(handed)
    assert len(handed) == len(set(handed))
    assert cursor.phase == "recheck"


def test_cases_arriving_faster_than_a_page_a_request_cannot_hold_the_cycle() -> None:
    cursor = first_cycle(START, 60)
    handed = run_list_phase(cursor, ShiftingList(3), limit=2, arrivals=[1])
    assert cursor.phase == "recheck" and len(handed) == len(set(handed))


def test_a_case_read_twice_in_one_second_gets_a_higher_version_the_second_time() -> None:
    cursor = first_cycle(START, 60)
    first = cursor.observe("J1", zt="核查中", rated=False, now_s=NOW_S)
    second = cursor.observe("J1", zt="核查中", rated=False, now_s=NOW_S)
    third = cursor.observe("J1", zt="核查中", rated=False, now_s=NOW_S + 60)
    assert first < second < third and third == NOW_S + 60


def test_returned_and_rated_closed_cases_leave_the_watch_list_unrated_ones_wait_for_the_rating() -> None:
    cursor = first_cycle(START, 60)
    seen = (("R", "已退回", False), ("D", "已办结", True), ("W", "已办结", False), ("O", "待签收", False))
    for jbbh, zt, rated in seen:
        cursor.observe(jbbh, zt=zt, rated=rated, now_s=NOW_S)
    assert cursor.watch == {"W": [NOW_S, NOW_S], "O": [NOW_S, None]}

    cursor.observe("W", zt="已办结", rated=False, now_s=NOW_S + RATING_WAIT_S)
    assert cursor.watch["W"] == [NOW_S + RATING_WAIT_S, NOW_S]
    cursor.observe("W", zt="已办结", rated=False, now_s=NOW_S + RATING_WAIT_S + 1)
    assert "W" not in cursor.watch


def test_rechecks_take_the_least_recently_read_cases_not_listed_this_cycle() -> None:
    cursor = first_cycle(START, 60)
    cursor.watch = {"A": [NOW_S - 50, None], "B": [NOW_S - 90, None], "C": [NOW_S - 70, None],
                    "D": [NOW_S - 99, None], "E": [NOW_S + 5, None]}
    cursor.seen = ["D"]
    assert cursor.due_rechecks(2) == ["B", "C"]
    assert cursor.due_rechecks(10) == ["B", "C", "A"]  # E was read after the cycle began


def test_a_cursor_survives_the_json_round_trip_and_garbage_is_not_taken_for_one() -> None:
    cursor = first_cycle(START, 60)
    cursor.observe("J1", zt="已办结", rated=False, now_s=NOW_S)
    cursor.take_list_page(["J1", "J2"], 5, limit=2)

    assert Cursor.load(cursor.dump()) == cursor
    assert cursor.dump()["cycle_started"] == "2025-11-22T10:15:00+08:00"
    for garbage in ({}, {"since": "x"}, {**cursor.dump(), "phase": "paging"}, {**cursor.dump(), "offset": -1},
                    {**cursor.dump(), "since": "2025-11-22T10:15:00+08:00"}, {**cursor.dump(), "seen": [1]}):
        assert Cursor.load(garbage) is None


def test_the_watch_list_is_trimmed_least_recently_read_first() -> None:
    cursor = first_cycle(START, 60)
    cursor.watch = {f"J{n}": [NOW_S + n, None] for n in range(5003)}
    assert cursor.trim() == ["J0", "J1", "J2"] and len(cursor.watch) == 5000
