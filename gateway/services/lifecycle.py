"""The one hook every ticket change passes through (after the change, inside its transaction).

Called by processing (platform snapshots and notices), operator actions and delivery outcomes, so
that derived state (SLA timers, linked cases) follows the ticket without each call site knowing it.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from gateway.sla.timers import sync_ticket
from gateway.store.tables import TicketRecord


def ticket_changed(session: Session, *, ticket: TicketRecord, now: datetime, reason: str) -> None:
    """Bring state derived from ``ticket`` up to date; ``reason`` is the timeline kind that caused it."""
    session.flush()
    sync_ticket(session, ticket=ticket, now=now, reason=reason)
