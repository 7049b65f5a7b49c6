"""The shipped calendar against two independent oracles, for every date and count of 2024–2026.

Oracle 1, ``chinese_calendar`` (PyPI chinesecalendar): its own hand-kept table of each notice.
Oracle 2, ``holidays`` (PyPI holidays): ``holidays.China`` lists the rest days on weekdays and knows
the make-up Saturdays/Sundays (``weekend_workdays``); ``is_working_day`` combines both with the
weekend, so it is used for rest days and make-up days alike.
Neither oracle's code or data is used by the gateway, so a typo in our JSON cannot hide in both.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta

import chinese_calendar
import holidays
import pytest

from gateway.calendar import WorkCalendar, WorkdayResult

FIRST, LAST = date(2024, 1, 1), date(2026, 12, 31)
LIMITS = (0, 5, 10, 15, 20)  # "same day" and every working-day limit of the default policy
CHINA = holidays.country_holidays("CN", years=range(2023, 2028))  # holidays.China


def all_dates() -> list[date]:
    return [FIRST + timedelta(days=i) for i in range((LAST - FIRST).days + 1)]


# Outside 2024–2026 (no notice bundled) the gateway rests on the statutory festival days only; the
# holidays package lists those too (its "observed" entries are its guess at the notice: left out).
STATUTORY = {d for d, name in CHINA.items() if "observed" not in name}


def with_weekends_outside_data(is_workday: Callable[[date], bool]) -> Callable[[date], bool]:
    """The oracle inside 2024–2026; outside, Monday–Friday less the statutory festivals, as the gateway's
    provisional rule."""

    def check(day: date) -> bool:
        return is_workday(day) if FIRST <= day <= LAST else day.weekday() < 5 and day not in STATUTORY

    return check


ORACLES: dict[str, Callable[[date], bool]] = {
    "chinese_calendar": with_weekends_outside_data(chinese_calendar.is_workday),
    "holidays": with_weekends_outside_data(CHINA.is_working_day),
}


def walk(start: date, n: int, is_workday: Callable[[date], bool]) -> WorkdayResult:
    """Naive day-by-day count: the n-th working day after start, or on/after start when n is 0."""
    day = start if n == 0 else start + timedelta(days=1)
    remaining = max(n, 1)
    provisional = False
    while True:
        provisional = provisional or not FIRST <= day <= LAST
        if is_workday(day):
            remaining -= 1
            if remaining == 0:
                return WorkdayResult(day, provisional)
        day += timedelta(days=1)


@pytest.fixture(scope="module")
def cal() -> WorkCalendar:
    return WorkCalendar.bundled()


def test_the_two_oracles_agree_with_each_other_on_every_date() -> None:
    # If the oracles disagreed, a failure below could not say which side is wrong.
    assert [d for d in all_dates() if ORACLES["chinese_calendar"](d) != ORACLES["holidays"](d)] == []


@pytest.mark.parametrize("oracle", sorted(ORACLES))
def test_every_date_of_2024_to_2026_is_classified_as_the_oracle_says(cal: WorkCalendar, oracle: str) -> None:
    mismatches = [d for d in all_dates() if cal.is_workday(d) != ORACLES[oracle](d)]
    assert mismatches == []


def test_rest_days_and_make_up_days_match_the_holidays_package_lists(cal: WorkCalendar) -> None:
    make_up = {d for d in CHINA.weekend_workdays if FIRST <= d <= LAST}
    ours_make_up = {d for d in all_dates() if d.weekday() >= 5 and cal.is_workday(d)}
    assert ours_make_up == make_up
    # holidays lists the weekday rest days (weekend days inside a period are off anyway).
    weekday_rest = {d for d in CHINA if FIRST <= d <= LAST and d.weekday() < 5}
    ours_weekday_rest = {d for d in all_dates() if d.weekday() < 5 and not cal.is_workday(d)}
    assert ours_weekday_rest == weekday_rest


@pytest.mark.parametrize("oracle", sorted(ORACLES))
@pytest.mark.parametrize("n", LIMITS)
def test_every_start_date_and_limit_matches_a_day_by_day_walk(cal: WorkCalendar, oracle: str, n: int) -> None:
    is_workday = ORACLES[oracle]
    mismatches = [
        (start, cal.add_workdays(start, n), expected)
        for start in all_dates()
        if cal.add_workdays(start, n) != (expected := walk(start, n, is_workday))
    ]
    assert mismatches == []


def test_the_walks_reach_into_2027_and_are_provisional_there(cal: WorkCalendar) -> None:
    late = [cal.add_workdays(start, 20) for start in all_dates() if start.month == 12 and start.year == 2026]
    assert all(r.provisional for r in late if r.due_date.year == 2027)
    assert any(r.due_date.year == 2027 for r in late)
