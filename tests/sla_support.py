"""Helpers of the SLA tests: tickets made the way processing makes them, platform notices, clocks."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session, sessionmaker

from gateway.schema import NoticeKind, TicketNotice
from gateway.services import processing
from gateway.services.lifecycle import ticket_changed
from gateway.settings import AlertSettings, SlaSettings
from gateway.sla import runtime as sla_runtime
from gateway.store.db import make_engine, transaction
from gateway.store.tables import TicketRecord
from gateway.store.tables_sla import AlertRecord, SlaTimerEventRecord, SlaTimerRecord
from gateway.store.tickets import add_event

SH = ZoneInfo("Asia/Shanghai")
CALENDAR_2027 = Path(__file__).parent / "fixtures" / "calendar" / "2027_test.json"
_numbers = itertools.count(1)


def bound_engine(url: str, sla: SlaSettings | None = None, **kwargs: Any) -> Engine:
    """An engine with deadline rules bound, as the composition root binds them (app/bootstrap.py).

    Tests that build an engine themselves say which rules they run under; by default the regulation
    defaults (SlaSettings()). An unbound engine raises SlaNotBound (issue 14)."""
    engine = make_engine(url, **kwargs)
    sla_runtime.bind(engine, sla or SlaSettings(), AlertSettings())
    return engine


def sh(y: int, m: int, d: int, hh: int = 0, mm: int = 0, ss: int = 0) -> datetime:
    """A Shanghai wall-clock instant."""
    return datetime(y, m, d, hh, mm, ss, tzinfo=SH)


def new_ticket(
    sessions: sessionmaker[Session], *, issued_at: datetime, platform: str = "p12345", appeal_type: str = "complaint",
    level: str | None = None, platform_due_at: datetime | None = None, sign_by: datetime | None = None,
    now: datetime | None = None, **fields: Any,
) -> int:
    """Insert a received ticket as processing does (row, timeline entry, lifecycle hook); its id.

    ``fields`` sets other columns (urgency, platform_time_limit, platform_time_unit…)."""
    at = now or issued_at
    with transaction(sessions) as s:
        ticket = TicketRecord(
            platform=platform, external_id=f"26112{next(_numbers):011d}", source_version=1, platform_status="待签收",
            status="received", appeal_type=appeal_type, urgency="normal", level=level, category=[],
            title="测试工单", content="虚构内容", citizen={}, region={}, attachments=[], issued_at=issued_at,
            platform_sign_by=sign_by, platform_due_at=platform_due_at, needs_callback=False, extra={},
            supervised=False, urge_count=0, reopen_count=0, created_at=at, updated_at=at,
        )
        for name, value in fields.items():
            setattr(ticket, name, value)
        s.add(ticket)
        s.flush()
        add_event(s, ticket=ticket, actor="platform", kind="received", at=at)
        ticket_changed(s, ticket=ticket, now=at, reason="received")
        return ticket.id


def notice(sessions: sessionmaker[Session], ticket_id: int, kind: str, now: datetime, **data: Any) -> None:
    """Apply a platform notice (urged, extension_decided, reopened…) through processing."""
    with transaction(sessions) as s:
        ticket = s.get_one(TicketRecord, ticket_id, with_for_update=True)
        mapped = TicketNotice(platform=ticket.platform, external_id=ticket.external_id, kind=NoticeKind(kind),
                              occurred_at=now, data=data)
        processing._apply_notice(s, ticket, mapped, now)


def timers(sessions: sessionmaker[Session], ticket_id: int) -> dict[str, SlaTimerRecord]:
    """The ticket's timers by "kind[.cycle[.seq]]" (cycle and seq shown when not 1 and 0)."""
    with sessions() as s:
        rows = s.scalars(select(SlaTimerRecord).where(SlaTimerRecord.ticket_id == ticket_id)).all()
    out = {}
    for t in rows:
        key = t.kind + (f".{t.cycle}" if t.cycle != 1 or t.seq else "") + (f".{t.seq}" if t.seq else "")
        out[key] = t
    return out


def timer_events(sessions: sessionmaker[Session], ticket_id: int) -> list[tuple[str, str, str]]:
    """(timer kind, event kind, actor) of a ticket's timer log, in order."""
    with sessions() as s:
        rows = s.execute(
            select(SlaTimerRecord.kind, SlaTimerEventRecord.kind, SlaTimerEventRecord.actor)
            .join(SlaTimerRecord, SlaTimerRecord.id == SlaTimerEventRecord.timer_id)
            .where(SlaTimerEventRecord.ticket_id == ticket_id).order_by(SlaTimerEventRecord.id)
        ).all()
    return [(a, b, c) for a, b, c in rows]


def alerts(sessions: sessionmaker[Session]) -> list[AlertRecord]:
    """Every alert, oldest first."""
    with sessions() as s:
        return list(s.scalars(select(AlertRecord).order_by(AlertRecord.id)))


def utc(moment: datetime) -> datetime:
    """The same instant in UTC (as the store returns it)."""
    return moment.astimezone(UTC)
