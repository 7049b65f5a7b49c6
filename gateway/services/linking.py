"""一事多投 and 重复投诉 (RULES.md §1, §4): the same matter through several platforms becomes one case.

Same matter = the same citizen phone and near-identical content within a window. Each platform's
ticket keeps its own reply; the case carries the one handling unit and counts repeat complaints
(the same matter filed again after we replied).

A 12389 case is a complaint about the police whose reporter only supervision may know (001 五,
RULES.md §5). A link that involves one would tell anyone who sees it that the other ticket's citizen —
whose name and phone the handling roles do see — is a 12389 reporter. So such links are kept for 督察
only: ``case_view`` and ``visible_events`` hide them from everyone else, and no handling unit is
carried to or from a 12389 case (a supervisor decides who handles it; the unit complained about must
never receive it through a sibling ticket).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from difflib import SequenceMatcher

from sqlalchemy import select
from sqlalchemy.orm import Session

from gateway.principal import Principal
from gateway.privacy import SUPERVISION_ONLY_PLATFORMS as SUPERVISION_PLATFORMS
from gateway.privacy import supervision_only
from gateway.settings import Role
from gateway.store.tables import CaseRecord, TicketEventRecord, TicketRecord
from gateway.store.tickets import add_event

ANSWERED = ("replied", "closed")
LINK_EVENTS = ("linked", "repeat_complaint", "case_unit_assigned")
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
        # A 12389 ticket's unit is never the case's: it must not reach a sibling (001 五).
        unit = None if supervision_only(other.platform) else other.unit
        case = CaseRecord(citizen_key=other.citizen_key, unit=unit, ticket_count=1, repeat_count=0,
                          created_at=now, updated_at=now)
        session.add(case)
        session.flush()
        other.case_id = case.id
    ticket.case_id = case.id
    case.ticket_count += 1
    if repeat:
        case.repeat_count += 1
    if case.unit and not ticket.unit and not supervision_only(ticket.platform):
        ticket.unit = case.unit  # one matter, one handling unit (a 12389 case's unit a supervisor decides)
    kind = "repeat_complaint" if repeat else "linked"
    add_event(session, ticket=ticket, actor="system", kind=kind, at=now, case_id=case.id,
              with_ticket=other.id, with_platform=other.platform, with_external_id=other.external_id)
    add_event(session, ticket=other, actor="system", kind=kind, at=now, case_id=case.id,
              with_ticket=ticket.id, with_platform=ticket.platform, with_external_id=ticket.external_id)
    return case


def assign_case_unit(session: Session, *, ticket: TicketRecord, unit: str, actor: str, now: datetime) -> list[int]:
    """Dispatching one ticket of a case sets the case's unit and pre-assigns its undispatched tickets.

    Never to or from a 12389 case (001 五): its dispatch stays its own, and it takes no sibling's unit.
    """
    if ticket.case_id is None or supervision_only(ticket.platform):
        return []
    case = session.get_one(CaseRecord, ticket.case_id)
    case.unit, case.updated_at = unit, now
    siblings = session.scalars(
        select(TicketRecord).where(TicketRecord.case_id == case.id, TicketRecord.id != ticket.id)
    ).all()
    changed = []
    for sibling in siblings:
        if sibling.unit is None and not supervision_only(sibling.platform):
            sibling.unit = unit
            add_event(session, ticket=sibling, actor=actor, kind="case_unit_assigned", at=now, unit=unit,
                      via_ticket=ticket.id)
            changed.append(sibling.id)
    return changed


def _sees_confidential_links(principal: Principal) -> bool:
    return Role.supervisor in principal.roles


def case_view(session: Session, *, ticket: TicketRecord, principal: Principal) -> dict[str, object] | None:
    """The case of a ticket with its linked tickets, for the ticket page and API.

    To anyone but 督察 a case involving a 12389 ticket shows only its other tickets: the 12389 ticket
    itself has no case, the others do not list it, and the repeat count (which may come from it) is left
    out. A case with nothing left to show is no case.
    """
    if ticket.case_id is None:
        return None
    supervisor = _sees_confidential_links(principal)
    if supervision_only(ticket.platform) and not supervisor:
        return None
    case = session.get_one(CaseRecord, ticket.case_id)
    members = session.scalars(
        select(TicketRecord).where(TicketRecord.case_id == case.id).order_by(TicketRecord.issued_at)
    ).all()
    hidden = not supervisor and any(supervision_only(t.platform) for t in members)
    shown = [t for t in members if t.id != ticket.id and (supervisor or not supervision_only(t.platform))]
    if not shown:
        return None
    return {
        "id": case.id,
        "unit": case.unit,
        "repeat_count": None if hidden else case.repeat_count,
        "tickets": [
            {"id": t.id, "platform": t.platform, "external_id": t.external_id, "status": t.status,
             "title": t.title}
            for t in shown
        ],
    }


def visible_events(session: Session, *, ticket: TicketRecord, events: Sequence[TicketEventRecord],
                   principal: Principal) -> list[TicketEventRecord]:
    """The timeline without the link entries that involve a 12389 ticket, unless the caller is 督察."""
    if _sees_confidential_links(principal):
        return list(events)
    if supervision_only(ticket.platform):
        return [e for e in events if e.kind not in LINK_EVENTS]
    via = {int(e.detail["via_ticket"]) for e in events if e.kind == "case_unit_assigned" and e.detail.get("via_ticket")}
    confidential_via = set(session.scalars(select(TicketRecord.id).where(
        TicketRecord.id.in_(via), TicketRecord.platform.in_(list(SUPERVISION_PLATFORMS))))) if via else set()
    return [e for e in events if not (
        (e.kind in ("linked", "repeat_complaint") and supervision_only(str(e.detail.get("with_platform", ""))))
        or (e.kind == "case_unit_assigned" and e.detail.get("via_ticket") in confidential_via))]
