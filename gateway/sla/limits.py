"""Which deadline binds a timer: the policy's, or an earlier limit the platform or a 督办 set.

000 限时办结 一 "办理单位对办理时限有明确规定的以规定执行" and 二 "市局办公室有回复时间要求的，以市局办公室要求的
时间为准": a platform's own limit (12345 ``dueAt``/``timeLimit``, 12389 ``blqx``, mayor ``blsx``) and a
督办's reply time bind when they are earlier than the policy's; a tie keeps the policy's. The ticket
shows ONE binding deadline with its ``source`` (policy, platform, bureau) and ``rule`` (the article).

External limits are stored on the timer as JSON specs, so a recompute after a calendar or policy
change evaluates them again (a limit in working days moves with the calendar):
``{"source", "rule", "label", "at": ISO}`` or ``{"source", "rule", "label", "from": ISO, "days", "unit"}``.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any, NamedTuple

from gateway.calendar import WorkCalendar
from gateway.sla.deadlines import (
    after,
    days_due,
    dispatch_due,
    extension_days_due,
    platform_limit_due,
    to_shanghai,
)
from gateway.sla.policy import UNIT_WORDS, DeadlinePolicy, NoDeadlineRule, applies

POLICY, PLATFORM, BUREAU = "policy", "platform", "bureau"
LimitSpec = dict[str, Any]


class Binding(NamedTuple):
    """The deadline that binds, and what it rests on."""

    due_at: datetime
    provisional: bool
    source: str  # policy | platform | bureau
    rule: str  # the article, e.g. 000 限时办结 一
    label: str  # what the limit is, in Chinese


class TimerInputs(NamedTuple):
    """What a timer's deadline is computed from (the stored columns of an ``SlaTimerRecord``)."""

    kind: str
    platform: str
    rule_key: str | None
    started_at: datetime
    limits: Sequence[LimitSpec]
    ext_days: int | None = None
    ext_from: datetime | None = None


def fixed(at: datetime, *, source: str, rule: str, label: str) -> LimitSpec:
    """A limit at a fixed instant."""
    return {"source": source, "rule": rule, "label": label, "at": to_shanghai(at).isoformat()}


def counted(start: datetime, days: int, unit: str, *, source: str, rule: str, label: str) -> LimitSpec:
    """A limit of ``days`` (working/calendar days or hours) from ``start``."""
    return {"source": source, "rule": rule, "label": label, "from": to_shanghai(start).isoformat(),
            "days": days, "unit": unit}


def evaluate(spec: LimitSpec, calendar: WorkCalendar) -> Binding:
    """The instant of one external limit."""
    if spec.get("at"):
        due_at, provisional = to_shanghai(datetime.fromisoformat(str(spec["at"]))), False
    else:
        start = datetime.fromisoformat(str(spec["from"]))
        due_at, provisional = platform_limit_due(start, int(spec["days"]), str(spec["unit"]), calendar)
    return Binding(due_at, provisional, str(spec["source"]), str(spec.get("rule") or ""), str(spec.get("label") or ""))


def bind(ours: Binding | None, limits: Sequence[LimitSpec], calendar: WorkCalendar) -> Binding | None:
    """The earliest of the policy's deadline and the external limits (the policy's on a tie)."""
    candidates = ([ours] if ours is not None else []) + [evaluate(s, calendar) for s in limits]
    if not candidates:
        return None
    best = min(candidates, key=lambda b: (b.due_at, b.source != POLICY))
    # Provisional while our own count rests on a year without its notice: loading it could move
    # ours before the platform's.
    provisional = best.provisional or (ours is not None and ours.provisional)
    return best._replace(provisional=provisional)


def _days_label(days: int, unit: str) -> str:
    return "当日" if days == 0 else f"{days}{UNIT_WORDS.get(unit, unit)}"


def policy_binding(inputs: TimerInputs, calendar: WorkCalendar, policy: DeadlinePolicy) -> Binding | None:
    """The policy's own deadline for a timer, or None when the profile has no such rule."""
    kind, start = inputs.kind, inputs.started_at
    if kind == "sign_off" and policy.sign_off is not None:
        hours = policy.sign_off.after / timedelta(hours=1)
        return Binding(after(start, policy.sign_off.after), False, POLICY, policy.sign_off.article,
                       f"签收时限 {hours:g} 小时")
    if kind == "dispatch" and policy.dispatch is not None and applies(policy.dispatch, inputs.platform):
        due = dispatch_due(start, policy.dispatch, calendar)
        return Binding(due.due_at, due.provisional, POLICY, policy.dispatch.article,
                       f"次日{policy.dispatch.at:%H:%M}前派单，节假日顺延")
    if kind == "response" and policy.response is not None:
        hours = policy.response.after / timedelta(hours=1)
        return Binding(after(start, policy.response.after), False, POLICY, policy.response.article,
                       f"接单后 {hours:g} 小时内介入处置")
    for name, rule, what in (("first_feedback", policy.first_feedback, "交办并初步反馈"),
                             ("plan", policy.complex_plan, "提出解决方案")):
        if kind == name and rule is not None and applies(rule, inputs.platform):
            due = days_due(start, rule.days, rule.unit, calendar)
            label = f"{_days_label(rule.days, rule.unit)}内{what}"
            return Binding(due.due_at, due.provisional, POLICY, rule.article, label)
    if kind == "resolution" and inputs.rule_key is not None:
        try:
            days = policy.resolution_days(inputs.platform, inputs.rule_key)
        except NoDeadlineRule:
            return None
        res = policy.resolution_rule(inputs.platform)
        if days is None or res is None:
            return None
        due = days_due(start, days, res.unit, calendar)
        return Binding(due.due_at, due.provisional, POLICY, res.article, f"{_days_label(days, res.unit)}办结")
    if kind == "extension" and inputs.ext_days is not None and inputs.ext_from is not None:
        due = extension_days_due(inputs.ext_from, inputs.ext_days, calendar, policy)
        return Binding(due.due_at, due.provisional, POLICY, policy.extension.article,
                       f"延期 {_days_label(inputs.ext_days, policy.extension.unit)}")
    return None


def compute(inputs: TimerInputs, calendar: WorkCalendar, policy: DeadlinePolicy) -> Binding | None:
    """The binding deadline of a timer (before any pause shift), or None when nothing sets one."""
    return bind(policy_binding(inputs, calendar, policy), inputs.limits, calendar)
