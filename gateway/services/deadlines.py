"""A ticket's deadlines as the API shows them: due_at, met_at, state, provisional."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from gateway.store.tables import TicketRecord

SIGN_OFF_WINDOW = timedelta(hours=24)  # 002 §4(1): 签收 within 24 h of issue
RESPONSE_WINDOW = timedelta(hours=2)  # 002 §4(2): 介入处置 within 2 h


def timer_view(
    due_at: datetime | None, met_at: datetime | None, now: datetime, provisional: bool = False
) -> dict[str, Any]:
    """One timer: running, met, breached, or not_started (no due time yet)."""
    if due_at is None:
        state = "not_started"
    elif met_at is not None:
        state = "met" if met_at <= due_at else "breached"
    else:
        state = "breached" if now > due_at else "running"
    return {
        "due_at": due_at,
        "met_at": met_at,
        "state": state,
        "provisional": provisional,
        "seconds_left": None if due_at is None or met_at is not None else int((due_at - now).total_seconds()),
    }


def sign_off_due(ticket: TicketRecord) -> datetime:
    """24 h wall-clock from the platform's issue time, or the platform's own sign deadline if earlier."""
    due = ticket.issued_at + SIGN_OFF_WINDOW
    return min(due, ticket.platform_sign_by) if ticket.platform_sign_by else due


def ticket_deadlines(ticket: TicketRecord, now: datetime) -> dict[str, dict[str, Any]]:
    """sign_off, response and resolution timers of a ticket."""
    sign_met = ticket.signed_at
    if sign_met is None and ticket.status in ("return_requested", "returned"):
        sign_met = ticket.updated_at  # a return is the other way to answer the 24 h window
    response_due = ticket.signed_at + RESPONSE_WINDOW if ticket.signed_at else None
    return {
        "sign_off": timer_view(sign_off_due(ticket), sign_met, now),
        "response": timer_view(response_due, ticket.responded_at, now),
        "resolution": timer_view(ticket.platform_due_at, ticket.replied_at, now),
    }
