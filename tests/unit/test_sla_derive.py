"""Timer derivation and thresholds: pure functions, golden cases around the Spring Festival."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from gateway.calendar import WorkCalendar
from gateway.sla import DEFAULT_POLICY, SHANGHAI
from gateway.sla.derive import (
    Spec,
    TicketFacts,
    extension_spec,
    outcome,
    resolution_inputs,
    sign_off_inputs,
    spec_for,
)
from gateway.sla.limits import fixed
from gateway.sla.thresholds import BREACH, crossed, fire_at, next_alert, percents

CAL = WorkCalendar.bundled()


def sh(y: int, m: int, d: int, hh: int = 0, mm: int = 0, ss: int = 0) -> datetime:
    return datetime(y, m, d, hh, mm, ss, tzinfo=SHANGHAI)


def facts(**kw: object) -> TicketFacts:
    base: dict[str, object] = {"platform": "p12345", "appeal_type": "complaint", "level": None,
                               "status": "received", "issued_at": sh(2026, 2, 12, 10)}
    return TicketFacts(**(base | kw))  # type: ignore[arg-type]


def resolution_spec(f: TicketFacts, started: datetime, platform_due: datetime | None) -> Spec | None:
    limits = [] if platform_due is None else [fixed(platform_due, source="platform", rule="000 限时办结 一",
                                                    label="平台办理截止时间")]
    return spec_for(resolution_inputs(f, started, limits, DEFAULT_POLICY), CAL, DEFAULT_POLICY)


# Hand-checked against the State Council notices: 2026 春节 rest 2/15–2/23, make-up 2/14 and 2/28;
# 2025 春节 rest 1/28–2/4, make-up 1/26 and 2/8.
GOLDEN = [
    ("p12345", "complaint", None, sh(2026, 2, 12, 10), None, sh(2026, 2, 26, 23, 59, 59)),
    ("p12345", "complaint", None, sh(2026, 2, 12, 10), sh(2026, 2, 25, 23, 59, 59), sh(2026, 2, 25, 23, 59, 59)),
    ("p12345", "consultation", None, sh(2026, 2, 15, 9), None, sh(2026, 2, 15, 23, 59, 59)),  # 当日, even 春节
    ("p12345", "help", None, sh(2026, 2, 14, 9), None, sh(2026, 2, 14, 23, 59, 59)),  # a make-up Saturday works
    ("p12389", "report", "一般", sh(2026, 2, 10, 16), None, sh(2026, 3, 9, 23, 59, 59)),
    ("p12389", "report", "重大", sh(2026, 1, 30, 9), None, sh(2026, 3, 5, 23, 59, 59)),  # both make-ups count
    ("mailbox", "suggestion", None, sh(2025, 1, 24, 17), None, sh(2025, 2, 13, 23, 59, 59)),
    ("mayor", "complaint", None, sh(2025, 1, 27, 9), None, sh(2025, 2, 10, 23, 59, 59)),  # 5th, 6th, 7th, 8th (Sat)
]


@pytest.mark.parametrize(("platform", "appeal", "level", "issued", "platform_due", "expected"), GOLDEN)
def test_resolution_deadlines_around_the_spring_festival_match_the_hand_count(
    platform: str, appeal: str, level: str | None, issued: datetime, platform_due: datetime | None,
    expected: datetime,
) -> None:
    spec = resolution_spec(facts(platform=platform, appeal_type=appeal, level=level, issued_at=issued), issued,
                           platform_due)
    assert spec is not None and spec.due_at == expected and spec.provisional is False


def test_a_12389_ticket_is_held_to_its_level_and_others_to_their_appeal_type() -> None:
    key = DEFAULT_POLICY.resolution_key
    assert key("p12389", "report", "重大") == "重大"
    assert key("p12345", "complaint", None) == "投诉"
    assert key("p12345", "appeal", None) == "appeal"  # no 申诉 rule on 12345: 其他类 10 working days
    assert key("unknown", "complaint", None) == "complaint"  # the catch-all rule (*) of 000


def test_without_a_rule_only_the_platforms_deadline_counts_and_without_either_there_is_no_timer() -> None:
    f = facts(platform="p12345", appeal_type="complaint")
    policy = DEFAULT_POLICY.__class__(profile="003")  # 嘉定: 在规定时限内答复, the platform's limit only
    assert spec_for(resolution_inputs(f, f.issued_at, [], policy), CAL, policy) is None
    limit = fixed(sh(2026, 2, 20, 18), source="platform", rule="003 三(三)", label="平台办理截止时间")
    spec = spec_for(resolution_inputs(f, f.issued_at, [limit], policy), CAL, policy)
    assert spec is not None and spec.due_at == sh(2026, 2, 20, 18) and spec.rule_key is None
    assert (spec.source, spec.rule) == ("platform", "003 三(三)")


def test_a_deadline_in_2027_is_provisional_until_the_year_is_loaded() -> None:
    f = facts(platform="p12389", appeal_type="report", level="重大", issued_at=sh(2026, 12, 20, 9))
    spec = resolution_spec(f, f.issued_at, None)
    assert spec is not None and spec.provisional and spec.due_at == sh(2027, 1, 18, 23, 59, 59)  # 元旦 rests


def test_the_sign_off_window_is_24_wall_clock_hours_even_over_the_holiday() -> None:
    spec = spec_for(sign_off_inputs(facts(issued_at=sh(2026, 2, 14, 20)), DEFAULT_POLICY), CAL, DEFAULT_POLICY)
    assert spec is not None and spec.due_at == sh(2026, 2, 15, 20)


@pytest.mark.parametrize(("kind", "changes", "expected"), [
    ("sign_off", {}, "run"),
    ("sign_off", {"signed_at": sh(2026, 2, 12, 11), "status": "signed"}, "met"),
    ("sign_off", {"status": "return_requested"}, "met"),
    ("sign_off", {"status": "dispatched"}, "met"),  # a platform snapshot said so
    ("response", {"status": "signed"}, "run"),
    ("response", {"status": "responded", "responded_at": sh(2026, 2, 12, 11)}, "met"),
    ("response", {"status": "reply_drafted"}, "run"),  # a draft is no first contact (002 四(二))
    ("response", {"status": "returned"}, "cancel"),
    ("response", {"status": "replied"}, "lapse"),
    ("resolution", {"status": "return_requested"}, "pause"),
    ("resolution", {"status": "returned"}, "cancel"),
    ("resolution", {"status": "closed"}, "cancel"),
    ("resolution", {"status": "replied", "replied_at": sh(2026, 2, 20, 9)}, "met"),
    ("resolution", {"status": "dispatched", "replied_at": sh(2026, 2, 1, 9)}, "run"),  # a reply of an older cycle
])
def test_what_the_ticket_state_means_for_each_timer(kind: str, changes: dict[str, object], expected: str) -> None:
    assert outcome(kind, facts(**changes), sh(2026, 2, 12, 10), sh(2026, 2, 13, 9))[0] == expected


def test_a_policy_extension_adds_calendar_days_and_a_refused_one_still_follows_the_platform() -> None:
    due = sh(2026, 2, 13, 23, 59, 59)
    spec = extension_spec(due, sh(2026, 2, 11, 9), platform="p12345", platform_new_due=None, days=2, calendar=CAL,
                          policy=DEFAULT_POLICY)
    assert spec.due_at == sh(2026, 2, 15, 23, 59, 59)  # 5天 are calendar days (000 限时办结 二)
    assert (spec.source, spec.rule) == ("policy", "000 限时办结 二")
    late = extension_spec(due, sh(2026, 2, 13, 20), platform="p12345", platform_new_due=None, days=2, calendar=CAL,
                          policy=DEFAULT_POLICY)
    assert late.due_at == spec.due_at  # asked too late for our policy, but the platform approved it


def test_thresholds_are_whole_percents_with_the_breach_last() -> None:
    assert percents([0.9, 0.5, 0.75]) == (50, 75, 90, BREACH)
    start, due = sh(2026, 11, 22, 10), sh(2026, 11, 23, 10)
    assert fire_at(start, due, 75) == sh(2026, 11, 23, 4)
    assert fire_at(start, due, BREACH) == due
    assert next_alert(start, due, (50, 75, 90, 100), 75) == (90, sh(2026, 11, 23, 7, 36))
    assert next_alert(start, due, (50, 100), 100) is None
    assert crossed(start, due, (50, 75, 90, 100), 50, sh(2026, 11, 23, 8)) == [75, 90]
    assert crossed(start, due, (50, 75, 90, 100), 0, start + timedelta(hours=11, minutes=59)) == []
