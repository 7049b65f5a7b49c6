"""The signed platform API of PLATFORMS.md §1: pull and write-back under /api/v1."""

from __future__ import annotations

import re
import time
from collections.abc import Mapping
from typing import Any

from fastapi import APIRouter, Request

from mock_platforms.common.clock import parse_iso
from mock_platforms.p12345.errors import ApiError, invalid_field
from mock_platforms.p12345.mock import P12345Mock
from mock_platforms.p12345.store import decode_page_token, encode_page_token
from mock_platforms.p12345.writebacks import ACTIONS

DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 100
WRITE_BACK_PATH = re.compile(r"^/api/v1/orders/[^/]+/(" + "|".join(ACTIONS) + r")$")


def is_write_back(method: str, path: str) -> bool:
    """Tell whether a request is a write-back (the calls whose responses may be dropped)."""
    return method == "POST" and WRITE_BACK_PATH.match(path) is not None


def ok(data: Any) -> dict[str, Any]:
    """Wrap data in the platform's success shape."""
    return {"code": 0, "message": "ok", "data": data}


def list_page(mock: P12345Mock, params: Mapping[str, str]) -> dict[str, Any]:
    """Answer one page of the change feed; raise 400 naming a bad query parameter."""
    size = DEFAULT_PAGE_SIZE
    if params.get("pageSize"):
        try:
            size = int(params["pageSize"])
        except ValueError as exc:
            raise invalid_field("pageSize", "must be an integer") from exc
        if not 1 <= size <= MAX_PAGE_SIZE:
            raise invalid_field("pageSize", f"must be from 1 to {MAX_PAGE_SIZE}")
    since = None
    if params.get("updatedSince"):
        try:
            since = parse_iso(params["updatedSince"])
        except ValueError as exc:
            raise invalid_field("updatedSince", "must be ISO-8601, e.g. 2026-11-22T10:15:00+08:00") from exc
    after_seq = 0
    if params.get("pageToken"):
        try:
            # The token carries the window it was issued for, so later pages need only the token.
            after_seq, since = decode_page_token(params["pageToken"])
        except ValueError as exc:
            raise invalid_field("pageToken", str(exc)) from exc
    records, more = mock.store.page(since, after_seq, size)
    token = encode_page_token(records[-1].seq, since) if more else None
    return {"items": [record.order for record in records], "nextPageToken": token}


def build_api_router(mock: P12345Mock) -> APIRouter:
    """Return the /api/v1 routes; every call must carry a valid signature."""
    router = APIRouter(prefix="/api/v1", tags=["12345 platform API"])

    async def signed_body(request: Request) -> bytes:
        body = await request.body()
        problem = mock.verifier.check(request.headers, body, time.time())
        if problem is not None:
            raise ApiError(401, problem)
        return body

    @router.get("/orders")
    async def list_orders(request: Request) -> dict[str, Any]:
        await signed_body(request)
        return ok(list_page(mock, request.query_params))

    @router.get("/orders/{order_no}")
    async def get_order(order_no: str, request: Request) -> dict[str, Any]:
        await signed_body(request)
        return ok(mock.record_of(order_no).order)

    @router.get("/orders/{order_no}/actions")
    async def get_actions(order_no: str, request: Request) -> dict[str, Any]:
        await signed_body(request)
        mock.record_of(order_no)
        entries = mock.ledger.for_order(order_no)
        return ok(
            [
                {"action": e.action, "requestId": e.request_id, "receiptId": e.receipt_id, "at": e.at}
                for e in entries
            ]
        )

    @router.post("/orders/{order_no}/{action}")
    async def write_back(order_no: str, action: str, request: Request) -> dict[str, Any]:
        raw = await signed_body(request)
        if action not in ACTIONS:
            raise ApiError(404, f"unknown write-back {action}")
        return ok({"receiptId": mock.write_back(order_no, action, raw)})

    return router
