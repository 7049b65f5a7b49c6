"""Mayor-specific `/_mock` routes: rows (create, list, read), platform-side events, and the fault
switches extended with maintenance pages (registered before the shared routes, so they win).

GET|POST /_mock/faults                 body: MayorFaultSwitches (partial) -> switches and counters
GET  /_mock/orders                     {"count", "items": [row…]}
GET  /_mock/orders/{lsh}               the row, plus "_platform": what the API does not show
POST /_mock/orders                     body: row fields to override -> the new row
POST /_mock/orders/{lsh}/events        {"event_type": updated|closed|callback|extension_decided,
                                        "data": {...}, "changes": {...}} -> {"order": row}
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict

from mock_platforms.common.control import CONTROL_PREFIX, control_error, json_object
from mock_platforms.mayor import workflow
from mock_platforms.mayor.maintenance import MayorFaultSwitches
from mock_platforms.mayor.mock import MayorMock


class EventRequest(BaseModel):
    """Body of POST /_mock/orders/{lsh}/events."""

    model_config = ConfigDict(extra="forbid")

    event_type: str
    data: dict[str, Any] = {}
    changes: dict[str, Any] = {}


def build_mayor_control_router(mock: MayorMock) -> APIRouter:
    """Return the row, event and fault routes of the mayor control API."""
    router = APIRouter(prefix=CONTROL_PREFIX, tags=["mock control"])

    @router.get("/faults")
    async def get_faults() -> dict[str, Any]:
        return mock.fault_snapshot()

    @router.post("/faults")
    async def set_faults(switches: MayorFaultSwitches) -> dict[str, Any]:
        mock.update_faults(switches)
        return mock.fault_snapshot()

    @router.get("/orders")
    async def list_rows() -> dict[str, Any]:
        items = [record.row for record in mock.store]
        return {"count": len(items), "items": items}

    @router.get("/orders/{lsh}", response_model=None)
    async def get_row(lsh: str) -> dict[str, Any] | JSONResponse:
        record = mock.store.get(lsh)
        if record is None:
            return control_error(404, f"unknown row {lsh}")
        hidden = {
            "signer": record.signer,
            "feedback_form": record.feedback_form,
            "return_reason": record.return_reason,
            "pending_delay": record.pending_delay,
        }
        return {**record.row, "_platform": hidden}

    @router.post("/orders", response_model=None)
    async def create_row(request: Request) -> dict[str, Any] | JSONResponse:
        overrides = await json_object(request)
        if overrides is None:
            return control_error(400, "body must be a JSON object of row fields")
        try:
            record = mock.create_row(overrides)
        except KeyError:
            return control_error(409, f"row {overrides.get('lsh')} already exists")
        return record.row

    @router.post("/orders/{lsh}/events", response_model=None)
    async def emit_event(lsh: str, body: EventRequest) -> dict[str, Any] | JSONResponse:
        if "lsh" in body.changes:
            return control_error(400, "lsh cannot be changed")
        try:
            record = mock.emit_event(lsh, body.event_type, body.data, body.changes)
        except workflow.Refusal as refusal:
            return control_error(404, refusal.message)
        except ValueError as exc:
            return control_error(400, str(exc))
        return {"order": record.row}

    return router
