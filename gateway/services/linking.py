"""一事多投 and 重复投诉 (RULES.md §1, §4): the same matter through several platforms becomes one case.

Same matter = the same citizen phone and near-identical content within a window. Each platform's
ticket keeps its own reply; the case carries the one handling unit and counts repeat complaints
(the same matter filed again after we replied).
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from difflib import SequenceMatcher

from sqlalchemy import select
from sqlalchemy.orm import Session

from gateway.store.tables import CaseRecord, TicketRecord
from gateway.store.tickets import add_event

ANSWERED = ("replied", "closed")
_NOISE = re.compile(r"[\s\W_]+", re.UNICODE)


@dataclass(frozen=True)
class LinkingPolicy:
    """How alike two tickets must be to be one matter."""

    window_days: int = 7  # 一事多投: filed on several platforms within this many days
    repeat_window_days: int = 90  # 重复投诉: filed again within this many days of the first
    similarity: float = 0.6  # 0..1, character similarity of title + content


def citizen_key(phone: str | None) -> str | None:
    """A lookup key for a phone number (digits only), so matching needs no scan of personal data."""
    digits = re.sub(r"\D", "", phone or "")
    if len(digits) < 7:
        return None
    return hashlib.sha256(f"hotline-gateway/phone/{digits[-11:]}".encode()).hexdigest()


def similarity(a: str, b: str) -> float:
    """Character similarity of two texts with spacing and punctuation ignored."""
    return SequenceMatcher(None, _NOISE.sub("", a), _NOISE.sub("", b), autojunk=False).ratio()


def link_ticket(session: Session, *, ticket: TicketRecord, now: datetime, policy: LinkingPolicy) -> CaseRecord | None:
    """Put a new ticket into the case of the same matter, or a new case; returns the case if linked."""
    key = citizen_key((ticket.citizen or {}).get("phone"))
    ticket.citizen_key = key
    if key is None:
        return None
    since = ticket.issued_at - timedelta(days=policy.repeat_window_days)
    candidates = session.scalars(
        select(TicketRecord)
        .where(TicketRecord.citizen_key == key, TicketRecord.id != ticket.id, TicketRecord.issued_at >= since)
        .order_by(TicketRecord.id.desc())
        .limit(50)
    ).all()
    text = f"{ticket.title}{ticket.content}"
    for other in candidates:
        if similarity(text, f"{other.title}{other.content}") < policy.similarity:
            continue
        repeat = other.status in ANSWERED
        if not repeat and (other.platform == ticket.platform or
                           ticket.issued_at - other.issued_at > timedelta(days=policy.window_days)):
            continue  # the same platform's duplicates are the platform's business; too far apart is not 一事
        return _join(session, ticket=ticket, other=other, repeat=repeat, now=now)
    return None


def _join(session: Session, *, ticket: TicketRecord, other: TicketRecord, repeat: bool, now: datetime) -> CaseRecord:
    case = session.get(CaseRecord, other.case_id) if other.case_id else None
    if case is None:
        case = CaseRecord(citizen_key=other.citizen_key, unit=other.unit, ticket_count=1, repeat_count=0,
                          created_at=now, updated_at=now)
        session.add(case)
        session.flush()
        other.case_id = case.id
    ticket.case_id = case.id
    case.ticket_count += 1
    if repeat:
        case.repeat_count += 1
    if case.unit and not ticket.unit:
        ticket.unit = case.unit  # one matter, one handling unit
    kind = "repeat_complaint" if repeat else "linked"
    add_event(session, ticket=ticket, actor="system", kind=kind, at=now, case_id=case.id,
              with_ticket=other.id, with_platform=other.platform, with_external_id=other.external_id)
    add_event(session, ticket=other, actor="system", kind=kind, at=now, case_id=case.id,
              with_ticket=ticket.id, with_platform=ticket.platform, with_external_id=ticket.external_id)
    return case


def assign_case_unit(session: Session, *, ticket: TicketRecord, unit: str, actor: str, now: datetime) -> list[int]:
    """Dispatching one ticket of a case sets the case's unit and pre-assigns its undispatched tickets."""
    if ticket.case_id is None:
        return []
    case = session.get_one(CaseRecord, ticket.case_id)
    case.unit, case.updated_at = unit, now
    siblings = session.scalars(
        select(TicketRecord).where(TicketRecord.case_id == case.id, TicketRecord.id != ticket.id)
    ).all()
    changed = []
    for sibling in siblings:
        if sibling.unit is None:
            sibling.unit = unit
            add_event(session, ticket=sibling, actor=actor, kind="case_unit_assigned", at=now, unit=unit,
                      via_ticket=ticket.id)
            changed.append(sibling.id)
    return changed


def case_view(session: Session, *, ticket: TicketRecord) -> dict[str, object] | None:
    """The case of a ticket with its linked tickets, for the ticket page and API."""
    if ticket.case_id is None:
        return None
    case = session.get_one(CaseRecord, ticket.case_id)
    members = session.scalars(
        select(TicketRecord).where(TicketRecord.case_id == case.id).order_by(TicketRecord.issued_at)
    ).all()
    return {
        "id": case.id,
        "unit": case.unit,
        "repeat_count": case.repeat_count,
        "tickets": [
            {"id": t.id, "platform": t.platform, "external_id": t.external_id, "status": t.status,
             "title": t.title}
            for t in members if t.id != ticket.id
        ],
    }
