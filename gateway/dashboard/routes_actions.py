"""The workflow forms of the ticket page. Each calls the same use case as the JSON API, in one
transaction, rings the worker for the outbox rows after commit, and redirects back with a message.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Form, Request
from fastapi.responses import Response
from pydantic import ValidationError

from gateway.container import Container
from gateway.dashboard.render import back, login_of
from gateway.dashboard.security import DASHBOARD
from gateway.errors import DomainError
from gateway.schema import SHANGHAI, ReplyDraft
from gateway.services import actions, decisions, oversight, replies, suspension
from gateway.settings import Role
from gateway.validation_zh import summary

router = APIRouter(prefix=f"{DASHBOARD}/tickets/{{ticket_id}}")
Reason = Annotated[str, Form(min_length=2, max_length=2000)]
Note = Annotated[str, Form(max_length=2000)]


def perform(request: Request, ticket_id: int, use_case: Callable[..., list[int]], done: str, **kwargs: Any) -> Response:
    """Run one use case as the signed-in user; ring for its outbox rows after the commit."""
    principal = login_of(request).principal
    container: Container = request.app.state.container
    where = f"{DASHBOARD}/tickets/{ticket_id}"
    try:
        with container.commit_then_ring() as (session, ring):
            ring.outbox(use_case(session, ticket_id=ticket_id, principal=principal, now=container.clock(), **kwargs))
    except DomainError as exc:
        return back(request, where, error=str(exc))
    return back(request, where, ok=done)


@router.post("/sign-off")
def sign_off(ticket_id: int, request: Request) -> Response:
    """签收."""
    return perform(request, ticket_id, actions.sign_off, "已签收，签收回执将回传平台")


@router.post("/return")
def return_ticket(ticket_id: int, request: Request, reason: Reason) -> Response:
    """退回 with a reason."""
    return perform(request, ticket_id, actions.request_return, "已提交退回申请", reason=reason)


@router.post("/dispatch")
def dispatch(ticket_id: int, request: Request, unit: Annotated[str, Form(min_length=1, max_length=100)]) -> Response:
    """派单 (or 拟派, waiting for the leader, under the "before" policy)."""
    mode = request.app.state.container.settings.dashboard.dispatch_approval
    proposal = mode == "before" and not login_of(request).principal.has(Role.leader)
    done = f"已拟派至{unit}，待分管领导审批后生效（000 二）" if proposal else f"已派单至{unit}"
    return perform(request, ticket_id, actions.dispatch, done, unit=unit, approval=mode)


@router.post("/dispatch/approve")
def approve_dispatch(ticket_id: int, request: Request, unit: Annotated[str, Form(max_length=100)] = "",
                     note: Note = "") -> Response:
    """批准派单, or 改派 to another unit."""
    return perform(request, ticket_id, decisions.approve_dispatch, "已批准派单", unit=unit or None, note=note)


@router.post("/dispatch/reject")
def reject_dispatch(ticket_id: int, request: Request, reason: Reason) -> Response:
    """驳回派单建议."""
    return perform(request, ticket_id, decisions.reject_dispatch, "已驳回派单建议", reason=reason)


@router.post("/response")
def respond(ticket_id: int, request: Request, note: Note = "已与诉求人取得联系",
            contact_phone: Annotated[str, Form(max_length=32)] = "",
            how: Annotated[Literal["contact", "intervention"], Form()] = "contact") -> Response:
    """先行联系 or 介入处置: what meets the 2-hour response (002 四(二))."""
    done = "已记录介入处置" if how == "intervention" else "已记录先行联系"
    return perform(request, ticket_id, actions.record_response, done, note=note or "已与诉求人取得联系",
                   contact_phone=contact_phone, how=how)


@router.post("/progress")
def progress(ticket_id: int, request: Request, note: Annotated[str, Form(min_length=1, max_length=2000)]) -> Response:
    """阶段反馈."""
    return perform(request, ticket_id, actions.report_progress, "已提交阶段反馈", note=note)


@router.post("/reply")
def draft_reply(
    ticket_id: int, request: Request,
    is_true: Annotated[str, Form()], investigation: Annotated[str, Form(max_length=4000)],
    disposition: Annotated[str, Form(max_length=4000)], citizen_opinion: Annotated[str, Form(max_length=1000)],
    resolved: Annotated[str, Form()] = "", public_reply: Annotated[str, Form(max_length=4000)] = "",
    contacted: Annotated[str, Form(pattern="^(|yes|no)$")] = "",
    responsibility: Annotated[str, Form(max_length=2000)] = "",
    rectification: Annotated[str, Form(max_length=2000)] = "",
    evidence: Annotated[list[int] | None, Form()] = None,
) -> Response:
    """起草答复 with the four required parts, the platform's own (12389: 责任认定, 整改情况) and the evidence."""
    try:
        draft = ReplyDraft.model_validate({
            "is_true": is_true, "investigation": investigation, "disposition": disposition,
            "citizen_opinion": citizen_opinion, "resolved": resolved or None, "public_reply": public_reply,
            "contacted": {"yes": True, "no": False}.get(contacted),
            "responsibility": responsibility or None, "rectification": rectification or None})
    except ValidationError as exc:
        return back(request, f"{DASHBOARD}/tickets/{ticket_id}", error=f"答复内容不完整或有误：{summary(exc.errors())}")
    review = request.app.state.container.settings.dashboard.unit_head_review
    done = "答复已保存，等待部门负责人审核" if review else "答复已保存，等待分管领导审批"
    return perform(request, ticket_id, actions.draft_reply, done, draft=draft, evidence_ids=evidence or [],
                   review=review)


@router.post("/reply/review")
def review_reply(ticket_id: int, request: Request, note: Note = "") -> Response:
    """部门负责人审核 (002 三(二)): the draft goes on to the leader."""
    return perform(request, ticket_id, replies.review_reply, "已审核，答复报分管领导审批", note=note)


@router.post("/reply/review/send-back")
def review_send_back(ticket_id: int, request: Request, reason: Reason) -> Response:
    """部门负责人退回修改."""
    return perform(request, ticket_id, replies.send_back_review, "已退回承办民警修改", reason=reason)


@router.post("/reply/approve")
def approve_reply(ticket_id: int, request: Request) -> Response:
    """领导审批答复: only now is the reply queued to the platform."""
    review = request.app.state.container.settings.dashboard.unit_head_review
    return perform(request, ticket_id, actions.approve_reply, "已审批，答复将回传平台", review=review)


@router.post("/reply/send-back")
def send_back(ticket_id: int, request: Request, reason: Reason) -> Response:
    """退回修改."""
    return perform(request, ticket_id, actions.send_back_reply, "已退回承办单位修改", reason=reason)


@router.post("/extension")
def extension(ticket_id: int, request: Request, days: Annotated[int, Form(ge=1, le=5)], reason: Reason,
              report: Annotated[str, Form(max_length=2000)] = "") -> Response:
    """申请延期 (checked when asked: a day ahead, 12389's written progress report; a unit's waits for the leader)."""
    return perform(request, ticket_id, actions.request_extension, "延期申请已提交", days=days, reason=reason,
                   report=report)


@router.post("/supervise")
def supervise(ticket_id: int, request: Request, order: Annotated[Literal["督办", "催办"], Form()],
              due_at: Annotated[str, Form(max_length=40)], note: Reason) -> Response:
    """督办 / 催办 with a deadline (leader/supervisor); the form's local time is Asia/Shanghai."""
    try:
        moment = datetime.fromisoformat(due_at)
    except ValueError:
        return back(request, f"{DASHBOARD}/tickets/{ticket_id}", error=f"期限格式不正确：{due_at}")
    moment = moment if moment.tzinfo is not None else moment.replace(tzinfo=SHANGHAI)
    return perform(request, ticket_id, oversight.issue_order, f"已下达{order}", order=order, due_at=moment, note=note)


@router.post("/complex")
def mark_complex(ticket_id: int, request: Request, reason: Reason,
                 complex: Annotated[str, Form()] = "true") -> Response:
    """认定 (or withdraw) 复杂问题."""
    flag = complex == "true"
    return perform(request, ticket_id, oversight.mark_complex, "已认定为复杂问题" if flag else "已取消复杂问题认定",
                   complex_=flag, reason=reason)


@router.post("/plan")
def plan(ticket_id: int, request: Request, plan: Annotated[str, Form(min_length=5, max_length=4000)]) -> Response:
    """提出解决方案 for a complex ticket (137)."""
    return perform(request, ticket_id, oversight.submit_plan, "解决方案已提交并报送平台", plan=plan)


@router.post("/extension/approve")
def approve_extension(ticket_id: int, request: Request, note: Note = "") -> Response:
    """批准延期: the request goes to the platform."""
    return perform(request, ticket_id, decisions.approve_extension, "已批准延期，申请将报送平台", note=note)


@router.post("/extension/reject")
def reject_extension(ticket_id: int, request: Request, reason: Reason) -> Response:
    """驳回延期."""
    return perform(request, ticket_id, decisions.reject_extension, "已驳回延期申请", reason=reason)


@router.post("/rework")
def rework(ticket_id: int, request: Request, reason: Reason) -> Response:
    """重办 after an unsatisfied callback."""
    return perform(request, ticket_id, decisions.mark_rework, "已标记重办，工单退回承办单位", reason=reason)


@router.post("/suspend")
def suspend(
    ticket_id: int, request: Request, reason_code: Annotated[int, Form(ge=1, le=8)],
    expected_days: Annotated[int, Form(ge=1, le=3650)], chief: Annotated[str, Form(max_length=100)],
    note: Note = "",
) -> Response:
    """延期挂单 (leader, with the bureau chief's signature): the resolution clock stops."""
    return perform(request, ticket_id, suspension.suspend, "已挂单，办结时限暂停计算", reason_code=reason_code,
                   expected_days=expected_days, chief=chief, note=note)


@router.post("/suspend/request")
def request_suspension(
    ticket_id: int, request: Request, reason_code: Annotated[int, Form(ge=1, le=8)],
    expected_days: Annotated[int, Form(ge=1, le=3650)], note: Note = "",
) -> Response:
    """申请延期挂单 (the unit, before the deadline; 002 四(六)): waits for a leader."""
    return perform(request, ticket_id, suspension.request_suspension, "挂单申请已提交，待分管领导审批",
                   reason_code=reason_code, expected_days=expected_days, note=note)


@router.post("/suspend/approve")
def approve_suspension(ticket_id: int, request: Request, chief: Annotated[str, Form(max_length=100)],
                       note: Note = "") -> Response:
    """批准挂单 with the bureau chief's signature: the resolution clock stops."""
    return perform(request, ticket_id, suspension.approve_suspension, "已批准挂单，办结时限暂停计算", chief=chief,
                   note=note)


@router.post("/suspend/reject")
def reject_suspension(ticket_id: int, request: Request, reason: Reason) -> Response:
    """驳回挂单申请."""
    return perform(request, ticket_id, suspension.reject_suspension, "已驳回挂单申请", reason=reason)


@router.post("/resume")
def resume(ticket_id: int, request: Request, note: Annotated[str, Form(min_length=2, max_length=2000)]) -> Response:
    """解除挂单: the resolution clock runs again, its deadline moved by the suspended time."""
    return perform(request, ticket_id, suspension.resume, "已解除挂单，办结时限顺延挂单天数", note=note)
