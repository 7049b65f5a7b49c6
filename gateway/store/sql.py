"""Portable statements that differ per dialect (insert-or-ignore)."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from sqlalchemy import Connection, Row, Table
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session
from sqlalchemy.sql.dml import Insert


@lru_cache(maxsize=128)
def _statement(dialect: str, table: Table, conflict: tuple[str, ...], returning: str | tuple[str, ...]) -> Insert:
    # Built once per shape: the webhook path runs this per request, and building the construct
    # each time cost more than executing it (measured with py-spy).
    module: Any = postgresql if dialect == "postgresql" else sqlite
    stmt: Insert = module.insert(table).on_conflict_do_nothing(index_elements=list(conflict))
    columns = (returning,) if isinstance(returning, str) else returning
    return stmt.returning(*(table.c[name] for name in columns))


def insert_ignore(
    session: Session, table: Table, values: dict[str, Any], *, conflict: list[str], returning: str = "id"
) -> Any | None:
    """INSERT … ON CONFLICT DO NOTHING; returns the new row's ``returning`` column, or None on conflict."""
    stmt = _statement(session.get_bind().dialect.name, table, tuple(conflict), returning)
    row = session.execute(stmt, values).first()
    return None if row is None else row[0]


def insert_ignore_many(
    db: Session | Connection, table: Table, rows: list[dict[str, Any]], *, conflict: list[str], returning: list[str]
) -> list[Row[Any]]:
    """INSERT … ON CONFLICT DO NOTHING for many rows in one statement; the rows actually inserted.

    Rows skipped on conflict return nothing, so match the result by key, never by position.
    """
    if not rows:
        return []
    dialect = db.get_bind().dialect.name if isinstance(db, Session) else db.dialect.name
    stmt = _statement(dialect, table, tuple(conflict), tuple(returning))
    return list(db.execute(stmt, rows).all())
