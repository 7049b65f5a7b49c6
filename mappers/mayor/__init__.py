"""Mayor's hotline rows and write-backs <-> the internal schema (PLATFORMS.md §3).

Inbound payloads are rows of ``list.do``/``detail.do`` exactly as received (already decoded from
GBK): ``order.snapshot`` maps the row to a ``TicketDraft``, ``order.callback`` maps its 回访结果
``hfjg`` to a ``TicketNotice`` of kind callback. Outbound bodies are the §3 form fields without
``lsh`` (the adapter adds it and the token). ``reply`` is 办结反馈 ``feedback.do``; ``contact``
and ``progress`` do not exist on this platform and raise ``MappingError``. Enum tables: ``tables``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from gateway.schema import MappedEvent
from mappers.mayor.inbound import map_inbound
from mappers.mayor.outbound import map_outbound
from mappers.mayor.tables import KEY

__all__ = ["MayorMapper"]


class MayorMapper:
    """Mapper for ``mayor``."""

    key = KEY

    def inbound(self, event_type: str, payload: str) -> MappedEvent:
        """Map a pulled row to a ``TicketDraft`` (snapshot) or its callback result to a ``TicketNotice``."""
        return map_inbound(event_type, payload)

    def outbound(self, action: str, payload: Mapping[str, Any]) -> dict[str, Any]:
        """Build the §3 form fields of one write-back: sign, reply (feedback), return (back), extension (delay)."""
        return map_outbound(action, payload)
