"""The working-day calendar: which dates are worked, and the N-th working day after a date.

Days are counted in date ordinals. A table covers the loaded years plus one year either side; in it
``_cum[i]`` is the number of working days from the table's first day through day ``i`` and
``_workdays`` lists the ordinals of those working days, so the N-th working day after ``s`` is
``_workdays[_cum[s - lo] + n - 1]``: two list lookups, no loop over days. Outside the table a
closed formula for Monday–Friday weeks takes over, so any date in ``datetime.date``'s range works.

A day in a year without State Council data counts Monday–Friday, less the festival days the law
itself fixes (``gateway.calendar.statutory``: 元旦, 春节 from 除夕, 清明, 劳动节, 端午, 中秋, 国庆), and
every result that looks at such a day is flagged provisional (DESIGN.md: never silently a wrong
deadline; the notice's bridges and make-up days are still unknown). The table reaches two years
past the last loaded one; beyond it only weekends are known (and everything is provisional).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from datetime import date
from importlib import resources
from pathlib import Path
from typing import Any, NamedTuple

from gateway.calendar.model import CalendarYear
from gateway.calendar.statutory import statutory_rest_days

_SATURDAY = 5
_NOVEMBER = 11


class WorkdayResult(NamedTuple):
    """A due date, and whether it rests on a year with no published arrangement."""

    due_date: date
    provisional: bool


def _weekdays_through(ordinal: int) -> int:
    """Monday–Friday days among ordinals 1..ordinal (ordinal 1, 0001-01-01, is a Monday)."""
    weeks, rest = divmod(ordinal, 7)
    return 5 * weeks + min(rest, 5)


def _kth_weekday(k: int) -> int:
    """The ordinal of the k-th Monday–Friday day counted from ordinal 1 (inverse of the above)."""
    weeks, rest = divmod(k - 1, 5)
    return 7 * weeks + rest + 1


class WorkCalendar:
    """Immutable working-day calendar built from validated year files; safe to share across threads."""

    def __init__(self, years: Iterable[CalendarYear] = ()) -> None:
        self._years: dict[int, CalendarYear] = {}
        for year in years:
            if year.year in self._years:
                raise ValueError(f"calendar year {year.year} given twice")
            self._years[year.year] = year
        self._holiday_names: dict[date, str] = {}
        self._statutory: set[date] = set()  # rest days known from the law alone (no notice loaded)
        for year in self._years.values():
            self._holiday_names.update(year.rest_day_names())
        self._build_table()

    def _build_table(self) -> None:
        known = sorted(self._years)
        first, last = (known[0] - 1, known[-1] + 2) if known else (2000, 2000)
        self._lo = date(first, 1, 1).toordinal()
        self._hi = date(last, 12, 31).toordinal()
        self._span = span = self._hi - self._lo + 1
        is_work = bytearray(span)
        known_day = bytearray(span)
        for offset in range(span):
            is_work[offset] = (self._lo + offset - 1) % 7 < _SATURDAY
        for year_number in range(first, last + 1):
            if year_number in self._years:
                continue
            for festival, name in statutory_rest_days(year_number).items():
                is_work[festival.toordinal() - self._lo] = 0
                self._holiday_names.setdefault(festival, name)
                self._statutory.add(festival)
        for year in self._years.values():
            start = date(year.year, 1, 1).toordinal() - self._lo
            end = date(year.year, 12, 31).toordinal() - self._lo
            known_day[start : end + 1] = b"\x01" * (end - start + 1)
            for day in year.rest_days:
                is_work[day.date.toordinal() - self._lo] = 0
            for day in year.makeup_workdays:
                is_work[day.date.toordinal() - self._lo] = 1
        self._is_work = bytes(is_work)
        self._cum: list[int] = []
        self._workdays: list[int] = []
        for offset in range(span):
            if is_work[offset]:
                self._workdays.append(self._lo + offset)
            self._cum.append(len(self._workdays))
        # _unknown_from[i]: the first day at or after table day i that has no data (past the table
        # end, everything is unknown), so "did the count touch an unknown year" is one comparison.
        self._unknown_from = [self._hi + 1] * (span + 1)
        for offset in range(span - 1, -1, -1):
            following = self._unknown_from[offset + 1]
            self._unknown_from[offset] = following if known_day[offset] else self._lo + offset
        # Results are immutable, so each possible answer is built once and handed out many times.
        self._firm = [WorkdayResult(date.fromordinal(o), False) for o in self._workdays]
        self._provisional = [WorkdayResult(date.fromordinal(o), True) for o in self._workdays]
        self._base = _weekdays_through(self._lo - 1)
        self._total = len(self._workdays)

    @classmethod
    def bundled(cls) -> WorkCalendar:
        """The calendar of the year files shipped in ``gateway/calendar/data``."""
        files = resources.files("gateway.calendar").joinpath("data")
        years = [
            CalendarYear.model_validate_json(entry.read_text(encoding="utf-8"))
            for entry in sorted(files.iterdir(), key=lambda e: e.name)
            if entry.name.endswith(".json")
        ]
        return cls(years)

    def load_year(
        self, data: CalendarYear | Mapping[str, Any] | str | bytes, *, replace: bool = False
    ) -> WorkCalendar:
        """A new calendar with one more year, validated (pydantic ValidationError); self is unchanged."""
        if isinstance(data, CalendarYear):
            year = data
        elif isinstance(data, str | bytes):
            year = CalendarYear.model_validate_json(data)
        else:
            year = CalendarYear.model_validate(dict(data))
        if year.year in self._years and not replace:
            raise ValueError(f"calendar year {year.year} is already loaded; pass replace=True to correct it")
        others = [y for y in self._years.values() if y.year != year.year]
        return WorkCalendar([*others, year])

    def load_year_file(self, path: str | Path, *, replace: bool = False) -> WorkCalendar:
        """A new calendar with the year file at ``path`` added (same format as the bundled files)."""
        return self.load_year(json.loads(Path(path).read_text(encoding="utf-8")), replace=replace)

    def years(self) -> tuple[int, ...]:
        """The years with published data, ascending."""
        return tuple(sorted(self._years))

    def year(self, year: int) -> CalendarYear | None:
        """The loaded data of one year (with its notice), or None."""
        return self._years.get(year)

    def has_data(self, day: date) -> bool:
        """Whether ``day`` lies in a year with published data."""
        return day.year in self._years

    def missing_years(self, today: date) -> tuple[int, ...]:
        """Years a deadline set today may fall in but that have no data: this year, and next from 1 Nov."""
        # The State Council publishes next year's arrangement each autumn (RULES.md §3); from
        # 1 November a 20-working-day limit can already end in January, so next year is needed too.
        wanted = [today.year, today.year + 1] if today.month >= _NOVEMBER else [today.year]
        return tuple(y for y in wanted if y not in self._years)

    def holiday_name(self, day: date) -> str | None:
        """The holiday a rest day belongs to (e.g. ``春节``), or None."""
        return self._holiday_names.get(day)

    def is_statutory_only(self, day: date) -> bool:
        """Whether ``day`` is a rest day known from the law alone, its year's notice not loaded yet."""
        return day in self._statutory

    def is_workday(self, day: date) -> bool:
        """Whether ``day`` is a working day (in years without data: weekdays less the statutory festivals)."""
        offset = day.toordinal() - self._lo
        if 0 <= offset < len(self._is_work):
            return bool(self._is_work[offset])
        return day.weekday() < _SATURDAY

    def next_workday_on_or_after(self, day: date) -> WorkdayResult:
        """``day`` itself if it is a working day, else the next one (the "same day" rule)."""
        return self.add_workdays(day, 0)

    def add_workdays(self, start: date, n: int) -> WorkdayResult:
        """The n-th working day after ``start``, counted from the next day; n = 0: on or after start."""
        last = start.toordinal()  # the last day NOT examined; counting starts the day after
        if n < 1:
            if n < 0:
                raise ValueError(f"cannot count {n} working days; use a non-negative number")
            last -= 1
            n = 1
        offset = last - self._lo
        if 0 <= offset < self._span:
            index = self._cum[offset] + n - 1
            if index < self._total:
                if self._workdays[index] < self._unknown_from[offset + 1]:
                    return self._firm[index]
                return self._provisional[index]
        return self._add_workdays_anywhere(last, n)

    def _add_workdays_anywhere(self, last: int, n: int) -> WorkdayResult:
        """Slow path for counts that start or end outside the table: global working-day numbering."""
        due = self._kth_workday(self._workdays_through(last) + n)
        first = last + 1
        in_table = self._lo <= first and due <= self._hi
        provisional = not in_table or self._unknown_from[first - self._lo] <= due
        return WorkdayResult(date.fromordinal(due), provisional)

    def _workdays_through(self, ordinal: int) -> int:
        """Working days among ordinals 1..ordinal: weekdays outside the table, the table's count inside."""
        if ordinal < self._lo:
            return _weekdays_through(ordinal)
        if ordinal <= self._hi:
            return self._base + self._cum[ordinal - self._lo]
        return self._base + self._total + _weekdays_through(ordinal) - _weekdays_through(self._hi)

    def _kth_workday(self, k: int) -> int:
        """The ordinal of the k-th working day counted from ordinal 1 (inverse of the above)."""
        if k <= self._base:
            return _kth_weekday(k)
        if k <= self._base + self._total:
            return self._workdays[k - self._base - 1]
        return _kth_weekday(k - self._base - self._total + _weekdays_through(self._hi))
