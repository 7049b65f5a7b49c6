"""12389 cases <-> the internal schema (PLATFORMS.md §2).

Inbound payloads are the adapter's envelopes around one ``<case>`` (``case.snapshot``) or the
reporter's evaluation (``case.rated``); outbound bodies are the §2 request elements without
``wbbh`` (the adapter adds the outbox request id). Enum tables live in ``tables``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from gateway.schema import MappedEvent
from mappers.p12389.inbound import map_inbound
from mappers.p12389.outbound import map_outbound
from mappers.p12389.tables import KEY

__all__ = ["P12389Mapper"]


class P12389Mapper:
    """Mapper for ``p12389``."""

    key = KEY

    def inbound(self, event_type: str, payload: str) -> MappedEvent:
        """Map a case snapshot to a ``TicketDraft``, or an evaluation to a ``TicketNotice(rated)``."""
        return map_inbound(event_type, payload)

    def outbound(self, action: str, payload: Mapping[str, Any]) -> dict[str, Any]:
        """Build the §2 elements of one write-back: sign (receipt), extension, reply/report (report)."""
        return map_outbound(action, payload)
