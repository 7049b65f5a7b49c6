"""The queue (工单列表): filters, full-text search, sort by time left, keyset paging.

Everything is one SQL statement with a keyset cursor, so page 500 costs what page 1 costs: newest first
pages on ``id``; "time left" pages on (nearest open deadline, id), the deadline coming from the SLA
engine's timers (one row per ticket × deadline, indexed on state). Tickets with no running deadline
do not appear when sorting by time left: there is no time left to sort them by.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Select, and_, exists, func, or_, select
from sqlalchemy.orm import Session

from gateway.api.params import MAX_ID
from gateway.errors import DomainError
from gateway.privacy import PhoneSearch
from gateway.store.tables import TicketRecord
from gateway.store.tables_sla import SlaTimerRecord
from gateway.store.tickets import count_tickets, ticket_query

OPEN_TIMER = ("running", "breached")
SENT_BACK_STATUSES = ("dispatched", "responded")  # back with the unit after 退回修改, until its next draft
TIMER_KINDS = {"sign_off": ("sign_off",), "response": ("response",), "resolution": ("resolution", "extension")}


@dataclass
class QueueFilters:
    """What the queue page was asked for."""

    platform: str | None = None
    status: list[str] = field(default_factory=list)
    appeal_type: str | None = None
    unit: str | None = None
    timer: str | None = None  # sign_off | response | resolution
    timer_state: str | None = None  # breached | warning | running
    q: str | None = None
    sent_back: bool = False  # 被退回: a draft sent back, waiting for the unit's new one
    sort: str = "new"  # new | due
    cursor: str | None = None
    limit: int = 50


@dataclass
class QueuePage:
    """One page: the tickets, their open deadlines, the cursor of the next page and the match count."""

    tickets: list[TicketRecord]
    timers: dict[int, list[SlaTimerRecord]]
    next_cursor: str | None
    total: int


def _open_timers(kinds: Sequence[str] | None) -> Any:
    cond = and_(SlaTimerRecord.met_at.is_(None), SlaTimerRecord.state.in_(OPEN_TIMER))
    return and_(cond, SlaTimerRecord.kind.in_(list(kinds))) if kinds else cond


def _timer_state(state: str, kinds: Sequence[str] | None, now: datetime) -> Any:
    base = [SlaTimerRecord.ticket_id == TicketRecord.id, _open_timers(kinds)]
    if state == "breached":
        base.append(SlaTimerRecord.due_at < now)
    elif state == "warning":  # the engine has sent a warning (≥ 50 % of the window) and it is not late yet
        base += [SlaTimerRecord.due_at >= now, SlaTimerRecord.last_threshold > 0]
    else:
        base.append(SlaTimerRecord.due_at >= now)
    return exists(select(SlaTimerRecord.id).where(*base))


def build_query(filters: QueueFilters, *, scope_unit: str | None, now: datetime,
                phones: PhoneSearch | None = None) -> Select[Any]:
    """The filtered statement (no order, no paging); a unit user's scope overrides the unit filter."""
    stmt: Select[Any] = ticket_query(platform=filters.platform, status=filters.status or None,
                                     appeal_type=filters.appeal_type, unit=scope_unit or filters.unit, q=filters.q,
                                     phones=phones)
    stmt = stmt.where(TicketRecord.archived_at.is_(None))  # 月结归档 tickets leave the working queue (000 统一派单 六)
    kinds = TIMER_KINDS.get(filters.timer or "")
    if filters.timer_state:
        stmt = stmt.where(_timer_state(filters.timer_state, kinds, now))
    if filters.sent_back:
        stmt = stmt.where(TicketRecord.sent_back.is_not(None), TicketRecord.status.in_(SENT_BACK_STATUSES))
    return stmt


def queue_page(session: Session, filters: QueueFilters, *, scope_unit: str | None, now: datetime,
               phones: PhoneSearch | None = None) -> QueuePage:
    """One page of the queue (``phones``: whose phone digits the search may match, see gateway.privacy)."""
    stmt = build_query(filters, scope_unit=scope_unit, now=now, phones=phones)
    kinds = TIMER_KINDS.get(filters.timer or "")
    if filters.sort == "due":
        due = (select(SlaTimerRecord.ticket_id, func.min(SlaTimerRecord.due_at).label("due"))
               .where(_open_timers(kinds)).group_by(SlaTimerRecord.ticket_id).subquery())
        stmt = stmt.join(due, due.c.ticket_id == TicketRecord.id)
        total = count_tickets(session, stmt)
        if filters.cursor:
            moment, last_id = _due_cursor(filters.cursor)
            stmt = stmt.where(or_(due.c.due > moment, and_(due.c.due == moment, TicketRecord.id > last_id)))
        rows = session.execute(stmt.add_columns(due.c.due).order_by(due.c.due, TicketRecord.id)
                               .limit(filters.limit + 1)).all()
        tickets = [r[0] for r in rows[: filters.limit]]
        more = len(rows) > filters.limit
        cursor = f"{rows[filters.limit - 1][1].isoformat()}|{tickets[-1].id}" if more else None
    else:
        total = count_tickets(session, stmt)
        if filters.cursor:
            stmt = stmt.where(TicketRecord.id < _id(filters.cursor))
        tickets = list(session.scalars(stmt.order_by(TicketRecord.id.desc()).limit(filters.limit + 1)))
        more = len(tickets) > filters.limit
        tickets = tickets[: filters.limit]
        cursor = str(tickets[-1].id) if more else None
    return QueuePage(tickets, open_timers(session, [t.id for t in tickets]), cursor, total)


def _id(text: str) -> int:
    if not text.isdigit() or int(text) > MAX_ID:
        raise DomainError("分页参数无效", code="invalid_request", status=422)
    return int(text)


def _due_cursor(cursor: str) -> tuple[datetime, int]:
    """``<due time>|<id>`` of the last row of the previous page (a hand-edited one is a 422, not a 500)."""
    at, _, last = cursor.partition("|")
    try:
        moment = datetime.fromisoformat(at)
    except ValueError:
        moment = None
    if moment is None or moment.utcoffset() is None:
        raise DomainError("分页参数无效", code="invalid_request", status=422)
    return moment, _id(last)


def open_timers(session: Session, ticket_ids: Sequence[int]) -> dict[int, list[SlaTimerRecord]]:
    """The running deadlines of these tickets, nearest first."""
    found: dict[int, list[SlaTimerRecord]] = defaultdict(list)
    if not ticket_ids:
        return found
    stmt = select(SlaTimerRecord).where(SlaTimerRecord.ticket_id.in_(list(ticket_ids)), _open_timers(None))
    for timer in session.scalars(stmt.order_by(SlaTimerRecord.due_at)):
        found[timer.ticket_id].append(timer)
    return found
