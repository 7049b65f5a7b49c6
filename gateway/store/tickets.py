"""Repository functions for tickets and their timeline."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, func, or_, select
from sqlalchemy.orm import Session

from gateway.errors import NotFound
from gateway.privacy import SUPERVISION_ONLY_PLATFORMS, PhoneSearch, phone_digits
from gateway.store.tables import OutboxRecord, TicketEventRecord, TicketRecord


def get_ticket(session: Session, ticket_id: int, *, for_update: bool = False) -> TicketRecord:
    """One ticket by internal id (optionally locked), or ``NotFound``."""
    stmt = select(TicketRecord).where(TicketRecord.id == ticket_id)
    if for_update:
        stmt = stmt.with_for_update()
    ticket = session.scalars(stmt).first()
    if ticket is None:
        raise NotFound("工单不存在")
    return ticket


def find_ticket(
    session: Session, *, platform: str, external_id: str, for_update: bool = False
) -> TicketRecord | None:
    """One ticket by platform key and the platform's id."""
    stmt = select(TicketRecord).where(
        TicketRecord.platform == platform, TicketRecord.external_id == external_id
    )
    if for_update:
        stmt = stmt.with_for_update()
    return session.scalars(stmt).first()


def add_event(
    session: Session, *, ticket: TicketRecord, actor: str, kind: str, at: datetime, **detail: Any
) -> TicketEventRecord:
    """Append one entry to the ticket's timeline (never updated, never deleted)."""
    event = TicketEventRecord(ticket_id=ticket.id, actor=actor, kind=kind, at=at, detail=detail)
    session.add(event)
    return event


def list_events(session: Session, *, ticket_id: int) -> Sequence[TicketEventRecord]:
    """The timeline of a ticket, oldest first."""
    stmt = select(TicketEventRecord).where(TicketEventRecord.ticket_id == ticket_id)
    return session.scalars(stmt.order_by(TicketEventRecord.id)).all()


def list_outbound(session: Session, *, ticket_id: int) -> Sequence[OutboxRecord]:
    """The write-backs of a ticket, in order."""
    stmt = select(OutboxRecord).where(OutboxRecord.ticket_id == ticket_id).order_by(OutboxRecord.id)
    return session.scalars(stmt).all()


def ticket_query(
    *,
    platform: str | None = None,
    status: Sequence[str] | None = None,
    appeal_type: str | None = None,
    unit: str | None = None,
    q: str | None = None,
    phones: PhoneSearch | None = None,
) -> Select[TicketRecord]:
    """A filtered ticket query (no ordering, no paging).

    ``q`` matches title, content or the platform's number; when it looks like a phone number's digits and the
    caller may search phones (``phones``, from ``gateway.privacy.phone_search``), it also matches the stored phone
    of the citizens that caller may see — never a 12389 reporter's unless ``phones.reporters`` (001 五)."""
    stmt = select(TicketRecord)
    if platform:
        stmt = stmt.where(TicketRecord.platform == platform)
    if status:
        stmt = stmt.where(TicketRecord.status.in_(list(status)))
    if appeal_type:
        stmt = stmt.where(TicketRecord.appeal_type == appeal_type)
    if unit:
        stmt = stmt.where(TicketRecord.unit == unit)
    if q:
        like = f"%{q}%"
        matches: list[ColumnElement[bool]] = [
            TicketRecord.title.like(like), TicketRecord.content.like(like), TicketRecord.external_id == q
        ]
        digits = phone_digits(q)
        if digits is not None and phones is not None:
            matches.append(_phone_match(digits, phones))
        stmt = stmt.where(or_(*matches))
    return stmt


def _phone_match(digits: str, phones: PhoneSearch) -> ColumnElement[bool]:
    """The stored phone contains ``digits``, on tickets whose citizen the caller may see unmasked."""
    phone = TicketRecord.citizen["phone"].as_string()
    visible: list[ColumnElement[bool]] = [phone.like(f"%{digits}%")]
    if not phones.reporters:
        visible.append(TicketRecord.platform.not_in(sorted(SUPERVISION_ONLY_PLATFORMS)))
    if not phones.confidential:
        confidential = TicketRecord.citizen["confidential"].as_boolean()
        visible.append(or_(confidential.is_(None), confidential.is_(False)))
    return and_(*visible)


def list_tickets(
    session: Session, stmt: Select[TicketRecord], *, limit: int, before_id: int | None
) -> list[TicketRecord]:
    """Newest first, keyset paging on id (stays fast however deep the page)."""
    if before_id is not None:
        stmt = stmt.where(TicketRecord.id < before_id)
    return list(session.scalars(stmt.order_by(TicketRecord.id.desc()).limit(limit)))


def count_tickets(session: Session, stmt: Select[TicketRecord]) -> int:
    """How many tickets a filtered query matches."""
    return int(session.scalar(select(func.count()).select_from(stmt.subquery())) or 0)
