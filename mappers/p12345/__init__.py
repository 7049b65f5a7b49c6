"""12345 work orders and push events <-> the internal schema (PLATFORMS.md §1).

Inbound payloads are the inbox text exactly as stored: a push envelope
``{"event_id", "event_type", "occurred_at", "order_no", "data"}``, or for ``order.snapshot`` (a
pulled order) the order object itself. Outbound bodies are the §1 write-back bodies without
``requestId`` (the adapter adds it). Enum tables live in ``tables``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from gateway.schema import MappedEvent
from mappers.p12345.inbound import map_inbound
from mappers.p12345.outbound import map_outbound
from mappers.p12345.tables import KEY

__all__ = ["P12345Mapper"]


class P12345Mapper:
    """Mapper for ``p12345``."""

    key = KEY

    def inbound(self, event_type: str, payload: str) -> MappedEvent:
        """Map a push envelope or a pulled order snapshot to a ``TicketDraft`` or ``TicketNotice``."""
        return map_inbound(event_type, payload)

    def outbound(self, action: str, payload: Mapping[str, Any]) -> dict[str, Any]:
        """Build the §1 body of one write-back: sign, contact, return, extension, progress, reply."""
        return map_outbound(action, payload)
