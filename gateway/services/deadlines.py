"""A ticket's deadlines as the API shows them, read from its persisted SLA timers.

Always ``sign_off``, ``response`` and ``resolution``; ``dispatch``, ``first_feedback``, ``plan`` and
``supervision`` when the ticket has such a timer (the profile decides which it has). ``sign_off``,
``dispatch`` and the 137 timers are the first cycle's; ``response`` is the latest (a dispatch to
another unit starts a new window); ``resolution`` is the current cycle's live resolution-phase timer
(the extension once one is approved): ONE binding deadline, with the article it rests on (``rule``)
and whether the policy or an earlier platform or 督办 limit set it (``source``, ``basis``);
``supervision`` is the nearest open 督办/催办. A timer not started yet shows as ``not_started``.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from gateway.sla.derive import DISPATCH, FEEDBACK, ORDER_KINDS, PLAN, RESOLUTION_KINDS, RESPONSE, SIGN_OFF
from gateway.sla.limits import BUREAU, PLATFORM
from gateway.store.tables import TicketEventRecord, TicketRecord
from gateway.store.tables_sla import OPEN_STATES, SlaTimerRecord

NOT_STARTED: dict[str, Any] = {
    "due_at": None, "met_at": None, "state": "not_started", "provisional": False, "seconds_left": None,
    "rule": None, "source": None, "basis": None,
}
ALWAYS = ("sign_off", "response", "resolution")
SOURCE_WORDS = {PLATFORM: "平台时限", BUREAU: "督办时限"}


def basis(source: str | None, rule: str | None) -> str:
    """What a deadline rests on, as the dashboard says it: 依据：平台时限 / 依据：000 限时办结 一."""
    if source in SOURCE_WORDS:
        return f"依据：{SOURCE_WORDS[source]}"
    return f"依据：{rule}" if rule else "依据：期限规则"


def timer_view(timer: SlaTimerRecord | None, now: datetime) -> dict[str, Any]:
    """One timer: running, paused, met, breached, cancelled, or not_started."""
    if timer is None:
        return dict(NOT_STARTED)
    state = timer.state
    if state == "running" and now > timer.due_at:
        state = "breached"  # the engine marks it within seconds; the API never shows a stale "running"
    elif state == "superseded":
        state = "met" if timer.met_at is not None else "running"
    left: int | None = None
    if timer.met_at is None and state not in ("cancelled",):
        frozen_at = timer.paused_at if timer.paused_at is not None else now  # a pause stops the clock
        left = int((timer.due_at - frozen_at).total_seconds())
    source = timer.source or ("platform" if timer.platform_due_at is not None
                              and timer.platform_due_at == timer.due_at else "policy")
    return {
        "due_at": timer.due_at,
        "met_at": timer.met_at,
        "state": state,
        "provisional": timer.provisional,
        "seconds_left": left,
        "cycle": timer.cycle,
        "kind": timer.kind,
        "rule": timer.rule,
        "source": source,
        "basis": basis(source, timer.rule),
        "label": timer.label,
    }


def pick(timers: Iterable[SlaTimerRecord]) -> dict[str, SlaTimerRecord | None]:
    """The timer the API shows under each name."""
    chosen: dict[str, SlaTimerRecord | None] = dict.fromkeys(ALWAYS)
    firsts = {SIGN_OFF: "sign_off", DISPATCH: "dispatch", FEEDBACK: "first_feedback", PLAN: "plan"}
    orders: list[SlaTimerRecord] = []
    for timer in timers:
        if timer.kind in firsts and timer.cycle == 1:
            chosen[firsts[timer.kind]] = timer
        elif timer.kind == RESPONSE:
            current = chosen["response"]
            if current is None or timer.seq > current.seq:
                chosen["response"] = timer
        elif timer.kind in RESOLUTION_KINDS:
            current = chosen["resolution"]
            if current is None or (timer.cycle, timer.seq) > (current.cycle, current.seq):
                chosen["resolution"] = timer
        elif timer.kind in ORDER_KINDS:
            orders.append(timer)
    if orders:
        live = [t for t in orders if t.state in OPEN_STATES]
        chosen["supervision"] = min(live, key=lambda t: t.due_at) if live else max(orders, key=lambda t: t.id)
    return chosen


def ticket_deadlines(session: Session, ticket: TicketRecord, now: datetime) -> dict[str, dict[str, Any]]:
    """The deadlines of a ticket by name (see the module docstring)."""
    return deadlines_for(session, [ticket.id], now)[ticket.id]


def deadlines_for(session: Session, ticket_ids: Iterable[int], now: datetime) -> dict[int, dict[str, dict[str, Any]]]:
    """The deadlines of many tickets with one query (a queue page, not one query per row)."""
    ids = list(ticket_ids)
    by_ticket: dict[int, list[SlaTimerRecord]] = {tid: [] for tid in ids}
    if ids:
        for timer in session.scalars(select(SlaTimerRecord).where(SlaTimerRecord.ticket_id.in_(ids))):
            by_ticket[timer.ticket_id].append(timer)
    return {tid: {name: timer_view(t, now) for name, t in pick(ts).items()} for tid, ts in by_ticket.items()}


def orders_for(session: Session, ticket_id: int, now: datetime) -> list[dict[str, Any]]:
    """Every 督办/催办 of a ticket with who issued it, its note and how it stands, oldest first."""
    timers = session.scalars(select(SlaTimerRecord).where(
        SlaTimerRecord.ticket_id == ticket_id, SlaTimerRecord.kind.in_(ORDER_KINDS)).order_by(SlaTimerRecord.id)).all()
    event_ids = [int((t.limits or [{}])[0].get("event_id") or 0) for t in timers]
    events = {e.id: e for e in session.scalars(select(TicketEventRecord).where(TicketEventRecord.id.in_(event_ids)))}
    out = []
    for timer, event_id in zip(timers, event_ids, strict=True):
        event = events.get(event_id)
        detail = event.detail if event is not None else {}
        out.append({
            **timer_view(timer, now),
            "order": "催办" if timer.kind == "urge" else "督办",
            "issued_at": timer.started_at,
            "issued_by": "平台" if timer.source == PLATFORM else (event.actor if event is not None else ""),
            "note": detail.get("note"),
            "level": detail.get("level"),
            "reference": detail.get("supervise_no"),
        })
    return out
