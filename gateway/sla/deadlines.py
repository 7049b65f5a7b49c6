"""Deadline arithmetic: pure functions from instants, policy and calendar to due instants.

Every input must be an aware datetime; an instant in any zone means the same instant here and is
converted. Every output is an aware datetime in Asia/Shanghai (RULES.md §3). Wall-clock windows
(sign-off, response, pauses) are exact elapsed time; resolution limits are working days on the
official calendar, due at 23:59:59 local (DESIGN.md "Default deadline policy").
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from typing import NamedTuple
from zoneinfo import ZoneInfo

from gateway.calendar import WorkCalendar
from gateway.errors import DomainError
from gateway.sla.policy import DEFAULT_POLICY, SAME_DAY, DeadlinePolicy

SHANGHAI = ZoneInfo("Asia/Shanghai")
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
    if moment.tzinfo is SHANGHAI:  # ZoneInfo caches one instance per key: the common case is free
        return moment
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"naive datetime {moment.isoformat()}: attach its zone (platforms send +08:00)")
    return moment.astimezone(SHANGHAI)


@lru_cache(maxsize=4096)  # a few years of due dates; datetimes are immutable, so sharing is safe
def end_of_day(day: date) -> datetime:
    """23:59:59 Asia/Shanghai on ``day``."""
    return datetime.combine(day, END_OF_DAY, tzinfo=SHANGHAI)


def _after(moment: datetime, elapsed: timedelta) -> datetime:
    # Add in UTC so the result is exactly ``elapsed`` later whatever the zone's rules.
    return (moment.astimezone(UTC) + elapsed).astimezone(SHANGHAI)


def _earlier(ours: datetime, platforms: datetime | None) -> datetime:
    if platforms is None:
        return ours
    theirs = to_shanghai(platforms)
    return theirs if theirs < ours else ours


def sign_off_due(
    issued_at: datetime,
    platform_sign_deadline: datetime | None = None,
    *,
    policy: DeadlinePolicy = DEFAULT_POLICY,
) -> datetime:
    """签收 due: 24 h after the platform issued the ticket, or the platform's sign deadline if earlier."""
    return _earlier(_after(to_shanghai(issued_at), policy.sign_off), platform_sign_deadline)


def response_due(signed_at: datetime, *, policy: DeadlinePolicy = DEFAULT_POLICY) -> datetime:
    """响应 due: 2 h after sign-off (002 §4(2))."""
    return _after(to_shanghai(signed_at), policy.response)


def resolution_due(
    platform: str,
    appeal_type_or_level: str,
    issued_at: datetime,
    platform_due_at: datetime | None,
    calendar: WorkCalendar,
    policy: DeadlinePolicy = DEFAULT_POLICY,
) -> Due:
    """办结 due: end of the N-th working day after the issue day (N = 0: same day), or the platform's."""
    # The earlier of ours and the platform's wins (DESIGN.md). ``provisional`` stays true when the
    # platform's wins too: once the missing year is published, make-up days could move ours earlier.
    workdays = policy.resolution_workdays(platform, appeal_type_or_level)
    issue_day = to_shanghai(issued_at).date()
    if workdays == SAME_DAY:
        # "Same day" on a rest day means the end of the next working day (DESIGN.md).
        day = calendar.next_workday_on_or_after(issue_day)
    else:
        day = calendar.add_workdays(issue_day, workdays)
    return Due(_earlier(end_of_day(day.due_date), platform_due_at), day.provisional)


def extension_due(
    current_due: datetime,
    days: int,
    requested_at: datetime,
    extensions_so_far: int,
    calendar: WorkCalendar,
    policy: DeadlinePolicy = DEFAULT_POLICY,
) -> Due:
    """延期 due: ``days`` working days added to the current deadline at the same time of day."""
    # Regulation 000: ask at least one day before the due date, at most 5 days more; DESIGN.md: one
    # extension per ticket unless the policy allows more. Anything else raises ExtensionRefused.
    current = to_shanghai(current_due)
    if not 1 <= days <= policy.extension_max_workdays:
        raise ExtensionRefused(
            f"延期天数须为 1 至 {policy.extension_max_workdays} 个工作日（申请 {days} 天）/ an extension adds"
            f" 1 to {policy.extension_max_workdays} working days ({days} requested)",
            reason="days_out_of_range",
        )
    if extensions_so_far >= policy.max_extensions:
        raise ExtensionRefused(
            f"本工单已延期 {extensions_so_far} 次，最多 {policy.max_extensions} 次 / this ticket has been"
            f" extended {extensions_so_far} time(s); the policy allows {policy.max_extensions}",
            reason="limit_reached",
        )
    latest = current - policy.extension_min_notice
    if to_shanghai(requested_at) > latest:
        hours = policy.extension_min_notice / timedelta(hours=1)
        raise ExtensionRefused(
            f"延期须在办理期限前 {hours:g} 小时提出（期限 {current:%Y-%m-%d %H:%M:%S}，最迟"
            f" {latest:%Y-%m-%d %H:%M:%S}）/ an extension must be requested at least {hours:g} h before"
            f" the deadline {current.isoformat()} (by {latest.isoformat()})",
            reason="too_late",
        )
    day = calendar.add_workdays(current.date(), days)
    return Due(datetime.combine(day.due_date, current.timetz()), day.provisional)


def shift_for_pause(due: datetime, paused_for: timedelta) -> datetime:
    """The deadline moved by the exact length of a pause (挂起/暂停), wall-clock."""
    if paused_for < timedelta(0):
        raise ValueError(f"a pause cannot last {paused_for}; it is never negative")
    return _after(to_shanghai(due), paused_for)
