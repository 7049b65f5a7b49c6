"""The ticket page (every field, masked per role; deadlines; write-backs; linked tickets; evidence) and
the evidence files: upload (checked by content) and download (only to who may see the ticket).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, File, Form, Request, UploadFile
from fastapi.responses import FileResponse, HTMLResponse, Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from gateway.api.routers.tickets import _detail as ticket_detail_for
from gateway.api.routers.tickets import _visible as visible_unit
from gateway.catalogue import reply_parts
from gateway.container import Container
from gateway.dashboard.render import back, login_of, page
from gateway.dashboard.routes_closing import closing_actions
from gateway.dashboard.routes_intervention import intervention_actions
from gateway.dashboard.security import DASHBOARD
from gateway.errors import DomainError, Forbidden, NotFound
from gateway.principal import Principal
from gateway.services import evidence, oversight, suspension, workflow
from gateway.services.complained import barred_units, complained_unit
from gateway.settings import Role
from gateway.sla.runtime import runtime_for
from gateway.store.db import transaction
from gateway.store.tables_dashboard import ApprovalRecord
from gateway.store.tables_sla import SlaTimerRecord
from gateway.store.tickets import get_ticket
from gateway.store.units import list_units, suggest_units

router = APIRouter(prefix=f"{DASHBOARD}/tickets")
IN_HAND = ("signed", "dispatched", "responded", "reply_drafted")


def evidence_dir(container: Container) -> Path:
    """Where evidence files are kept."""
    return evidence.evidence_root(container.settings.data_dir)


def actions_for(principal: Principal, ticket: dict[str, Any], pending: dict[str, ApprovalRecord],
                review: bool = True) -> set[str]:
    """The forms this person may use on the ticket in its state (the use cases check again when submitted).

    Unit work (先行联系, 阶段反馈, 答复, evidence, 延期, 挂单申请) appears only once a dispatch is in force, i.e. the
    ticket has its unit (000 二: a duty officer's proposal takes effect at the leader's approval); a decision
    appears only to a role that may take it and never on one's own request (四眼原则).
    """
    status, has, me = ticket["status"], principal.has, principal.name
    own = visible_unit(principal) is None or ticket.get("unit") == principal.unit
    in_force = bool(ticket.get("unit")) and status in ("dispatched", "responded", "reply_drafted")
    unit_work = own and in_force and has(Role.unit, Role.duty)
    out: set[str] = set()
    if status == "received" and has(Role.duty):
        out |= {"sign-off", "return"}
    waiting_dispatch = "dispatch" in pending
    if status in ("signed", "dispatched") and (has(Role.duty) or (has(Role.leader) and not waiting_dispatch)):
        out.add("dispatch")  # a leader facing a proposal decides it (批准 or 改派) instead
    if waiting_dispatch and has(Role.leader) and pending["dispatch"].requested_by != me:
        out.add("dispatch-approve")
        if not pending["dispatch"].detail.get("effective"):
            out.add("dispatch-reject")
    if unit_work and status == "dispatched":
        out.add("response")
    if unit_work:
        out |= {"progress", "reply", "evidence"}
    if own and in_force and "extension" not in pending and has(Role.unit, Role.duty, Role.leader):
        out.add("extension")
    if "extension" in pending and has(Role.leader) and pending["extension"].requested_by != me:
        out |= {"extension-approve", "extension-reject"}
    drafted = status == "reply_drafted"
    reviewed = bool(ticket.get("reply_reviewed_by"))
    if (drafted and has(Role.unit_head) and ticket.get("unit") and ticket.get("unit") == principal.unit
            and not reviewed and ticket.get("reply_drafted_by") != me):
        out |= {"review", "review-send-back"}  # 002 三(二): the unit head first
    if drafted and has(Role.leader):
        out.add("send-back")
        waiting = review and ticket.get("unit") and not reviewed
        if me not in (ticket.get("reply_drafted_by"), ticket.get("reply_reviewed_by")) and not waiting:
            out.add("approve")  # four eyes: never the drafter or the reviewer
    suspended, asked = bool(ticket.get("suspended_at")), suspension.SUSPENSION in pending
    if status in suspension.OPEN and not suspended:
        if unit_work and not asked:
            out.add("suspend-request")  # 002 四(六): 承办部门…提出延期处理挂单申请
        if asked and has(Role.leader) and pending[suspension.SUSPENSION].requested_by != me:
            out |= {"suspend-approve", "suspend-reject"}
        if has(Role.leader) and not asked:
            out.add("suspend")
    if suspended and has(Role.leader):
        out.add("resume")
    if status in oversight.OPEN and has(Role.leader, Role.supervisor):
        out.add("supervise")  # 督办 / 催办 with a deadline
    if status in oversight.OPEN and has(Role.duty, Role.leader):
        out.add("complex")
    if unit_work and ticket.get("complex"):
        out.add("plan")
    satisfaction = (ticket.get("callback") or {}).get("satisfaction")
    if status in ("replied", "closed") and satisfaction == "dissatisfied" and has(Role.duty, Role.leader):
        out.add("rework")
    return out


def _extras(session: Session, ticket_id: int) -> dict[str, Any]:
    ticket = get_ticket(session, ticket_id)
    barred = barred_units(session, ticket)  # 001 五: never to the unit complained about
    order = {kind: n for n, kind in enumerate(("sign_off", "dispatch", "response", "first_feedback", "plan",
                                                 "resolution", "extension", "supervision", "urge"))}
    timers = sorted(session.scalars(select(SlaTimerRecord).where(SlaTimerRecord.ticket_id == ticket_id)),
                    key=lambda t: (t.cycle, order.get(t.kind, 9), t.seq))
    approvals = session.scalars(select(ApprovalRecord).where(ApprovalRecord.ticket_id == ticket_id)
                                .order_by(ApprovalRecord.id)).all()
    pending = {kind: rec for kind in (workflow.DISPATCH, workflow.EXTENSION, suspension.SUSPENSION)
               if (rec := workflow.pending(session, ticket_id=ticket_id, kind=kind)) is not None}
    due, granted = workflow.resolution_due(session, ticket=ticket)
    rule = runtime_for(session).sla.extension
    units = [u for u in list_units(session) if u.name not in barred]
    region = ticket.region or {}
    places = [str(region.get(k) or "") for k in ("district", "subdistrict", "community")]
    if ticket.address and not ticket.address_personal:  # a 12389 reporter's own address suggests nothing
        places.append(ticket.address)
    return {"timers": timers, "approvals": approvals, "suggested": suggest_units(units, places=places),
            "place": " ".join(p for p in places[:3] if p), "pending": pending, "resolution_due": due,
            "extension_rule": rule, "report_required": ticket.platform in rule.report_platforms,
            "extensions_granted": granted, "evidence": evidence.list_evidence(session, ticket_id=ticket_id),
            "units": [u.name for u in units],
            "complained_unit": complained_unit(ticket), "barred_units": barred,
            "reply_parts": dict(reply_parts(ticket.platform))}


@router.get("/{ticket_id}", response_class=HTMLResponse)
def ticket_page(ticket_id: int, request: Request) -> Response:
    """One ticket with everything the viewer may see and the forms they may use."""
    principal = login_of(request).principal
    container: Container = request.app.state.container
    policy = container.settings.dashboard
    with container.sessions() as session:
        detail = ticket_detail_for(container, session, principal, ticket_id)  # 404 outside a unit's scope
        extras = _extras(session, ticket_id)
        extras["closing"] = closing_actions(session, principal, get_ticket(session, ticket_id))  # issue 16
        extras["intervention"] = intervention_actions(session, principal, detail)  # 提级介入 (000)
    return page(request, "ticket.html", active="queue", t=detail, **extras,
                suspension_reasons=suspension.REASONS, suspension_min_days=suspension.MIN_DAYS,
                actions=actions_for(principal, detail, extras["pending"], review=policy.unit_head_review),
                approval_mode=policy.dispatch_approval, review_mode=policy.unit_head_review, policy=policy)


@router.post("/{ticket_id}/evidence")
def upload_evidence(
    ticket_id: int, request: Request, file: Annotated[UploadFile, File()],
    note: Annotated[str, Form(max_length=500)] = "",
) -> Response:
    """Keep an evidence file (photo, recording, document), checked by content and size."""
    principal = login_of(request).principal
    container: Container = request.app.state.container
    where = f"{DASHBOARD}/tickets/{ticket_id}"
    try:
        with transaction(container.sessions) as session:
            ticket = get_ticket(session, ticket_id, for_update=True)
            if (scope := visible_unit(principal)) is not None and ticket.unit != scope:
                raise Forbidden("不是本单位承办的工单")
            record = evidence.store_upload(
                session, ticket=ticket, stream=file.file, filename=file.filename or "", note=note, principal=principal,
                now=container.clock(), directory=evidence_dir(container),
                max_bytes=container.settings.dashboard.upload_max_bytes,
                allowed=container.settings.dashboard.upload_types)
            name = record.name
    except DomainError as exc:
        return back(request, where + "#evidence", error=str(exc))
    return back(request, where + "#evidence", ok=f"已上传证据：{name}")


@router.get("/{ticket_id}/evidence/{evidence_id}")
def download_evidence(ticket_id: int, evidence_id: int, request: Request) -> Response:
    """The stored file, to someone who may see its ticket."""
    principal = login_of(request).principal
    container: Container = request.app.state.container
    with container.sessions() as session:
        ticket = get_ticket(session, ticket_id)
        _check_scope(principal, ticket.unit, ticket_id)
        record = evidence.get_evidence(session, evidence_id=evidence_id)
    if record.ticket_id != ticket_id:
        raise NotFound("证据文件不存在")
    path = evidence_dir(container) / record.stored_as
    disposition = f"attachment; filename=\"evidence-{record.id}.{record.kind}\"; filename*=UTF-8''{quote(record.name)}"
    return FileResponse(path, media_type=record.mime, headers={"Content-Disposition": disposition})


def _check_scope(principal: Principal, unit: str | None, ticket_id: int) -> None:
    scope = visible_unit(principal)
    if scope is not None and unit != scope:
        raise NotFound("工单不存在")
