"""待办审批: what waits for the signed-in person's signature, and how much of it (the header's counts).

A unit head reviews its own unit's reply drafts (002 三(二)); a leader approves reviewed drafts (000 督办 三),
dispatch proposals (000 二), extension requests (000 限时办结 二), 挂单 requests (002 四(六)), 终结办理 requests
(002 四(七)), a 三级结案终审表 at a leader's signature (002 三(二)), a 不满意件甄别 at a leader's signature (000),
a 问责 proposal of 督察 (000 责任追究制度, 001 四(五)) that neither they proposed nor falls on them, and
a matter raised to the leader (提级介入, 000 提级介入调查制度) waiting for the 批示 (``services.intervention``).
Never one's own draft, review or request (四眼原则): the use cases refuse those, so the inbox does not offer them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Select, func, or_, select
from sqlalchemy.orm import Session

from gateway.principal import Principal
from gateway.services import closing, intervention, screening, suspension, termination, workflow
from gateway.settings import Role
from gateway.store.tables import TicketRecord
from gateway.store.tables_dashboard import AccountabilityRecord, ApprovalRecord, InterventionRecord

LIMIT = 200
# Where each kind of decision is taken on the ticket page (the form's id).
ANCHOR = {"review": "form-review", "reply": "form-approve", workflow.DISPATCH: "form-dispatch-approve",
          workflow.EXTENSION: "form-extension-approve", suspension.SUSPENSION: "form-suspend-approve",
          termination.KIND: "form-termination-approve", closing.FINAL_REVIEW: "form-final-review-sign",
          screening.KIND: "closing", intervention.KIND: "intervention"}
REQUEST_KINDS = (workflow.DISPATCH, workflow.EXTENSION, suspension.SUSPENSION, termination.KIND,
                 closing.FINAL_REVIEW, screening.KIND)
ACCOUNTABILITY = "accountability"  # 问责 proposals: not a ticket's request, decided on the 问责记录 page
# Kinds signed in steps: whether it is a leader's turn is read from the record (see ``_leaders_turn``).
STEPPED_KINDS = (closing.FINAL_REVIEW, screening.KIND)


def _leaders_turn(record: ApprovalRecord, principal: Principal) -> bool:
    """A stepped request waits for this leader: the 终审表 at a leader's signature they have not given
    (002 三(二)); a 甄别 at the leader's signature of the proposal or of the result (000)."""
    if record.kind == closing.FINAL_REVIEW:
        step = closing.next_step(record)
        signed = {s["by"] for s in record.detail.get("signatures") or []}
        return step is not None and step[0] != "unit_head" and principal.name not in signed
    if record.kind == screening.KIND:
        return record.detail.get("stage") in ("proposed", "screened")
    return True


@dataclass
class Inbox:
    """The decisions waiting for one person, by kind, oldest first."""

    reviews: list[TicketRecord] = field(default_factory=list)
    replies: list[TicketRecord] = field(default_factory=list)
    requests: dict[str, list[tuple[ApprovalRecord, TicketRecord]]] = field(default_factory=dict)
    accountability: list[AccountabilityRecord] = field(default_factory=list)
    interventions: list[tuple[InterventionRecord, TicketRecord]] = field(default_factory=list)

    def counts(self) -> dict[str, int]:
        """How many of each kind."""
        return {"review": len(self.reviews), "reply": len(self.replies),
                **{kind: len(self.requests.get(kind, [])) for kind in REQUEST_KINDS},
                ACCOUNTABILITY: len(self.accountability),
                **({intervention.KIND: len(self.interventions)} if self.requests else {})}


def _reviews(principal: Principal, review: bool) -> Select[Any] | None:
    """Drafts of the unit head's own unit that nobody has reviewed, not drafted by them (when the step is on)."""
    if not review or not principal.has(Role.unit_head) or not principal.unit:
        return None
    return select(TicketRecord).where(
        TicketRecord.status == "reply_drafted", TicketRecord.unit == principal.unit,
        TicketRecord.reply_reviewed_by.is_(None),
        or_(TicketRecord.reply_drafted_by.is_(None), TicketRecord.reply_drafted_by != principal.name))


def _replies(principal: Principal, review: bool) -> Select[Any] | None:
    """Drafts ready for a leader: reviewed (or needing no review), neither drafted nor reviewed by them."""
    if not principal.has(Role.leader):
        return None
    stmt = select(TicketRecord).where(
        TicketRecord.status == "reply_drafted",
        or_(TicketRecord.reply_drafted_by.is_(None), TicketRecord.reply_drafted_by != principal.name),
        or_(TicketRecord.reply_reviewed_by.is_(None), TicketRecord.reply_reviewed_by != principal.name))
    if review:
        stmt = stmt.where(or_(TicketRecord.reply_reviewed_by.is_not(None), TicketRecord.unit.is_(None)))
    return stmt


def _requests(principal: Principal) -> Any:
    """Requests waiting for a leader, other than the leader's own (stepped kinds filtered by ``_leaders_turn``)."""
    if not principal.has(Role.leader):
        return None
    return select(ApprovalRecord, TicketRecord).join(TicketRecord, TicketRecord.id == ApprovalRecord.ticket_id).where(
        ApprovalRecord.state == "pending", ApprovalRecord.kind.in_(REQUEST_KINDS),
        ApprovalRecord.requested_by != principal.name)


def _accountability(principal: Principal) -> Select[Any] | None:
    """问责 proposals for a leader who neither proposed them nor is the person they fall on (四眼原则, 回避)."""
    if not principal.has(Role.leader):
        return None
    return select(AccountabilityRecord).where(
        AccountabilityRecord.state == "proposed", AccountabilityRecord.proposed_by != principal.name,
        or_(AccountabilityRecord.person.is_(None), AccountabilityRecord.person != principal.name))


def inbox(session: Session, principal: Principal, *, review: bool) -> Inbox:
    """Everything waiting for ``principal`` (at most ``LIMIT`` of each list)."""
    out = Inbox()
    if (stmt := _reviews(principal, review)) is not None:
        out.reviews = list(session.scalars(stmt.order_by(TicketRecord.id).limit(LIMIT)))
    if (stmt := _replies(principal, review)) is not None:
        out.replies = list(session.scalars(stmt.order_by(TicketRecord.id).limit(LIMIT)))
    if (requests := _requests(principal)) is not None:
        out.requests = {kind: [] for kind in REQUEST_KINDS}
        for record, ticket in session.execute(requests.order_by(ApprovalRecord.id).limit(LIMIT)).all():
            if _leaders_turn(record, principal):
                out.requests[record.kind].append((record, ticket))
    if (stmt := _accountability(principal)) is not None:
        out.accountability = list(session.scalars(stmt.order_by(AccountabilityRecord.id).limit(LIMIT)))
    if (raised := intervention.waiting_for(principal)) is not None:
        out.interventions = [(r, t) for r, t in session.execute(raised.order_by(InterventionRecord.id).limit(LIMIT))]
    return out


def counts(session: Session, principal: Principal, *, review: bool) -> dict[str, int]:
    """The header's figures: how many decisions of each kind wait for ``principal`` (empty for other roles)."""
    found: dict[str, int] = {}
    for key, stmt in (("review", _reviews(principal, review)), ("reply", _replies(principal, review))):
        if stmt is not None:
            found[key] = int(session.scalar(select(func.count()).select_from(stmt.subquery())) or 0)
    if _requests(principal) is not None:
        rows = session.execute(select(ApprovalRecord.kind, func.count()).join(
            TicketRecord, TicketRecord.id == ApprovalRecord.ticket_id).where(
            ApprovalRecord.state == "pending", ApprovalRecord.kind.in_(REQUEST_KINDS),
            ApprovalRecord.kind.not_in(STEPPED_KINDS),
            ApprovalRecord.requested_by != principal.name).group_by(ApprovalRecord.kind)).all()
        found |= {kind: 0 for kind in REQUEST_KINDS} | {str(kind): int(n) for kind, n in rows}
        stepped = session.scalars(select(ApprovalRecord).where(
            ApprovalRecord.state == "pending", ApprovalRecord.kind.in_(STEPPED_KINDS),
            ApprovalRecord.requested_by != principal.name).limit(LIMIT))
        for record in stepped:
            found[record.kind] += _leaders_turn(record, principal)
    if (stmt := _accountability(principal)) is not None:
        found[ACCOUNTABILITY] = int(session.scalar(select(func.count()).select_from(stmt.subquery())) or 0)
    if (raised := intervention.waiting_for(principal)) is not None:
        found[intervention.KIND] = int(session.scalar(select(func.count()).select_from(raised.subquery())) or 0)
    return found
