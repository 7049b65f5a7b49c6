"""The ledger of write-backs a mock accepted: how tests prove exactly-once delivery."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from mock_platforms.common.clock import iso_cn, now_cn


@dataclass
class LedgerEntry:
    """One write-back the platform applied."""

    seq: int
    action: str
    order_no: str
    request_id: str | None
    receipt_id: str
    at: str
    body: dict[str, Any]
    replays: int = 0

    def as_json(self) -> dict[str, Any]:
        """Return the entry as JSON-ready data."""
        return {
            "seq": self.seq,
            "action": self.action,
            "order_no": self.order_no,
            "request_id": self.request_id,
            "receipt_id": self.receipt_id,
            "at": self.at,
            "body": self.body,
            "replays": self.replays,
        }


@dataclass
class Ledger:
    """Accepted write-backs in arrival order, indexed by idempotency key when the platform has one."""

    entries: list[LedgerEntry] = field(default_factory=list)
    duplicates: int = 0
    _by_key: dict[str, LedgerEntry] = field(default_factory=dict)

    def record(
        self, action: str, order_no: str, request_id: str | None, receipt_id: str, body: dict[str, Any]
    ) -> LedgerEntry:
        """Append an accepted write-back and return its entry."""
        entry = LedgerEntry(
            seq=len(self.entries) + 1,
            action=action,
            order_no=order_no,
            request_id=request_id,
            receipt_id=receipt_id,
            at=iso_cn(now_cn()),
            body=body,
        )
        self.entries.append(entry)
        if request_id is not None:
            self._by_key[request_id] = entry
        return entry

    def find(self, request_id: str) -> LedgerEntry | None:
        """Return the entry accepted under `request_id`, if any."""
        return self._by_key.get(request_id)

    def note_duplicate(self, entry: LedgerEntry) -> None:
        """Count a repeated request that was answered from `entry` without a new write."""
        entry.replays += 1
        self.duplicates += 1

    def for_order(self, order_no: str) -> list[LedgerEntry]:
        """Return the entries of one order, oldest first."""
        return [entry for entry in self.entries if entry.order_no == order_no]

    def clear(self) -> None:
        """Forget everything."""
        self.entries.clear()
        self._by_key.clear()
        self.duplicates = 0

    def as_json(self, *, order_no: str | None = None, action: str | None = None) -> dict[str, Any]:
        """Return the (optionally filtered) ledger as JSON-ready data."""
        chosen = [
            entry.as_json()
            for entry in self.entries
            if (order_no is None or entry.order_no == order_no) and (action is None or entry.action == action)
        ]
        return {"count": len(chosen), "duplicates": self.duplicates, "entries": chosen}
