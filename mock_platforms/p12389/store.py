"""Cases in the order of §2's list: 下发时间 (xfsj) descending, newest first, offset-paged."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any


@dataclass
class CaseRecord:
    """A case as served, plus what the platform keeps beside it."""

    case: dict[str, Any]
    seq: int  # arrival order: breaks ties between cases issued in the same second
    extensions: list[int] = field(default_factory=list)  # days asked, not yet decided

    @property
    def jbbh(self) -> str:
        """The 举报编号."""
        return str(self.case["jbbh"])


class CaseStore:
    """Cases keyed by jbbh; the list view is computed per request, so arrivals shift later pages."""

    def __init__(self) -> None:
        self._records: dict[str, CaseRecord] = {}
        self._seq = 0

    def add(self, case: dict[str, Any]) -> CaseRecord:
        """Store a new case; raise KeyError if its jbbh exists."""
        jbbh = str(case["jbbh"])
        if jbbh in self._records:
            raise KeyError(jbbh)
        self._seq += 1
        record = CaseRecord(case=case, seq=self._seq)
        self._records[jbbh] = record
        return record

    def get(self, jbbh: str) -> CaseRecord | None:
        """The case's record, if known."""
        return self._records.get(jbbh)

    def newest_first(self, since: str | None = None) -> list[CaseRecord]:
        """Cases with xfsj ≥ since (local ``yyyy-MM-ddTHH:mm:ss`` compares as text), newest first."""
        chosen = [r for r in self._records.values() if since is None or str(r.case["xfsj"]) >= since]
        return sorted(chosen, key=lambda r: (str(r.case["xfsj"]), r.seq), reverse=True)

    def page(self, since: str | None, offset: int, limit: int) -> tuple[list[CaseRecord], int]:
        """One page of the list and the list's total."""
        listed = self.newest_first(since)
        return listed[offset : offset + limit], len(listed)

    def numbers(self) -> set[str]:
        """Every jbbh."""
        return set(self._records)

    def __iter__(self) -> Iterator[CaseRecord]:
        return iter(self.newest_first())

    def __len__(self) -> int:
        return len(self._records)

    def clear(self) -> None:
        """Forget every case (arrival numbers keep counting)."""
        self._records.clear()
