"""One year of the official working-day calendar, as published by the State Council (国务院办公厅).

A year file is JSON in this shape (see ``data/2025.json``)::

    {"year": 2025,
     "notice": {"title": "...", "document_number": "国办发明电〔2024〕12号", "published_on": "2024-11-12",
                "url": "https://www.gov.cn/...", "text": ["一、元旦：..."]},
     "rest_days": [{"date": "2025-01-01", "holiday": "元旦"}, ...],
     "makeup_workdays": [{"date": "2025-01-26", "holiday": "春节"}, ...]}

Every date of the year is accounted for: a rest day (放假) or a make-up working day (调休上班) when
listed, otherwise Monday–Friday work and Saturday–Sunday rest. The validators make the lists
consistent with each other and with the law, so a typo in a hand-written file cannot slip in.
"""

from __future__ import annotations

import re
from datetime import date
from typing import Self

from pydantic import BaseModel, ConfigDict, Field, model_validator

# The seven festivals of 《全国年节及纪念日放假办法》 Art. 2 that every citizen gets off; the State
# Council's yearly notice arranges exactly these. A merged period (e.g. 2025 "国庆节、中秋节") joins
# names with "、" as the notice's own heading does.
HOLIDAYS = ("元旦", "春节", "清明节", "劳动节", "端午节", "中秋节", "国庆节")
_DOCUMENT_NUMBER = re.compile(r"^\S+〔\d{4}〕\d+号$")
_SATURDAY = 5
WEEKDAYS = ("星期一", "星期二", "星期三", "星期四", "星期五", "星期六", "星期日")


def statutory_days_off(year: int) -> int:
    """Days off the law grants that year: 11, or 13 from 2025 (国务院令第795号 added 除夕 and 5月2日)."""
    return 13 if year >= 2025 else 11


def holiday_names(holiday: str) -> list[str]:
    """The festival names in a (possibly merged) holiday label such as ``国庆节、中秋节``."""
    return holiday.split("、")


class Notice(BaseModel):
    """The State Council notice a year's arrangement comes from."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    title: str = Field(min_length=1, description="e.g. 国务院办公厅关于2025年部分节假日安排的通知")
    document_number: str = Field(description="文号, e.g. 国办发明电〔2024〕12号")
    published_on: date = Field(description="成文/发布日期")
    url: str | None = Field(default=None, description="Where the notice was published")
    text: tuple[str, ...] = Field(default=(), description="The arrangement lines as published, for review")

    @model_validator(mode="after")
    def _document_number_shape(self) -> Self:
        if not _DOCUMENT_NUMBER.match(self.document_number):
            raise ValueError(f"文号“{self.document_number}”不符合“国办发明电〔2024〕12号”的格式")
        return self


class CalendarDay(BaseModel):
    """A dated entry: a rest day or a make-up working day, named with the holiday it belongs to."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    date: date
    holiday: str = Field(description="One of HOLIDAYS, or several joined with 、")


class CalendarYear(BaseModel):
    """One year's rest days and make-up working days, with the notice they come from."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    year: int = Field(ge=2000, le=2199)
    notice: Notice
    rest_days: tuple[CalendarDay, ...] = Field(description="Every day of every 放假 period, weekends too")
    makeup_workdays: tuple[CalendarDay, ...] = Field(description="调休上班: weekend days that are worked")
    statutory_days_off: int | None = Field(
        default=None,
        description="Override of the legal count (11, or 13 from 2025) for an extraordinary arrangement",
    )

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        errors = [
            *self._dates_in_year(),
            *self._no_duplicates_or_overlap(),
            *self._named_holidays(),
            *self._makeup_on_weekends(),
            *self._periods_contiguous(),
        ]
        if not errors:
            errors = self._days_off_add_up()
        if errors:
            raise ValueError(f"{self.year}年节假日安排有误：" + "；".join(errors))
        return self

    def _dates_in_year(self) -> list[str]:
        errors = [
            f"{day.date} 不在所声明的 {self.year} 年内"
            for day in (*self.rest_days, *self.makeup_workdays)
            if day.date.year != self.year
        ]
        # The notice for year Y comes out in the autumn of Y-1 (rarely, a correction in Y itself).
        if self.notice.published_on.year not in (self.year - 1, self.year):
            errors.append(f"{self.notice.published_on} 发布的通知不可能是 {self.year} 年的安排")
        return errors

    def _no_duplicates_or_overlap(self) -> list[str]:
        errors: list[str] = []
        for label, days in (("放假日期", self.rest_days), ("调休上班日期", self.makeup_workdays)):
            dates = [d.date for d in days]
            errors += [f"{d} 在{label}中重复出现" for d in sorted(set(dates)) if dates.count(d) > 1]
        both = {d.date for d in self.rest_days} & {d.date for d in self.makeup_workdays}
        errors += [f"{d} 既是放假日又是调休上班日" for d in sorted(both)]
        return errors

    def _named_holidays(self) -> list[str]:
        errors: list[str] = []
        for day in (*self.rest_days, *self.makeup_workdays):
            unknown = [n for n in holiday_names(day.holiday) if n not in HOLIDAYS]
            if unknown:
                errors.append(f"{day.date} 的节日名称“{day.holiday}”不是以下之一：{'、'.join(HOLIDAYS)}")
        named = {n for day in self.rest_days for n in holiday_names(day.holiday)}
        errors += [f"没有{h}的放假日（每年的通知都安排）" for h in HOLIDAYS if h not in named]
        periods = {day.holiday for day in self.rest_days}
        errors += [
            f"调休上班日 {day.date} 所属的“{day.holiday}”在本文件中没有放假日"
            for day in self.makeup_workdays
            if day.holiday not in periods
        ]
        return errors

    def _makeup_on_weekends(self) -> list[str]:
        # 调休上班 moves work onto a Saturday or Sunday; a weekday "make-up" is a data error.
        return [
            f"调休上班日 {day.date} 是{WEEKDAYS[day.date.weekday()]}，不是星期六或星期日"
            for day in self.makeup_workdays
            if day.date.weekday() < _SATURDAY
        ]

    def _periods_contiguous(self) -> list[str]:
        by_holiday: dict[str, list[int]] = {}
        for day in self.rest_days:
            by_holiday.setdefault(day.holiday, []).append(day.date.toordinal())
        return [
            f"{name}的放假日期不连续"
            for name, days in by_holiday.items()
            if max(days) - min(days) + 1 != len(days)
        ]

    def _days_off_add_up(self) -> list[str]:
        # The law's festival days falling on weekends are given back on weekdays (放假办法 Art. 6), and
        # each make-up Saturday/Sunday pays back one weekday bridged: so the weekday rest days minus
        # the make-up days must equal the statutory count. A date missing from a period breaks this.
        weekday_rest = sum(1 for day in self.rest_days if day.date.weekday() < _SATURDAY)
        net = weekday_rest - len(self.makeup_workdays)
        expected = (
            self.statutory_days_off if self.statutory_days_off is not None else statutory_days_off(self.year)
        )
        if net != expected:
            return [
                f"工作日放假 {weekday_rest} 天减调休上班 {len(self.makeup_workdays)} 天为 {net} 天，"
                f"但法定节假日为 {expected} 天（有日期缺漏或多出；statutory_days_off 仅用于特殊安排）"
            ]
        return []

    def rest_day_names(self) -> dict[date, str]:
        """The rest days of this year with their holiday names."""
        return {day.date: day.holiday for day in self.rest_days}

    def makeup_dates(self) -> frozenset[date]:
        """The make-up working days of this year."""
        return frozenset(day.date for day in self.makeup_workdays)
