"""Deadline arithmetic: pure functions from instants, rules and calendar to due instants.

Every input must be an aware datetime; an instant in any zone means the same instant here and is
converted. Every output is an aware datetime in Asia/Shanghai (RULES.md §3). Wall-clock windows
(sign-off, response, pauses) are exact elapsed time. Limits in days count from the day after the
start day (民法典 第二百零一条: 开始的当日不计入) and end at 23:59:59 of the last day, on the official
calendar for working days; 0 days is 当日, the start's own calendar day even when it is a rest day
(police work every day: 000 限时办结 一), with no grace period.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from typing import NamedTuple

from gateway.calendar import WorkCalendar
from gateway.errors import DomainError
from gateway.schema import SHANGHAI
from gateway.sla.policy import (
    DEFAULT_POLICY,
    SAME_DAY,
    UNIT_WORDS,
    DeadlinePolicy,
    DispatchRule,
    NoDeadlineRule,
    Unit,
)

END_OF_DAY = time(23, 59, 59)


class Due(NamedTuple):
    """A deadline, and whether it rests on a calendar year with no published arrangement."""

    due_at: datetime
    provisional: bool


class ExtensionRefused(DomainError):
    """An extension (延期) the policy does not allow; the message says why in Chinese and English."""

    def __init__(self, message: str, *, reason: str) -> None:
        super().__init__(message, code="extension_refused", status=422)
        self.reason = reason


def to_shanghai(moment: datetime) -> datetime:
    """The same instant in Asia/Shanghai; a naive datetime is refused (its zone would be a guess)."""
    if moment.tzinfo is SHANGHAI:  # one shared constant: the common case is free
        return moment
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"naive datetime {moment.isoformat()}: attach its zone (platforms send +08:00)")
    return moment.astimezone(SHANGHAI)


@lru_cache(maxsize=4096)  # a few years of due dates; datetimes are immutable, so sharing is safe
def end_of_day(day: date) -> datetime:
    """23:59:59 Asia/Shanghai on ``day``."""
    return datetime.combine(day, END_OF_DAY, tzinfo=SHANGHAI)


def after(moment: datetime, elapsed: timedelta) -> datetime:
    """Exactly ``elapsed`` after ``moment`` (added in UTC), in Asia/Shanghai."""
    return (moment.astimezone(UTC) + elapsed).astimezone(SHANGHAI)


def _earlier(ours: datetime, platforms: datetime | None) -> datetime:
    if platforms is None:
        return ours
    theirs = to_shanghai(platforms)
    return theirs if theirs < ours else ours


def days_due(start: datetime, days: int, unit: Unit, calendar: WorkCalendar) -> Due:
    """End of the ``days``-th working or calendar day after ``start``'s day; 0: end of that very day."""
    day = to_shanghai(start).date()
    if days == SAME_DAY:
        # 当日 is the calendar day (000 限时办结 一): a rest day is no reason to answer later.
        return Due(end_of_day(day), False)
    if unit == "calendar_days":
        return Due(end_of_day(day + timedelta(days=days)), False)
    result = calendar.add_workdays(day, days)
    return Due(end_of_day(result.due_date), result.provisional)


def dispatch_due(received_at: datetime, rule: DispatchRule, calendar: WorkCalendar) -> Due:
    """派单 due (000 统一派单 二): the rule's hour of the next day, or of the next working day after a rest day."""
    next_day = to_shanghai(received_at).date() + timedelta(days=1)
    provisional = False
    if rule.roll_to_workday:
        rolled = calendar.next_workday_on_or_after(next_day)
        next_day, provisional = rolled.due_date, rolled.provisional
    return Due(datetime.combine(next_day, rule.at, tzinfo=SHANGHAI), provisional)


def sign_off_due(
    issued_at: datetime,
    platform_sign_deadline: datetime | None = None,
    *,
    policy: DeadlinePolicy = DEFAULT_POLICY,
) -> datetime:
    """签收 due: 24 h after the platform issued the ticket (002 四(一)), or the platform's if earlier."""
    if policy.sign_off is None:
        if platform_sign_deadline is None:
            raise NoDeadlineRule("the profile has no sign-off rule and the platform sent no sign deadline")
        return to_shanghai(platform_sign_deadline)
    return _earlier(after(to_shanghai(issued_at), policy.sign_off.after), platform_sign_deadline)


def response_due(dispatched_at: datetime, *, policy: DeadlinePolicy = DEFAULT_POLICY) -> datetime:
    """响应 due: 2 h after the dispatch takes effect, i.e. the unit receives the order (002 四(二))."""
    if policy.response is None:
        raise NoDeadlineRule("the profile has no response rule")
    return after(to_shanghai(dispatched_at), policy.response.after)


def platform_limit_due(issued_at: datetime, limit: int, unit: str, calendar: WorkCalendar) -> Due:
    """A platform's 办理时限 given as a number (12345 ``timeLimit``/``timeUnit``, mayor ``blsx``)."""
    if unit == "hours":
        return Due(after(to_shanghai(issued_at), timedelta(hours=limit)), False)
    return days_due(issued_at, limit, "calendar_days" if unit == "calendar_days" else "working_days", calendar)


def resolution_due(
    platform: str,
    key: str,
    issued_at: datetime,
    platform_due_at: datetime | None,
    calendar: WorkCalendar,
    policy: DeadlinePolicy = DEFAULT_POLICY,
) -> Due:
    """办结 due by the policy key (type, level, urgency), or the platform's due if earlier."""
    # ``provisional`` stays true when the platform's wins too: once the missing year is published,
    # make-up days could move ours earlier.
    rule = policy.rule_for(platform)
    days = rule.days_for(platform, key)
    if days is None:
        if platform_due_at is None:
            raise NoDeadlineRule(f"no policy limit for {key!r} on {platform} and no platform deadline")
        return Due(to_shanghai(platform_due_at), False)
    day = to_shanghai(issued_at).date()
    if days == SAME_DAY or rule.unit == "calendar_days":
        return Due(_earlier(end_of_day(day + timedelta(days=days)), platform_due_at), False)
    result = calendar.add_workdays(day, days)
    return Due(_earlier(end_of_day(result.due_date), platform_due_at), result.provisional)


def extension_days_due(current_due: datetime, days: int, calendar: WorkCalendar, policy: DeadlinePolicy) -> Due:
    """The current deadline moved by ``days`` (calendar or working days per the rule), same time of day."""
    current = to_shanghai(current_due)
    if policy.extension.unit == "calendar_days":
        return Due(current + timedelta(days=days), False)
    day = calendar.add_workdays(current.date(), days)
    return Due(datetime.combine(day.due_date, current.timetz()), day.provisional)


def extension_due(
    current_due: datetime,
    days: int,
    requested_at: datetime,
    extensions_so_far: int,
    calendar: WorkCalendar,
    policy: DeadlinePolicy = DEFAULT_POLICY,
) -> Due:
    """延期 due (000 限时办结 二): asked at least a day ahead, adding at most 5 days; else ExtensionRefused."""
    # "延期不得超过5天" counts calendar days: the same article writes "5 个工作日" where it means working
    # days. ``requested_at`` is when the unit asked: the notice is judged then, not at the approval.
    rule = policy.extension
    current = to_shanghai(current_due)
    unit = UNIT_WORDS[rule.unit]
    if days < 1 or (rule.max_days is not None and days > rule.max_days):
        most = f"1 至 {rule.max_days}" if rule.max_days is not None else "至少 1"
        raise ExtensionRefused(
            f"延期天数须为 {most} {unit}（申请 {days} 天，{rule.article}）/ an extension adds"
            f" {'1 to ' + str(rule.max_days) if rule.max_days else 'at least 1'} {rule.unit} ({days} requested)",
            reason="days_out_of_range",
        )
    if rule.max_count is not None and extensions_so_far >= rule.max_count:
        raise ExtensionRefused(
            f"本工单已延期 {extensions_so_far} 次，最多 {rule.max_count} 次 / this ticket has been"
            f" extended {extensions_so_far} time(s); the policy allows {rule.max_count}",
            reason="limit_reached",
        )
    latest = current - rule.min_notice
    if to_shanghai(requested_at) > latest:
        hours = rule.min_notice / timedelta(hours=1)
        ahead = f"前 {hours:g} 小时" if hours else "前"
        raise ExtensionRefused(
            f"延期须在办理期限{ahead}提出（{rule.article}；期限 {current:%Y-%m-%d %H:%M:%S}，最迟"
            f" {latest:%Y-%m-%d %H:%M:%S}）/ an extension must be requested at least {hours:g} h before"
            f" the deadline {current.isoformat()} (by {latest.isoformat()})",
            reason="too_late",
        )
    return extension_days_due(current, days, calendar, policy)


def shift_for_pause(due: datetime, paused_for: timedelta) -> datetime:
    """The deadline moved by the exact length of a pause (挂起/暂停), wall-clock."""
    if paused_for < timedelta(0):
        raise ValueError(f"a pause cannot last {paused_for}; it is never negative")
    return after(to_shanghai(due), paused_for)
