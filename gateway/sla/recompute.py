"""Load a calendar year at run time and recompute every open deadline that rests on the calendar.

One transaction: the new version token (which, on PostgreSQL, waits for transactions still computing
deadlines with the old calendar), the year row, the recomputation and the audit entry. Due dates are
computed in Python (memoised: tickets share issue days) and written set-based: COPY into a temporary
table and one UPDATE … FROM on PostgreSQL, executemany on SQLite.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select, text, update
from sqlalchemy.orm import Session

from gateway.calendar import CalendarYear, WorkCalendar
from gateway.sla.calendar_store import audit, build_calendar, bump_version, save_year, stored_years
from gateway.sla.deadlines import resolution_due, to_shanghai
from gateway.sla.derive import RESOLUTION_KINDS
from gateway.sla.runtime import SlaRuntime
from gateway.sla.thresholds import next_alert
from gateway.store.tables_sla import OPEN_STATES, SlaTimerEventRecord, SlaTimerRecord

T = SlaTimerRecord
COLUMNS = (T.id, T.ticket_id, T.platform, T.rule_key, T.started_at, T.platform_due_at, T.paused_total_s,
           T.due_at, T.provisional, T.last_threshold, T.state, T.ext_days, T.ext_from)


@dataclass(frozen=True)
class RecomputeReport:
    """How many open calendar-based timers were looked at, and how many deadlines moved."""

    scanned: int
    changed: int


def load_year(
    session: Session, *, year: CalendarYear, runtime: SlaRuntime, actor: str, now: datetime, replace: bool = False
) -> RecomputeReport:
    """Store ``year``, recompute every open deadline with the new calendar, and audit both."""
    token = bump_version(session, now=now)
    replaced = save_year(session, year=year, actor=actor, now=now, replace=replace)
    calendar = build_calendar(stored_years(session))
    why = f"导入{year.year}年节假日安排（{year.notice.document_number}）"
    report = recompute_open(session, calendar=calendar, runtime=runtime, now=now, actor=actor, why=why)
    audit(session, actor=actor, action="calendar_loaded", now=now, year=year.year, replaced=replaced,
          document_number=year.notice.document_number, version=token,
          scanned=report.scanned, changed=report.changed)
    return report


def recompute_open(
    session: Session, *, calendar: WorkCalendar, runtime: SlaRuntime, now: datetime, actor: str, why: str
) -> RecomputeReport:
    """Recompute the due of every open resolution/extension timer that depends on the calendar."""
    stmt = (select(*COLUMNS)
            .where(T.state.in_(OPEN_STATES), T.kind.in_(RESOLUTION_KINDS))
            .where((T.rule_key.is_not(None)) | (T.ext_days.is_not(None)))
            .execution_options(yield_per=20_000))
    memo: dict[tuple[Any, ...], tuple[datetime, bool]] = {}
    changes: list[tuple[Any, ...]] = []
    scanned = 0
    for row in session.execute(stmt):
        scanned += 1
        new_due, provisional = _due(row, calendar, runtime, memo)
        if new_due == row.due_at and provisional == row.provisional:
            continue
        state = "running" if row.state == "breached" and new_due > now else row.state
        nxt = None if state == "paused" else next_alert(row.started_at, new_due, runtime.thresholds,
                                                        row.last_threshold)
        changes.append((row.id, row.ticket_id, new_due, provisional, nxt.threshold if nxt else None,
                        nxt.at if nxt else None, state, row.due_at))
    if changes:
        writer = _write_postgres if session.get_bind().dialect.name == "postgresql" else _write_portable
        writer(session, changes, now=now, actor=actor, why=why)
    return RecomputeReport(scanned, len(changes))


def _due(row: Any, calendar: WorkCalendar, runtime: SlaRuntime,
         memo: dict[tuple[Any, ...], tuple[datetime, bool]]) -> tuple[datetime, bool]:
    if row.rule_key is None:  # a policy extension: working days added to the deadline it extended
        base = to_shanghai(row.ext_from)
        key: tuple[Any, ...] = ("ext", base, row.ext_days)
        if key not in memo:
            day = calendar.add_workdays(base.date(), row.ext_days)
            memo[key] = (datetime.combine(day.due_date, base.timetz()), day.provisional)
    else:
        key = (row.platform, row.rule_key, to_shanghai(row.started_at).date(), row.platform_due_at)
        if key not in memo:
            due = resolution_due(row.platform, row.rule_key, row.started_at, row.platform_due_at, calendar,
                                 runtime.sla)
            memo[key] = (due.due_at, due.provisional)
    due_at, provisional = memo[key]
    if row.paused_total_s:
        due_at += timedelta(seconds=row.paused_total_s)
    return due_at.astimezone(UTC), provisional


def _write_portable(session: Session, changes: Iterable[tuple[Any, ...]], *, now: datetime, actor: str,
                    why: str) -> None:
    rows = list(changes)
    session.execute(update(T).execution_options(synchronize_session=False), [
        {"id": c[0], "due_at": c[2], "provisional": c[3], "next_threshold": c[4], "next_alert_at": c[5],
         "state": c[6], "updated_at": now} for c in rows
    ])
    session.execute(SlaTimerEventRecord.__table__.insert(), [  # type: ignore[attr-defined]
        {"timer_id": c[0], "ticket_id": c[1], "at": now, "kind": "recomputed", "actor": actor, "reason": why,
         "detail": {"old_due": c[7].isoformat(), "new_due": c[2].isoformat()}} for c in rows
    ])


def _naive(moment: datetime | None) -> datetime | None:
    return None if moment is None else moment.astimezone(UTC).replace(tzinfo=None)


def _write_postgres(session: Session, changes: Iterable[tuple[Any, ...]], *, now: datetime, actor: str,
                    why: str) -> None:
    session.execute(text(
        "CREATE TEMP TABLE sla_recompute (id bigint PRIMARY KEY, ticket_id bigint, due_at timestamp,"
        " provisional boolean, next_threshold integer, next_alert_at timestamp, state varchar(16),"
        " old_due timestamp) ON COMMIT DROP"
    ))
    raw: Any = session.connection().connection.driver_connection
    with raw.cursor() as cursor, cursor.copy("COPY sla_recompute FROM STDIN") as copy:
        for c in changes:
            copy.write_row((c[0], c[1], _naive(c[2]), c[3], c[4], _naive(c[5]), c[6], _naive(c[7])))
    params = {"now": _naive(now), "actor": actor, "why": why}
    session.execute(text(
        "UPDATE sla_timers t SET due_at = r.due_at, provisional = r.provisional, next_threshold = r.next_threshold,"
        " next_alert_at = r.next_alert_at, state = r.state, updated_at = :now FROM sla_recompute r WHERE t.id = r.id"
    ), params)
    session.execute(text(
        "INSERT INTO sla_timer_events (timer_id, ticket_id, at, kind, actor, reason, detail)"
        " SELECT r.id, r.ticket_id, :now, 'recomputed', :actor, :why,"
        " jsonb_build_object('old_due', to_char(r.old_due, :iso), 'new_due', to_char(r.due_at, :iso))"
        " FROM sla_recompute r"
    ), {**params, "iso": 'YYYY-MM-DD"T"HH24:MI:SS"+00:00"'})
    session.execute(text("DROP TABLE sla_recompute"))
