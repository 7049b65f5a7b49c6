"""Portable statements that differ per dialect (insert-or-ignore)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Table
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session


def insert_ignore(
    session: Session, table: Table, values: dict[str, Any], *, conflict: list[str], returning: str = "id"
) -> Any | None:
    """INSERT … ON CONFLICT DO NOTHING; returns the new row's ``returning`` column, or None on conflict."""
    dialect = session.get_bind().dialect.name
    module: Any = postgresql if dialect == "postgresql" else sqlite
    stmt = module.insert(table).values(**values).on_conflict_do_nothing(index_elements=conflict)
    row = session.execute(stmt.returning(table.c[returning])).first()
    return None if row is None else row[0]
