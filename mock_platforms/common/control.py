"""The `/_mock` control routes every mock shares (unsigned: they exist for tests and demos).

GET  /_mock/health     {"status", "platform", counters..., "faults", "generator"}
GET  /_mock/ledger     ?order_no=&action= -> {"count", "duplicates", "entries": [{"seq", "action",
                       "order_no", "request_id", "receipt_id", "at", "body", "replays"}]}
GET  /_mock/pushes     ?event_type=&order_no= -> {"url", "events": [{"event_id", "event_type", "order_no",
                       "state", "attempts", "last_status", "last_error", "next_attempt_at", "delivered_at",
                       "body"}], "attempts": [{"event_id", "attempt", "at", "status", "ok", "error", ...}]}
GET|POST /_mock/faults     body: FaultSwitches (partial) -> the current switches and counters
GET|POST /_mock/generator  body: GeneratorUpdate (partial, plus generate_now) -> settings and count
POST /_mock/reset      -> {"status": "reset", "platform"}
"""

from __future__ import annotations

import json
from typing import Any, Protocol

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from mock_platforms.common.faults import FaultState, FaultSwitches
from mock_platforms.common.generator import GeneratorUpdate, OrderGenerator
from mock_platforms.common.ledger import Ledger
from mock_platforms.common.webhook import PushDispatcher

CONTROL_PREFIX = "/_mock"


class ControlTarget(Protocol):
    """What a platform mock offers to the shared control routes."""

    platform: str
    ledger: Ledger
    faults: FaultState
    pushes: PushDispatcher | None
    generator: OrderGenerator | None

    async def reset(self) -> None:
        """Forget all orders, ledger, pushes and return to the start-up switches."""

    def health(self) -> dict[str, Any]:
        """Return a few counters for `/_mock/health`."""


def control_error(status: int, message: str) -> JSONResponse:
    """Return the control API's error shape."""
    return JSONResponse({"error": message}, status_code=status)


async def json_object(request: Request) -> dict[str, Any] | None:
    """Return the request body as a JSON object ({} when blank), or None when it is not one."""
    raw = await request.body()
    if not raw.strip():
        return {}
    try:
        body = json.loads(raw)
    except ValueError:
        return None
    return body if isinstance(body, dict) else None


def build_control_router(target: ControlTarget) -> APIRouter:
    """Return the shared `/_mock` routes bound to one platform mock."""
    router = APIRouter(prefix=CONTROL_PREFIX, tags=["mock control"])

    @router.get("/health")
    async def health() -> dict[str, Any]:
        return {"status": "ok", "platform": target.platform, **target.health()}

    @router.get("/ledger")
    async def ledger(order_no: str | None = None, action: str | None = None) -> dict[str, Any]:
        return target.ledger.as_json(order_no=order_no, action=action)

    @router.get("/pushes")
    async def pushes(event_type: str | None = None, order_no: str | None = None) -> dict[str, Any]:
        if target.pushes is None:
            return {"url": None, "events": [], "attempts": []}
        return target.pushes.as_json(event_type=event_type, order_no=order_no)

    @router.get("/faults")
    async def get_faults() -> dict[str, Any]:
        return target.faults.snapshot()

    @router.post("/faults")
    async def set_faults(switches: FaultSwitches) -> dict[str, Any]:
        target.faults.update(switches)
        return target.faults.snapshot()

    @router.get("/generator", response_model=None)
    async def get_generator() -> dict[str, Any] | JSONResponse:
        if target.generator is None:
            return control_error(404, f"{target.platform} has no generator")
        return target.generator.as_json()

    @router.post("/generator", response_model=None)
    async def set_generator(update: GeneratorUpdate) -> dict[str, Any] | JSONResponse:
        if target.generator is None:
            return control_error(404, f"{target.platform} has no generator")
        try:
            await target.generator.apply(update)
        except ValueError as exc:
            return control_error(400, str(exc))
        return target.generator.as_json()

    @router.post("/reset")
    async def reset() -> dict[str, Any]:
        await target.reset()
        return {"status": "reset", "platform": target.platform}

    return router
