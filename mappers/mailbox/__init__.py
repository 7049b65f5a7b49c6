"""局长信箱 letters and ratings <-> the internal schema (PLATFORMS.md §4).

Inbound payloads are the inbox text exactly as stored: a letter from the change feed, mapped as a
``letter.snapshot`` (the ticket, versioned by ``updated_at``) or as ``letter.rated`` (the writer's
rating as the callback result). Outbound bodies are the §4 write-back bodies; times are epoch
milliseconds both ways. Enum tables live in ``tables``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from gateway.schema import MappedEvent
from mappers.mailbox.inbound import map_inbound
from mappers.mailbox.outbound import map_outbound
from mappers.mailbox.tables import KEY

__all__ = ["MailboxMapper"]


class MailboxMapper:
    """Mapper for ``mailbox``."""

    key = KEY

    def inbound(self, event_type: str, payload: str) -> MappedEvent:
        """Map a letter to a ``TicketDraft`` (snapshot) or its rating to a ``TicketNotice``."""
        return map_inbound(event_type, payload)

    def outbound(self, action: str, payload: Mapping[str, Any]) -> dict[str, Any]:
        """Build the §4 body of one write-back: sign (acceptance), reply (answer), return (transfer)."""
        return map_outbound(action, payload)
