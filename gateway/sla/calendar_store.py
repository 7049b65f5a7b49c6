"""Calendar years loaded at run time, kept in the database so every process and every restart sees them.

The working calendar of a process is the bundled year files plus the years in ``calendar_years`` (a
stored year replaces a bundled one: a correction). A counter row named ``calendar`` changes its token
on every load; processes cache their calendar by that token (``gateway.sla.runtime``).
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from gateway.calendar import CalendarYear, WorkCalendar
from gateway.store.sql import insert_ignore
from gateway.store.tables_sla import CalendarYearRecord, SlaAuditRecord, SlaCounterRecord

COUNTER = "calendar"


def calendar_token(session: Session, *, share: bool = False) -> str | None:
    """The current calendar version token (None before any load); ``share`` holds it against a load."""
    stmt = select(SlaCounterRecord.token).where(SlaCounterRecord.name == COUNTER)
    if share:
        # FOR SHARE (PostgreSQL): a concurrent load waits until this transaction, which may be
        # computing a deadline with the old calendar, has committed, so its recompute sees our timers.
        stmt = stmt.with_for_update(read=True)
    return session.scalar(stmt)


def bump_version(session: Session, *, now: datetime) -> str:
    """Give the calendar a new version token (call in the transaction that changes it)."""
    token = uuid.uuid4().hex
    table: Any = SlaCounterRecord.__table__
    if insert_ignore(session, table, {"name": COUNTER, "value": 1, "token": token, "updated_at": now},
                     conflict=["name"], returning="name") is None:
        session.execute(
            update(SlaCounterRecord)
            .where(SlaCounterRecord.name == COUNTER)
            .values(value=SlaCounterRecord.value + 1, token=token, updated_at=now)
            .execution_options(synchronize_session=False)
        )
    return token


def stored_years(session: Session) -> list[CalendarYear]:
    """The years loaded at run time, validated again on the way out."""
    rows = session.scalars(select(CalendarYearRecord).order_by(CalendarYearRecord.year))
    return [CalendarYear.model_validate(row.data) for row in rows]


def stored_year_rows(session: Session) -> list[CalendarYearRecord]:
    """The run-time year rows (who loaded what, when)."""
    return list(session.scalars(select(CalendarYearRecord).order_by(CalendarYearRecord.year)))


def build_calendar(stored: list[CalendarYear]) -> WorkCalendar:
    """Bundled years, with stored years added or replacing them."""
    calendar = WorkCalendar.bundled()
    for year in stored:
        calendar = calendar.load_year(year, replace=True)
    return calendar


def save_year(session: Session, *, year: CalendarYear, actor: str, now: datetime, replace: bool) -> bool:
    """Store one validated year; returns whether it replaced one. Refuses a known year without ``replace``."""
    existing = session.get(CalendarYearRecord, year.year, with_for_update=True)
    bundled = WorkCalendar.bundled().year(year.year) is not None
    if (existing is not None or bundled) and not replace:
        raise ValueError(
            f"{year.year}年日历已存在，如需更正请使用 replace (calendar year {year.year} is already loaded;"
            " pass replace to correct it)"
        )
    data = year.model_dump(mode="json")
    if existing is None:
        session.add(CalendarYearRecord(year=year.year, data=data, document_number=year.notice.document_number,
                                       loaded_at=now, loaded_by=actor))
    else:
        existing.data, existing.document_number = data, year.notice.document_number
        existing.loaded_at, existing.loaded_by = now, actor
    session.flush()
    return existing is not None or bundled


def audit(session: Session, *, actor: str, action: str, now: datetime, **detail: Any) -> None:
    """Append an SLA-wide audit entry."""
    session.add(SlaAuditRecord(at=now, actor=actor, action=action, detail=detail))
