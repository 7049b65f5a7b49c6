"""Timers follow their ticket: start, meet, pause, resume, extend and re-cycle, idempotently.

``sync_ticket`` runs inside the transaction of every ticket change (via ``services.lifecycle``). It
compares the timers the ticket should have (``gateway.sla.derive``) with the stored ones and changes
only what differs, logging each change with who caused it and why; a second call changes nothing.
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
from gateway.sla.derive import EXTENSION, RESOLUTION, RESOLUTION_KINDS, RESPONSE, SIGN_OFF, Spec, TicketFacts
from gateway.sla.runtime import Hint, SlaRuntime, runtime_for
from gateway.sla.thresholds import next_alert
from gateway.store.tables import TicketEventRecord, TicketRecord
from gateway.store.tables_sla import OPEN_STATES, SlaTimerEventRecord, SlaTimerRecord


@dataclass
class _Ctx:
    session: Session
    runtime: SlaRuntime
    ticket: TicketRecord
    calendar: WorkCalendar
    now: datetime
    actor: str
    hints: list[Hint] = field(default_factory=list)


def sync_ticket(session: Session, *, ticket: TicketRecord, now: datetime, reason: str) -> None:
    """Bring the ticket's timers in line with its state; ``reason`` is the timeline kind that changed it."""
    runtime = runtime_for(session)
    calendar = runtime.calendar(session, share=True)
    policy, facts = runtime.sla, TicketFacts.of(ticket)
    last = _last_event(session, ticket.id)
    actor = last.actor if last is not None and last.kind == reason else "system"
    ctx = _Ctx(session, runtime, ticket, calendar, now, actor)
    timers = list(session.scalars(
        select(SlaTimerRecord).where(SlaTimerRecord.ticket_id == ticket.id).order_by(SlaTimerRecord.id)
    ))
    if not timers and ticket.status in ("closed", "returned"):
        return  # first seen already finished: nothing to watch
    by_key = {(t.kind, t.cycle, t.seq): t for t in timers}

    sign = by_key.get((SIGN_OFF, 1, 0)) or _start(ctx, SIGN_OFF, 1, 0, derive.sign_off_spec(facts, policy))
    if sign.state in OPEN_STATES:
        spec = derive.sign_off_spec(facts, policy)
        _set_due(ctx, sign, spec.due_at, False, "平台签收期限变更")
    _apply(ctx, sign, derive.outcome(SIGN_OFF, facts, sign.started_at, now))

    response = by_key.get((RESPONSE, 1, 0))
    signed = derive.signed_instant(facts, now)
    if response is None and signed is not None:
        response = _start(ctx, RESPONSE, 1, 0, derive.response_spec(signed, policy))
    if response is not None:
        _apply(ctx, response, derive.outcome(RESPONSE, facts, response.started_at, now))

    _resolution_phase(ctx, facts, timers, last if last is not None and last.kind == reason else None)
    runtime.hint_after_commit(session, ctx.hints)


def _resolution_phase(ctx: _Ctx, facts: TicketFacts, timers: list[SlaTimerRecord],
                      last: TicketEventRecord | None) -> None:
    policy, calendar = ctx.runtime.sla, ctx.calendar
    cycle = facts.cycle
    for timer in timers:
        if timer.kind in RESOLUTION_KINDS and timer.cycle < cycle and timer.state in OPEN_STATES:
            _close(ctx, timer, "cancelled", "重办开启新的办理周期")
    phase = [t for t in timers if t.kind in RESOLUTION_KINDS and t.cycle == cycle]
    active = max(phase, key=lambda t: t.seq) if phase else None
    if active is None:
        if ctx.ticket.status in ("closed", "returned"):
            return
        reopened = _last_event(ctx.session, ctx.ticket.id, kind="reopened") if cycle > 1 else None
        started = facts.issued_at if reopened is None else reopened.at
        platform_due = facts.platform_due_at if cycle == 1 else _as_time(reopened.detail if reopened else {})
        spec = derive.resolution_spec(facts, started, calendar, policy, platform_due=platform_due)
        if spec is None:
            return  # no policy rule and no platform deadline: nothing to count against
        active = _start(ctx, RESOLUTION, cycle, 0, spec)
    elif active.state in OPEN_STATES and last is not None and last.kind == "extension_decided":
        active = _extend(ctx, facts, active, phase, last)
    elif active.state in OPEN_STATES:
        _rederive(ctx, facts, active)
    _apply(ctx, active, derive.outcome(active.kind, facts, active.started_at, ctx.now))


def _rederive(ctx: _Ctx, facts: TicketFacts, timer: SlaTimerRecord) -> None:
    policy, calendar = ctx.runtime.sla, ctx.calendar
    if timer.kind == EXTENSION:
        due = facts.platform_due_at
        if timer.platform_due_at is not None and due is not None and due != timer.platform_due_at:
            timer.platform_due_at = due
            _set_due(ctx, timer, due + timedelta(seconds=timer.paused_total_s), False, "平台期限变更")
        return
    platform_due = facts.platform_due_at if timer.cycle == 1 else timer.platform_due_at
    spec = derive.resolution_spec(facts, timer.started_at, calendar, policy, platform_due=platform_due)
    if spec is None:
        return
    why = "平台期限变更" if spec.platform_due_at != timer.platform_due_at else "工单类型或等级变更"
    timer.rule_key, timer.platform_due_at = spec.rule_key, spec.platform_due_at
    _set_due(ctx, timer, spec.due_at + timedelta(seconds=timer.paused_total_s), spec.provisional, why)


def _extend(ctx: _Ctx, facts: TicketFacts, active: SlaTimerRecord, phase: list[SlaTimerRecord],
            decided: TicketEventRecord) -> SlaTimerRecord:
    if not decided.detail.get("approved"):
        return active
    new_due = facts.platform_due_at if decided.detail.get("new_due_at") else None
    if new_due is not None and active.due_at == new_due:
        return active  # this decision is already applied
    requested = _last_event(ctx.session, ctx.ticket.id, kind="extension_requested")
    spec = derive.extension_spec(
        active.due_at, ctx.now, platform_new_due=new_due,
        days=(requested.detail.get("days") if requested else None),
        requested_at=(requested.at if requested else None),
        extensions_so_far=sum(1 for t in phase if t.kind == EXTENSION),
        calendar=ctx.calendar, policy=ctx.runtime.sla,
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
        ext_from=spec.ext_from, last_threshold=0, updated_at=ctx.now,
    )
    ctx.session.add(timer)
    ctx.session.flush()
    _arm(ctx, timer)
    _log(ctx, timer, "started", "", due_at=spec.due_at.isoformat(), provisional=spec.provisional)
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


def _as_time(detail: dict[str, Any]) -> datetime | None:
    value = detail.get("new_due_at")
    return datetime.fromisoformat(str(value)) if value else None
