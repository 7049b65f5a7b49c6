"""JSON views of tickets for the API: times in +08:00, personal data masked per role."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy.orm import object_session

from gateway.catalogue import label
from gateway.principal import Principal
from gateway.privacy import address_view, citizen_view
from gateway.schema import SHANGHAI
from gateway.services.deadlines import orders_for, ticket_deadlines
from gateway.services.ticket_states import STATUS_LABELS
from gateway.store.tables import OutboxRecord, TicketEventRecord, TicketRecord


def local(dt: datetime | None) -> str | None:
    """ISO-8601 in Asia/Shanghai (+08:00)."""
    return None if dt is None else dt.astimezone(SHANGHAI).isoformat(timespec="seconds")


def _deadlines(ticket: TicketRecord, now: datetime, timers: dict[str, dict[str, Any]] | None) -> dict[str, Any]:
    if timers is None:
        session = object_session(ticket)  # the timers are read in the session the ticket was loaded in
        assert session is not None, "render tickets while their session is open"
        timers = ticket_deadlines(session, ticket, now)
    return {name: {**t, "due_at": local(t["due_at"]), "met_at": local(t["met_at"])} for name, t in timers.items()}


def _orders(ticket: TicketRecord, now: datetime) -> list[dict[str, Any]]:
    session = object_session(ticket)
    assert session is not None, "render tickets while their session is open"
    return [{**o, "due_at": local(o["due_at"]), "met_at": local(o["met_at"]), "issued_at": local(o["issued_at"])}
            for o in orders_for(session, ticket.id, now)]


def ticket_summary(
    ticket: TicketRecord, now: datetime, timers: dict[str, dict[str, Any]] | None = None
) -> dict[str, Any]:
    """A queue row (``timers`` from ``deadlines_for`` when a whole page is rendered)."""
    return {
        "id": ticket.id,
        "platform": ticket.platform,
        "platform_label": label(ticket.platform),
        "external_id": ticket.external_id,
        "status": ticket.status,
        "status_label": STATUS_LABELS.get(ticket.status, ticket.status),
        "platform_status": ticket.platform_status,
        "appeal_type": ticket.appeal_type,
        "urgency": ticket.urgency,
        "title": ticket.title,
        "unit": ticket.unit,
        "issued_at": local(ticket.issued_at),
        "supervised": ticket.supervised,
        "complex": ticket.complex,
        "deadlines": _deadlines(ticket, now, timers),
    }


def outbound_view(row: OutboxRecord) -> dict[str, Any]:
    """One write-back with its delivery state."""
    return {
        "id": row.id,
        "action": row.action,
        "state": row.state,
        "attempts": row.attempts,
        "last_error": row.last_error,
        "request_id": row.request_id,
        "receipt_id": row.receipt_id,
        "created_at": local(row.created_at),
        "created_by": row.created_by,
        "next_attempt_at": local(row.next_attempt_at),
        "sent_at": local(row.sent_at),
        "ticket_id": row.ticket_id,
        "platform": row.platform,
        "external_id": row.external_id,
    }


def event_view(event: TicketEventRecord) -> dict[str, Any]:
    """One timeline entry."""
    return {"id": event.id, "at": local(event.at), "actor": event.actor, "kind": event.kind, "detail": event.detail}


def ticket_detail(
    ticket: TicketRecord,
    principal: Principal,
    now: datetime,
    *,
    events: Sequence[TicketEventRecord],
    outbound: Sequence[OutboxRecord],
    case: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The whole ticket as this caller may see it (``events`` and ``case`` already filtered for the caller)."""
    address = address_view(ticket.address, principal, platform=ticket.platform, personal=ticket.address_personal,
                           citizen=ticket.citizen)
    located = address == ticket.address  # coordinates of a masked address would give it away
    return {
        **ticket_summary(ticket, now),
        "level": ticket.level,
        "channel": ticket.channel,
        "category": ticket.category,
        "content": ticket.content,
        "citizen": citizen_view(ticket.citizen, principal, platform=ticket.platform),
        "respondent": ticket.respondent,
        "region": ticket.region,
        "address": address,
        "location": {"lng": ticket.lng, "lat": ticket.lat} if located else {"lng": None, "lat": None},
        "attachments": ticket.attachments,
        "accepted_at": local(ticket.accepted_at),
        "platform_deadlines": {
            "sign_by": local(ticket.platform_sign_by),
            "due_at": local(ticket.platform_due_at),
            "time_limit": ticket.platform_time_limit,
            "time_unit": ticket.platform_time_unit,
        },
        "needs_callback": ticket.needs_callback,
        "urge_count": ticket.urge_count,
        "supervisions": _orders(ticket, now),  # 督办/催办 with their deadlines, notes and state
        "reopen_count": ticket.reopen_count,
        "signed_at": local(ticket.signed_at),
        "signed_by": ticket.signed_by,
        "responded_at": local(ticket.responded_at),
        "reply": ticket.reply,
        "reply_drafted_by": ticket.reply_drafted_by,
        "sent_back": ticket.sent_back,  # 被退回: by, step (unit_head | leader), reason, at — until the next draft
        "reply_reviewed_by": ticket.reply_reviewed_by,
        "reply_reviewed_at": local(ticket.reply_reviewed_at),
        "reply_approved_by": ticket.reply_approved_by,
        "reply_approved_at": local(ticket.reply_approved_at),
        "replied_at": local(ticket.replied_at),
        "callback": ticket.callback,
        "suspended_at": local(ticket.suspended_at),
        "suspension": ticket.suspension,
        # issue 16: 诉求合理/不合理 (002 三(二)), 办结通报 (000 沟通通报 三), 终结办理 (002 四(七)), 甄别 (000), 归档
        "reasonable": ticket.reasonable,
        "closing_notice": ticket.closing_notice,
        "terminated_at": local(ticket.terminated_at),
        "screening": ticket.screening,
        "archived_at": local(ticket.archived_at),
        "source_version": ticket.source_version,
        "version": ticket.version,
        "extra": ticket.extra,
        "case": case,  # linked tickets: the same matter on other platforms (一事多投)
        "events": [event_view(e) for e in events],
        "outbound": [outbound_view(o) for o in outbound],
    }
