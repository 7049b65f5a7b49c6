"""``/api/v1``: the approval workflow (dispatch, extension), 重办, evidence files and the unit directory.

The same use cases the dashboard's forms call; ``tickets._act`` runs each in one transaction and rings
the worker for its outbox rows after commit.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, File, Form, UploadFile
from pydantic import BaseModel, Field
from sqlalchemy import select

from gateway.api.deps import ContainerDep, PrincipalDep, SessionDep
from gateway.api.errors import WRITE
from gateway.api.params import RowId
from gateway.api.routers.tickets import ReasonBody, _act, _visible
from gateway.api.views import local
from gateway.errors import Forbidden, NotFound
from gateway.services import decisions, evidence, suspension
from gateway.settings import Role
from gateway.store.db import transaction
from gateway.store.tables import TicketRecord
from gateway.store.tables_dashboard import ApprovalRecord, EvidenceRecord
from gateway.store.tickets import get_ticket
from gateway.store.units import list_units

router = APIRouter(prefix="/api/v1", tags=["workflow"], responses=WRITE)


class DispatchApproval(BaseModel):
    """批准派单; ``unit`` redirects it to another unit (改派)."""

    unit: str | None = Field(default=None, max_length=100)
    note: str = Field(default="", max_length=2000)


class SuspensionRequest(BaseModel):
    """申请延期挂单 (002 四(六)): one of the eight situations, more than 90 days of handling."""

    reason_code: int = Field(ge=1, le=8, description="规定的八种情形之一 (1–8)")
    expected_days: int = Field(ge=1, le=3650, description="预计还需办理的天数 (须超过 90)")
    note: str = Field(default="", max_length=2000, description="情况说明")


class SuspensionApproval(BaseModel):
    """批准挂单: the bureau chief who signed the 挂单表."""

    chief: str = Field(min_length=1, max_length=100, description="签字的主要领导")
    note: str = Field(default="", max_length=2000)


class Note(BaseModel):
    """An optional remark of the approver."""

    note: str = Field(default="", max_length=2000)


def evidence_view(record: EvidenceRecord) -> dict[str, Any]:
    """One evidence file's metadata."""
    return {"id": record.id, "ticket_id": record.ticket_id, "name": record.name, "type": record.kind,
            "mime": record.mime, "size": record.size, "sha256": record.sha256, "note": record.note,
            "uploaded_by": record.uploaded_by, "uploaded_at": local(record.uploaded_at), "in_reply": record.in_reply}


@router.post("/tickets/{ticket_id}/dispatch/approve", summary="批准派单 / 改派")
def approve_dispatch(ticket_id: RowId, body: DispatchApproval, principal: PrincipalDep,
                     container: ContainerDep) -> dict[str, Any]:
    """The leader approves a pending dispatch, optionally to another unit (leader)."""
    return _act(container, principal, ticket_id, decisions.approve_dispatch, unit=body.unit, note=body.note)


@router.post("/tickets/{ticket_id}/dispatch/reject", summary="驳回派单建议")
def reject_dispatch(ticket_id: RowId, body: ReasonBody, principal: PrincipalDep,
                    container: ContainerDep) -> dict[str, Any]:
    """The leader rejects a dispatch proposal that has not taken effect (leader)."""
    return _act(container, principal, ticket_id, decisions.reject_dispatch, reason=body.reason)


@router.post("/tickets/{ticket_id}/extension/approve", summary="批准延期")
def approve_extension(ticket_id: RowId, body: Note, principal: PrincipalDep, container: ContainerDep) -> dict[str, Any]:
    """The leader approves a unit's extension request; it goes to the platform (leader)."""
    return _act(container, principal, ticket_id, decisions.approve_extension, note=body.note)


@router.post("/tickets/{ticket_id}/extension/reject", summary="驳回延期")
def reject_extension(ticket_id: RowId, body: ReasonBody, principal: PrincipalDep,
                     container: ContainerDep) -> dict[str, Any]:
    """The leader refuses a unit's extension request (leader)."""
    return _act(container, principal, ticket_id, decisions.reject_extension, reason=body.reason)


@router.post("/tickets/{ticket_id}/suspend/request", summary="申请延期挂单")
def request_suspension(ticket_id: RowId, body: SuspensionRequest, principal: PrincipalDep,
                       container: ContainerDep) -> dict[str, Any]:
    """The unit asks, before the resolution deadline, to suspend a matter needing > 3 months (unit/duty)."""
    return _act(container, principal, ticket_id, suspension.request_suspension, reason_code=body.reason_code,
                expected_days=body.expected_days, note=body.note)


@router.post("/tickets/{ticket_id}/suspend/approve", summary="批准延期挂单")
def approve_suspension(ticket_id: RowId, body: SuspensionApproval, principal: PrincipalDep,
                       container: ContainerDep) -> dict[str, Any]:
    """A leader other than the asker approves with the chief's signature; the resolution clock stops (leader)."""
    return _act(container, principal, ticket_id, suspension.approve_suspension, chief=body.chief, note=body.note)


@router.post("/tickets/{ticket_id}/suspend/reject", summary="驳回延期挂单")
def reject_suspension(ticket_id: RowId, body: ReasonBody, principal: PrincipalDep,
                      container: ContainerDep) -> dict[str, Any]:
    """The leader refuses a unit's suspension request (leader)."""
    return _act(container, principal, ticket_id, suspension.reject_suspension, reason=body.reason)


@router.post("/tickets/{ticket_id}/rework", summary="重办")
def rework(ticket_id: RowId, body: ReasonBody, principal: PrincipalDep, container: ContainerDep) -> dict[str, Any]:
    """Send an answered ticket with an unsatisfied callback back to its unit (duty/leader)."""
    return _act(container, principal, ticket_id, decisions.mark_rework, reason=body.reason)


@router.post("/tickets/{ticket_id}/evidence", summary="上传证据")
def upload_evidence(ticket_id: RowId, file: Annotated[UploadFile, File()], principal: PrincipalDep,
                    container: ContainerDep, note: Annotated[str, Form(max_length=500)] = "") -> dict[str, Any]:
    """Keep an evidence file, checked by content and size (unit/duty)."""
    settings = container.settings.dashboard
    with transaction(container.sessions) as session:
        ticket = get_ticket(session, ticket_id, for_update=True)
        if (unit := _visible(principal)) is not None and ticket.unit != unit:
            raise Forbidden("不是本单位承办的工单")  # as the actions answer
        record = evidence.store_upload(
            session, ticket=ticket, stream=file.file, filename=file.filename or "", note=note, principal=principal,
            now=container.clock(), directory=evidence.evidence_root(container.settings.data_dir),
            max_bytes=settings.upload_max_bytes, allowed=settings.upload_types)
        return evidence_view(record)


@router.get("/tickets/{ticket_id}/evidence", summary="证据列表")
def list_evidence(ticket_id: RowId, session: SessionDep, principal: PrincipalDep) -> dict[str, Any]:
    """A ticket's evidence files (metadata)."""
    ticket = get_ticket(session, ticket_id)
    if (unit := _visible(principal)) is not None and ticket.unit != unit:
        raise NotFound("工单不存在")
    return {"items": [evidence_view(r) for r in evidence.list_evidence(session, ticket_id=ticket_id)]}


@router.get("/approvals", summary="待审批事项")
def approvals(session: SessionDep, principal: PrincipalDep,
              state: Literal["pending", "approved", "rejected", "cancelled"] = "pending") -> dict[str, Any]:
    """Dispatch, extension, suspension and reply-review requests by state, oldest first (leader/duty/supervisor;
    a unit head sees its own unit's)."""
    principal.require(Role.leader, Role.duty, Role.supervisor, Role.unit_head, action="查看待审批事项")
    stmt = select(ApprovalRecord).where(ApprovalRecord.state == state).order_by(ApprovalRecord.id).limit(500)
    if (scope := principal.unit_scope()) is not None:
        stmt = stmt.join(TicketRecord, TicketRecord.id == ApprovalRecord.ticket_id).where(TicketRecord.unit == scope)
    return {"items": [
        {"id": a.id, "ticket_id": a.ticket_id, "kind": a.kind, "state": a.state, "requested_by": a.requested_by,
         "requested_at": local(a.requested_at), "detail": a.detail, "decided_by": a.decided_by,
         "decided_at": local(a.decided_at), "note": a.note}
        for a in session.scalars(stmt)
    ]}


@router.get("/units", summary="承办单位名录")
def units(session: SessionDep, principal: PrincipalDep) -> dict[str, Any]:
    """The active units a ticket can be dispatched to."""
    return {"items": [{"id": u.id, "name": u.name, "kind": u.kind, "phone": u.phone, "area": u.area}
                      for u in list_units(session)]}
