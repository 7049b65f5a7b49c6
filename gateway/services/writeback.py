"""Queue a write-back for the ticket's platform, or record that the platform has none of that kind."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from gateway.catalogue import supports
from gateway.store import outbox
from gateway.store.tables import TicketRecord
from gateway.store.tickets import add_event


def queue_writeback(
    session: Session, *, ticket: TicketRecord, action: str, payload: dict[str, Any], actor: str, now: datetime
) -> list[int]:
    """An outbox row in the caller's transaction; none when the platform lacks the action.

    e.g. 先行联系 on the director's mailbox is recorded on the ticket but has nothing to post; queuing it
    would leave a dead row that blocks the reply behind it (rows of a ticket go out in order).
    """
    if not supports(ticket.platform, action):
        add_event(session, ticket=ticket, actor="system", kind="not_on_platform", at=now, action=action)
        return []
    row = outbox.enqueue(session, ticket=ticket, action=action, payload=dict(payload), actor=actor, now=now)
    return [row.id]
