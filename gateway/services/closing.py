"""Closing a ticket: 办结通报 (000 沟通通报 三), 诉求合理/不合理 and the 三级结案终审表 (002 三(二)).

- 办结通报 (000 沟通通报 三: 承办单位办结后，应及时向反映人通报（特殊事项除外）结果，并将反映人的意见反馈给市局办公室;
  四: 告知反映人应享有的权利、应履行的义务…虚心听取反映人对办理结果的评价): the unit records how and when it told the
  citizen the result, the citizen's opinion and whether the citizen is satisfied — or that the matter is a 特殊事项
  and why, which the approving leader accepts with the reply (four eyes: never the one who claimed it).
- 诉求合理/不合理 (002 三(二)): recorded on every ticket before it is closed; under profile 002 the leader's
  approval of the reply needs it, and an unreasonable request the citizen is not satisfied with needs the
  三级结案终审表 signed first.
- 三级结案终审表 (002 三(二): 作情况说明，并填《三级结案终审表》，经部门负责人、分管局领导审核，旗局主要领导签字后
  反馈至办公室):
  the unit writes the explanation; the head of the ticket's unit (部门负责人), a leader (分管局领导) and another
  leader (旗局主要领导 — the gateway has no separate chief role: the bureau chief holds the leader role) sign in
  that order, each a different person and none the one who wrote it. Kept with the ticket, printable.

Where the approval is held to these records follows the regulation profile (``GATEWAY_SLA__PROFILE``): the
notice under 000, 合理/不合理 and the form under 002 (docs/dashboard.md "办结通报", "三级结案终审表").
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from gateway.errors import DomainError, Forbidden
from gateway.principal import Principal
from gateway.schema import TicketStatus
from gateway.services.lifecycle import ticket_changed
from gateway.settings import Role
from gateway.sla.runtime import runtime_for
from gateway.store.tables import TicketRecord
from gateway.store.tables_dashboard import ApprovalRecord
from gateway.store.tickets import add_event, get_ticket

A_NOTICE = "000 沟通通报 三"
A_FINAL = "002 三(二)"
T = TicketStatus
IN_HAND = (T.signed.value, T.dispatched.value, T.responded.value, T.reply_drafted.value)
AFTER_HANDLING = (*IN_HAND, T.approved.value, T.replied.value, T.closed.value)
HOW: dict[str, str] = {"phone": "电话", "visit": "上门", "meeting": "约见面谈", "sms": "短信", "letter": "书面"}
REASONABLE: dict[str, str] = {"reasonable": "诉求合理", "unreasonable": "诉求不合理"}
FINAL_REVIEW = "final_review"
STEPS: tuple[tuple[str, str], ...] = (("unit_head", "部门负责人"), ("leader", "分管局领导"), ("chief", "旗局主要领导"))
NOTICE_PROFILES = frozenset({"000"})  # 000 沟通通报 三 binds the bureau that follows seed 000
FINAL_PROFILES = frozenset({"002"})  # 002 三(二) binds the bureau that follows seed 002


def _scoped(ticket: TicketRecord, principal: Principal) -> None:
    scope = principal.unit_scope()  # a unit user acts on its own unit's tickets only (fails closed)
    if scope is not None and ticket.unit != scope:
        raise Forbidden("不是本单位承办的工单")


def _in(ticket: TicketRecord, states: tuple[str, ...], action: str) -> None:
    if ticket.status not in states:
        raise DomainError(f"工单当前状态不能{action}", code="invalid_state")


def record_notice(
    session: Session, *, ticket_id: int, principal: Principal, now: datetime, how: str = "", told: str = "",
    opinion: str = "", satisfied: bool | None = None, rights_told: bool = False, exempt_reason: str = "",
) -> list[int]:
    """办结通报 (000 沟通通报 三): the unit told the citizen the result and heard the opinion — or a 特殊事项."""
    principal.require(Role.unit, Role.duty, action="办结通报")
    ticket = get_ticket(session, ticket_id, for_update=True)
    _scoped(ticket, principal)
    _in(ticket, AFTER_HANDLING, "记录办结通报")
    if exempt_reason.strip():
        if len(exempt_reason.strip()) < 5:
            raise DomainError("特殊事项须写明理由", code="reason_required", status=422)
        notice: dict[str, Any] = {"exempt": True, "exempt_reason": exempt_reason.strip()}
    else:
        if how not in HOW:
            raise DomainError(f"通报方式须为{'/'.join(HOW.values())}之一",
                              code="invalid_how", status=422)
        if len(told.strip()) < 2 or len(opinion.strip()) < 2:
            raise DomainError(f"须写明通报的结果和反映人的意见（{A_NOTICE}）",
                              code="notice_incomplete", status=422)
        if satisfied is None:
            raise DomainError("须记录反映人对办理结果是否满意（000 沟通通报 四）",
                              code="notice_incomplete", status=422)
        notice = {"exempt": False, "how": how, "told": told.strip(), "opinion": opinion.strip(),
                  "satisfied": satisfied, "rights_told": rights_told}
    notice |= {"by": principal.name, "recorded_at": now.isoformat(), "cycle": ticket.reopen_count + 1,
               "article": A_NOTICE}
    ticket.closing_notice = notice
    add_event(session, ticket=ticket, actor=principal.name, kind="closing_notice", at=now, **notice)
    ticket_changed(session, ticket=ticket, now=now, reason="closing_notice")
    return []


def record_reasonable(
    session: Session, *, ticket_id: int, principal: Principal, now: datetime, value: str, note: str = ""
) -> list[int]:
    """诉求合理/不合理 (002 三(二)), judged by the unit (or its head, the office, a leader)."""
    principal.require(Role.unit, Role.unit_head, Role.duty, Role.leader, action="认定诉求是否合理")
    ticket = get_ticket(session, ticket_id, for_update=True)
    _scoped(ticket, principal)
    _in(ticket, AFTER_HANDLING, "认定诉求是否合理")
    if value not in REASONABLE:
        raise DomainError("须为诉求合理或诉求不合理", code="invalid_value",
                          status=422)
    live = final_review(session, ticket=ticket)
    if live is not None and live.state in ("pending", "approved") and value != "unreasonable":
        raise DomainError("已有三级结案终审表，不能改为诉求合理",
                          code="invalid_state")
    ticket.reasonable = value
    add_event(session, ticket=ticket, actor=principal.name, kind="reasonableness", at=now, value=value,
              label=REASONABLE[value], note=note or None, article=A_FINAL)
    ticket_changed(session, ticket=ticket, now=now, reason="reasonableness")
    return []


def dissatisfied(ticket: TicketRecord) -> bool:
    """The citizen is not satisfied: as the unit heard it at the closing notice, or as the platform's callback says."""
    heard = (ticket.closing_notice or {}).get("satisfied") is False
    return heard or str((ticket.callback or {}).get("satisfaction")) == "dissatisfied"


def final_review(session: Session, *, ticket: TicketRecord) -> ApprovalRecord | None:
    """The ticket's latest 三级结案终审表 of its current cycle, if any."""
    return session.scalars(select(ApprovalRecord).where(
        ApprovalRecord.ticket_id == ticket.id, ApprovalRecord.kind == FINAL_REVIEW,
        ApprovalRecord.state.in_(("pending", "approved", "rejected")),
    ).order_by(ApprovalRecord.id.desc())).first()


def open_final_review(
    session: Session, *, ticket_id: int, principal: Principal, now: datetime, explanation: str
) -> list[int]:
    """填《三级结案终审表》: the unit's written explanation, for an unreasonable request the citizen rejects."""
    principal.require(Role.unit, Role.duty, action="填写三级结案终审表")
    ticket = get_ticket(session, ticket_id, for_update=True)
    _scoped(ticket, principal)
    _in(ticket, AFTER_HANDLING, "填写三级结案终审表")
    if ticket.reasonable != "unreasonable" or not dissatisfied(ticket):
        raise DomainError(f"三级结案终审表用于反映人不满意且诉求不合理的工单（{A_FINAL}）(needs 诉求不合理 and an "
                          "unsatisfied citizen)", code="not_applicable", status=422)
    if len(explanation.strip()) < 10:
        raise DomainError("须作情况说明（不少于10字）", code="explanation_required",
                          status=422)
    live = final_review(session, ticket=ticket)
    this_cycle = live is not None and live.detail.get("cycle") == ticket.reopen_count + 1
    if live is not None and this_cycle and live.state in ("pending", "approved"):
        raise DomainError("本轮办理已有三级结案终审表", code="invalid_state")
    record = ApprovalRecord(ticket_id=ticket.id, kind=FINAL_REVIEW, state="pending", requested_by=principal.name,
                            requested_at=now, detail={"explanation": explanation.strip(), "signatures": [],
                                                      "cycle": ticket.reopen_count + 1, "unit": ticket.unit,
                                                      "article": A_FINAL})
    session.add(record)
    session.flush()
    add_event(session, ticket=ticket, actor=principal.name, kind="final_review_opened", at=now, approval_id=record.id)
    return []


def next_step(record: ApprovalRecord) -> tuple[str, str] | None:
    """The signature the form waits for, (key, 中文), or None when complete or closed."""
    done = len(record.detail.get("signatures") or [])
    return STEPS[done] if record.state == "pending" and done < len(STEPS) else None


def _signer(ticket: TicketRecord, record: ApprovalRecord, principal: Principal, step: str) -> None:
    if step == "unit_head":
        principal.require(Role.unit_head, action="部门负责人审核")
        if not ticket.unit or principal.unit != ticket.unit:
            raise Forbidden("须由本工单承办单位的部门负责人审核")
    else:
        principal.require(Role.leader, action="局领导签字")
    signed = [s["by"] for s in record.detail.get("signatures") or []]
    if principal.name == record.requested_by or principal.name in signed:
        raise Forbidden("三级签字须由不同的人，且不能是填表人（四眼原则）")


def _turn(session: Session, ticket_id: int, principal: Principal
          ) -> tuple[TicketRecord, ApprovalRecord, tuple[str, str]]:
    """The form waiting for a signature and the step it waits for, when ``principal`` may act on it."""
    ticket = get_ticket(session, ticket_id, for_update=True)
    record = final_review(session, ticket=ticket)
    step = None if record is None else next_step(record)
    if record is None or step is None:
        raise DomainError("没有待签字的三级结案终审表", code="invalid_state")
    _signer(ticket, record, principal, step[0])
    return ticket, record, step


def sign_final_review(
    session: Session, *, ticket_id: int, principal: Principal, now: datetime, note: str = ""
) -> list[int]:
    """One signature of the three, in order: 部门负责人, 分管局领导, 旗局主要领导 (002 三(二))."""
    principal.require(Role.unit_head, Role.leader, action="签署三级结案终审表")
    ticket, record, step = _turn(session, ticket_id, principal)
    signatures = [*record.detail.get("signatures", []),
                  {"step": step[0], "title": step[1], "by": principal.name, "at": now.isoformat(), "note": note}]
    record.detail = {**record.detail, "signatures": signatures}
    add_event(session, ticket=ticket, actor=principal.name, kind="final_review_signed", at=now, step=step[0],
              title=step[1], approval_id=record.id, note=note or None)
    if len(signatures) == len(STEPS):
        record.state, record.decided_by, record.decided_at = "approved", principal.name, now
        add_event(session, ticket=ticket, actor=principal.name, kind="final_review_completed", at=now,
                  approval_id=record.id, article=A_FINAL)
    ticket_changed(session, ticket=ticket, now=now, reason="final_review")
    return []


def send_back_final_review(
    session: Session, *, ticket_id: int, principal: Principal, now: datetime, reason: str
) -> list[int]:
    """The signer whose turn it is refuses the form; the unit writes a new one."""
    principal.require(Role.unit_head, Role.leader, action="退回三级结案终审表")
    ticket, record, step = _turn(session, ticket_id, principal)
    record.state, record.decided_by, record.decided_at, record.note = "rejected", principal.name, now, reason
    add_event(session, ticket=ticket, actor=principal.name, kind="final_review_sent_back", at=now, step=step[0],
              reason=reason, approval_id=record.id)
    return []


def check_before_approval(session: Session, *, ticket: TicketRecord, principal: Principal) -> None:
    """What the leader's approval of the reply needs from the closing records, per the bureau's regulation."""
    notice = ticket.closing_notice or {}
    if notice.get("exempt") and notice.get("by") == principal.name:
        raise Forbidden("特殊事项免予通报须由他人审批（四眼原则）")
    profile = runtime_for(session).sla.profile
    if profile in NOTICE_PROFILES and notice.get("cycle") != ticket.reopen_count + 1:
        raise DomainError(f"须先记录办结通报：已向反映人通报结果及其意见，或特殊事项及理由（{A_NOTICE}）",
                          code="notice_required", status=422)
    if profile in FINAL_PROFILES:
        if ticket.reasonable not in REASONABLE:
            raise DomainError(f"须先认定诉求合理或不合理（{A_FINAL}）",
                              code="reasonable_required", status=422)
        if ticket.reasonable == "unreasonable" and dissatisfied(ticket):
            form = final_review(session, ticket=ticket)
            this_cycle = form is not None and form.detail.get("cycle") == ticket.reopen_count + 1
            if form is None or form.state != "approved" or not this_cycle:  # a 重办 needs its own form
                raise DomainError(f"反映人不满意且诉求不合理：须先经三级结案终审表签字（{A_FINAL}）",
                                  code="final_review_required",
                                  status=422)
