"""The deadline policy: which timers a ticket has and how long each may take, as data with its articles.

A policy starts from a named regulation profile (``gateway.sla.profiles``: ``default``, ``000`` 亳州,
``001`` 泰安, ``002`` 乌审旗, ``003`` 嘉定); any field given beside ``profile`` (settings
``GATEWAY_SLA__…``, or ``with_overrides``) is deep-merged onto it, so ``GATEWAY_SLA__PROFILE=002`` plus
``GATEWAY_SLA__SIGN_OFF__AFTER=PT12H`` is profile 002 with a 12-hour sign-off. ``null`` switches a rule
off. Every rule carries the article it comes from; ``policy_table`` lists them for the admin page.

Limits in days are counted from the day after the start day and end at 23:59:59 of the last day;
0 days is "same day" (当日): 23:59:59 of the start's calendar day, rest days included (000 限时办结 一).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import time, timedelta
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, NonNegativeInt, PositiveInt, field_validator, model_validator

from gateway.sla.profiles import PROFILES, profile_data

SAME_DAY = 0
Unit = Literal["working_days", "calendar_days"]
UNIT_WORDS: dict[str, str] = {"working_days": "个工作日", "calendar_days": "天（自然日）"}
COMPLEX = "复杂"  # policy key prefix: "复杂咨询" is a complex consultation, "复杂" any complex ticket

# Appeal types arrive as the internal enum values (gateway.schema.AppealType); the policy table is
# written in the regulations' words, so both spellings find the same rule.
APPEAL_TYPE_WORDS: dict[str, str] = {
    "consultation": "咨询",
    "help": "求助",
    "complaint": "投诉",
    "report": "举报",
    "suggestion": "建议",
    "praise": "表扬",
    "appeal": "申诉",
    "other": "其他",
}
URGENCY_WORDS: dict[str, str] = {"normal": "一般", "urgent": "紧急", "critical": "特急"}
ANY_PLATFORM = "*"


class NoDeadlineRule(LookupError):
    """The policy has no resolution limit for this platform and appeal type or level."""


class _Rule(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    article: str = Field(default="", description="Seed and section the rule comes from, e.g. 000 限时办结 一")


class Window(_Rule):
    """A wall-clock window after an instant (签收 24 h after issue, 响应 2 h after the dispatch)."""

    after: timedelta = Field(description="Length of the window")

    @field_validator("after", mode="after")
    @classmethod
    def _positive(cls, value: timedelta) -> timedelta:
        if value <= timedelta(0):
            raise ValueError("a time window must be longer than zero")
        return value


class DispatchRule(_Rule):
    """派单: by a time of the day after receipt, rolled to the next working day when that is a rest day."""

    at: time = Field(default=time(9, 0), description="Local time of day the dispatch is due")
    roll_to_workday: bool = Field(default=True, description="第二日为节假日的顺延")
    platforms: list[str] | None = Field(default=None, description="Platforms it applies to; null = all")


class DaysRule(_Rule):
    """N working or calendar days from an instant (137: first feedback, a complex ticket's plan)."""

    days: NonNegativeInt
    unit: Unit = "working_days"
    platforms: list[str] | None = Field(default=None, description="Platforms it applies to; null = all")


class ResolutionRule(_Rule):
    """One platform's resolution limits in days, by urgency, by appeal type or level, with a fallback."""

    by_type: dict[str, NonNegativeInt | None] = Field(
        default_factory=dict,
        description="Appeal type (咨询…), level (简单…), 复杂<type> or 复杂 → days; null = no policy limit",
    )
    by_urgency: dict[str, NonNegativeInt] = Field(
        default_factory=dict, description="Urgency (紧急, 特急) → days; wins over the type (应急类)"
    )
    default: NonNegativeInt | None = Field(default=None, description="Days for any type not listed")
    unit: Unit = "working_days"

    def days_for(self, platform: str, key: str) -> int | None:
        """Days for a policy key (0 = same day, None = no policy limit); NoDeadlineRule if it has none."""
        if key in self.by_urgency:
            return self.by_urgency[key]
        if key in self.by_type:
            return self.by_type[key]
        word = APPEAL_TYPE_WORDS.get(key)
        if word is not None and word in self.by_type:
            return self.by_type[word]
        if self.default is not None:
            return self.default
        raise NoDeadlineRule(
            f"平台 {platform} 没有“{key}”的办理时限 / no resolution limit for {key!r} on {platform};"
            f" known: {', '.join(self.by_type) or 'none'}"
        )


class ExtensionRule(_Rule):
    """延期: how far ahead it is asked, how many days it adds, how often, and what must come with it."""

    max_days: PositiveInt | None = Field(default=5, description="Most days one extension adds; null = no limit")
    unit: Unit = Field(default="calendar_days", description="延期不得超过5天: calendar days")
    min_notice: timedelta = Field(default=timedelta(days=1), description="Asked at least this long before")
    max_count: NonNegativeInt | None = Field(default=1, description="Extensions per handling cycle; null = any")
    report_platforms: list[str] = Field(
        default_factory=list, description="Platforms whose extension needs a written progress report"
    )
    report_article: str = Field(default="", description="Article requiring that report (001 四(三))")


class DeadlinePolicy(BaseModel):
    """Every deadline rule the SLA timers use, from a named profile (DESIGN.md "Default deadline policy")."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    profile: str = Field(default="default", description=f"Regulation profile: {', '.join(PROFILES)}")
    sign_off: Window | None = Field(default=None, description="签收 window after issue (from the profile)")
    dispatch: DispatchRule | None = Field(default=None, description="派单 deadline (from the profile)")
    response: Window | None = Field(default=None, description="响应 window after the dispatch takes effect")
    first_feedback: DaysRule | None = Field(default=None, description="交办并初步反馈 (137, from the profile)")
    complex_plan: DaysRule | None = Field(default=None, description="复杂问题提出方案 (137, from the profile)")
    resolution: dict[str, ResolutionRule] = Field(
        default_factory=dict, description="Platform key (or *) → resolution limits (from the profile)"
    )
    extension: ExtensionRule = Field(default_factory=ExtensionRule, description="延期 rule (from the profile)")
    platform_article: str = Field(default="", description="Article by which a platform's own limit binds")
    supervision_article: str = Field(default="", description="Article by which a 督办 reply time binds")

    @model_validator(mode="before")
    @classmethod
    def _from_profile(cls, data: Any) -> Any:
        if not isinstance(data, Mapping):
            return data
        given = dict(data)
        base = profile_data(str(given.get("profile") or "default"))
        base["profile"] = given.get("profile") or "default"
        return _deep_merge(base, given)

    def resolution_rule(self, platform: str) -> ResolutionRule | None:
        """The platform's resolution rule, or the catch-all (*) one."""
        return self.resolution.get(platform) or self.resolution.get(ANY_PLATFORM)

    def resolution_key(
        self, platform: str, appeal_type: str, level: str | None = None, urgency: str | None = None,
        complex_: bool = False,
    ) -> str | None:
        """The policy key that decides a ticket's limit (urgency, 复杂…, level, type), or None without one."""
        rule = self.resolution_rule(platform)
        if rule is None:
            return None
        word = APPEAL_TYPE_WORDS.get(appeal_type, appeal_type)
        urgent = URGENCY_WORDS.get(urgency or "", urgency or "")
        candidates = [urgent] if urgent in rule.by_urgency else []
        if complex_:
            candidates += [COMPLEX + word, COMPLEX]
        candidates += [level or "", appeal_type, word]
        for key in candidates:
            if key and (key in rule.by_type or key in rule.by_urgency):
                return key
        return appeal_type if rule.default is not None else None

    def resolution_days(self, platform: str, key: str) -> int | None:
        """Days to resolve for a policy key (0 = same day, None = no policy limit); NoDeadlineRule if unknown."""
        return self.rule_for(platform).days_for(platform, key)

    def rule_for(self, platform: str) -> ResolutionRule:
        """The platform's resolution rule (or the catch-all), or NoDeadlineRule."""
        rule = self.resolution.get(platform) or self.resolution.get(ANY_PLATFORM)
        if rule is None:
            raise NoDeadlineRule(f"平台 {platform} 没有办理时限 / no resolution rule for platform {platform!r}")
        return rule

    def with_overrides(self, overrides: Mapping[str, Any]) -> DeadlinePolicy:
        """A new policy with ``overrides`` deep-merged onto this one, validated."""
        return type(self).model_validate(_deep_merge(self.model_dump(), overrides))

    def rules(self) -> DeadlinePolicy:
        """Only the deadline rules (settings subclasses add engine fields): what a recompute depends on."""
        return DeadlinePolicy.model_validate(self.model_dump(include=set(DeadlinePolicy.model_fields)))


def applies(rule: DispatchRule | DaysRule | None, platform: str) -> bool:
    """Whether a rule exists and covers ``platform``."""
    return rule is not None and (rule.platforms is None or platform in rule.platforms)


def _deep_merge(base: dict[str, Any], overrides: Mapping[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in overrides.items():
        current = merged.get(key)
        if isinstance(current, dict) and isinstance(value, Mapping):
            merged[key] = _deep_merge(current, value)
        else:
            merged[key] = value
    return merged


DEFAULT_POLICY = DeadlinePolicy()
