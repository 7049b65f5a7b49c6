"""Read models of the closing processes (issue 16): the printable 三级结案终审表 and the 结案管理 lists."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from gateway.principal import Principal
from gateway.services import closing, screening, termination
from gateway.store.tables import TicketRecord
from gateway.store.tables_dashboard import ApprovalRecord

LIMIT = 200
ANSWERED = ("replied", "closed")


def _when(value: Any) -> str | None:
    return None if value is None else value.isoformat()


def final_review_view(session: Session, ticket: TicketRecord) -> dict[str, Any] | None:
    """The ticket's 三级结案终审表 as printed (002 三(二)): the matter, the explanation, three signature lines."""
    record = closing.final_review(session, ticket=ticket)
    if record is None:
        return None
    signed = {s["step"]: s for s in record.detail.get("signatures") or []}
    waiting = closing.next_step(record)
    return {
        "id": record.id, "ticket_id": ticket.id, "platform": ticket.platform, "external_id": ticket.external_id,
        "title": ticket.title, "unit": record.detail.get("unit") or ticket.unit, "state": record.state,
        "reasonable": ticket.reasonable, "explanation": record.detail.get("explanation"),
        "written_by": record.requested_by, "written_at": _when(record.requested_at),
        "cycle": record.detail.get("cycle"), "article": closing.A_FINAL,
        "citizen_opinion": (ticket.closing_notice or {}).get("opinion") or (ticket.reply or {}).get("citizen_opinion"),
        "signatures": [{"step": key, "title": title, **({k: signed[key][k] for k in ("by", "at", "note")}
                                                        if key in signed else {"by": None, "at": None, "note": None})}
                       for key, title in closing.STEPS],
        "waiting_for": waiting[1] if waiting else None,
        "sent_back": {"by": record.decided_by, "reason": record.note} if record.state == "rejected" else None,
    }


def _row(ticket: TicketRecord, **extra: Any) -> dict[str, Any]:
    return {"ticket_id": ticket.id, "platform": ticket.platform, "external_id": ticket.external_id,
            "title": ticket.title, "unit": ticket.unit, "status": ticket.status, **extra}


def process_lists(session: Session, principal: Principal) -> dict[str, Any]:
    """What the closing processes wait for, scoped like the queue (a unit sees its own tickets only)."""
    scope = principal.unit_scope()  # Forbidden for a caller who may read nothing (fails closed)

    def scoped(stmt: Any) -> Any:
        return stmt if scope is None else stmt.where(TicketRecord.unit == scope)

    requests = session.execute(scoped(select(ApprovalRecord, TicketRecord).join(
        TicketRecord, TicketRecord.id == ApprovalRecord.ticket_id).where(
        ApprovalRecord.state == "pending",
        ApprovalRecord.kind.in_((termination.KIND, closing.FINAL_REVIEW, screening.KIND)),
    )).order_by(ApprovalRecord.id).limit(LIMIT)).all()
    out: dict[str, list[dict[str, Any]]] = {"terminations": [], "final_reviews": [], "screenings": []}
    for record, ticket in requests:
        base = {"approval_id": record.id, "requested_by": record.requested_by,
                "requested_at": _when(record.requested_at)}
        if record.kind == termination.KIND:
            out["terminations"].append(_row(ticket, **base, reason_code=record.detail.get("reason_code"),
                                            reason=record.detail.get("reason")))
        elif record.kind == closing.FINAL_REVIEW:
            step = closing.next_step(record)
            out["final_reviews"].append(_row(ticket, **base, waiting_for=step[1] if step else None))
        else:
            stage = str(record.detail.get("stage"))
            out["screenings"].append(_row(ticket, **base, stage=stage, stage_label=screening.STAGES.get(stage)))
    unjudged = session.scalars(scoped(select(TicketRecord).where(
        TicketRecord.status.in_(ANSWERED), TicketRecord.reasonable.is_(None))).order_by(TicketRecord.id).limit(LIMIT))
    drafted = session.scalars(scoped(select(TicketRecord).where(TicketRecord.status == "reply_drafted"))
                              .order_by(TicketRecord.id).limit(LIMIT))
    unnotified = [t for t in drafted if (t.closing_notice or {}).get("cycle") != t.reopen_count + 1]
    tracking = session.scalars(scoped(select(TicketRecord).where(TicketRecord.screening.is_not(None)))
                               .order_by(TicketRecord.id.desc()).limit(LIMIT))
    return {
        **out,
        "unjudged": [_row(t) for t in unjudged],  # 002 三(二): 诉求合理/不合理 on every closed ticket
        "unnotified": [_row(t) for t in unnotified],  # 000 沟通通报 三: drafts without the closing notice
        "screened": [_row(t, cause=(t.screening or {}).get("cause"), label=(t.screening or {}).get("label"),
                          tracking=(t.screening or {}).get("tracking")) for t in tracking],
    }
