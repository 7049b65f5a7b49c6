"""When scheduled bulletins are due (002 二(一) 日提醒、周反馈、月通报; 004 三; 000 督办 二; 001 三(五)).

The daily reminder runs on working days of the State Council calendar only (none on 国庆节 2026-10-01, one on
the make-up Saturday 2026-10-10); the reports wait for the first working day after their period closes.
"""

from __future__ import annotations

from datetime import date, datetime, time

import pytest

from gateway.calendar import WorkCalendar
from gateway.schema import SHANGHAI
from gateway.services.bulletin_periods import due_periods, key_of, period, span_of
from gateway.settings import BulletinSettings

CAL = WorkCalendar.bundled()


def sh(y: int, m: int, d: int, hh: int = 0, mm: int = 0) -> datetime:
    return datetime(y, m, d, hh, mm, tzinfo=SHANGHAI)


def due(now: datetime, **settings: object) -> dict[str, str]:
    return {p.kind: p.key for p in due_periods(now, CAL, BulletinSettings(**settings))}  # type: ignore[arg-type]


def test_the_daily_reminder_is_due_at_0830_on_a_working_day_and_not_before() -> None:
    # 002 二(一) 日提醒: Friday 2026-11-20 is an ordinary working day.
    assert "daily" not in due(sh(2026, 11, 20, 8, 29))
    assert due(sh(2026, 11, 20, 8, 30))["daily"] == "2026-11-20"


@pytest.mark.parametrize("day", [date(2026, 10, 1), date(2026, 10, 7), date(2026, 11, 21), date(2026, 10, 11)])
def test_no_daily_reminder_on_a_holiday_or_a_weekend(day: date) -> None:
    # 002 二(一): 国庆节 (official calendar, 国办发明电〔2025〕7号) and an ordinary weekend are not working days.
    assert "daily" not in due(datetime.combine(day, time(9, 0), tzinfo=SHANGHAI))


def test_a_make_up_working_saturday_gets_its_reminder() -> None:
    # 2026-10-10 (Saturday) is a 调休上班 day of the official calendar: a working day.
    assert due(sh(2026, 10, 10, 9))["daily"] == "2026-10-10"


def test_the_reminder_time_is_a_setting() -> None:
    assert "daily" not in due(sh(2026, 11, 20, 7, 59), daily_at=time(8, 0))
    assert "daily" in due(sh(2026, 11, 20, 8, 0), daily_at=time(8, 0))
    assert "daily" not in due(sh(2026, 11, 20, 9), daily_enabled=False)


def test_reports_wait_for_the_first_working_day_after_their_period() -> None:
    # The week of 28 Sep – 4 Oct, September and the third quarter close on 4 Oct / 30 Sep, inside 国庆节:
    # 002 二(一) 周反馈/月通报 and 001 三(五) 季度分析 go out on Thursday 8 Oct, the first working day after.
    before = due(sh(2026, 10, 5, 9))
    assert not {"daily", "week", "month", "quarter"} & set(before)
    found = due(sh(2026, 10, 8, 8, 30))
    assert {k: found[k] for k in ("daily", "week", "month", "quarter")} == {
        "daily": "2026-10-08", "week": "2026-W40", "month": "2026-09", "quarter": "2026-Q3"}
    # The half-year and the year are still the last closed ones (a scheduler catches up on the last only).
    assert found["half"] == "2026-H1" and found["year"] == "2025"
    assert period("month", date(2026, 9, 15), CAL, BulletinSettings()).due_at == sh(2026, 10, 8, 8, 30)


def test_the_annual_and_half_year_analysis_come_on_the_first_working_day_of_the_year() -> None:
    # 2026-01-01..03 are 元旦; Sunday 2026-01-04 is a make-up working day (001 三(五) 半年、年度).
    assert "year" not in due(sh(2026, 1, 3, 12))
    found = due(sh(2026, 1, 4, 8, 30))
    assert found["year"] == "2025" and found["half"] == "2025-H2" and found["quarter"] == "2025-Q4"
    assert found["month"] == "2025-12"


def test_only_the_last_closed_period_is_considered() -> None:
    # A scheduler that was away catches up on the last closed week, not on older ones.
    assert due(sh(2026, 11, 25, 12))["week"] == "2026-W47"


def test_periods_and_keys() -> None:
    assert span_of("quarter", date(2026, 11, 5)) == (date(2026, 10, 1), date(2026, 12, 31))
    assert span_of("half", date(2026, 3, 5)) == (date(2026, 1, 1), date(2026, 6, 30))
    assert key_of("week", date(2026, 12, 28)) == "2026-W53"
    assert key_of("half", date(2026, 7, 1)) == "2026-H2"
    assert "quarter" not in due(sh(2026, 10, 8, 9), analysis_12389_enabled=False)
