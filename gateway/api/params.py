"""Parameter types shared by the API's routes: row ids and cursors the database can hold.

Ids are 64-bit in PostgreSQL and SQLite; a larger number in a path or a cursor is a malformed
request (422), never an overflow deep in the driver (500).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Path, Query

MAX_ID = 2**63 - 1
# A page cursor is the last id of the previous page; 18 digits stay below 2^63 whatever they are.
CURSOR_PATTERN = r"^[1-9][0-9]{0,17}$"

RowId = Annotated[int, Path(ge=1, le=MAX_ID, description="Row id (1 … 2⁶³−1)")]
Cursor = Annotated[
    str | None, Query(pattern=CURSOR_PATTERN, description="``next_cursor`` of the previous page")
]


def cursor_id(cursor: str | None) -> int | None:
    """The id a validated cursor stands for."""
    return int(cursor) if cursor else None
