"""``/api/v1``: the closing processes of issue 16 — 办结通报 (000 沟通通报 三), 诉求合理/不合理 and the
三级结案终审表 (002 三(二)), 终结办理 (002 四(七)), 不满意件甄别 (000) — and the 日清月结年归档 archive
(000 统一派单 六). The same use cases the dashboard's forms call, each in one transaction (``tickets._act``).
"""

from __future__ import annotations

from datetime import date
from typing import Any, Literal

from fastapi import APIRouter, Path, Query
from fastapi.responses import Response
from pydantic import BaseModel, Field

from gateway.api.deps import ContainerDep, PrincipalDep, SessionDep
from gateway.api.errors import WRITE
from gateway.api.params import RowId
from gateway.api.routers.tickets import ReasonBody, _act, _visible
from gateway.errors import NotFound
from gateway.schema import SHANGHAI
from gateway.services import archive, closing, screening, termination
from gateway.services.closing_views import final_review_view, process_lists
from gateway.store.db import transaction
from gateway.store.tickets import get_ticket

router = APIRouter(prefix="/api/v1", tags=["processes"], responses=WRITE)


class NoticeBody(BaseModel):
    """办结通报: how the citizen was told the result, their opinion — or a 特殊事项 with its reason."""

    how: Literal["", "phone", "visit", "meeting", "sms", "letter"] = ""
    told: str = Field(default="", max_length=2000, description="通报的办理结果")
    opinion: str = Field(default="", max_length=2000, description="反映人的意见")
    satisfied: bool | None = Field(default=None, description="反映人对办理结果是否满意")
    rights_told: bool = Field(default=False, description="已告知应享有的权利、应履行的义务 (000 沟通通报 四)")
    exempt_reason: str = Field(default="", max_length=2000, description="特殊事项除外: why the citizen is not told")


class ReasonableBody(BaseModel):
    """诉求合理/不合理 (002 三(二))."""

    value: Literal["reasonable", "unreasonable"]
    note: str = Field(default="", max_length=2000)


class ExplanationBody(BaseModel):
    """三级结案终审表: the unit's 情况说明."""

    explanation: str = Field(min_length=10, max_length=4000)


class NoteBody(BaseModel):
    """An optional remark of the signer."""

    note: str = Field(default="", max_length=2000)


class TerminationBody(BaseModel):
    """终结办理申请 (002 四(七))."""

    reason_code: int = Field(ge=1, le=9, description="one of the nine listed situations")
    explanation: str = Field(min_length=10, max_length=4000)
    visit: str = Field(min_length=5, max_length=2000, description="三上门: the visit to explain (主动上门劝解)")
    evidence_ids: list[int] = Field(min_length=1, max_length=50, description="evidence files of this ticket")


class TerminationApproval(BaseModel):
    """批准终结办理 with the bureau chief's signature (主要领导签字)."""

    chief: str = Field(min_length=1, max_length=100)
    note: str = Field(default="", max_length=2000)


class ProposalBody(BaseModel):
    """甄别审批表: who screens."""

    body: Literal["discipline", "supervision", "legal", "office"]
    note: str = Field(default="", max_length=2000)


class ResultBody(BaseModel):
    """不满意件甄别结果表."""

    cause: int = Field(ge=1, le=4)
    findings: str = Field(min_length=10, max_length=4000)


class AnswerBody(BaseModel):
    """书面答复 to the unit and the officer."""

    text: str = Field(min_length=5, max_length=4000)


@router.post("/tickets/{ticket_id}/closing-notice", summary="办结通报")
def closing_notice(ticket_id: RowId, body: NoticeBody, principal: PrincipalDep,
                   container: ContainerDep) -> dict[str, Any]:
    """The unit told the citizen the result and heard the opinion, or a 特殊事项 (unit/duty; 000 沟通通报 三)."""
    return _act(container, principal, ticket_id, closing.record_notice, **body.model_dump())


@router.post("/tickets/{ticket_id}/reasonable", summary="认定诉求合理/不合理")
def reasonable(ticket_id: RowId, body: ReasonableBody, principal: PrincipalDep,
               container: ContainerDep) -> dict[str, Any]:
    """Record 诉求合理 or 诉求不合理 (unit/unit_head/duty/leader; 002 三(二))."""
    return _act(container, principal, ticket_id, closing.record_reasonable, value=body.value, note=body.note)


@router.get("/tickets/{ticket_id}/final-review", summary="三级结案终审表")
def final_review(ticket_id: RowId, session: SessionDep, principal: PrincipalDep) -> dict[str, Any]:
    """The ticket's 三级结案终审表 with its signatures (002 三(二)); 404 when it has none."""
    ticket = get_ticket(session, ticket_id)
    if (unit := _visible(principal)) is not None and ticket.unit != unit:
        raise NotFound("工单不存在")
    view = final_review_view(session, ticket)
    if view is None:
        raise NotFound("本工单没有三级结案终审表")
    return view


@router.post("/tickets/{ticket_id}/final-review", summary="填写三级结案终审表")
def open_final_review(ticket_id: RowId, body: ExplanationBody, principal: PrincipalDep,
                      container: ContainerDep) -> dict[str, Any]:
    """The unit's explanation for an unreasonable request the citizen rejects (unit/duty)."""
    return _act(container, principal, ticket_id, closing.open_final_review, explanation=body.explanation)


@router.post("/tickets/{ticket_id}/final-review/sign", summary="三级结案终审表签字")
def sign_final_review(ticket_id: RowId, body: NoteBody, principal: PrincipalDep,
                      container: ContainerDep) -> dict[str, Any]:
    """The next signature: 部门负责人, then 分管局领导, then 旗局主要领导 — three different people."""
    return _act(container, principal, ticket_id, closing.sign_final_review, note=body.note)


@router.post("/tickets/{ticket_id}/final-review/send-back", summary="退回三级结案终审表")
def send_back_final_review(ticket_id: RowId, body: ReasonBody, principal: PrincipalDep,
                           container: ContainerDep) -> dict[str, Any]:
    """The signer whose turn it is refuses the form."""
    return _act(container, principal, ticket_id, closing.send_back_final_review, reason=body.reason)


@router.post("/tickets/{ticket_id}/termination", summary="申请终结办理")
def request_termination(ticket_id: RowId, body: TerminationBody, principal: PrincipalDep,
                        container: ContainerDep) -> dict[str, Any]:
    """One of the nine situations of 002 四(七), the visit and evidence; waits for a leader (unit/duty)."""
    return _act(container, principal, ticket_id, termination.request_termination, **body.model_dump())


@router.post("/tickets/{ticket_id}/termination/approve", summary="批准终结办理")
def approve_termination(ticket_id: RowId, body: TerminationApproval, principal: PrincipalDep,
                        container: ContainerDep) -> dict[str, Any]:
    """A leader other than the requester, with the chief's signature; the ticket closes (leader)."""
    return _act(container, principal, ticket_id, termination.approve_termination, chief=body.chief, note=body.note)


@router.post("/tickets/{ticket_id}/termination/reject", summary="驳回终结办理")
def reject_termination(ticket_id: RowId, body: ReasonBody, principal: PrincipalDep,
                       container: ContainerDep) -> dict[str, Any]:
    """The matter stays in hand (leader)."""
    return _act(container, principal, ticket_id, termination.reject_termination, reason=body.reason)


@router.post("/tickets/{ticket_id}/screening", summary="申请不满意件甄别")
def apply_screening(ticket_id: RowId, body: ReasonBody, principal: PrincipalDep,
                    container: ContainerDep) -> dict[str, Any]:
    """The unit's officer asks for screening of an unsatisfied ticket (unit; 000 不满意件甄别 一)."""
    return _act(container, principal, ticket_id, screening.apply, reason=body.reason)


@router.post("/tickets/{ticket_id}/screening/propose", summary="填写甄别审批表")
def propose_screening(ticket_id: RowId, body: ProposalBody, principal: PrincipalDep,
                      container: ContainerDep) -> dict[str, Any]:
    """The office names who screens (duty)."""
    return _act(container, principal, ticket_id, screening.propose, body=body.body, note=body.note)


@router.post("/tickets/{ticket_id}/screening/assign", summary="签批甄别")
def assign_screening(ticket_id: RowId, body: NoteBody, principal: PrincipalDep,
                     container: ContainerDep) -> dict[str, Any]:
    """A leader hands the screening over (leader, not the applicant or proposer)."""
    return _act(container, principal, ticket_id, screening.assign, note=body.note)


@router.post("/tickets/{ticket_id}/screening/result", summary="填写甄别结果表")
def screening_result(ticket_id: RowId, body: ResultBody, principal: PrincipalDep,
                     container: ContainerDep) -> dict[str, Any]:
    """The cause in one of the four classes (supervisor)."""
    return _act(container, principal, ticket_id, screening.record_result, cause=body.cause, findings=body.findings)


@router.post("/tickets/{ticket_id}/screening/decide", summary="签字确认甄别结果")
def decide_screening(ticket_id: RowId, body: NoteBody, principal: PrincipalDep,
                     container: ContainerDep) -> dict[str, Any]:
    """A leader other than the screener signs the result; its effects apply (leader)."""
    return _act(container, principal, ticket_id, screening.decide, note=body.note)


@router.post("/tickets/{ticket_id}/screening/answer", summary="甄别书面答复")
def answer_screening(ticket_id: RowId, body: AnswerBody, principal: PrincipalDep,
                     container: ContainerDep) -> dict[str, Any]:
    """The office's written answer to the unit and the officer (duty)."""
    return _act(container, principal, ticket_id, screening.answer, text=body.text)


@router.post("/tickets/{ticket_id}/screening/reject", summary="驳回甄别")
def reject_screening(ticket_id: RowId, body: ReasonBody, principal: PrincipalDep,
                     container: ContainerDep) -> dict[str, Any]:
    """A leader declines to screen or sends the result back (leader)."""
    return _act(container, principal, ticket_id, screening.reject, reason=body.reason)


@router.get("/closing", summary="结案管理")
def closing_lists(session: SessionDep, principal: PrincipalDep) -> dict[str, Any]:
    """What the closing processes wait for, and the answered tickets still missing their records (scoped)."""
    return process_lists(session, principal)


# --- 日清月结年归档, 000 统一派单 六 ------------------------------------------------------------------------------

@router.get("/archive/daily", summary="日清")
def daily(session: SessionDep, principal: PrincipalDep, container: ContainerDep,
          day: date | None = Query(default=None, description="the day (Beijing); today by default")) -> dict[str, Any]:
    """The day's intake, what was finished, and every ticket still open at the day's end (scoped)."""
    now = container.clock()
    return archive.daily(session, principal, day=day or now.astimezone(SHANGHAI).date(), now=now)


@router.get("/archive/batches", summary="归档批次")
def batches(session: SessionDep, principal: PrincipalDep) -> dict[str, Any]:
    """The sealed months and years, each with its checksum and whether it is still intact."""
    principal.require_reader()
    return {"items": [archive.batch_view(b) for b in archive.list_batches(session)]}


@router.post("/archive/months/{month}", summary="月结")
def close_month(principal: PrincipalDep, container: ContainerDep,
                month: str = Path(pattern=r"^\d{4}-\d{2}$")) -> dict[str, Any]:
    """Seal the month's finished tickets; they leave the working queue (duty)."""
    with transaction(container.sessions) as session:
        return archive.batch_view(archive.close_month(session, principal=principal, month=month,
                                                      now=container.clock()))


@router.post("/archive/years/{year}", summary="年归档")
def archive_year(principal: PrincipalDep, container: ContainerDep,
                 year: int = Path(ge=2000, le=2999)) -> dict[str, Any]:
    """Bind the year's twelve sealed months into the yearly archive (duty)."""
    with transaction(container.sessions) as session:
        return archive.batch_view(archive.archive_year(session, principal=principal, year=year,
                                                       now=container.clock()))


@router.get("/archive/batches/{batch_id}/export", summary="下载归档数据")
def export_batch(batch_id: RowId, principal: PrincipalDep, container: ContainerDep) -> Response:
    """The sealed JSON export, byte for byte, with its SHA-256 (督察 only; audited)."""
    with transaction(container.sessions) as session:
        record = archive.export(session, principal=principal, batch_id=batch_id, now=container.clock())
        content, digest, name = record.content, record.sha256, f"archive-{record.period}-{record.key}.json"
    return Response(content.encode("utf-8"), media_type="application/json",
                    headers={"X-Content-SHA256": digest, "Content-Disposition": f'attachment; filename="{name}"'})


@router.get("/archive/search", summary="归档查询")
def search(session: SessionDep, principal: PrincipalDep,
           q: str = Query(default="", max_length=100), key: str = Query(default="", pattern=r"^(\d{4}(-\d{2})?)?$"),
           ) -> dict[str, Any]:
    """Archived tickets by text and period; summaries only, scoped like the queue."""
    return {"items": archive.search(session, principal, q=q.strip(), key=key)}
