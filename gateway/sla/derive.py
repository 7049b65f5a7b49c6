"""Which timers a ticket should have, and what its state means for each: pure functions, no I/O.

Timers and what meets them (profiles and articles: ``gateway.sla.profiles``):
- sign_off (签收, 002 四(一)): from issue; met by signing or asking to return the ticket.
- dispatch (派单, 000 统一派单 二): from receipt; met when a dispatch takes effect.
- response (响应, 002 四(二)): from the moment the dispatch takes effect (the unit receives the order);
  met only by a recorded first contact or intervention, never by a reply draft. A dispatch to another
  unit before that gives the new unit its own window.
- first_feedback (137, 002 工作要求(二)): from issue; met once the ticket is dispatched AND a first
  feedback (先行联系 or 阶段反馈) is recorded.
- plan (137): for a ticket marked complex, from issue; met by a recorded plan (or the reply).
- resolution (办结): from issue (or the 重办); the policy's limit or an earlier platform/督办 limit
  (``gateway.sla.limits``); met when the reply is sent; an approved extension replaces it.
- supervision (督办) and urge (催办): from the notice or the leader's order to its deadline; a 督办 is
  met by the reply, a 催办 by a progress report or the reply.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from gateway.calendar import WorkCalendar
from gateway.sla.deadlines import extension_days_due, to_shanghai
from gateway.sla.limits import PLATFORM, Binding, LimitSpec, TimerInputs, compute, counted, fixed
from gateway.sla.policy import DeadlinePolicy

SIGN_OFF, RESPONSE, RESOLUTION, EXTENSION = "sign_off", "response", "resolution", "extension"
DISPATCH, FEEDBACK, PLAN, SUPERVISION, URGE = "dispatch", "first_feedback", "plan", "supervision", "urge"
RESOLUTION_KINDS = (RESOLUTION, EXTENSION)
ORDER_KINDS = (SUPERVISION, URGE)  # 督办 / 催办: a deadline someone set, not the policy's
RETURNING = ("return_requested", "returned")
FINISHED = ("replied", "closed")


@dataclass(frozen=True)
class TicketFacts:
    """The ticket fields the timers depend on."""

    platform: str
    appeal_type: str
    level: str | None
    status: str
    issued_at: datetime
    urgency: str = "normal"
    complex: bool = False
    platform_sign_by: datetime | None = None
    platform_due_at: datetime | None = None
    platform_time_limit: int | None = None
    platform_time_unit: str | None = None
    signed_at: datetime | None = None
    dispatched_at: datetime | None = None
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
class Activity:
    """Timeline instants some timers depend on: progress reports (阶段反馈) and plans (解决方案)."""

    progress: Sequence[datetime] = ()
    plans: Sequence[datetime] = ()

    @staticmethod
    def first_after(moments: Sequence[datetime], start: datetime) -> datetime | None:
        """The first instant at or after ``start``."""
        later = [m for m in moments if m >= start]
        return min(later) if later else None


@dataclass(frozen=True)
class Spec:
    """A timer as it should be: when it started, its binding deadline, and what that rests on."""

    started_at: datetime
    due_at: datetime
    provisional: bool = False
    rule_key: str | None = None
    platform_due_at: datetime | None = None
    ext_days: int | None = None
    ext_from: datetime | None = None
    rule: str = ""
    source: str = "policy"
    label: str = ""
    limits: list[LimitSpec] = field(default_factory=list)


Outcome = tuple[Literal["run", "met", "pause", "cancel", "lapse"], datetime | None, str]


def spec_for(inputs: TimerInputs, calendar: WorkCalendar, policy: DeadlinePolicy) -> Spec | None:
    """The timer a set of inputs gives under this policy, or None when no rule and no limit applies."""
    binding = compute(inputs, calendar, policy)
    if binding is None:
        return None
    return _spec(inputs, binding)


def _spec(inputs: TimerInputs, binding: Binding) -> Spec:
    external = [dict(b) for b in inputs.limits]
    return Spec(inputs.started_at, binding.due_at, binding.provisional, rule_key=inputs.rule_key,
                platform_due_at=binding.due_at if binding.source != "policy" else None,
                ext_days=inputs.ext_days, ext_from=inputs.ext_from, rule=binding.rule, source=binding.source,
                label=binding.label, limits=list(external))


def sign_off_inputs(facts: TicketFacts, policy: DeadlinePolicy) -> TimerInputs:
    """签收: 24 h after issue, or the platform's sign deadline if earlier."""
    limits = [] if facts.platform_sign_by is None else [
        fixed(facts.platform_sign_by, source=PLATFORM, rule=policy.sign_off.article if policy.sign_off else
              policy.platform_article, label="平台签收截止时间")]
    return TimerInputs(SIGN_OFF, facts.platform, None, facts.issued_at, limits)


def simple_inputs(kind: str, facts: TicketFacts, started_at: datetime) -> TimerInputs:
    """A timer that only the policy sets (dispatch, response, first feedback, plan)."""
    return TimerInputs(kind, facts.platform, None, started_at, [])


def platform_limits(facts: TicketFacts, policy: DeadlinePolicy) -> list[LimitSpec]:
    """The platform's own resolution limits for the first cycle: a due instant and/or a count of days."""
    limits: list[LimitSpec] = []
    rule = policy.platform_article
    if facts.platform_due_at is not None:
        limits.append(fixed(facts.platform_due_at, source=PLATFORM, rule=rule, label="平台办理截止时间"))
    if facts.platform_time_limit is not None and facts.platform_time_unit:
        words = {"working_days": "个工作日", "calendar_days": "天", "hours": "小时"}
        label = f"平台办理时限 {facts.platform_time_limit}{words.get(facts.platform_time_unit, '')}"
        limits.append(counted(facts.issued_at, facts.platform_time_limit, facts.platform_time_unit,
                              source=PLATFORM, rule=rule, label=label))
    return limits


def resolution_inputs(facts: TicketFacts, started_at: datetime, limits: list[LimitSpec],
                      policy: DeadlinePolicy) -> TimerInputs:
    """办结: the policy key of the ticket (urgency, 复杂…, level, type) and the external limits."""
    key = policy.resolution_key(facts.platform, facts.appeal_type, facts.level, facts.urgency, facts.complex)
    # A limit at or before this cycle's start belongs to an earlier cycle (重办 without a new due).
    live = [s for s in limits if not s.get("at") or datetime.fromisoformat(str(s["at"])) > started_at]
    return TimerInputs(RESOLUTION, facts.platform, key, started_at, live)


def extension_spec(
    current_due: datetime,
    now: datetime,
    *,
    platform: str,
    platform_new_due: datetime | None,
    days: int | None,
    calendar: WorkCalendar,
    policy: DeadlinePolicy,
) -> Spec:
    """延期 approved by the platform: its new due, else ``days`` added per the policy (calendar days)."""
    if platform_new_due is not None:
        limit = fixed(platform_new_due, source=PLATFORM, rule=policy.platform_article, label="平台批准的延期期限")
        return _spec(TimerInputs(EXTENSION, platform, None, now, [limit]),
                     Binding(to_shanghai(platform_new_due), False, PLATFORM, policy.platform_article,
                             "平台批准的延期期限"))
    add = days or policy.extension.max_days or 5
    inputs = TimerInputs(EXTENSION, platform, None, now, [], ext_days=add, ext_from=current_due)
    # The platform approved it, and the platform decides: the days are added without our own checks
    # (notice, count), which were applied when the unit asked (``gateway.services.workflow``).
    due = extension_days_due(current_due, add, calendar, policy)
    return _spec(inputs, Binding(due.due_at, due.provisional, "policy", policy.extension.article, f"延期 {add} 天"))


def outcome(kind: str, facts: TicketFacts, started_at: datetime, now: datetime,
            activity: Callable[[], Activity] = Activity) -> Outcome:
    """What the ticket's state means for an open timer of ``kind``: run, met, pause, cancel or lapse.

    ``activity`` reads the timeline instants a few timers need; it is called only for those.
    """
    returning = facts.status in RETURNING
    finished = facts.status in FINISHED
    if kind == SIGN_OFF:
        if facts.signed_at is not None:
            return "met", facts.signed_at, "已签收"
        if facts.status not in ("received", *RETURNING):
            return "met", now, "已签收"  # a platform snapshot says so without our own signed_at
        return ("met", now, "已申请退回") if returning else ("run", None, "")
    if kind == DISPATCH:
        if facts.dispatched_at is not None:
            return "met", facts.dispatched_at, "派单已生效"
        return _stop(returning, finished, "未派单")
    if kind == RESPONSE:
        if facts.responded_at is not None:
            return "met", facts.responded_at, "已先行联系/介入处置"
        return _stop(returning, finished, "未记录先行联系或介入处置")
    if kind == FEEDBACK:
        first = min((m for m in (facts.responded_at, Activity.first_after(activity().progress, facts.issued_at))
                     if m is not None), default=None)
        if facts.dispatched_at is not None and first is not None:
            return "met", max(facts.dispatched_at, first), "已交办并初步反馈"
        return _stop(returning, finished, "未交办或未初步反馈")
    if kind == PLAN:
        plan = Activity.first_after(activity().plans, started_at)
        if plan is not None:
            return "met", plan, "已提出解决方案"
        if facts.replied_at is not None:
            return "met", facts.replied_at, "已办结答复"
        if not facts.complex:
            return "cancel", None, "已取消复杂问题认定"
        return _stop(returning, finished, "未提出解决方案")
    if kind in ORDER_KINDS:
        if facts.replied_at is not None and facts.replied_at >= started_at:
            return "met", facts.replied_at, "答复已回传平台"
        if kind == URGE and (report := Activity.first_after(activity().progress, started_at)) is not None:
            return "met", report, "已阶段反馈"
        if facts.status == "replied":
            return "met", now, "平台显示已答复"
        return ("cancel", None, "工单已退回或已办结") if returning or finished else ("run", None, "")
    return _resolution_outcome(facts, started_at, now)


def _stop(returning: bool, finished: bool, missing: str) -> Outcome:
    if returning:
        return "cancel", None, "工单已退回"
    if finished:
        return "lapse", None, f"工单已办结，{missing}"
    return "run", None, ""


def _resolution_outcome(facts: TicketFacts, started_at: datetime, now: datetime) -> Outcome:
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
