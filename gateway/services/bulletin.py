"""Weekly feedback and monthly bulletin (002 周反馈、月通报; 004 每周小结、每月通报).

A bulletin is the period's report per unit and per platform, the same figures for the period
before (to say better or worse), the units ranked by the 三率 composite, and the matters that count
against a unit (000 责任追究): overdue, rework, repeat complaints, with the tickets still overdue now.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from gateway.services.reports import Report, ReportRow, build_report
from gateway.settings import DashboardSettings
from gateway.sla.deadlines import to_shanghai
from gateway.store.tables import TicketRecord
from gateway.store.tables_sla import SlaTimerRecord

TIMER_LABELS = {"sign_off": "签收", "response": "响应", "resolution": "办结", "extension": "延期办结"}


@dataclass
class Bulletin:
    """Everything a weekly or monthly bulletin prints."""

    kind: str  # week | month
    title: str
    by_unit: Report
    by_platform: Report
    previous: ReportRow
    ranking: list[tuple[ReportRow, float]]
    overdue_now: list[dict[str, Any]]


def week_of(day: date) -> tuple[date, date]:
    """Monday to Sunday of the week holding ``day``."""
    monday = day - timedelta(days=day.weekday())
    return monday, monday + timedelta(days=6)


def month_of(day: date) -> tuple[date, date]:
    """First to last day of the month holding ``day``."""
    return day.replace(day=1), day.replace(day=calendar.monthrange(day.year, day.month)[1])


def last_complete(kind: str, today: date) -> date:
    """A day inside the last finished week or month before ``today`` (what a bulletin reports by default)."""
    return today - timedelta(days=7) if kind == "week" else today.replace(day=1) - timedelta(days=1)


def build_bulletin(
    session: Session, *, kind: str, day: date, settings: DashboardSettings, now: datetime, unit: str | None = None
) -> Bulletin:
    """The bulletin of the week or month holding ``day``."""
    start, end = week_of(day) if kind == "week" else month_of(day)
    if kind == "week":
        before = week_of(start - timedelta(days=1))
        title = f"{start:%Y年%m月%d日}至{end:%m月%d日}诉求办理周反馈"
    else:
        before = month_of(start - timedelta(days=1))
        title = f"{start:%Y年%m月}诉求办理情况通报"
    by_unit = build_report(session, start=start, end=end, group="unit", settings=settings, now=now, unit=unit)
    by_platform = build_report(session, start=start, end=end, group="platform", settings=settings, now=now, unit=unit)
    previous = build_report(session, start=before[0], end=before[1], group="unit", settings=settings, now=now,
                            unit=unit).total
    scored = [(row, row.rates(settings.composite_weights)["composite"]) for row in by_unit.rows]
    ranking = sorted(((r, s) for r, s in scored if s is not None), key=lambda p: -p[1])
    return Bulletin(kind, title, by_unit, by_platform, previous, ranking, overdue_now(session, now=now, unit=unit))


def overdue_now(session: Session, *, now: datetime, unit: str | None = None, limit: int = 50) -> list[dict[str, Any]]:
    """Open deadlines already missed, longest overdue first."""
    stmt = (
        select(SlaTimerRecord, TicketRecord)
        .join(TicketRecord, TicketRecord.id == SlaTimerRecord.ticket_id)
        .where(SlaTimerRecord.met_at.is_(None), SlaTimerRecord.state.in_(("running", "breached")),
               SlaTimerRecord.due_at < now)
        .order_by(SlaTimerRecord.due_at)
        .limit(limit)
    )
    if unit is not None:
        stmt = stmt.where(TicketRecord.unit == unit)
    return [
        {"ticket_id": t.id, "platform": t.platform, "external_id": t.external_id, "title": t.title,
         "unit": t.unit, "timer": TIMER_LABELS.get(timer.kind, timer.kind), "due_at": to_shanghai(timer.due_at),
         "hours_over": round((now - timer.due_at).total_seconds() / 3600, 1)}
        for timer, t in session.execute(stmt)
    ]
