"""Rows of the mock mayor's hotline, paged by ``gxsj`` the way ``list.do`` pages them."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from mock_platforms.mayor.wire import TIME_FORMAT


@dataclass
class RowRecord:
    """A row as served, plus what the platform keeps beside it (not visible through the API)."""

    row: dict[str, Any]
    signer: str | None = None
    feedback_form: dict[str, str] | None = None
    return_reason: str | None = None
    pending_delay: dict[str, str] | None = None

    @property
    def lsh(self) -> str:
        """Return the 流水号."""
        return str(self.row["lsh"])


@dataclass
class RowStore:
    """Rows keyed by ``lsh``. Every change stamps ``gxsj`` with the platform clock, to the second."""

    _rows: dict[str, RowRecord] = field(default_factory=dict)

    def add(self, row: dict[str, Any]) -> RowRecord:
        """Store a new row; raise KeyError if its lsh exists."""
        lsh = str(row["lsh"])
        if lsh in self._rows:
            raise KeyError(lsh)
        record = RowRecord(row=row)
        self._rows[lsh] = record
        return record

    def get(self, lsh: str) -> RowRecord | None:
        """Return the row's record, if known."""
        return self._rows.get(lsh)

    @staticmethod
    def touch(record: RowRecord, now: datetime) -> None:
        """Record a change of the row: ``gxsj`` becomes now."""
        record.row["gxsj"] = now.strftime(TIME_FORMAT)

    def page(self, begin: str | None, end: str | None, page_no: int, size: int) -> tuple[list[dict[str, Any]], int]:
        """Rows with ``begin <= gxsj <= end`` (both inclusive), ascending by ``gxsj``, by page number.

        Offset paging over a live ordering, like the real server: a row that changes while a client
        pages leaves its place, and the rows after it shift one place up.
        """
        chosen = [
            r.row
            for r in self._rows.values()
            if (begin is None or r.row["gxsj"] >= begin) and (end is None or r.row["gxsj"] <= end)
        ]
        # Fixed-format local times sort as text; ties broken by lsh so a page is reproducible.
        chosen.sort(key=lambda row: (row["gxsj"], row["lsh"]))
        start = (page_no - 1) * size
        return chosen[start : start + size], len(chosen)

    def __iter__(self) -> Iterator[RowRecord]:
        return iter(list(self._rows.values()))

    def __len__(self) -> int:
        return len(self._rows)

    def clear(self) -> None:
        """Forget every row."""
        self._rows.clear()
