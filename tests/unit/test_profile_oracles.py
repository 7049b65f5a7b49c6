"""Every profile's day-counted deadlines, for every start day of 2024–2026, against an independent oracle.

For each regulation profile (default, 000, 001, 002, 003) every rule counted in days — resolution per
platform and key (000 限时办结 一, 001 四(三), 002 工作要求(二)), dispatch (000 统一派单 二), the 137 timers —
is computed by the gateway and by a naive day-by-day walk over the oracle's working days
(``chinese_calendar``, or ``holidays.China``), with the same rule for 当日 (the calendar day) and for
calendar days. Outside 2024–2026 the oracle is Monday–Friday less the statutory festivals (the 2024
law, as the holidays package lists them). Neither oracle's code or data is used by the gateway.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, time, timedelta

import chinese_calendar
import holidays
import pytest

from gateway.calendar import WorkCalendar
from gateway.sla import SHANGHAI, DeadlinePolicy
from gateway.sla.limits import TimerInputs, policy_binding
from gateway.sla.profiles import PROFILES

FIRST, LAST = date(2024, 1, 1), date(2026, 12, 31)
CHINA = holidays.country_holidays("CN", years=range(2023, 2029))
STATUTORY = {d for d, name in CHINA.items() if "observed" not in name}
DAYS = [FIRST + timedelta(days=i) for i in range((LAST - FIRST).days + 1)]


def outside(is_workday: Callable[[date], bool]) -> Callable[[date], bool]:
    def check(day: date) -> bool:
        return is_workday(day) if FIRST <= day <= LAST else day.weekday() < 5 and day not in STATUTORY

    return check


ORACLES: dict[str, Callable[[date], bool]] = {
    "chinese_calendar": outside(chinese_calendar.is_workday),
    "holidays": outside(CHINA.is_working_day),
}


def walk(start: date, days: int, unit: str, is_workday: Callable[[date], bool]) -> date:
    """The due day by hand: 0 = the start's own calendar day; else count from the next day."""
    if days == 0:
        return start
    if unit == "calendar_days":
        return start + timedelta(days=days)
    day, left = start, days
    while left:
        day += timedelta(days=1)
        left -= is_workday(day)
    return day


def rules(policy: DeadlinePolicy) -> list[tuple[str, str, str | None, int, str]]:
    """(kind, platform, key, days, unit) of every day-counted rule of a profile."""
    out: list[tuple[str, str, str | None, int, str]] = []
    for platform, rule in policy.resolution.items():
        for key, days in [*rule.by_type.items(), *rule.by_urgency.items()]:
            if days is not None:
                out.append(("resolution", platform, key, days, rule.unit))
        if rule.default is not None:
            out.append(("resolution", platform, "其他", rule.default, rule.unit))
    for kind, days_rule in (("first_feedback", policy.first_feedback), ("plan", policy.complex_plan)):
        if days_rule is not None:
            for platform in days_rule.platforms or ["p12345"]:
                out.append((kind, platform, None, days_rule.days, days_rule.unit))
    return out


@pytest.fixture(scope="module")
def cal() -> WorkCalendar:
    return WorkCalendar.bundled()


@pytest.mark.parametrize("oracle", sorted(ORACLES))
@pytest.mark.parametrize("profile", sorted(PROFILES))
def test_every_day_counted_deadline_of_every_profile_matches_the_oracle_for_every_day_of_2024_to_2026(
    cal: WorkCalendar, profile: str, oracle: str
) -> None:
    policy, is_workday = DeadlinePolicy(profile=profile), ORACLES[oracle]
    assert rules(policy) or profile == "003"  # 嘉定 sets no limit of its own: the platform's bind
    mismatches = []
    for kind, platform, key, days, unit in rules(policy):
        for day in DAYS:
            start = datetime.combine(day, time(10, 30), tzinfo=SHANGHAI)
            got = policy_binding(TimerInputs(kind, platform, key, start, []), cal, policy)
            expected = walk(day, days, unit, is_workday)
            if got is None or got.due_at != datetime.combine(expected, time(23, 59, 59), tzinfo=SHANGHAI):
                mismatches.append((profile, kind, platform, key, day, got and got.due_at, expected))
    assert mismatches == []


@pytest.mark.parametrize("oracle", sorted(ORACLES))
@pytest.mark.parametrize("profile", sorted(p for p in PROFILES if PROFILES[p]["dispatch"]))
def test_the_dispatch_deadline_of_every_profile_matches_the_oracle_for_every_day_of_2024_to_2026(
    cal: WorkCalendar, profile: str, oracle: str
) -> None:
    """000 统一派单 二: 第二日9时前派单，第二日为节假日的顺延."""
    policy, is_workday = DeadlinePolicy(profile=profile), ORACLES[oracle]
    mismatches = []
    for day in DAYS:
        start = datetime.combine(day, time(16, 45), tzinfo=SHANGHAI)
        got = policy_binding(TimerInputs("dispatch", "p12345", None, start, []), cal, policy)
        expected = day + timedelta(days=1)
        while not is_workday(expected):
            expected += timedelta(days=1)
        if got is None or got.due_at != datetime.combine(expected, time(9), tzinfo=SHANGHAI):
            mismatches.append((day, got and got.due_at, expected))
    assert mismatches == []


def test_2027_without_its_notice_rests_on_exactly_the_statutory_festivals_the_holidays_package_lists(
    cal: WorkCalendar,
) -> None:
    """《全国年节及纪念日放假办法》(2024 revision) Art. 2: the weekday rest days of 2027 before the notice."""
    year = [date(2027, 1, 1) + timedelta(days=i) for i in range(365)]
    ours = {d for d in year if d.weekday() < 5 and not cal.is_workday(d)}
    assert ours == {d for d in STATUTORY if d.year == 2027 and d.weekday() < 5}
