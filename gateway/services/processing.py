"""Normalize: inbox row → mapper → ticket and timeline. Idempotent; never moves a ticket backwards."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Table, select
from sqlalchemy.exc import DataError, DBAPIError, IntegrityError, StatementError
from sqlalchemy.orm import Session, sessionmaker

from gateway.errors import MappingError
from gateway.ports import Mapper
from gateway.schema import NoticeKind, TicketDraft, TicketNotice, TicketStatus
from gateway.services import storable, ticket_states
from gateway.services.lifecycle import ticket_changed
from gateway.services.linking import LinkingPolicy, link_ticket
from gateway.store.db import transaction
from gateway.store.sql import insert_ignore
from gateway.store.tables import InboxRecord, TicketRecord
from gateway.store.tickets import add_event, find_ticket

log = logging.getLogger(__name__)

WAIT_FOR_TICKET = timedelta(seconds=30)
DEFAULT_LINKING = LinkingPolicy()
PLATFORM = "platform"

# Forward order of the lifecycle; a platform snapshot may move a ticket forward, never back.


def process_inbox(
    sessions: sessionmaker[Session],
    *,
    row_id: int,
    mappers: Mapping[str, Mapper],
    now: datetime,
    linking: LinkingPolicy = DEFAULT_LINKING,
) -> list[int]:
    """``process_inbox_row`` in its own transaction. A row the database refuses to apply (a value too
    long for its column, NUL, a number out of range) becomes a failed row, visible and replayable,
    instead of an error the sweeper would ring again forever; a database that is down is raised."""
    try:
        with transaction(sessions) as session:
            return process_inbox_row(session, row_id=row_id, mappers=mappers, now=now, linking=linking)
    except Exception as exc:
        if not refused_by_database(exc):
            raise
        reason = f"{type(exc).__name__}: {str(getattr(exc, 'orig', None) or exc).splitlines()[0][:300]}"
    with transaction(sessions) as session:
        row = session.get(InboxRecord, row_id, with_for_update=True)
        if row is not None and row.state in ("pending", "waiting"):
            row.attempts += 1
            _fail(row, f"数据库拒绝保存：{reason}", now,
                  logged=f"the database refused it ({reason.split(':')[0]})")
    return []


def refused_by_database(exc: BaseException) -> bool:
    """True for an error the same row will meet again (bad data), False for one that may pass."""
    if isinstance(exc, IntegrityError):
        orig = exc.orig
        # A unique violation is a concurrent insert of the same key: the next attempt sees it.
        return getattr(orig, "sqlstate", None) != "23505" and "UNIQUE constraint" not in str(orig)
    if isinstance(exc, DataError):
        return True
    if isinstance(exc, DBAPIError):
        return False  # operational, interface, … : the database is unwell, not the row
    return isinstance(exc, StatementError | UnicodeError | OverflowError)


def process_inbox_row(
    session: Session,
    *,
    row_id: int,
    mappers: Mapping[str, Mapper],
    now: datetime,
    linking: LinkingPolicy = DEFAULT_LINKING,
) -> list[int]:
    """Apply one inbox row. Returns ids of inbox rows that were waiting for the ticket it created."""
    row = session.scalars(select(InboxRecord).where(InboxRecord.id == row_id).with_for_update()).first()
    if row is None or row.state in ("done", "stale", "failed"):
        return []
    row.attempts += 1
    mapper = mappers.get(row.platform)
    if mapper is None:
        _fail(row, f"no mapper for platform {row.platform!r}", now)
        return []
    try:
        mapped = mapper.inbound(row.event_type, row.payload)
    except MappingError as exc:
        _fail(row, f"MappingError: {exc}", now)
        return []
    if (problem := _unstorable(mapped)) is not None:
        _fail(row, f"数据无法保存：{problem}", now)
        return []
    if isinstance(mapped, TicketDraft):
        ticket, changed, created = _apply_draft(session, mapped, now)
        if created:
            link_ticket(session, ticket=ticket, now=now, policy=linking)
        row.state = "done" if changed else "stale"
        row.ticket_id, row.processed_at, row.error = ticket.id, now, None
        return _release_waiting(session, row.platform, mapped.external_id, now) if created else []
    ticket_or_none = find_ticket(
        session, platform=mapped.platform, external_id=mapped.external_id, for_update=True
    )
    if ticket_or_none is None:
        # Out of order: a notice for a ticket we have not seen yet. Park it; the ticket's arrival
        # (or the sweeper) picks it up again. Never a drop.
        row.state, row.next_attempt_at = "waiting", now + WAIT_FOR_TICKET
        row.error = "等待工单到达"
        return []
    _apply_notice(session, ticket_or_none, mapped, now)
    row.state, row.ticket_id, row.processed_at, row.error = "done", ticket_or_none.id, now, None
    return []


def _fail(row: InboxRecord, error: str, now: datetime, *, logged: str | None = None) -> None:
    log.warning("inbox row %s failed: %s", row.id, logged or error)
    row.state, row.error, row.processed_at = "failed", error[:4000], now


def _unstorable(mapped: TicketDraft | TicketNotice) -> str | None:
    """What of a mapped event the database would refuse (the field named), before it refuses it."""
    table: Table = TicketRecord.__table__  # type: ignore[assignment]
    if isinstance(mapped, TicketDraft):
        return storable.row_problem(table, {"external_id": mapped.external_id, **_draft_columns(mapped)})
    return storable.row_problem(table, {"external_id": mapped.external_id}) or storable.value_problem(
        mapped.model_dump(mode="json")["data"], "data")


def _release_waiting(session: Session, platform: str, external_id: str, now: datetime) -> list[int]:
    stmt = select(InboxRecord).where(
        InboxRecord.platform == platform,
        InboxRecord.external_id == external_id,
        InboxRecord.state == "waiting",
    )
    rows = list(session.scalars(stmt))
    for waiting in rows:
        waiting.state, waiting.next_attempt_at = "pending", now
    return [r.id for r in rows]


def _draft_columns(draft: TicketDraft) -> dict[str, Any]:
    return {
        "source_version": draft.source_version,
        "platform_status": draft.platform_status,
        "appeal_type": draft.appeal_type.value,
        "urgency": draft.urgency.value,
        "level": draft.level,
        "channel": draft.channel,
        "category": list(draft.category),
        "title": draft.title,
        "content": draft.content,
        "citizen": draft.citizen.model_dump(mode="json"),
        "respondent": None if draft.respondent is None else draft.respondent.model_dump(mode="json"),
        "region": draft.region.model_dump(mode="json"),
        "address": draft.address,
        "address_personal": draft.address_personal,
        "lng": draft.lng,
        "lat": draft.lat,
        "attachments": [a.model_dump(mode="json") for a in draft.attachments],
        "accepted_at": draft.accepted_at,
        "issued_at": draft.issued_at,
        "platform_sign_by": draft.deadlines.sign_by,
        "platform_due_at": draft.deadlines.due_at,
        "platform_time_limit": draft.deadlines.time_limit,
        "platform_time_unit": draft.deadlines.time_unit,
        "needs_callback": draft.needs_callback,
        "parent_external_id": draft.parent_external_id,
        "extra": draft.extra,
    }


def _apply_draft(session: Session, draft: TicketDraft, now: datetime) -> tuple[TicketRecord, bool, bool]:
    """Insert or update; returns (ticket, changed, created)."""
    ticket = find_ticket(session, platform=draft.platform, external_id=draft.external_id, for_update=True)
    created = False
    if ticket is None:
        columns = _draft_columns(draft)
        values = {
            "platform": draft.platform,
            "external_id": draft.external_id,
            "status": (draft.status_hint or TicketStatus.received).value,
            "created_at": now,
            "updated_at": now,
            "version": 1,
            "supervised": False,
            "complex": False,
            "urge_count": 0,
            "reopen_count": 0,
            **columns,
        }
        # Two workers may create the same ticket at once (a push and a pull of one order).
        new_id = insert_ignore(
            session, TicketRecord.__table__, values, conflict=["platform", "external_id"]  # type: ignore[arg-type]
        )
        ticket = find_ticket(session, platform=draft.platform, external_id=draft.external_id, for_update=True)
        assert ticket is not None
        if new_id is not None:
            add_event(session, ticket=ticket, actor=PLATFORM, kind="received", at=now,
                      source_version=draft.source_version, platform_status=draft.platform_status)
            ticket_changed(session, ticket=ticket, now=now, reason="received")
            return ticket, True, True
    if draft.source_version <= ticket.source_version:
        return ticket, False, created  # late or duplicate: never backwards
    before = ticket.source_version
    for key, value in _draft_columns(draft).items():
        setattr(ticket, key, value)
    ticket_states.platform_hint(ticket, draft.status_hint)
    ticket.updated_at = now
    add_event(session, ticket=ticket, actor=PLATFORM, kind="platform_updated", at=now,
              from_version=before, source_version=draft.source_version, platform_status=draft.platform_status)
    ticket_changed(session, ticket=ticket, now=now, reason="platform_updated")
    return ticket, True, False


def _apply_notice(session: Session, ticket: TicketRecord, notice: TicketNotice, now: datetime) -> None:
    data: dict[str, Any] = notice.model_dump(mode="json")["data"]
    kind = notice.kind
    if kind is NoticeKind.urged:
        ticket.urge_count += 1
    elif kind is NoticeKind.supervised:
        ticket.supervised = True
    elif kind is NoticeKind.reply_rejected:
        # 审核退回: the platform refused our reply; it must be redrafted and approved again.
        ticket_states.reply_rejected(ticket)
    elif kind is NoticeKind.extension_decided:
        if data.get("approved") and data.get("new_due_at"):
            ticket.platform_due_at = datetime.fromisoformat(str(data["new_due_at"]))
    elif kind is NoticeKind.return_decided:
        ticket_states.return_decided(ticket, approved=bool(data.get("approved")))
    elif kind in (NoticeKind.callback, NoticeKind.rated):
        ticket.callback = {**(ticket.callback or {}), **data}
    elif kind is NoticeKind.reopened:
        # 重办: a new handling cycle on the same ticket.
        ticket_states.reopen(ticket)
        if data.get("new_due_at"):
            ticket.platform_due_at = datetime.fromisoformat(str(data["new_due_at"]))
    ticket.updated_at = now
    add_event(session, ticket=ticket, actor=PLATFORM, kind=kind.value, at=now,
              occurred_at=notice.occurred_at.isoformat(), **data)
    ticket_changed(session, ticket=ticket, now=now, reason=kind.value)
