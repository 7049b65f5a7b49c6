"""The deadline policy: how long each step may take, as data a deployment can override.

Defaults are DESIGN.md "Default deadline policy", which distils the regulations (RULES.md §3):
sign-off 24 h (002 §4(1)), response 2 h (002 §4(2)), resolution limits per platform and appeal type
or level (000 限时办结, 001 §4(3)), and extensions of at most 5 working days asked at least a day
ahead (000). Resolution limits are working days; 0 means "same day".

Settings can nest a ``DeadlinePolicy`` (e.g. ``GATEWAY_SLA__MAX_EXTENSIONS=2``); a ``resolution``
table given there replaces the rules of the platforms it names and keeps the defaults for the rest.
``DeadlinePolicy.with_overrides`` does the same deep merge from any mapping.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, NonNegativeInt, PositiveInt, field_validator

SAME_DAY = 0

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


class NoDeadlineRule(LookupError):
    """The policy has no resolution limit for this platform and appeal type or level: fix the policy."""


class ResolutionRule(BaseModel):
    """One platform's resolution limits in working days, by appeal type or level, with a fallback."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    by_type: dict[str, NonNegativeInt] = Field(
        default_factory=dict, description="Appeal type (咨询, 投诉, …) or level (简单, …) → working days"
    )
    default: NonNegativeInt | None = Field(
        default=None, description="Working days for any type not listed; None = unknown types are an error"
    )


def _default_resolution() -> dict[str, ResolutionRule]:
    return {
        # 000 限时办结: consultations and help requests the same day; complaints 5 working days.
        "p12345": ResolutionRule(
            by_type={"咨询": SAME_DAY, "求助": SAME_DAY, "投诉": 5, "举报": 5, "建议": 5, "表扬": 5}
        ),
        "mayor": ResolutionRule(default=5),  # 000: mayor-hotline matters, 5 working days
        "mailbox": ResolutionRule(default=10),  # 000: director's mailbox letters, 10 working days
        # 001 §4(3): 12389 verification by case level 案件等级.
        "p12389": ResolutionRule(by_type={"简单": 10, "一般": 15, "重大": 20}),
    }


class DeadlinePolicy(BaseModel):
    """Every limit the SLA timers use (defaults: DESIGN.md "Default deadline policy")."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    sign_off: timedelta = Field(default=timedelta(hours=24), description="Sign-off window after issue")
    response: timedelta = Field(default=timedelta(hours=2), description="Response window after sign-off")
    resolution: dict[str, ResolutionRule] = Field(
        default_factory=_default_resolution, description="Platform key → resolution limits"
    )
    extension_max_workdays: PositiveInt = Field(default=5, description="Most working days one extension adds")
    extension_min_notice: timedelta = Field(
        default=timedelta(hours=24), description="An extension must be asked this long before the deadline"
    )
    max_extensions: NonNegativeInt = Field(default=1, description="Extensions allowed per ticket")

    @field_validator("resolution", mode="after")
    @classmethod
    def _keep_default_platforms(cls, value: dict[str, ResolutionRule]) -> dict[str, ResolutionRule]:
        # A deployment states only the platforms it changes; the others keep the regulation defaults.
        return {**_default_resolution(), **value}

    @field_validator("sign_off", "response", "extension_min_notice", mode="after")
    @classmethod
    def _not_negative(cls, value: timedelta) -> timedelta:
        if value < timedelta(0):
            raise ValueError("a time limit cannot be negative")
        return value

    def resolution_workdays(self, platform: str, appeal_type_or_level: str) -> int:
        """Working days to resolve (0 = same day); raises NoDeadlineRule when the policy has none."""
        rule = self.resolution.get(platform)
        if rule is None:
            raise NoDeadlineRule(
                f"平台 {platform} 没有办理时限 / no resolution rule for platform {platform!r}"
            )
        key = str(appeal_type_or_level)
        workdays = rule.by_type.get(key)
        if workdays is None and key in APPEAL_TYPE_WORDS:
            workdays = rule.by_type.get(APPEAL_TYPE_WORDS[key])
        if workdays is not None:
            return workdays
        if rule.default is not None:
            return rule.default
        raise NoDeadlineRule(
            f"平台 {platform} 没有“{key}”的办理时限 / no resolution limit for {key!r} on {platform};"
            f" known: {', '.join(rule.by_type) or 'none'}"
        )

    def with_overrides(self, overrides: Mapping[str, Any]) -> DeadlinePolicy:
        """A new policy with ``overrides`` deep-merged onto this one, validated."""
        return DeadlinePolicy.model_validate(_deep_merge(self.model_dump(), overrides))


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
