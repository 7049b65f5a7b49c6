"""Deadline arithmetic: sign-off, response, resolution, extension and pause, in Asia/Shanghai."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gateway.calendar import WorkCalendar
from gateway.errors import DomainError
from gateway.sla import (
    DEFAULT_POLICY,
    SHANGHAI,
    DeadlinePolicy,
    Due,
    ExtensionRefused,
    NoDeadlineRule,
    extension_due,
    resolution_due,
    response_due,
    shift_for_pause,
    sign_off_due,
)

CAL = WorkCalendar.bundled()
NEW_YORK = ZoneInfo("America/New_York")


def sh(y: int, m: int, d: int, hh: int = 0, mm: int = 0, ss: int = 0) -> datetime:
    return datetime(y, m, d, hh, mm, ss, tzinfo=SHANGHAI)


def eod(y: int, m: int, d: int) -> datetime:
    return sh(y, m, d, 23, 59, 59)


# --- sign-off and response: wall-clock windows ---------------------------------------------------


def test_sign_off_is_due_24_hours_after_issue() -> None:
    assert sign_off_due(sh(2025, 9, 30, 10, 15)) == sh(2025, 10, 1, 10, 15)  # holidays do not count


def test_the_platforms_sign_deadline_wins_only_when_earlier() -> None:
    issued = sh(2025, 3, 3, 10, 0)
    assert sign_off_due(issued, sh(2025, 3, 3, 18, 0)) == sh(2025, 3, 3, 18, 0)
    assert sign_off_due(issued, sh(2025, 3, 5, 18, 0)) == sh(2025, 3, 4, 10, 0)


def test_an_instant_in_another_zone_is_the_same_shanghai_instant() -> None:
    in_utc = datetime(2025, 3, 3, 2, 0, tzinfo=UTC)  # 10:00 in Shanghai
    in_new_york = in_utc.astimezone(NEW_YORK)
    for issued in (in_utc, in_new_york, in_utc.astimezone(timezone(timedelta(hours=8)))):
        due = sign_off_due(issued)
        assert due == sh(2025, 3, 4, 10, 0)
        assert due.tzinfo is SHANGHAI
        assert due.isoformat() == "2025-03-04T10:00:00+08:00"


def test_a_naive_datetime_is_refused_rather_than_guessed() -> None:
    with pytest.raises(ValueError, match="naive"):
        sign_off_due(datetime(2025, 3, 3, 10, 0))


def test_response_is_due_2_hours_after_sign_off() -> None:
    assert response_due(sh(2025, 3, 3, 23, 30)) == sh(2025, 3, 4, 1, 30)
    assert response_due(datetime(2025, 3, 3, 15, 30, tzinfo=UTC)) == sh(2025, 3, 4, 1, 30)


# --- resolution: working days on the official calendar ------------------------------------------


@pytest.mark.parametrize(
    ("platform", "kind", "issued", "due"),
    [
        ("p12345", "咨询", sh(2025, 9, 26, 10, 0), eod(2025, 9, 26)),  # same day
        ("p12345", "求助", sh(2025, 9, 27, 10, 0), eod(2025, 9, 27)),  # 当日 is the calendar day, Saturday too
        ("p12345", "consultation", sh(2025, 10, 1, 9, 0), eod(2025, 10, 1)),  # and on 国庆 (000 限时办结 一)
        ("p12345", "投诉", sh(2024, 2, 8, 16, 0), eod(2024, 2, 21)),  # across 春节 2024
        ("p12345", "complaint", sh(2024, 2, 8, 16, 0), eod(2024, 2, 21)),
        ("p12345", "表扬", sh(2026, 9, 30, 8, 0), eod(2026, 10, 13)),  # across 国庆 2026
        ("mayor", "求决", sh(2025, 9, 26, 10, 0), eod(2025, 10, 10)),  # 9/28 (Sun), 29, 30, 10/9, 10/10
        ("mailbox", "咨询", sh(2025, 12, 31, 10, 0), eod(2026, 1, 15)),  # 1/4 Sunday is worked
        # 1/21–24, 1/26 (Sun), 1/27, then 春节 1/28–2/4, 2/5–7, 2/8 (Sat): the 10th is a Saturday.
        ("p12389", "简单", sh(2025, 1, 20, 10, 0), eod(2025, 2, 8)),
        ("p12389", "一般", sh(2025, 1, 20, 10, 0), eod(2025, 2, 14)),
        ("p12389", "重大", sh(2025, 1, 20, 10, 0), eod(2025, 2, 21)),
    ],
)
def test_resolution_follows_the_default_table(
    platform: str, kind: str, issued: datetime, due: datetime
) -> None:
    assert resolution_due(platform, kind, issued, None, CAL) == Due(due, provisional=False)


def test_the_issue_day_is_the_shanghai_date_of_the_instant() -> None:
    # 2025-09-30 20:00 UTC is already 1 October 04:00 in Shanghai: "same day" is 1 October.
    issued = datetime(2025, 9, 30, 20, 0, tzinfo=UTC)
    assert resolution_due("p12345", "咨询", issued, None, CAL).due_at == eod(2025, 10, 1)
    assert resolution_due("p12345", "咨询", issued - timedelta(hours=5), None, CAL).due_at == eod(2025, 9, 30)


def test_the_platforms_own_deadline_wins_only_when_earlier() -> None:
    issued = sh(2025, 3, 3, 9, 0)
    platform_due = datetime(2025, 3, 5, 10, 0, tzinfo=UTC)
    assert resolution_due("mailbox", "投诉", issued, platform_due, CAL) == Due(sh(2025, 3, 5, 18, 0), False)
    assert resolution_due("p12345", "咨询", issued, sh(2025, 3, 9, 0, 0), CAL).due_at == eod(2025, 3, 3)


def test_a_deadline_in_a_year_without_data_is_provisional() -> None:
    due = resolution_due("mailbox", "建议", sh(2026, 12, 28, 9, 0), None, CAL)
    assert due == Due(eod(2027, 1, 12), provisional=True)  # 12/29, 30, 31, then 2027 less 元旦 (statutory)
    earlier_platform = resolution_due("mailbox", "建议", sh(2026, 12, 28, 9, 0), sh(2027, 1, 5, 0, 0), CAL)
    assert earlier_platform == Due(sh(2027, 1, 5, 0, 0), provisional=True)


def test_other_matters_get_ten_working_days_and_a_profile_without_a_rule_has_no_silent_default() -> None:
    """000 限时办结 一: 其他类问题暂按 10 个工作日; profile 001 (12389 only) knows no 12345 rule."""
    assert resolution_due("p12345", "申诉", sh(2025, 3, 3, 9, 0), None, CAL).due_at == eod(2025, 3, 17)
    assert resolution_due("p99999", "咨询", sh(2025, 3, 3, 9, 0), None, CAL).due_at == eod(2025, 3, 17)
    taian = DeadlinePolicy(profile="001")
    with pytest.raises(NoDeadlineRule, match="p12345"):
        resolution_due("p12345", "咨询", sh(2025, 3, 3, 9, 0), None, CAL, taian)
    with pytest.raises(NoDeadlineRule, match="no resolution limit for '其他' on p12389"):
        resolution_due("p12389", "其他", sh(2025, 3, 3, 9, 0), None, CAL, taian)


def test_the_policy_is_data_a_deployment_can_override() -> None:
    overrides = {"resolution": {"p12345": {"by_type": {"咨询": 1}}}, "extension": {"max_count": 2}}
    policy = DEFAULT_POLICY.with_overrides(overrides)
    assert policy.resolution_days("p12345", "咨询") == 1
    assert policy.resolution_days("p12345", "投诉") == 5  # untouched rules keep the default
    assert policy.extension.max_count == 2 and policy.extension.article == "000 限时办结 二"
    from_settings = DeadlinePolicy.model_validate_json(
        '{"resolution": {"mayor": {"default": 3}}, "sign_off": {"after": "PT12H"}}'
    )
    assert from_settings.resolution_days("mayor", "其他") == 3
    assert from_settings.resolution_days("p12389", "重大") == 20  # other platforms keep the defaults
    assert from_settings.sign_off is not None and from_settings.sign_off.article == "002 四(一)"
    assert sign_off_due(sh(2025, 3, 3, 9, 0), policy=from_settings) == sh(2025, 3, 3, 21, 0)


# --- extension --------------------------------------------------------------------------------------


def test_an_extension_adds_calendar_days_to_the_current_deadline() -> None:
    """000 限时办结 二: 延期不得超过5天 — calendar days (the same article says 个工作日 where it means them)."""
    current = eod(2025, 9, 26)  # Friday before 国庆
    due = extension_due(current, 5, sh(2025, 9, 24, 12, 0), 0, CAL)
    assert due == Due(eod(2025, 10, 1), provisional=False)
    in_workdays = DEFAULT_POLICY.with_overrides({"extension": {"unit": "working_days"}})
    assert extension_due(current, 5, sh(2025, 9, 24, 12, 0), 0, CAL, in_workdays).due_at == eod(2025, 10, 10)


def test_an_extension_may_be_asked_exactly_24_hours_ahead_but_not_later() -> None:
    current = eod(2025, 3, 7)
    assert extension_due(current, 1, sh(2025, 3, 6, 23, 59, 59), 0, CAL).due_at == eod(2025, 3, 8)
    with pytest.raises(ExtensionRefused, match="at least 24 h before") as refused:
        extension_due(current, 1, sh(2025, 3, 7, 0, 0, 0), 0, CAL)
    assert "延期须在办理期限前 24 小时提出" in str(refused.value)
    assert refused.value.reason == "too_late"
    assert isinstance(refused.value, DomainError)
    assert refused.value.code == "extension_refused"


@pytest.mark.parametrize("days", [0, 6, -1])
def test_an_extension_outside_one_to_five_days_is_refused(days: int) -> None:
    with pytest.raises(ExtensionRefused, match=r"延期天数须为 1 至 5 天（自然日）") as refused:
        extension_due(eod(2025, 3, 14), days, sh(2025, 3, 10, 9, 0), 0, CAL)
    assert refused.value.reason == "days_out_of_range"


def test_a_second_extension_is_refused_unless_the_policy_allows_it() -> None:
    with pytest.raises(ExtensionRefused, match=r"最多 1 次.*allows 1") as refused:
        extension_due(eod(2025, 3, 14), 2, sh(2025, 3, 10, 9, 0), 1, CAL)
    assert refused.value.reason == "limit_reached"
    lenient = DEFAULT_POLICY.with_overrides({"extension": {"max_count": 2}})
    second = extension_due(eod(2025, 3, 14), 2, sh(2025, 3, 10, 9, 0), 1, CAL, lenient)
    assert second.due_at == eod(2025, 3, 16)


def test_an_extension_in_working_days_into_a_year_without_data_is_provisional() -> None:
    in_workdays = DEFAULT_POLICY.with_overrides({"extension": {"unit": "working_days"}})
    due = extension_due(eod(2026, 12, 30), 3, sh(2026, 12, 28, 9, 0), 0, CAL, in_workdays)
    assert due == Due(eod(2027, 1, 5), True)  # 12/31, then 元旦 rests by law: 1/4, 1/5


# --- pause ---------------------------------------------------------------------------------------------


def test_a_pause_moves_the_deadline_by_its_exact_length() -> None:
    assert shift_for_pause(eod(2025, 3, 7), timedelta(hours=50, seconds=1)) == sh(2025, 3, 10, 2, 0, 0)
    with pytest.raises(ValueError, match="never negative"):
        shift_for_pause(eod(2025, 3, 7), timedelta(seconds=-1))


# --- properties -------------------------------------------------------------------------------------

ZONES = st.sampled_from([SHANGHAI, UTC, NEW_YORK, timezone(timedelta(hours=-3, minutes=-30))])
INSTANTS = st.datetimes(
    min_value=datetime(2023, 10, 1), max_value=datetime(2027, 3, 1), timezones=ZONES, allow_imaginary=False
)
RULES = st.sampled_from(
    [("p12345", "咨询"), ("p12345", "投诉"), ("mayor", "求决"), ("mailbox", "建议")]
    + [("p12389", level) for level in ("简单", "一般", "重大")]
)


@given(rule=RULES, first=INSTANTS, second=INSTANTS)
def test_the_resolution_deadline_never_moves_backwards_as_the_issue_time_moves_forwards(
    rule: tuple[str, str], first: datetime, second: datetime
) -> None:
    early, late = sorted((first, second))
    assert resolution_due(*rule, early, None, CAL).due_at <= resolution_due(*rule, late, None, CAL).due_at


@given(
    current=st.datetimes(min_value=datetime(2024, 1, 1), max_value=datetime(2026, 12, 20)),
    days=st.integers(min_value=1, max_value=5),
)
def test_an_extension_in_working_days_adds_exactly_its_working_days(current: datetime, days: int) -> None:
    current = current.replace(tzinfo=SHANGHAI)
    policy = DEFAULT_POLICY.with_overrides({"extension": {"unit": "working_days"}})
    extended = extension_due(current, days, current - timedelta(days=2), 0, CAL, policy).due_at
    assert extended.timetz() == current.timetz()
    span = (extended.date() - current.date()).days
    between = [current.date() + timedelta(days=i) for i in range(1, span + 1)]
    assert sum(CAL.is_workday(d) for d in between) == days
    assert CAL.is_workday(extended.date())


@given(due=INSTANTS, paused=st.timedeltas(min_value=timedelta(0), max_value=timedelta(days=90)))
def test_a_pause_of_d_moves_the_deadline_by_d(due: datetime, paused: timedelta) -> None:
    shifted = shift_for_pause(due, paused)
    assert shifted - due == paused
    assert shifted.tzinfo is SHANGHAI


def test_every_shipped_day_ends_at_235959_shanghai() -> None:
    due = resolution_due("p12345", "咨询", sh(2025, 3, 3, 0, 0), None, CAL).due_at
    assert (due.hour, due.minute, due.second, due.utcoffset()) == (23, 59, 59, timedelta(hours=8))
    assert due.date() == date(2025, 3, 3)
