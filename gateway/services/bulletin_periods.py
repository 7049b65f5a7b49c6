"""When each scheduled bulletin is due: the periods, their keys, and the instant each may be generated.

- 日提醒 (daily reminder, 002 二(一) 日提醒): every **working day** of the official calendar at
  ``daily_at`` (08:30 +08:00 by default); none on a weekend or holiday, and a make-up working day (调休上班)
  gets one. Only today's is ever generated: a reminder missed because no scheduler ran is stale by tomorrow.
- 周反馈 (002 二(一) 周反馈, 004 三 每周小结, 000 督办 二 每周…报各位分管局领导), 月通报 (002 二(一) 月通报, 004 三
  每月通报) and the 12389 quarterly, half-year and annual analysis (001 三(五) 每季度、半年、年度…进行分析): after
  the period closes, at ``report_at`` on the first working day after its last day. Only the last closed
  period of each kind is considered, so a scheduler that was down catches up on it, not on older ones.

The key of a period (``2026-11-20``, ``2026-W47``, ``2026-11``, ``2026-Q4``, ``2026-H2``, ``2026``) is unique per
kind in the ``bulletins`` table: that row is the exactly-once gate (``gateway.services.bulletins``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from gateway.calendar import WorkCalendar
from gateway.schema import SHANGHAI
from gateway.services.bulletin import month_of, week_of
from gateway.settings import BulletinSettings

DAILY, WEEK, MONTH, QUARTER, HALF, YEAR = "daily", "week", "month", "quarter", "half", "year"
ANALYSIS_12389 = (QUARTER, HALF, YEAR)
KIND_LABELS = {DAILY: "日提醒", WEEK: "周反馈", MONTH: "月通报", QUARTER: "12389季度分析",
               HALF: "12389半年分析", YEAR: "12389年度分析"}
ARTICLES = {DAILY: "002 二(一)", WEEK: "002 二(一)、004 三、000 督办 二", MONTH: "002 二(一)、004 三",
            QUARTER: "001 三(五)", HALF: "001 三(五)", YEAR: "001 三(五)"}


@dataclass(frozen=True)
class Period:
    """One bulletin's period: its kind, unique key, first and last day, and when it may be generated."""

    kind: str
    key: str
    start: date
    end: date
    due_at: datetime  # aware, +08:00


def _at(day: date, at: time) -> datetime:
    return datetime.combine(day, at, tzinfo=SHANGHAI)


def quarter_of(day: date) -> tuple[date, date]:
    """First and last day of the quarter holding ``day``."""
    first = date(day.year, 3 * ((day.month - 1) // 3) + 1, 1)
    return first, month_of(date(first.year, first.month + 2, 1))[1]


def half_of(day: date) -> tuple[date, date]:
    """First and last day of the half-year holding ``day``."""
    return (date(day.year, 1, 1), date(day.year, 6, 30)) if day.month <= 6 else (date(day.year, 7, 1),
                                                                                   date(day.year, 12, 31))


def year_of(day: date) -> tuple[date, date]:
    """First and last day of the year holding ``day``."""
    return date(day.year, 1, 1), date(day.year, 12, 31)


def span_of(kind: str, day: date) -> tuple[date, date]:
    """The period of ``kind`` holding ``day``."""
    if kind == DAILY:
        return day, day
    spans: dict[str, Callable[[date], tuple[date, date]]] = {
        WEEK: week_of, MONTH: month_of, QUARTER: quarter_of, HALF: half_of, YEAR: year_of}
    return spans[kind](day)


def key_of(kind: str, start: date) -> str:
    """The period's unique key."""
    if kind == DAILY:
        return start.isoformat()
    if kind == WEEK:
        year, week, _ = start.isocalendar()
        return f"{year}-W{week:02d}"
    if kind == MONTH:
        return f"{start:%Y-%m}"
    if kind == QUARTER:
        return f"{start.year}-Q{(start.month - 1) // 3 + 1}"
    if kind == HALF:
        return f"{start.year}-H{1 if start.month <= 6 else 2}"
    return str(start.year)


def period(kind: str, day: date, calendar: WorkCalendar, settings: BulletinSettings) -> Period:
    """The period of ``kind`` holding ``day``, with the instant it becomes due."""
    start, end = span_of(kind, day)
    if kind == DAILY:
        due = _at(day, settings.daily_at)
    else:
        due = _at(calendar.next_workday_on_or_after(end + timedelta(days=1)).due_date, settings.report_at)
    return Period(kind, key_of(kind, start), start, end, due)


def enabled_kinds(settings: BulletinSettings) -> list[str]:
    """The kinds switched on."""
    kinds = [DAILY] if settings.daily_enabled else []
    kinds += [WEEK] if settings.weekly_enabled else []
    kinds += [MONTH] if settings.monthly_enabled else []
    return kinds + (list(ANALYSIS_12389) if settings.analysis_12389_enabled else [])


def due_periods(now: datetime, calendar: WorkCalendar, settings: BulletinSettings) -> list[Period]:
    """The periods that may be generated at ``now``: today's reminder on a working day once its time has
    come, and the last closed period of each report kind once its first working day's time has come."""
    today = now.astimezone(SHANGHAI).date()
    found = []
    for kind in enabled_kinds(settings):
        if kind == DAILY:
            if not calendar.is_workday(today):
                continue  # 002 二(一) 日提醒 is a working day's: none on a weekend or a holiday
            candidate = period(DAILY, today, calendar, settings)
        else:
            start, _ = span_of(kind, today)
            candidate = period(kind, start - timedelta(days=1), calendar, settings)  # the last closed one
        if candidate.due_at <= now:
            found.append(candidate)
    return found
