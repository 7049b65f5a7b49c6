"""Each deadline rule of the regulations, as pure functions, named with the article it implements."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest
from pydantic import ValidationError

from gateway.calendar import WorkCalendar
from gateway.settings import Settings
from gateway.sla import DEFAULT_POLICY, SHANGHAI, DeadlinePolicy
from gateway.sla.derive import (
    DISPATCH,
    FEEDBACK,
    PLAN,
    RESPONSE,
    TicketFacts,
    platform_limits,
    resolution_inputs,
    simple_inputs,
    spec_for,
)
from gateway.sla.limits import fixed
from gateway.sla.profiles import PROFILES
from gateway.sla.table import policy_table

CAL = WorkCalendar.bundled()


def sh(y: int, m: int, d: int, hh: int = 0, mm: int = 0, ss: int = 0) -> datetime:
    return datetime(y, m, d, hh, mm, ss, tzinfo=SHANGHAI)


def eod(y: int, m: int, d: int) -> datetime:
    return sh(y, m, d, 23, 59, 59)


def facts(**kw: Any) -> TicketFacts:
    base: dict[str, Any] = {"platform": "p12345", "appeal_type": "complaint", "level": None, "status": "received",
                            "issued_at": sh(2026, 11, 16, 10)}
    return TicketFacts(**(base | kw))


def resolution(f: TicketFacts, policy: DeadlinePolicy = DEFAULT_POLICY, **limits: datetime) -> Any:
    extra = [fixed(at, source="platform", rule=policy.platform_article, label=name) for name, at in limits.items()]
    return spec_for(resolution_inputs(f, f.issued_at, [*platform_limits(f, policy), *extra], policy), CAL, policy)


# --- rule 1: 当日 is the calendar day; urgency makes 应急类 -------------------------------------------


@pytest.mark.parametrize(("appeal", "issued", "due"), [
    ("help", sh(2026, 10, 3, 10), eod(2026, 10, 3)),  # 国庆: not 10-08
    ("consultation", sh(2026, 2, 17, 8), eod(2026, 2, 17)),  # 春节 初一: not a week later
    ("help", sh(2026, 11, 21, 23, 50), eod(2026, 11, 21)),  # Saturday, late: the date is kept, no grace
])
def test_same_day_is_the_calendar_day_even_on_a_rest_day_000_限时办结_一(
    appeal: str, issued: datetime, due: datetime
) -> None:
    spec = resolution(facts(appeal_type=appeal, issued_at=issued))
    assert spec.due_at == due and (spec.rule, spec.source) == ("000 限时办结 一", "policy")


@pytest.mark.parametrize("urgency", ["urgent", "critical"])
@pytest.mark.parametrize("appeal", ["complaint", "report", "suggestion"])
def test_an_urgent_12345_ticket_is_emergency_and_due_the_same_day_whatever_its_type_000_限时办结_一(
    urgency: str, appeal: str
) -> None:
    f = facts(appeal_type=appeal, urgency=urgency, issued_at=sh(2026, 10, 2, 21))
    spec = resolution(f)
    assert spec.due_at == eod(2026, 10, 2) and spec.rule_key in ("紧急", "特急")
    assert resolution(facts(appeal_type=appeal, issued_at=sh(2026, 10, 2, 21))).due_at > eod(2026, 10, 2)


def test_a_complex_consultation_gets_five_working_days_instead_of_the_same_day_000_限时办结_一() -> None:
    assert resolution(facts(appeal_type="consultation", issued_at=sh(2026, 11, 16, 9))).due_at == eod(2026, 11, 16)
    complex_ = resolution(facts(appeal_type="consultation", complex=True, issued_at=sh(2026, 11, 16, 9)))
    assert complex_.due_at == eod(2026, 11, 23) and complex_.rule_key == "复杂咨询"


# --- rule 2: the platform's limit binds when earlier; one binding deadline with its source --------------


def test_the_mayor_hotlines_blsx_binds_when_earlier_000_限时办结_一() -> None:
    # blsx 2 working days from Friday 2026-11-20: Monday 23rd, Tuesday 24th, earlier than our 5.
    f = facts(platform="mayor", appeal_type="help", issued_at=sh(2026, 11, 20, 9), platform_time_limit=2,
              platform_time_unit="working_days")
    spec = resolution(f)
    assert spec.due_at == eod(2026, 11, 24)
    assert (spec.source, spec.rule, spec.label) == ("platform", "000 限时办结 一", "平台办理时限 2个工作日")
    later = resolution(facts(platform="mayor", appeal_type="help", issued_at=sh(2026, 11, 20, 9),
                             platform_time_limit=8, platform_time_unit="working_days"))
    assert later.due_at == eod(2026, 11, 27) and later.source == "policy"  # ours (5 working days) is earlier


def test_12345_due_at_and_time_limit_both_count_and_the_earliest_binds_000_限时办结_一() -> None:
    f = facts(issued_at=sh(2026, 11, 16, 9), platform_due_at=sh(2026, 11, 20, 18), platform_time_limit=30,
              platform_time_unit="hours")
    spec = resolution(f)  # 30 hours: Tuesday 15:00, before dueAt and before our 5 working days
    assert spec.due_at == sh(2026, 11, 17, 15) and spec.source == "platform"
    assert spec.platform_due_at == sh(2026, 11, 17, 15)


def test_the_12389_blqx_binds_when_earlier_than_its_level_001_四三() -> None:
    f = facts(platform="p12389", appeal_type="report", level="重大", issued_at=sh(2026, 11, 16, 9),
              platform_due_at=eod(2026, 11, 30))
    spec = resolution(f)
    assert spec.due_at == eod(2026, 11, 30) and spec.source == "platform"
    assert resolution(facts(platform="p12389", appeal_type="report", level="重大",
                            issued_at=sh(2026, 11, 16, 9))).due_at == eod(2026, 12, 14)


def test_a_tie_between_policy_and_platform_keeps_the_policys_article_000_限时办结_一() -> None:
    spec = resolution(facts(issued_at=sh(2026, 11, 16, 9), platform_due_at=eod(2026, 11, 23)))
    assert spec.due_at == eod(2026, 11, 23) and (spec.source, spec.rule) == ("policy", "000 限时办结 一")


# --- rule 3: 002's 137 rule --------------------------------------------------------------------------

P002 = DeadlinePolicy(profile="002")


def test_the_137_rule_gives_12345_one_working_day_three_days_and_seven_for_a_plan_002_工作要求二() -> None:
    f = facts(issued_at=sh(2026, 9, 30, 16))  # the eve of 国庆 2026
    feedback = spec_for(simple_inputs(FEEDBACK, f, f.issued_at), CAL, P002)
    assert feedback is not None and feedback.due_at == eod(2026, 10, 8)  # 1 working day: after the holiday
    assert feedback.rule == "002 工作要求(二)"
    assert resolution(f, P002).due_at == eod(2026, 10, 3)  # "3天": calendar days, as against "1个工作日"
    assert spec_for(simple_inputs(PLAN, f, f.issued_at), CAL, P002).due_at == eod(2026, 10, 7)  # type: ignore[union-attr]
    complex_ = facts(issued_at=sh(2026, 9, 30, 16), complex=True, platform_due_at=eod(2026, 10, 20))
    bound = resolution(complex_, P002)  # a complex ticket answers to its plan; the platform's limit binds
    assert bound.due_at == eod(2026, 10, 20) and bound.source == "platform"
    assert spec_for(simple_inputs(FEEDBACK, facts(platform="mayor"), f.issued_at), CAL, P002) is None


# --- rule 4 and 5: response from the dispatch, dispatch by 9:00 the next (working) day ------------------


def test_the_response_window_is_two_hours_from_the_dispatch_002_四二() -> None:
    spec = spec_for(simple_inputs(RESPONSE, facts(), sh(2026, 11, 16, 15, 10)), CAL, DEFAULT_POLICY)
    assert spec is not None and spec.due_at == sh(2026, 11, 16, 17, 10) and spec.rule == "002 四(二)"


@pytest.mark.parametrize(("received", "due"), [
    (sh(2026, 11, 19, 20), sh(2026, 11, 20, 9)),  # Thursday evening → Friday 9:00
    (sh(2026, 11, 20, 10), sh(2026, 11, 23, 9)),  # Friday → Saturday rests → Monday 9:00
    (sh(2026, 9, 30, 10), sh(2026, 10, 8, 9)),  # 国庆 2026: 1–7 October rest
    (sh(2026, 2, 13, 10), sh(2026, 2, 14, 9)),  # 14 February 2026 is a make-up Saturday: worked
])
def test_dispatch_is_due_at_nine_the_next_day_rolled_past_rest_days_000_统一派单_二(
    received: datetime, due: datetime
) -> None:
    spec = spec_for(simple_inputs(DISPATCH, facts(), received), CAL, DEFAULT_POLICY)
    assert spec is not None and spec.due_at == due and spec.rule == "000 统一派单 二"


# --- rule 9: profiles, one setting, overrides, the table -----------------------------------------------


def test_each_profile_is_its_seeds_rules_and_every_rule_names_its_article() -> None:
    """000 亳州, 001 泰安, 002 乌审旗 (137), 003 嘉定, and the default combining them (DESIGN.md)."""
    assert set(PROFILES) == {"default", "000", "001", "002", "003"}
    for name in PROFILES:
        table = policy_table(DeadlinePolicy(profile=name))
        assert table["rules"] and all(r["article"] for r in table["rules"]), name
        cited = {r["article"].split()[0] for r in table["rules"] if r["article"] != "—"}
        assert cited <= {"000", "001", "002", "003"}, (name, cited)
    assert DeadlinePolicy(profile="001").sign_off is None  # 001 says nothing of sign-off
    assert DeadlinePolicy(profile="000").dispatch is not None and DeadlinePolicy(profile="002").dispatch is None
    assert DeadlinePolicy(profile="003").resolution == {}  # 在规定时限内答复: the platform's limits


def test_one_setting_picks_the_profile_and_overrides_stay_possible(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GATEWAY_SLA__PROFILE", "002")
    monkeypatch.setenv("GATEWAY_SLA__SIGN_OFF__AFTER", "PT12H")
    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    assert settings.sla.profile == "002" and settings.sla.first_feedback is not None
    assert settings.sla.sign_off is not None and settings.sla.sign_off.after == timedelta(hours=12)
    assert settings.sla.sign_off.article == "002 四(一)"
    changed = [r for r in policy_table(settings.sla)["rules"] if r["changed"]]
    assert [r["step"] for r in changed] == ["签收"]
    monkeypatch.setenv("GATEWAY_SLA__PROFILE", "999")
    with pytest.raises(ValidationError, match="unknown deadline profile '999'"):
        Settings(_env_file=None)  # type: ignore[call-arg]


def test_a_rule_can_be_switched_off_and_the_policy_fingerprint_follows() -> None:
    from gateway.sla.recompute import policy_fingerprint

    off = DEFAULT_POLICY.with_overrides({"dispatch": None})
    assert off.dispatch is None and spec_for(simple_inputs(DISPATCH, facts(), sh(2026, 11, 19, 20)), CAL, off) is None
    assert policy_fingerprint(off) != policy_fingerprint(DEFAULT_POLICY)
    assert policy_fingerprint(Settings(_env_file=None).sla) == policy_fingerprint(DEFAULT_POLICY)  # type: ignore[call-arg]
