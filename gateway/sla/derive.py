"""Which timers a ticket should have, and what its state means for each: pure functions, no I/O.

Defaults (DESIGN.md, RULES.md §3): sign-off 24 h from issue (the platform's sign deadline if earlier),
met by signing or by asking to return the ticket; response 2 h after sign-off, met by the first
response (先行联系); resolution in working days by platform × appeal type or level from the issue
day (the platform's due if earlier), met when the reply is sent; an approved extension replaces the
resolution deadline; 重办 opens a new cycle whose resolution counts from the reopening.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from gateway.calendar import WorkCalendar
from gateway.sla.deadlines import (
    ExtensionRefused,
    extension_due,
    resolution_due,
    response_due,
    sign_off_due,
    to_shanghai,
)
from gateway.sla.policy import DeadlinePolicy, NoDeadlineRule

SIGN_OFF, RESPONSE, RESOLUTION, EXTENSION = "sign_off", "response", "resolution", "extension"
RESOLUTION_KINDS = (RESOLUTION, EXTENSION)
RETURNING = ("return_requested", "returned")
RESPONDED = ("responded", "reply_drafted", "approved", "replied", "closed")
FINISHED = ("replied", "closed")


@dataclass(frozen=True)
class TicketFacts:
    """The ticket fields the timers depend on."""

    platform: str
    appeal_type: str
    level: str | None
    status: str
    issued_at: datetime
    platform_sign_by: datetime | None = None
    platform_due_at: datetime | None = None
    signed_at: datetime | None = None
    responded_at: datetime | None = None
    replied_at: datetime | None = None
    reopen_count: int = 0
    suspended_at: datetime | None = None

    @classmethod
    def of(cls, ticket: Any) -> TicketFacts:
        """Facts from a ``TicketRecord`` (or anything with the same attributes)."""
        return cls(**{name: getattr(ticket, name) for name in cls.__dataclass_fields__})

    @property
    def cycle(self) -> int:
        """The current handling cycle (1, then one more per 重办)."""
        return self.reopen_count + 1


@dataclass(frozen=True)
class Spec:
    """A timer as it should be: when it started, when it is due, and what the due rests on."""

    started_at: datetime
    due_at: datetime
    provisional: bool = False
    rule_key: str | None = None
    platform_due_at: datetime | None = None
    ext_days: int | None = None
    ext_from: datetime | None = None


Outcome = tuple[Literal["run", "met", "pause", "cancel"], datetime | None, str]


def sign_off_spec(facts: TicketFacts, policy: DeadlinePolicy) -> Spec:
    """签收: 24 h after issue, or the platform's sign deadline if earlier."""
    return Spec(facts.issued_at, sign_off_due(facts.issued_at, facts.platform_sign_by, policy=policy),
                platform_due_at=facts.platform_sign_by)


def signed_instant(facts: TicketFacts, now: datetime) -> datetime | None:
    """When the ticket was signed (a platform snapshot may say so without our own signed_at)."""
    if facts.signed_at is not None:
        return facts.signed_at
    if facts.status in ("received", *RETURNING):
        return None
    return now


def response_spec(signed_at: datetime, policy: DeadlinePolicy) -> Spec:
    """响应: 2 h after sign-off."""
    return Spec(signed_at, response_due(signed_at, policy=policy))


def rule_key(policy: DeadlinePolicy, platform: str, appeal_type: str, level: str | None) -> str | None:
    """The policy key for a ticket: its level where the platform's rule grades by level, else its type."""
    rule = policy.resolution.get(platform)
    if rule is None:
        return None
    if level and level in rule.by_type:
        return level
    try:
        policy.resolution_workdays(platform, appeal_type)
    except NoDeadlineRule:
        return None
    return appeal_type


def resolution_spec(
    facts: TicketFacts, started_at: datetime, calendar: WorkCalendar, policy: DeadlinePolicy,
    *, platform_due: datetime | None,
) -> Spec | None:
    """办结: working days from ``started_at``'s day, or the platform's due if earlier; None if neither."""
    # A platform due older than this cycle's start belongs to an earlier cycle (重办 without a new due).
    if platform_due is not None and platform_due <= started_at:
        platform_due = None
    key = rule_key(policy, facts.platform, facts.appeal_type, facts.level)
    if key is None:
        return None if platform_due is None else Spec(started_at, to_shanghai(platform_due),
                                                      platform_due_at=platform_due)
    due = resolution_due(facts.platform, key, started_at, platform_due, calendar, policy)
    return Spec(started_at, due.due_at, due.provisional, rule_key=key, platform_due_at=platform_due)


def extension_spec(
    current_due: datetime,
    now: datetime,
    *,
    platform_new_due: datetime | None,
    days: int | None,
    requested_at: datetime | None,
    extensions_so_far: int,
    calendar: WorkCalendar,
    policy: DeadlinePolicy,
) -> Spec:
    """延期 approved by the platform: its new due, else ``days`` working days added per the policy."""
    if platform_new_due is not None:
        return Spec(now, to_shanghai(platform_new_due), platform_due_at=platform_new_due)
    add = days or policy.extension_max_workdays
    try:
        due = extension_due(current_due, add, requested_at or now, extensions_so_far, calendar, policy)
    except ExtensionRefused:
        # The platform approved it, and the platform decides; add the days without our own checks.
        local = to_shanghai(current_due)
        day = calendar.add_workdays(local.date(), add)
        return Spec(now, datetime.combine(day.due_date, local.timetz()), day.provisional,
                    ext_days=add, ext_from=current_due)
    return Spec(now, due.due_at, due.provisional, ext_days=add, ext_from=current_due)


def outcome(kind: str, facts: TicketFacts, started_at: datetime, now: datetime) -> Outcome:
    """What the ticket's state means for an open timer of ``kind``: keep running, met, pause or cancel."""
    if kind == SIGN_OFF:
        signed = signed_instant(facts, now)
        if signed is not None:
            return "met", signed, "已签收"
        if facts.status in RETURNING:
            return "met", now, "已申请退回"
        return "run", None, ""
    if kind == RESPONSE:
        if facts.responded_at is not None:
            return "met", facts.responded_at, "已先行联系"
        if facts.status in RESPONDED:
            return "met", now, "平台显示已响应"
        if facts.status in RETURNING:
            return "cancel", None, "工单已退回"
        return "run", None, ""
    if facts.replied_at is not None and facts.replied_at >= started_at:
        return "met", facts.replied_at, "答复已回传平台"
    if facts.status == "replied":
        return "met", now, "平台显示已答复"
    if facts.status == "returned":
        return "cancel", None, "工单已退回"
    if facts.status == "closed":
        return "cancel", None, "平台已办结"
    if facts.status == "return_requested":
        return "pause", None, "退回申请待平台审批"
    if facts.suspended_at is not None:
        return "pause", None, "延期挂单"
    return "run", None, ""
