"""结案管理: the closing processes on the dashboard (issue 16) — 办结通报 (000 沟通通报 三), 诉求合理/不合理 and
the printable 三级结案终审表 (002 三(二)), 终结办理 (002 四(七)), 不满意件甄别 (000) — the ticket page's card, its
forms (the same use cases as the JSON API) and the 结案管理 page listing what waits.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy.orm import Session

from gateway.container import Container
from gateway.dashboard.render import login_of, page
from gateway.dashboard.routes_actions import Note, Reason, perform
from gateway.dashboard.security import DASHBOARD
from gateway.errors import NotFound
from gateway.principal import Principal
from gateway.services import closing, screening, termination
from gateway.services.closing_views import final_review_view, process_lists
from gateway.settings import Role
from gateway.store.tables import TicketRecord
from gateway.store.tickets import get_ticket

router = APIRouter(prefix=DASHBOARD)
TICKET = "/tickets/{ticket_id}"
Text = Annotated[str, Form(min_length=5, max_length=4000)]


def closing_actions(session: Session, principal: Principal, ticket: TicketRecord) -> dict[str, Any]:
    """The closing card of the ticket page: what is recorded and the forms this person may use now."""
    me, has = principal.name, principal.has
    own = principal.unit is not None and ticket.unit == principal.unit
    in_scope = own or not has(Role.unit, Role.unit_head) or has(Role.duty, Role.leader)
    # The unit's work, and so what closes it, begins once the dispatch took effect (000 二): nothing here
    # for a ticket only signed off, whose dispatch may still wait for the leader.
    open_ = (ticket.status in closing.AFTER_HANDLING and ticket.status != closing.T.signed.value
             and ticket.terminated_at is None)
    forms: set[str] = set()
    if open_ and in_scope and has(Role.unit, Role.duty):
        forms.add("notice")
    if open_ and in_scope and has(Role.unit, Role.unit_head, Role.duty, Role.leader):
        forms.add("reasonable")
    form = closing.final_review(session, ticket=ticket)
    live = form is not None and form.state in ("pending", "approved") and \
        form.detail.get("cycle") == ticket.reopen_count + 1
    if (open_ and in_scope and has(Role.unit, Role.duty) and not live and ticket.reasonable == "unreasonable"
            and closing.dissatisfied(ticket)):
        forms.add("final-review")
    step = closing.next_step(form) if form is not None else None
    if form is not None and step is not None:
        signers = {form.requested_by} | {s["by"] for s in form.detail.get("signatures") or []}
        head_turn = step[0] == "unit_head" and has(Role.unit_head) and own
        if me not in signers and (head_turn or (step[0] != "unit_head" and has(Role.leader))):
            forms.add("final-review-sign")
    asked = termination.pending(session, ticket.id)
    if open_ and in_scope and asked is None and has(Role.unit, Role.duty):
        forms.add("termination")
    if asked is not None and has(Role.leader) and asked.requested_by != me:
        forms.add("termination-decide")
    current = screening.current(session, ticket.id)
    stage = None if current is None else current.detail.get("stage")
    if current is None and own and has(Role.unit) and closing.dissatisfied(ticket):
        forms.add("screening")
    people = set() if current is None else {current.requested_by} | {
        str(current.detail.get(k) or "") for k in ("proposed_by", "assigned_by", "screened_by")}
    for at, role, name in (("applied", Role.duty, "screening-propose"), ("proposed", Role.leader, "screening-assign"),
                           ("assigned", Role.supervisor, "screening-result"),
                           ("screened", Role.leader, "screening-decide"), ("decided", Role.duty, "screening-answer")):
        if stage == at and has(role) and (me not in people or name == "screening-answer"):
            forms.add(name)
    return {"forms": forms, "final_review": final_review_view(session, ticket), "termination": asked,
            "screening": current, "stage_label": screening.STAGES.get(str(stage)) if stage else None,
            "termination_reasons": termination.REASONS, "causes": screening.CAUSES, "bodies": screening.BODIES,
            "how": closing.HOW, "reasonable_labels": closing.REASONABLE}


@router.get("/closing", response_class=HTMLResponse)
def closing_page(request: Request) -> Response:
    """结案管理: requests waiting, tickets answered without 合理性 or 办结通报, screening outcomes (scoped)."""
    principal = login_of(request).principal
    container: Container = request.app.state.container
    with container.sessions() as session:
        lists = process_lists(session, principal)
    return page(request, "closing.html", active="closing", lists=lists, stages=screening.STAGES)


@router.get(TICKET + "/final-review/print", response_class=HTMLResponse)
def print_final_review(ticket_id: int, request: Request) -> Response:
    """The 三级结案终审表 as a printable page (browser print / save as PDF), 002 三(二)."""
    principal = login_of(request).principal
    container: Container = request.app.state.container
    with container.sessions() as session:
        ticket = get_ticket(session, ticket_id)
        scope = principal.unit_scope()
        if scope is not None and ticket.unit != scope:
            raise NotFound("工单不存在")
        form = final_review_view(session, ticket)
    if form is None:
        raise NotFound("本工单没有三级结案终审表")
    return page(request, "final_review_print.html", active="queue", f=form)


@router.post(TICKET + "/closing-notice")
def record_notice(ticket_id: int, request: Request, how: Annotated[str, Form(max_length=16)] = "",
                  told: Note = "", opinion: Note = "", satisfied: Annotated[str, Form(max_length=8)] = "",
                  rights_told: Annotated[str, Form(max_length=8)] = "", exempt_reason: Note = "") -> Response:
    """办结通报 (000 沟通通报 三)."""
    verdict = {"yes": True, "no": False}.get(satisfied)
    return perform(request, ticket_id, closing.record_notice, "已记录办结通报", how=how, told=told, opinion=opinion,
                   satisfied=verdict, rights_told=bool(rights_told), exempt_reason=exempt_reason)


@router.post(TICKET + "/reasonable")
def record_reasonable(ticket_id: int, request: Request, value: Annotated[str, Form(max_length=16)],
                      note: Note = "") -> Response:
    """诉求合理/不合理 (002 三(二))."""
    return perform(request, ticket_id, closing.record_reasonable, "已认定诉求是否合理", value=value, note=note)


@router.post(TICKET + "/final-review")
def open_final_review(ticket_id: int, request: Request, explanation: Text) -> Response:
    """填写三级结案终审表."""
    return perform(request, ticket_id, closing.open_final_review, "已填写三级结案终审表，待部门负责人审核",
                   explanation=explanation)


@router.post(TICKET + "/final-review/sign")
def sign_final_review(ticket_id: int, request: Request, note: Note = "") -> Response:
    """三级结案终审表签字."""
    return perform(request, ticket_id, closing.sign_final_review, "已签字", note=note)


@router.post(TICKET + "/final-review/send-back")
def send_back_final_review(ticket_id: int, request: Request, reason: Reason) -> Response:
    """退回三级结案终审表."""
    return perform(request, ticket_id, closing.send_back_final_review, "已退回三级结案终审表", reason=reason)


@router.post(TICKET + "/termination")
def request_termination(ticket_id: int, request: Request, reason_code: Annotated[int, Form(ge=1, le=9)],
                        explanation: Text, visit: Text,
                        evidence_ids: Annotated[list[int] | None, Form(max_length=50)] = None) -> Response:
    """申请终结办理 (002 四(七))."""
    return perform(request, ticket_id, termination.request_termination, "已提交终结办理申请，待分管领导审批",
                   reason_code=reason_code, explanation=explanation, visit=visit, evidence_ids=evidence_ids or [])


@router.post(TICKET + "/termination/approve")
def approve_termination(ticket_id: int, request: Request, chief: Annotated[str, Form(min_length=1, max_length=100)],
                        note: Note = "") -> Response:
    """批准终结办理."""
    return perform(request, ticket_id, termination.approve_termination, "已批准终结办理", chief=chief, note=note)


@router.post(TICKET + "/termination/reject")
def reject_termination(ticket_id: int, request: Request, reason: Reason) -> Response:
    """驳回终结办理."""
    return perform(request, ticket_id, termination.reject_termination, "已驳回终结办理申请", reason=reason)


@router.post(TICKET + "/screening")
def apply_screening(ticket_id: int, request: Request, reason: Reason) -> Response:
    """申请不满意件甄别."""
    return perform(request, ticket_id, screening.apply, "已申请甄别", reason=reason)


@router.post(TICKET + "/screening/propose")
def propose_screening(ticket_id: int, request: Request, body: Annotated[str, Form(max_length=16)],
                      note: Note = "") -> Response:
    """甄别审批表."""
    return perform(request, ticket_id, screening.propose, "已填写甄别审批表，待分管领导签批", body=body, note=note)


@router.post(TICKET + "/screening/assign")
def assign_screening(ticket_id: int, request: Request, note: Note = "") -> Response:
    """签批甄别."""
    return perform(request, ticket_id, screening.assign, "已签批，交办实施甄别", note=note)


@router.post(TICKET + "/screening/result")
def screening_result(ticket_id: int, request: Request, cause: Annotated[int, Form(ge=1, le=4)],
                     findings: Text) -> Response:
    """甄别结果表."""
    return perform(request, ticket_id, screening.record_result, "已填写甄别结果表", cause=cause, findings=findings)


@router.post(TICKET + "/screening/decide")
def decide_screening(ticket_id: int, request: Request, note: Note = "") -> Response:
    """签字确认甄别结果."""
    return perform(request, ticket_id, screening.decide, "已签字确认甄别结果", note=note)


@router.post(TICKET + "/screening/answer")
def answer_screening(ticket_id: int, request: Request, text: Text) -> Response:
    """书面答复."""
    return perform(request, ticket_id, screening.answer, "已书面答复", text=text)


@router.post(TICKET + "/screening/reject")
def reject_screening(ticket_id: int, request: Request, reason: Reason) -> Response:
    """驳回甄别."""
    return perform(request, ticket_id, screening.reject, "已驳回甄别", reason=reason)
