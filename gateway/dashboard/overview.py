"""The overview (总览): what a duty officer watches — open work, the nearest deadlines, what is late now,
today's intake, each platform's health, alerts and the calendar. Each figure is one indexed query.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime, time, timedelta
from typing import Any

from sqlalchemy import and_, case, distinct, func, or_, select
from sqlalchemy.orm import Session

from gateway.catalogue import CATALOGUE
from gateway.dashboard.labels import OPEN_STATUSES
from gateway.schema import SHANGHAI
from gateway.services import intervention
from gateway.services.health import platform_health
from gateway.sla.deadlines import to_shanghai
from gateway.sla.runtime import runtime_for
from gateway.store.tables import OutboxRecord, TicketRecord
from gateway.store.tables_dashboard import ApprovalRecord
from gateway.store.tables_sla import AlertRecord, SlaTimerRecord

OPEN_TIMER = ("running", "breached")
# Every deadline the engine keeps (gateway.sla): each binds, so each can be the most urgent one.
ALL_KINDS = ("sign_off", "dispatch", "response", "first_feedback", "plan", "resolution", "extension", "supervision",
             "urge")
TREND_DAYS = 14


def _scoped(stmt: Any, unit: str | None) -> Any:
    return stmt if unit is None else stmt.where(TicketRecord.unit == unit)


def _timer_rows(session: Session, *, kinds: tuple[str, ...], now: datetime, late: bool, unit: str | None,
                limit: int) -> list[dict[str, Any]]:
    stmt = (select(SlaTimerRecord, TicketRecord).join(TicketRecord, TicketRecord.id == SlaTimerRecord.ticket_id)
            .where(SlaTimerRecord.met_at.is_(None), SlaTimerRecord.state.in_(OPEN_TIMER),
                   SlaTimerRecord.kind.in_(kinds),
                   SlaTimerRecord.due_at < now if late else SlaTimerRecord.due_at >= now)
            .order_by(SlaTimerRecord.due_at).limit(limit))
    return [{"ticket": t, "timer": timer, "seconds_left": int((timer.due_at - now).total_seconds())}
            for timer, t in session.execute(_scoped(stmt, unit))]


def nearest(session: Session, *, now: datetime, unit: str | None, limit: int,
            batch: int | None = None) -> list[dict[str, Any]]:
    """Open tickets by their nearest binding deadline of any kind (签收, 派单, 响应, 交办反馈, 方案, 办结, 延期,
    督办, 催办) still ahead, one row per ticket: timers come nearest first in bounded batches (a top-N each,
    keyset on (due, id)) and the first of each ticket is kept; one batch almost always suffices."""
    base = (select(SlaTimerRecord, TicketRecord).join(TicketRecord, TicketRecord.id == SlaTimerRecord.ticket_id)
            .where(SlaTimerRecord.met_at.is_(None), SlaTimerRecord.state.in_(OPEN_TIMER), SlaTimerRecord.due_at >= now))
    base = _scoped(base, unit).order_by(SlaTimerRecord.due_at, SlaTimerRecord.id)
    rows: dict[int, dict[str, Any]] = {}
    batch, after = batch or limit * 10, None
    while len(rows) < limit:
        stmt = base if after is None else base.where(or_(SlaTimerRecord.due_at > after[0], and_(
            SlaTimerRecord.due_at == after[0], SlaTimerRecord.id > after[1])))
        found = session.execute(stmt.limit(batch)).all()
        for timer, ticket in found:
            if ticket.id not in rows and len(rows) < limit:
                rows[ticket.id] = {"ticket": ticket, "timer": timer, "warning": timer.last_threshold > 0,
                                   "seconds_left": int((timer.due_at - now).total_seconds())}
        if len(found) < batch:
            break
        after = (found[-1][0].due_at, found[-1][0].id)
    return list(rows.values())


def _sent_back(session: Session, *, unit: str | None, limit: int) -> list[TicketRecord]:
    """被退回: drafts the unit head or leader sent back, waiting for the unit's new draft (oldest first)."""
    stmt = select(TicketRecord).where(TicketRecord.sent_back.is_not(None),
                                      TicketRecord.status.in_(("dispatched", "responded")))
    return list(session.scalars(_scoped(stmt, unit).order_by(TicketRecord.id).limit(limit)))


def overview(session: Session, *, now: datetime, unit: str | None, enabled: set[str]) -> dict[str, Any]:
    """Every figure of the overview for a viewer limited to ``unit`` (None = the whole bureau)."""
    open_rows = session.execute(_scoped(
        select(TicketRecord.platform, TicketRecord.status, func.count())
        .where(TicketRecord.status.in_(OPEN_STATUSES)).group_by(TicketRecord.platform, TicketRecord.status), unit,
    )).all()
    open_by: dict[str, dict[str, int]] = defaultdict(dict)
    for platform, status, count in open_rows:
        open_by[platform][status] = int(count)
    platforms = list(CATALOGUE) + sorted(set(open_by) - set(CATALOGUE))
    midnight = datetime.combine(to_shanghai(now).date(), time(), tzinfo=SHANGHAI)
    start = midnight - timedelta(days=TREND_DAYS - 1)
    # One index range scan, one count per day: portable (no dialect date functions) and cheap.
    days = [func.sum(case((and_(TicketRecord.issued_at >= start + timedelta(days=i),
                                TicketRecord.issued_at < start + timedelta(days=i + 1)), 1), else_=0))
            for i in range(TREND_DAYS)]
    trend: dict[str, list[int]] = {p: [0] * TREND_DAYS for p in platforms}
    for platform, *counts in session.execute(_scoped(
            select(TicketRecord.platform, *days).where(TicketRecord.issued_at >= start)
            .group_by(TicketRecord.platform), unit)):
        trend[platform] = [int(c or 0) for c in counts]
    open_timers = select(
        func.sum(case((SlaTimerRecord.due_at < now, 1), else_=0)),
        func.sum(case((and_(SlaTimerRecord.due_at >= now, SlaTimerRecord.last_threshold > 0), 1), else_=0)),
        func.count(),
        # Tickets, as the queue's 已超时 / 预警中 filters count them (the stat cards link there).
        func.count(distinct(case((SlaTimerRecord.due_at < now, SlaTimerRecord.ticket_id)))),
        func.count(distinct(case((and_(SlaTimerRecord.due_at >= now, SlaTimerRecord.last_threshold > 0),
                                  SlaTimerRecord.ticket_id)))),
    ).where(SlaTimerRecord.met_at.is_(None), SlaTimerRecord.state.in_(OPEN_TIMER))
    if unit is not None:
        open_timers = open_timers.join(TicketRecord, TicketRecord.id == SlaTimerRecord.ticket_id).where(
            TicketRecord.unit == unit)
    breached_n, warning_n, open_n, breached_tickets, warning_tickets = (
        int(v or 0) for v in session.execute(open_timers).one())
    running_n = open_n - breached_n - warning_n
    calendar = runtime_for(session).calendar(session)
    return {
        "platforms": platforms,
        "open_by": dict(open_by),
        "open_total": sum(sum(v.values()) for v in open_by.values()),
        "status_totals": {s: sum(v.get(s, 0) for v in open_by.values()) for s in OPEN_STATUSES},
        "nearest": nearest(session, now=now, unit=unit, limit=10),
        "breached": _timer_rows(session, kinds=ALL_KINDS, now=now, late=True, unit=unit, limit=10),
        "sent_back": _sent_back(session, unit=unit, limit=10),
        "interventions": intervention.listing(session, unit=unit, state="open", limit=10),  # 提级介入 (000)
        "timer_states": {"running": running_n, "warning": warning_n, "breached": breached_n},
        "late_tickets": {"warning": warning_tickets, "breached": breached_tickets},
        "today": {p: trend.get(p, [0])[-1] for p in platforms},
        "today_total": sum(t[-1] for t in trend.values()),
        "trend_labels": [(start + timedelta(days=i)).strftime("%m-%d") for i in range(TREND_DAYS)],
        "trend": trend,
        "health": platform_health(session, now=now, enabled=enabled) if unit is None else [],
        "missing_years": calendar.missing_years(to_shanghai(now).date()),
        "alerts_active": int(session.scalar(select(func.count()).select_from(AlertRecord)
                                            .where(AlertRecord.state == "active")) or 0) if unit is None else 0,
        "dead_outbound": int(session.scalar(select(func.count()).select_from(OutboxRecord)
                                            .where(OutboxRecord.state == "dead")) or 0) if unit is None else 0,
        "approvals": int(session.scalar(select(func.count()).select_from(ApprovalRecord)
                                        .where(ApprovalRecord.state == "pending")) or 0) if unit is None else 0,
    }


def chart_data(data: dict[str, Any]) -> dict[str, Any]:
    """The numbers the overview's charts draw (JSON in the page, read by static/app.js)."""
    from gateway.catalogue import label
    from gateway.dashboard.labels import STATUS

    return {
        "open": {"labels": [label(p) for p in data["platforms"]],
                 "series": [{"label": STATUS[s], "data": [data["open_by"].get(p, {}).get(s, 0)
                                                          for p in data["platforms"]]} for s in OPEN_STATUSES]},
        "trend": {"labels": data["trend_labels"],
                  "series": [{"label": label(p), "data": v} for p, v in data["trend"].items()]},
        "timers": {"labels": ["正常", "预警", "超时"],
                   "data": [data["timer_states"][k] for k in ("running", "warning", "breached")]},
    }
