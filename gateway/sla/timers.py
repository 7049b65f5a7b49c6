"""Timers follow their ticket: start, meet, pause, resume, extend and re-cycle, idempotently.

``sync_ticket`` runs inside the transaction of every ticket change (via ``services.lifecycle``). It
compares the timers the ticket should have (``gateway.sla.derive``) with the stored ones and changes
only what differs, logging each change with who caused it and why; a second call changes nothing.
Every open timer's deadline is derived again on each call, so a changed platform limit, 督办 or
policy moves it (logged as ``recomputed``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from gateway.alerts.store import settle_timer
from gateway.calendar import WorkCalendar
from gateway.sla import derive
from gateway.sla.deadlines import shift_for_pause
from gateway.sla.derive import (
    DISPATCH,
    EXTENSION,
    FEEDBACK,
    ORDER_KINDS,
    PLAN,
    RESOLUTION,
    RESOLUTION_KINDS,
    RESPONSE,
    SIGN_OFF,
    SUPERVISION,
    Activity,
    Spec,
    TicketFacts,
)
from gateway.sla.limits import BUREAU, PLATFORM, LimitSpec, TimerInputs, fixed
from gateway.sla.policy import DeadlinePolicy
from gateway.sla.runtime import Hint, SlaRuntime, runtime_for
from gateway.sla.thresholds import next_alert
from gateway.store.tables import TicketEventRecord, TicketRecord
from gateway.store.tables_sla import OPEN_STATES, SlaTimerEventRecord, SlaTimerRecord

ORDER_EVENTS = ("supervised", "supervision_issued")  # platform 督办 notice; the bureau's own 督办/催办


@dataclass
class _Ctx:
    session: Session
    runtime: SlaRuntime
    policy: DeadlinePolicy
    ticket: TicketRecord
    calendar: WorkCalendar
    now: datetime
    actor: str
    hints: list[Hint] = field(default_factory=list)
    _activity: Activity | None = None

    def activity(self) -> Activity:
        """Progress reports and plans of the ticket (read once, when a timer needs them)."""
        if self._activity is None:
            rows = self.session.execute(select(TicketEventRecord.kind, TicketEventRecord.at).where(
                TicketEventRecord.ticket_id == self.ticket.id,
                TicketEventRecord.kind.in_(("progress", "plan_submitted")))).all()
            self._activity = Activity(progress=[at for kind, at in rows if kind == "progress"],
                                      plans=[at for kind, at in rows if kind == "plan_submitted"])
        return self._activity


def sync_ticket(session: Session, *, ticket: TicketRecord, now: datetime, reason: str) -> None:
    """Bring the ticket's timers in line with its state; ``reason`` is the timeline kind that changed it."""
    runtime = runtime_for(session)
    calendar = runtime.calendar(session, share=True)
    facts = TicketFacts.of(ticket)
    trigger = _last_event(session, ticket.id, kind=reason)  # the change that called us, and who made it
    ctx = _Ctx(session, runtime, runtime.sla, ticket, calendar, now, trigger.actor if trigger else "system")
    timers = list(session.scalars(
        select(SlaTimerRecord).where(SlaTimerRecord.ticket_id == ticket.id).order_by(SlaTimerRecord.id)
    ))
    if not timers and ticket.status in ("closed", "returned"):
        return  # first seen already finished: nothing to watch
    by_key = {(t.kind, t.cycle, t.seq): t for t in timers}

    _single(ctx, facts, by_key.get((SIGN_OFF, 1, 0)), derive.sign_off_inputs(facts, ctx.policy))
    _single(ctx, facts, by_key.get((DISPATCH, 1, 0)), derive.simple_inputs(DISPATCH, facts, facts.issued_at))
    _single(ctx, facts, by_key.get((FEEDBACK, 1, 0)), derive.simple_inputs(FEEDBACK, facts, facts.issued_at))
    if facts.complex or (PLAN, 1, 0) in by_key:
        _single(ctx, facts, by_key.get((PLAN, 1, 0)), derive.simple_inputs(PLAN, facts, facts.issued_at))
    _response(ctx, facts, [t for t in timers if t.kind == RESPONSE])
    orders = _orders(ctx, facts, [t for t in timers if t.kind in ORDER_KINDS], trigger)
    _resolution_phase(ctx, facts, timers, orders, trigger)
    runtime.hint_after_commit(session, ctx.hints)


def _single(ctx: _Ctx, facts: TicketFacts, timer: SlaTimerRecord | None, inputs: TimerInputs) -> None:
    """A timer the ticket has at most one of: start it when a rule or limit applies, else keep it current."""
    if timer is None:
        spec = derive.spec_for(inputs, ctx.calendar, ctx.policy)
        if spec is None:
            return
        what = derive.outcome(inputs.kind, facts, spec.started_at, ctx.now, ctx.activity)
        if what[0] in ("cancel", "lapse") and ctx.ticket.status in ("closed", "returned"):
            return  # a rule the ticket outlived before it ever applied (e.g. a new profile on a closed ticket)
        timer = _start(ctx, inputs.kind, 1, 0, spec)
    elif timer.state in OPEN_STATES:
        _refresh(ctx, timer, inputs._replace(started_at=timer.started_at))
    _apply(ctx, timer, derive.outcome(timer.kind, facts, timer.started_at, ctx.now, ctx.activity))


def _response(ctx: _Ctx, facts: TicketFacts, timers: list[SlaTimerRecord]) -> None:
    # 002 四(二): the window runs from when the unit receives the order, i.e. the dispatch takes effect.
    # A dispatch to another unit before the first contact gives the new unit its own window.
    current = max(timers, key=lambda t: t.seq) if timers else None
    dispatched = facts.dispatched_at
    if dispatched is not None and (current is None or _redispatched(current, facts, dispatched)):
        spec = derive.spec_for(derive.simple_inputs(RESPONSE, facts, dispatched), ctx.calendar, ctx.policy)
        if spec is not None:
            seq = 0
            if current is not None:
                missed = current.state == "breached" or ctx.now > current.due_at
                _close(ctx, current, "breached" if missed else "superseded",
                       f"改派至{ctx.ticket.unit or '其他单位'}")
                seq = current.seq + 1
            current = _start(ctx, RESPONSE, 1, seq, spec)
    elif current is not None and current.state in OPEN_STATES:
        _refresh(ctx, current, derive.simple_inputs(RESPONSE, facts, current.started_at))
    if current is not None:
        _apply(ctx, current, derive.outcome(RESPONSE, facts, current.started_at, ctx.now, ctx.activity))


def _redispatched(timer: SlaTimerRecord, facts: TicketFacts, dispatched: datetime) -> bool:
    return timer.state in OPEN_STATES and facts.responded_at is None and dispatched > timer.started_at


def _orders(ctx: _Ctx, facts: TicketFacts, timers: list[SlaTimerRecord],
            trigger: TicketEventRecord | None) -> list[SlaTimerRecord]:
    """督办/催办 with a deadline become timers (the platform's ``reply_by``, or the leader's own)."""
    if trigger is not None and trigger.kind in ORDER_EVENTS:
        detail = trigger.detail or {}
        due = detail.get("reply_by") if trigger.kind == "supervised" else detail.get("due_at")
        known = {int((t.limits or [{}])[0].get("event_id") or 0) for t in timers}
        if due and trigger.id not in known:
            kind = derive.URGE if detail.get("order") == "催办" else SUPERVISION
            source = PLATFORM if trigger.kind == "supervised" else BUREAU
            what = "督办" if kind == SUPERVISION else "催办"
            label = f"{'平台' if source == PLATFORM else '局'}{what}时限"
            limit = {**fixed(datetime.fromisoformat(str(due)), source=source, rule=ctx.policy.supervision_article,
                             label=label), "event_id": trigger.id}
            spec = derive.spec_for(TimerInputs(kind, facts.platform, None, ctx.now, [limit]), ctx.calendar,
                                   ctx.policy)
            assert spec is not None
            timers.append(_start(ctx, kind, facts.cycle, sum(1 for t in timers if t.kind == kind), spec))
    for timer in timers:
        _apply(ctx, timer, derive.outcome(timer.kind, facts, timer.started_at, ctx.now, ctx.activity))
    return timers


def _resolution_phase(ctx: _Ctx, facts: TicketFacts, timers: list[SlaTimerRecord], orders: list[SlaTimerRecord],
                      trigger: TicketEventRecord | None) -> None:
    cycle = facts.cycle
    for timer in timers:
        if timer.kind in RESOLUTION_KINDS and timer.cycle < cycle and timer.state in OPEN_STATES:
            _close(ctx, timer, "cancelled", "重办开启新的办理周期")
    phase = [t for t in timers if t.kind in RESOLUTION_KINDS and t.cycle == cycle]
    active = max(phase, key=lambda t: t.seq) if phase else None
    if active is None and ctx.ticket.status in ("closed", "returned"):
        return
    if active is None:
        reopened = _last_event(ctx.session, ctx.ticket.id, kind="reopened") if cycle > 1 else None
        started = facts.issued_at if reopened is None else reopened.at
        inputs = derive.resolution_inputs(facts, started, _limits(ctx, facts, started, orders, reopened),
                                          ctx.policy)
        spec = derive.spec_for(inputs, ctx.calendar, ctx.policy)
        if spec is None:
            return  # no policy rule and no platform deadline: nothing to count against
        active = _start(ctx, RESOLUTION, cycle, 0, spec)
    elif active.state in OPEN_STATES and trigger is not None and trigger.kind == "extension_decided":
        active = _extend(ctx, facts, active, trigger)
    elif active.state in OPEN_STATES and active.kind == RESOLUTION:
        reopened = _last_event(ctx.session, ctx.ticket.id, kind="reopened") if cycle > 1 else None
        limits = _limits(ctx, facts, active.started_at, orders, reopened)
        _refresh(ctx, active, derive.resolution_inputs(facts, active.started_at, limits, ctx.policy))
    elif active.state in OPEN_STATES:
        _refresh_extension(ctx, facts, active)
    _apply(ctx, active, derive.outcome(active.kind, facts, active.started_at, ctx.now, ctx.activity))


def _limits(ctx: _Ctx, facts: TicketFacts, started: datetime, orders: list[SlaTimerRecord],
            reopened: TicketEventRecord | None) -> list[LimitSpec]:
    """External limits of this cycle: the platform's (first cycle, or the 重办's new due) and 督办 times."""
    if reopened is None:
        limits = derive.platform_limits(facts, ctx.policy)
    else:
        new_due = (reopened.detail or {}).get("new_due_at")
        limits = [] if not new_due else [fixed(datetime.fromisoformat(str(new_due)), source=PLATFORM,
                                               rule=ctx.policy.platform_article, label="平台重办期限")]
    for order in orders:
        if order.kind == SUPERVISION and order.started_at >= started and order.limits:
            limits.append({k: v for k, v in order.limits[0].items() if k != "event_id"})
    return limits


def _refresh(ctx: _Ctx, timer: SlaTimerRecord, inputs: TimerInputs) -> None:
    """Derive an open timer's deadline again (platform limit, 督办, policy or calendar changed)."""
    spec = derive.spec_for(inputs, ctx.calendar, ctx.policy)
    if spec is None:
        _close(ctx, timer, "cancelled", "期限规则已停用")
        return
    if timer.rule_key != spec.rule_key or timer.limits != spec.limits:
        why = "平台期限或督办时限变更" if timer.limits != spec.limits else "工单类型、紧急程度或复杂认定变更"
    else:
        why = "期限规则变更"
    timer.rule_key, timer.platform_due_at, timer.limits = spec.rule_key, spec.platform_due_at, spec.limits
    timer.rule, timer.source, timer.label = spec.rule, spec.source, spec.label
    _set_due(ctx, timer, spec.due_at + timedelta(seconds=timer.paused_total_s), spec.provisional, why)


def _refresh_extension(ctx: _Ctx, facts: TicketFacts, timer: SlaTimerRecord) -> None:
    due = facts.platform_due_at
    moved = due is not None and timer.platform_due_at is not None and due != timer.platform_due_at
    if timer.ext_days is None and moved and due is not None:
        limit = fixed(due, source=PLATFORM, rule=ctx.policy.platform_article, label="平台批准的延期期限")
        _refresh(ctx, timer, TimerInputs(EXTENSION, facts.platform, None, timer.started_at, [limit]))
    elif timer.ext_days is not None:
        _refresh(ctx, timer, TimerInputs(EXTENSION, facts.platform, None, timer.started_at, [],
                                         ext_days=timer.ext_days, ext_from=timer.ext_from))


def _extend(ctx: _Ctx, facts: TicketFacts, active: SlaTimerRecord, decided: TicketEventRecord) -> SlaTimerRecord:
    if not decided.detail.get("approved"):
        return active
    new_due = facts.platform_due_at if decided.detail.get("new_due_at") else None
    if new_due is not None and active.due_at == new_due:
        return active  # this decision is already applied
    requested = _last_event(ctx.session, ctx.ticket.id, kind="extension_requested")
    spec = derive.extension_spec(
        active.due_at, ctx.now, platform=facts.platform, platform_new_due=new_due,
        days=(requested.detail.get("days") if requested else None), calendar=ctx.calendar, policy=ctx.policy,
    )
    _log(ctx, active, "extended", str(decided.detail.get("note") or "平台同意延期"),
         old_due=active.due_at.isoformat(), new_due=spec.due_at.isoformat())
    _close(ctx, active, "superseded", "已延期", log=False)
    return _start(ctx, EXTENSION, active.cycle, active.seq + 1, spec)


def _start(ctx: _Ctx, kind: str, cycle: int, seq: int, spec: Spec) -> SlaTimerRecord:
    timer = SlaTimerRecord(
        ticket_id=ctx.ticket.id, platform=ctx.ticket.platform, kind=kind, cycle=cycle, seq=seq, state="running",
        started_at=spec.started_at, due_at=spec.due_at, provisional=spec.provisional, paused_total_s=0.0,
        rule_key=spec.rule_key, platform_due_at=spec.platform_due_at, ext_days=spec.ext_days,
        ext_from=spec.ext_from, rule=spec.rule, source=spec.source, label=spec.label, limits=spec.limits,
        last_threshold=0, updated_at=ctx.now,
    )
    ctx.session.add(timer)
    ctx.session.flush()
    _arm(ctx, timer)
    _log(ctx, timer, "started", "", due_at=spec.due_at.isoformat(), provisional=spec.provisional,
         rule=spec.rule, source=spec.source)
    return timer


def _arm(ctx: _Ctx, timer: SlaTimerRecord) -> None:
    nxt = None
    if timer.state in ("running", "breached") and timer.met_at is None:
        nxt = next_alert(timer.started_at, timer.due_at, ctx.runtime.thresholds, timer.last_threshold)
    timer.next_threshold, timer.next_alert_at = (nxt.threshold, nxt.at) if nxt else (None, None)
    if nxt is not None:
        ctx.hints.append((nxt.at, timer.id))


def _set_due(ctx: _Ctx, timer: SlaTimerRecord, due: datetime, provisional: bool, why: str) -> None:
    if timer.due_at == due and timer.provisional == provisional:
        return
    _log(ctx, timer, "recomputed", why, old_due=timer.due_at.isoformat(), new_due=due.isoformat())
    timer.due_at, timer.provisional, timer.updated_at = due, provisional, ctx.now
    if timer.state == "breached" and due > ctx.now:
        timer.state = "running"
    _arm(ctx, timer)


def _apply(ctx: _Ctx, timer: SlaTimerRecord, result: derive.Outcome) -> None:
    what, at, why = result
    if timer.state not in OPEN_STATES:
        return
    if what == "met" and at is not None:
        timer.met_at, timer.paused_at = at, None
        timer.state = "met" if at <= timer.due_at else "breached"
        _close(ctx, timer, timer.state, why, log=False)
        _log(ctx, timer, "met", why, met_at=at.isoformat(), late=at > timer.due_at)
    elif what == "cancel":
        _close(ctx, timer, "cancelled", why)
    elif what == "lapse":  # finished without what the timer asked for: missed if its time had passed
        _close(ctx, timer, "breached" if ctx.now > timer.due_at else "cancelled", why)
    elif what == "pause" and timer.state != "paused":
        timer.state, timer.paused_at, timer.updated_at = "paused", ctx.now, ctx.now
        _arm(ctx, timer)
        _log(ctx, timer, "paused", why)
    elif what == "run" and timer.state == "paused" and timer.paused_at is not None:
        paused_for = max(ctx.now - timer.paused_at, timedelta(0))
        timer.paused_total_s += paused_for.total_seconds()
        old_due = timer.due_at
        timer.due_at, timer.paused_at, timer.state = shift_for_pause(timer.due_at, paused_for), None, "running"
        _arm(ctx, timer)
        _log(ctx, timer, "resumed", "恢复计时", paused_s=paused_for.total_seconds(),
             old_due=old_due.isoformat(), new_due=timer.due_at.isoformat())


def _close(ctx: _Ctx, timer: SlaTimerRecord, state: str, why: str, *, log: bool = True) -> None:
    timer.state, timer.next_threshold, timer.next_alert_at, timer.updated_at = state, None, None, ctx.now
    settle_timer(ctx.session, timer_id=timer.id, now=ctx.now)
    if log:
        _log(ctx, timer, state if state == "cancelled" else "closed", why)


def _log(ctx: _Ctx, timer: SlaTimerRecord, kind: str, why: str, **detail: Any) -> None:
    ctx.session.add(SlaTimerEventRecord(timer_id=timer.id, ticket_id=timer.ticket_id, at=ctx.now, kind=kind,
                                        actor=ctx.actor, reason=why, detail=detail))


def _last_event(session: Session, ticket_id: int, *, kind: str | None = None) -> TicketEventRecord | None:
    stmt = select(TicketEventRecord).where(TicketEventRecord.ticket_id == ticket_id)
    if kind is not None:
        stmt = stmt.where(TicketEventRecord.kind == kind)
    return session.scalars(stmt.order_by(TicketEventRecord.id.desc()).limit(1)).first()
