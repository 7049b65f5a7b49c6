"""12345-specific `/_mock` routes: create orders and emit any push event."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict

from mock_platforms.common.control import CONTROL_PREFIX, control_error, json_object
from mock_platforms.p12345.errors import ApiError
from mock_platforms.p12345.mock import P12345Mock


class EmitRequest(BaseModel):
    """Body of POST /_mock/orders/{orderNo}/events."""

    model_config = ConfigDict(extra="forbid")

    event_type: str
    data: dict[str, Any] = {}
    changes: dict[str, Any] = {}


def build_p12345_control_router(mock: P12345Mock) -> APIRouter:
    """Return the order and event routes of the 12345 control API."""
    router = APIRouter(prefix=CONTROL_PREFIX, tags=["mock control"])

    @router.get("/orders")
    async def list_orders() -> dict[str, Any]:
        items = [record.order for record in mock.store]
        return {"count": len(items), "items": items}

    @router.get("/orders/{order_no}", response_model=None)
    async def get_order(order_no: str) -> dict[str, Any] | JSONResponse:
        record = mock.store.get(order_no)
        if record is None:
            return control_error(404, f"unknown order {order_no}")
        return record.order

    @router.post("/orders", response_model=None)
    async def create_order(request: Request) -> dict[str, Any] | JSONResponse:
        overrides = await json_object(request)
        if overrides is None:
            return control_error(400, "body must be a JSON object of order fields (and optional push)")
        push = overrides.pop("push", True)
        if not isinstance(push, bool):
            return control_error(400, "push must be true or false")
        try:
            record = mock.create_order(overrides, push=push)
        except KeyError:
            return control_error(409, f"order {overrides.get('orderNo')} already exists")
        return record.order

    @router.post("/orders/{order_no}/events", response_model=None)
    async def emit_event(order_no: str, body: EmitRequest) -> dict[str, Any] | JSONResponse:
        changes_order_no = "orderNo" in body.changes or (
            body.event_type in ("order.updated", "order.dispatched") and "orderNo" in body.data
        )
        if changes_order_no:
            return control_error(400, "orderNo cannot be changed")
        try:
            event = mock.emit_event(order_no, body.event_type, body.data, body.changes)
        except ApiError as exc:
            return control_error(exc.status, exc.message)
        return {"event": event, "order": mock.record_of(order_no).order}

    return router
