"""终结办理 (termination), 002 四(七): a matter answered lawfully that the citizen keeps raising may be closed.

The unit (or the office) asks, for one of the nine listed situations, after the 三上门 visit to explain
(主动上门劝解), with evidence uploaded (相关佐证材料，诉求办理前后的图片); the 终结办理申请表 is signed by the bureau
chief (此表由旗局主要领导签字盖章): a leader other than the one who asked approves it and records the chief's
signature. The ticket is then closed (its clocks stop) and counted apart in the reports (终结办理).

The platform hears of it where it has a termination write-back; none of the four platform contracts has
one (PLATFORMS.md), so the termination is recorded on the gateway (a ``not_on_platform`` timeline entry, as
for every write-back a platform lacks) and the application is filed on the platform by hand.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from gateway.errors import DomainError, Forbidden
from gateway.principal import Principal
from gateway.services import ticket_states
from gateway.services.closing import AFTER_HANDLING
from gateway.services.evidence import list_evidence
from gateway.services.lifecycle import ticket_changed
from gateway.services.writeback import queue_writeback
from gateway.settings import Role
from gateway.store.tables import TicketRecord
from gateway.store.tables_dashboard import ApprovalRecord
from gateway.store.tickets import add_event, get_ticket

ARTICLE = "002 四(七)"
KIND = "termination"
REASONS: dict[int, str] = {
    1: "属于党委、人大、政协、部队、法院、检察院解决的事项，或处于行政复议、行政诉讼、仲裁、司法程序或执行期间",
    2: "涉及廉洁自律、干部任免及管理等方面的投诉举报，已引导向纪检监察、组织部门反映",
    3: "已信访三级终结或经两级有关部门行政调解并结案，或正在进行信访矛盾化解、司法调解",
    4: "办理中涉及国家秘密、商业秘密、个人隐私",
    5: "政策性咨询且法律法规已有明确规定无需继续调查处办；或违反法律法规、公序良俗，恶意攻击、骚扰或无实质内容",
    6: "涉及多部门联动办理，相关部门已相互磋商并给出明确答复",
    7: "不属于市人民政府行政职权管辖范围",
    8: "正在办理或已依法办理完毕，同一诉求人无新情况、新证据反复提出",
    9: "其他不宜继续调查处办需要终结办理的情形",
}


def pending(session: Session, ticket_id: int, *, for_update: bool = False) -> ApprovalRecord | None:
    """The termination request waiting for a leader on this ticket, if any."""
    stmt = select(ApprovalRecord).where(
        ApprovalRecord.ticket_id == ticket_id, ApprovalRecord.kind == KIND, ApprovalRecord.state == "pending")
    if for_update:
        stmt = stmt.with_for_update()
    return session.scalars(stmt.order_by(ApprovalRecord.id.desc())).first()


def _scoped(ticket: TicketRecord, principal: Principal) -> None:
    scope = principal.unit_scope()
    if scope is not None and ticket.unit != scope:
        raise Forbidden("不是本单位承办的工单")


def request_termination(
    session: Session, *, ticket_id: int, principal: Principal, now: datetime, reason_code: int, explanation: str,
    visit: str, evidence_ids: Sequence[int],
) -> list[int]:
    """终结办理申请: one of the nine situations, the 三上门 visit, evidence of this ticket; waits for a leader."""
    principal.require(Role.unit, Role.duty, action="申请终结办理")
    ticket = get_ticket(session, ticket_id, for_update=True)
    _scoped(ticket, principal)
    if ticket.status not in AFTER_HANDLING or ticket.terminated_at is not None:
        raise DomainError("工单当前状态不能申请终结办理", code="invalid_state")
    if reason_code not in REASONS:
        raise DomainError(f"终结办理须属于规定的九种情形之一（{ARTICLE}）", code="invalid_reason",
                          status=422)
    if len(explanation.strip()) < 10:
        raise DomainError("须写明终结理由及依据（不少于10字）", code="explanation_required",
                          status=422)
    if len(visit.strip()) < 5:
        raise DomainError(f"须依照“三上门”要求主动上门劝解，并写明劝解情况（{ARTICLE}）",
                          code="visit_required", status=422)
    own = {e.id for e in list_evidence(session, ticket_id=ticket.id)}
    chosen = sorted({int(i) for i in evidence_ids})
    if not chosen or not set(chosen) <= own:
        raise DomainError(f"须附本工单的佐证材料或办理前后的图片（{ARTICLE}）",
                          code="evidence_required", status=422)
    if pending(session, ticket.id) is not None:
        raise DomainError("已有待审批的终结办理申请", code="invalid_state")
    detail = {"reason_code": reason_code, "reason": REASONS[reason_code], "explanation": explanation.strip(),
              "visit": visit.strip(), "evidence_ids": chosen, "article": ARTICLE}
    record = ApprovalRecord(ticket_id=ticket.id, kind=KIND, state="pending", requested_by=principal.name,
                            requested_at=now, detail=detail)
    session.add(record)
    session.flush()
    add_event(session, ticket=ticket, actor=principal.name, kind="termination_requested", at=now,
              approval_id=record.id, **detail)
    return []


def approve_termination(
    session: Session, *, ticket_id: int, principal: Principal, now: datetime, chief: str, note: str = ""
) -> list[int]:
    """批准终结办理: a leader other than the requester, with the bureau chief's signature; the ticket closes."""
    principal.require(Role.leader, action="审批终结办理")
    ticket = get_ticket(session, ticket_id, for_update=True)
    record = pending(session, ticket.id, for_update=True)
    if record is None:
        raise DomainError("没有待审批的终结办理申请", code="invalid_state")
    if record.requested_by == principal.name:
        raise Forbidden("不能审批本人提出的终结办理申请（四眼原则）")
    if not chief.strip():
        raise DomainError(f"终结办理申请表须由主要领导签字（{ARTICLE}）",
                          code="signature_required", status=422)
    record.state, record.decided_by, record.decided_at, record.note = "approved", principal.name, now, note or None
    record.detail = {**record.detail, "chief": chief.strip()}
    ticket_states.terminate(ticket, at=now)
    add_event(session, ticket=ticket, actor=principal.name, kind="terminated", at=now, approval_id=record.id,
              chief=chief.strip(), reason_code=record.detail["reason_code"], requested_by=record.requested_by)
    payload = {"reasonCode": record.detail["reason_code"], "reason": record.detail["reason"],
               "explanation": record.detail["explanation"], "approvedBy": principal.name, "chief": chief.strip()}
    ids = queue_writeback(session, ticket=ticket, action="terminate", payload=payload, actor=principal.name, now=now)
    ticket_changed(session, ticket=ticket, now=now, reason="terminated")
    return ids


def reject_termination(
    session: Session, *, ticket_id: int, principal: Principal, now: datetime, reason: str
) -> list[int]:
    """驳回终结办理: the matter stays in hand."""
    principal.require(Role.leader, action="驳回终结办理")
    ticket = get_ticket(session, ticket_id, for_update=True)
    record = pending(session, ticket.id, for_update=True)
    if record is None:
        raise DomainError("没有待审批的终结办理申请", code="invalid_state")
    record.state, record.decided_by, record.decided_at, record.note = "rejected", principal.name, now, reason
    add_event(session, ticket=ticket, actor=principal.name, kind="termination_rejected", at=now, reason=reason,
              approval_id=record.id)
    return []
