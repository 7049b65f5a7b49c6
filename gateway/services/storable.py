"""What the database would refuse, found before it does: over-long values, NUL, lone surrogates.

PostgreSQL refuses a NUL character in text and JSON and a string longer than its column; neither
database can encode a lone UTF-16 surrogate (which JSON's ``\\ud800`` escape produces). Found at the
edge, such input is kept as a failed inbox row naming the field, instead of an error the platform
answers by re-sending forever or a worker retries forever.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from sqlalchemy import String, Table

from gateway.ports import RawItem
from gateway.store.tables import InboxRecord

_REFUSED_TEXT = re.compile("[\x00\ud800-\udfff]")
_INBOX: Table = InboxRecord.__table__  # type: ignore[assignment]
REPLACEMENT = "\ufffd"


def text_problem(value: str) -> str | None:
    """Why the database cannot store this text, or None."""
    found = _REFUSED_TEXT.search(value)
    if found is None:
        return None
    return "contains NUL (U+0000)" if found.group() == "\x00" else "contains a lone surrogate"


def value_problem(value: Any, path: str) -> str | None:
    """The first text inside ``value`` (nested dicts and lists too) the database cannot store, named."""
    if isinstance(value, str):
        why = text_problem(value)
        return f"{path}: {why}" if why else None
    if isinstance(value, Mapping):
        for key, item in value.items():
            if isinstance(key, str) and (why := text_problem(key)):
                return f"{path}: a key {why}"
            if found := value_problem(item, f"{path}.{key}"):
                return found
    elif isinstance(value, list | tuple):
        for index, item in enumerate(value):
            if found := value_problem(item, f"{path}[{index}]"):
                return found
    return None


def row_problem(table: Table, values: Mapping[str, Any]) -> str | None:
    """The first column value of a row that is longer than its column or holds refused text."""
    for name, value in values.items():
        column = table.columns.get(name)
        length = column.type.length if column is not None and isinstance(column.type, String) else None
        if length and isinstance(value, str) and len(value) > length:
            return f"{name}: longer than {length} characters ({len(value)})"
        if found := value_problem(value, name):
            return found
    return None


def item_problem(item: RawItem) -> str | None:
    """Why an inbound item cannot be stored as it is (event id, type, order number, payload), or None."""
    problem = row_problem(_INBOX, {"event_id": item.event_id, "event_type": item.event_type,
                                   "external_id": item.external_id, "payload": item.payload})
    # external_id is the platform's own number: 12345's order_no, 12389's jbbh, the mailbox's letter_no.
    return problem.replace("external_id:", "external_id (order_no):", 1) if problem else None


def storable_text(value: str) -> str:
    """``value`` with every character the database refuses replaced by U+FFFD."""
    return _REFUSED_TEXT.sub(REPLACEMENT, value)
