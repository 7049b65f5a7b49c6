"""Letters in change order, with the stable cursors of the change feed (PLATFORMS.md §4)."""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from mock_platforms.common.ledger import LedgerEntry


def now_ms() -> int:
    """The current time in epoch milliseconds."""
    return time.time_ns() // 1_000_000


@dataclass
class LetterRecord:
    """A letter as served, plus the write-backs in force (for PUT idempotency)."""

    letter: dict[str, Any]
    seq: int
    acceptance: LedgerEntry | None = None
    answer: LedgerEntry | None = None
    transfer: LedgerEntry | None = None

    @property
    def letter_no(self) -> str:
        """Return the 信件编号."""
        return str(self.letter["letter_no"])

    @property
    def status(self) -> str:
        """Return the letter's status."""
        return str(self.letter["status"])


class LetterStore:
    """Letters keyed by letter_no, kept in the order of their last change.

    Every change takes the next value of one global sequence and moves the letter to the end; a
    cursor is the last sequence a client saw, so it never goes stale and a letter that changes
    reappears after it ("a letter reappears whenever it changes").
    """

    def __init__(self) -> None:
        self._records: dict[str, LetterRecord] = {}
        self._seq = 0

    def add(self, letter: dict[str, Any]) -> LetterRecord:
        """Store a new letter; raise KeyError if its letter_no exists."""
        letter_no = str(letter["letter_no"])
        if letter_no in self._records:
            raise KeyError(letter_no)
        self._seq += 1
        record = LetterRecord(letter=letter, seq=self._seq)
        self._records[letter_no] = record
        return record

    def get(self, letter_no: str) -> LetterRecord | None:
        """Return the letter's record, if known."""
        return self._records.get(letter_no)

    def changed(self, record: LetterRecord) -> None:
        """Count one change: a later updated_at (strictly, even within one ms), new sequence, to the end."""
        record.letter["updated_at"] = max(now_ms(), int(record.letter["updated_at"]) + 1)
        self._seq += 1
        record.seq = self._seq
        self._records.pop(record.letter_no)
        self._records[record.letter_no] = record

    def __iter__(self) -> Iterator[LetterRecord]:
        return iter(list(self._records.values()))

    def __len__(self) -> int:
        return len(self._records)

    def page(self, after_seq: int, limit: int) -> tuple[list[LetterRecord], bool]:
        """Return up to ``limit`` letters changed after sequence ``after_seq``, and whether more remain."""
        chosen: list[LetterRecord] = []
        for record in self._records.values():
            if record.seq <= after_seq:
                continue
            if len(chosen) == limit:
                return chosen, True
            chosen.append(record)
        return chosen, False

    def clear(self) -> None:
        """Forget every letter (the sequence keeps counting, so old cursors stay harmless)."""
        self._records.clear()


def encode_cursor(after_seq: int) -> str:
    """Return an opaque cursor for the feed after sequence ``after_seq``."""
    raw = json.dumps({"after": after_seq}).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> int:
    """Return the sequence of a cursor; raise ValueError when it is not one of ours."""
    try:
        data = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        after_seq = data["after"]
    except (ValueError, KeyError, TypeError) as exc:
        raise ValueError("not a cursor of this feed") from exc
    if isinstance(after_seq, bool) or not isinstance(after_seq, int) or after_seq < 0:
        raise ValueError("not a cursor of this feed")
    return after_seq
