"""The working-day calendar: shipped data, golden cases, provisional years, loading and validation."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import date, timedelta
from importlib import resources
from typing import Any

import pytest
from pydantic import ValidationError

from gateway.calendar import CalendarYear, WorkCalendar, WorkdayResult


def year_file(year: int) -> dict[str, Any]:
    """The shipped JSON of one year, as a plain dict to edit."""
    text = resources.files("gateway.calendar").joinpath("data", f"{year}.json").read_text(encoding="utf-8")
    data: dict[str, Any] = json.loads(text)
    return data


@pytest.fixture(scope="module")
def cal() -> WorkCalendar:
    return WorkCalendar.bundled()


def test_the_bundled_calendar_has_2024_to_2026_each_with_its_state_council_notice(cal: WorkCalendar) -> None:
    assert cal.years() == (2024, 2025, 2026)
    notices = {y: cal.year(y).notice for y in cal.years()}  # type: ignore[union-attr]
    assert notices[2024].document_number == "国办发明电〔2023〕7号"
    assert notices[2024].published_on == date(2023, 10, 25)
    assert notices[2025].document_number == "国办发明电〔2024〕12号"
    assert notices[2025].published_on == date(2024, 11, 12)
    assert notices[2026].document_number == "国办发明电〔2025〕7号"
    assert notices[2026].published_on == date(2025, 11, 4)
    assert all("部分节假日安排的通知" in n.title for n in notices.values())


@pytest.mark.parametrize(
    ("day", "worked"),
    [
        (date(2024, 2, 4), True),  # Sunday, make-up day before 春节
        (date(2024, 2, 9), True),  # 除夕 2024 is a Friday the notice only "encourages" as a rest day
        (date(2024, 2, 10), False),
        (date(2024, 2, 17), False),  # Saturday, last day of the 8-day 春节 period
        (date(2024, 2, 18), True),  # Sunday, make-up day after 春节
        (date(2024, 9, 29), True),  # Sunday before 国庆
        (date(2024, 10, 7), False),
        (date(2024, 10, 12), True),  # Saturday after 国庆
        (date(2025, 1, 26), True),  # Sunday before 春节 2025
        (date(2025, 2, 4), False),  # 正月初七, Tuesday, still off
        (date(2025, 10, 8), False),  # 国庆节、中秋节 merged, 8 days
        (date(2025, 10, 11), True),  # Saturday
        (date(2026, 1, 3), False),  # Saturday inside 元旦 2026
        (date(2026, 1, 4), True),  # Sunday make-up for 元旦 2026
        (date(2026, 2, 28), True),  # Saturday after 春节 2026
        (date(2026, 3, 2), True),  # an ordinary Monday
        (date(2026, 3, 7), False),  # an ordinary Saturday
    ],
)
def test_golden_days_are_classified_as_the_notices_say(cal: WorkCalendar, day: date, worked: bool) -> None:
    assert cal.is_workday(day) is worked


@pytest.mark.parametrize(
    ("start", "n", "due"),
    [
        (date(2024, 2, 8), 1, date(2024, 2, 9)),
        (date(2024, 2, 8), 2, date(2024, 2, 18)),  # skips 春节, lands on the make-up Sunday
        (date(2024, 2, 8), 5, date(2024, 2, 21)),
        (date(2024, 2, 2), 1, date(2024, 2, 4)),  # Friday → make-up Sunday
        (date(2025, 1, 24), 1, date(2025, 1, 26)),
        (date(2025, 1, 24), 3, date(2025, 2, 5)),
        (date(2025, 9, 26), 1, date(2025, 9, 28)),  # Friday → make-up Sunday before 国庆
        (date(2025, 9, 30), 1, date(2025, 10, 9)),
        (date(2025, 9, 30), 3, date(2025, 10, 11)),  # make-up Saturday after 国庆
        (date(2025, 10, 1), 0, date(2025, 10, 9)),  # "same day" on a holiday: next working day
        (date(2025, 10, 11), 0, date(2025, 10, 11)),  # "same day" on a make-up Saturday: that day
        (date(2026, 1, 1), 0, date(2026, 1, 4)),
        (date(2025, 12, 31), 1, date(2026, 1, 4)),
        (date(2026, 2, 13), 1, date(2026, 2, 14)),
        (date(2026, 2, 13), 2, date(2026, 2, 24)),
        (date(2026, 9, 30), 5, date(2026, 10, 13)),  # 10/8, 10/9, 10/10 (make-up Saturday), 10/12, 10/13
    ],
)
def test_add_workdays_counts_from_the_day_after_start(
    cal: WorkCalendar, start: date, n: int, due: date
) -> None:
    assert cal.add_workdays(start, n) == WorkdayResult(due, provisional=False)


def test_the_same_day_rule_is_add_workdays_zero(cal: WorkCalendar) -> None:
    for day in (date(2024, 2, 10), date(2025, 6, 3), date(2026, 5, 9)):
        assert cal.next_workday_on_or_after(day) == cal.add_workdays(day, 0)


def test_a_count_that_reaches_into_a_year_without_data_is_provisional(cal: WorkCalendar) -> None:
    # 2026-12-29, 30, 31, then 2027 without its notice: 1 January (元旦) rests by law, so 4 and 5 January.
    assert cal.add_workdays(date(2026, 12, 28), 5) == WorkdayResult(date(2027, 1, 5), provisional=True)
    assert cal.add_workdays(date(2026, 12, 28), 3) == WorkdayResult(date(2026, 12, 31), provisional=False)


def test_a_year_without_its_notice_rests_on_the_statutory_festivals_of_the_2024_law(cal: WorkCalendar) -> None:
    """《全国年节及纪念日放假办法》(2024 revision) Art. 2 in 2027, before the State Council's notice."""
    rest = {d for d in (date(2027, 1, 1) + timedelta(days=i) for i in range(365)) if not cal.is_workday(d)}
    weekday_rest = sorted(d for d in rest if d.weekday() < 5)
    assert weekday_rest == [
        date(2027, 1, 1),  # 元旦 (Friday)
        date(2027, 2, 5), date(2027, 2, 8),  # 春节: 除夕 (Friday), 初一–初二 fall on the weekend, 初三 Monday
        date(2027, 4, 5),  # 清明 (the solar term, Monday)
        # 劳动节 1–2 May is a weekend; 端午 (五月初五) and 中秋 (八月十五):
        date(2027, 6, 9), date(2027, 9, 15),
        date(2027, 10, 1),  # 国庆 1–3 October: Friday, then the weekend
    ]
    assert cal.holiday_name(date(2027, 2, 5)) == "春节" and cal.is_statutory_only(date(2027, 2, 5))
    assert not cal.has_data(date(2027, 2, 5))
    # Still provisional: the notice adds bridges and make-up days nobody knows yet.
    assert cal.next_workday_on_or_after(date(2027, 2, 5)) == WorkdayResult(date(2027, 2, 9), provisional=True)
    assert cal.add_workdays(date(2027, 3, 1), 10).provisional


def test_far_years_beyond_the_table_are_weekends_only_and_provisional(cal: WorkCalendar) -> None:
    year = 2030
    day = date(year, 1, 1)
    while day.year == year:
        assert cal.is_workday(day) is (day.weekday() < 5)
        assert not cal.has_data(day)
        day += timedelta(days=1)
    oct1 = date(year, 10, 1)
    result = cal.next_workday_on_or_after(oct1)
    assert result.provisional
    assert result.due_date == (oct1 if oct1.weekday() < 5 else oct1 + timedelta(days=7 - oct1.weekday()))


def naive_walk(start: date, n: int, is_workday: Callable[[date], bool]) -> date:
    """The n-th working day after start (n = 0: on or after start), one day at a time."""
    day = start if n == 0 else start + timedelta(days=1)
    remaining = max(n, 1)
    while True:
        if is_workday(day):
            remaining -= 1
            if remaining == 0:
                return day
        day += timedelta(days=1)


def is_weekday(day: date) -> bool:
    return day.weekday() < 5


@pytest.mark.parametrize(
    "start", [date(1999, 12, 27), date(2023, 12, 20), date(2023, 12, 29), date(2099, 5, 5)]
)
@pytest.mark.parametrize("n", [0, 1, 5, 20, 400])
def test_counts_that_start_outside_the_data_walk_weekdays_then_the_data(
    cal: WorkCalendar, start: date, n: int
) -> None:
    # From 2023 the count crosses into 2024, where the real arrangement (e.g. 春节) must apply.
    assert cal.add_workdays(start, n) == WorkdayResult(naive_walk(start, n, cal.is_workday), True)


def test_a_gap_between_loaded_years_rests_on_statutory_festivals_only_and_is_provisional() -> None:
    gap = WorkCalendar([CalendarYear.model_validate(year_file(y)) for y in (2024, 2026)])
    assert gap.years() == (2024, 2026)
    assert not gap.is_workday(date(2025, 10, 1))  # 国庆 by law, even without 2025's notice
    assert not gap.is_workday(date(2025, 10, 6))  # 中秋 (八月十五) by law
    assert gap.is_workday(date(2025, 10, 7))  # a bridge day of the notice, unknown without it
    assert gap.add_workdays(date(2024, 12, 30), 3) == WorkdayResult(date(2025, 1, 3), True)  # 元旦 rests
    assert gap.add_workdays(date(2025, 12, 31), 1) == WorkdayResult(date(2026, 1, 4), False)
    assert gap.add_workdays(date(2025, 12, 30), 2) == WorkdayResult(date(2026, 1, 4), True)


def test_an_empty_calendar_is_weekends_only_and_always_provisional() -> None:
    empty = WorkCalendar()
    assert empty.years() == ()
    for start in (date(2024, 2, 8), date(2000, 1, 1), date(2025, 10, 1)):
        for n in (0, 1, 7, 30):
            assert empty.add_workdays(start, n) == WorkdayResult(naive_walk(start, n, is_weekday), True)


def test_a_negative_count_is_refused(cal: WorkCalendar) -> None:
    with pytest.raises(ValueError, match="non-negative"):
        cal.add_workdays(date(2025, 1, 1), -1)


def test_holiday_names_come_from_the_data(cal: WorkCalendar) -> None:
    assert cal.holiday_name(date(2024, 2, 12)) == "春节"
    assert cal.holiday_name(date(2025, 10, 6)) == "国庆节、中秋节"
    assert cal.holiday_name(date(2025, 10, 11)) is None


def test_missing_years_names_next_year_from_the_first_of_november(cal: WorkCalendar) -> None:
    assert cal.missing_years(date(2026, 10, 31)) == ()
    assert cal.missing_years(date(2026, 11, 1)) == (2027,)
    assert cal.missing_years(date(2027, 3, 1)) == (2027,)
    assert cal.missing_years(date(2025, 12, 1)) == ()


def test_loading_a_year_returns_a_new_calendar_and_leaves_the_old_one_alone(tmp_path: Any) -> None:
    partial = WorkCalendar([CalendarYear.model_validate(year_file(2025))])
    assert partial.add_workdays(date(2024, 2, 8), 2).provisional
    full = partial.load_year(year_file(2024))
    assert full.years() == (2024, 2025)
    assert full.add_workdays(date(2024, 2, 8), 2) == WorkdayResult(date(2024, 2, 18), False)
    assert partial.years() == (2025,)
    path = tmp_path / "2026.json"
    path.write_text(json.dumps(year_file(2026), ensure_ascii=False), encoding="utf-8")
    assert full.load_year_file(path).years() == (2024, 2025, 2026)
    assert partial.load_year(json.dumps(year_file(2024))).years() == (2024, 2025)


def test_a_loaded_year_is_replaced_only_on_request(cal: WorkCalendar) -> None:
    with pytest.raises(ValueError, match="already loaded"):
        cal.load_year(year_file(2025))
    assert cal.load_year(year_file(2025), replace=True).years() == (2024, 2025, 2026)


def _invalid(data: dict[str, Any], match: str) -> None:
    with pytest.raises(ValidationError, match=match):
        WorkCalendar().load_year(data)


def test_a_make_up_day_on_a_weekday_is_refused() -> None:
    data = year_file(2025)
    data["makeup_workdays"][0]["date"] = "2025-01-27"  # a Monday
    _invalid(data, r"调休上班日 2025-01-27 是星期一，不是星期六或星期日")


def test_a_date_outside_the_declared_year_is_refused() -> None:
    data = year_file(2025)
    data["rest_days"][0]["date"] = "2024-01-01"
    _invalid(data, r"2024-01-01 不在所声明的 2025 年内")


def test_a_date_in_both_lists_is_refused() -> None:
    data = year_file(2025)
    data["makeup_workdays"].append({"date": "2025-02-01", "holiday": "春节"})
    _invalid(data, r"2025-02-01 既是放假日又是调休上班日")


def test_a_rest_day_listed_twice_is_refused() -> None:
    data = year_file(2026)
    data["rest_days"].append({"date": "2026-10-01", "holiday": "国庆节"})
    _invalid(data, r"2026-10-01 在放假日期中重复出现")


@pytest.mark.parametrize("holiday", ["", "周末", "国庆"])
def test_a_rest_day_must_be_named_with_its_holiday(holiday: str) -> None:
    data = year_file(2024)
    data["rest_days"][0]["holiday"] = holiday
    _invalid(data, r"2024-01-01 的节日名称")


def test_a_rest_day_without_a_name_is_refused() -> None:
    data = year_file(2024)
    del data["rest_days"][0]["holiday"]
    _invalid(data, r"holiday")


def test_a_missing_date_inside_a_period_is_caught_by_the_count() -> None:
    data = year_file(2026)
    data["rest_days"] = [d for d in data["rest_days"] if d["date"] != "2026-02-23"]  # last day of 春节
    _invalid(data, r"法定节假日为 13 天")


def test_a_gap_inside_a_period_is_refused() -> None:
    data = year_file(2024)
    data["rest_days"] = [d for d in data["rest_days"] if d["date"] != "2024-02-13"]
    _invalid(data, r"春节的放假日期不连续")


def test_a_year_without_one_of_the_seven_festivals_is_refused() -> None:
    data = year_file(2026)
    data["rest_days"] = [d for d in data["rest_days"] if d["holiday"] != "端午节"]
    _invalid(data, r"没有端午节的放假日")


def test_the_notice_must_have_a_document_number_and_a_plausible_date() -> None:
    data = year_file(2025)
    data["notice"]["document_number"] = "2024年12号"
    _invalid(data, r"文号“2024年12号”不符合")
    data = year_file(2025)
    data["notice"]["published_on"] = "2022-11-12"
    _invalid(data, r"不可能是 2025 年的安排")


def test_an_extraordinary_arrangement_may_declare_its_own_count() -> None:
    # E.g. 2020, when 国办发明电〔2020〕1号 extended 春节 by three days after the yearly notice.
    data = year_file(2024)
    data["rest_days"].append({"date": "2024-02-19", "holiday": "春节"})
    data["makeup_workdays"] = [d for d in data["makeup_workdays"] if d["date"] != "2024-02-18"]
    data["rest_days"].append({"date": "2024-02-18", "holiday": "春节"})
    _invalid(data, r"法定节假日为 11 天")
    data["statutory_days_off"] = 13
    assert not WorkCalendar().load_year(data).is_workday(date(2024, 2, 19))
