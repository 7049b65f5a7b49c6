"""Orders in change order, with the page tokens of the pull API."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from mock_platforms.common.clock import iso_cn, parse_iso


@dataclass
class OrderRecord:
    """An order as served, plus the bookkeeping the platform keeps beside it."""

    order: dict[str, Any]
    seq: int
    changed_at: datetime
    status_before_return: str | None = None
    pending_extension_days: int | None = None
    urges: int = 0
    supervisions: int = 0

    @property
    def order_no(self) -> str:
        """Return the 工单编号."""
        return str(self.order["orderNo"])


class OrderStore:
    """Orders keyed by orderNo, kept in the order of their last change.

    Every change takes the next value of one global sequence and moves the order to the end, so
    a page token holding the last sequence a client saw makes an order changed mid-paging show up
    again at the end (PLATFORMS.md §1: "it may be seen twice"), never silently skipped.
    """

    def __init__(self) -> None:
        self._records: dict[str, OrderRecord] = {}
        self._seq = 0

    def add(self, order: dict[str, Any], now: datetime) -> OrderRecord:
        """Store a new order; raise KeyError if its orderNo exists."""
        order_no = str(order["orderNo"])
        if order_no in self._records:
            raise KeyError(order_no)
        self._seq += 1
        record = OrderRecord(order=order, seq=self._seq, changed_at=now)
        self._records[order_no] = record
        return record

    def get(self, order_no: str) -> OrderRecord | None:
        """Return the order's record, if known."""
        return self._records.get(order_no)

    def changed(self, record: OrderRecord, now: datetime) -> None:
        """Count one change of the order: version + 1, new sequence, moved to the end."""
        record.order["version"] = int(record.order["version"]) + 1
        self._seq += 1
        record.seq = self._seq
        record.changed_at = now
        self._records.pop(record.order_no)
        self._records[record.order_no] = record

    def __iter__(self) -> Iterator[OrderRecord]:
        return iter(list(self._records.values()))

    def __len__(self) -> int:
        return len(self._records)

    def order_numbers(self) -> list[str]:
        """Return every orderNo, in change order."""
        return list(self._records)

    def page(self, since: datetime | None, after_seq: int, size: int) -> tuple[list[OrderRecord], bool]:
        """Return up to `size` orders changed at/after `since` with a sequence above `after_seq`,
        oldest change first, and whether more remain."""
        chosen: list[OrderRecord] = []
        for record in self._records.values():
            if record.seq <= after_seq or (since is not None and record.changed_at < since):
                continue
            if len(chosen) == size:
                return chosen, True
            chosen.append(record)
        return chosen, False

    def clear(self) -> None:
        """Forget every order (the sequence keeps counting, so old tokens stay harmless)."""
        self._records.clear()


def encode_page_token(after_seq: int, since: datetime | None) -> str:
    """Return an opaque token for the page after sequence `after_seq`."""
    raw = json.dumps({"s": after_seq, "u": iso_cn(since) if since else None}).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_page_token(token: str) -> tuple[int, datetime | None]:
    """Return (after_seq, since) from a token; raise ValueError when it is not one of ours."""
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        data = json.loads(raw)
        after_seq = data["s"]
        since = parse_iso(data["u"]) if data["u"] else None
    except (ValueError, KeyError, TypeError) as exc:
        raise ValueError("not a page token of this platform") from exc
    if not isinstance(after_seq, int):
        raise ValueError("not a page token of this platform")
    return after_seq, since
