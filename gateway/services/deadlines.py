"""A ticket's deadlines as the API shows them, read from its persisted SLA timers.

``sign_off`` and ``response`` are the first cycle's; ``resolution`` is the current cycle's live
resolution-phase timer (the extension once one is approved). A timer not started yet (a response
before sign-off) shows as ``not_started`` with no times.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from gateway.sla.derive import RESOLUTION_KINDS, RESPONSE, SIGN_OFF
from gateway.store.tables import TicketRecord
from gateway.store.tables_sla import SlaTimerRecord

NOT_STARTED: dict[str, Any] = {
    "due_at": None, "met_at": None, "state": "not_started", "provisional": False, "seconds_left": None,
}


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
    return {
        "due_at": timer.due_at,
        "met_at": timer.met_at,
        "state": state,
        "provisional": timer.provisional,
        "seconds_left": left,
        "cycle": timer.cycle,
        "kind": timer.kind,
    }


def pick(timers: Iterable[SlaTimerRecord]) -> dict[str, SlaTimerRecord | None]:
    """The timer the API shows under each name."""
    chosen: dict[str, SlaTimerRecord | None] = {"sign_off": None, "response": None, "resolution": None}
    for timer in timers:
        if timer.kind == SIGN_OFF and timer.cycle == 1:
            chosen["sign_off"] = timer
        elif timer.kind == RESPONSE and timer.cycle == 1:
            chosen["response"] = timer
        elif timer.kind in RESOLUTION_KINDS:
            current = chosen["resolution"]
            if current is None or (timer.cycle, timer.seq) > (current.cycle, current.seq):
                chosen["resolution"] = timer
    return chosen


def ticket_deadlines(session: Session, ticket: TicketRecord, now: datetime) -> dict[str, dict[str, Any]]:
    """sign_off, response and resolution timers of a ticket."""
    return deadlines_for(session, [ticket.id], now)[ticket.id]


def deadlines_for(session: Session, ticket_ids: Iterable[int], now: datetime) -> dict[int, dict[str, dict[str, Any]]]:
    """The deadlines of many tickets with one query (a queue page, not one query per row)."""
    ids = list(ticket_ids)
    by_ticket: dict[int, list[SlaTimerRecord]] = {tid: [] for tid in ids}
    if ids:
        for timer in session.scalars(select(SlaTimerRecord).where(SlaTimerRecord.ticket_id.in_(ids))):
            by_ticket[timer.ticket_id].append(timer)
    return {tid: {name: timer_view(t, now) for name, t in pick(ts).items()} for tid, ts in by_ticket.items()}
