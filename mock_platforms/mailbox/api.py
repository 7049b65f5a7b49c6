"""The platform API of PLATFORMS.md §4 under /v2: the change feed and the write-backs (Bearer key)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from fastapi import APIRouter, Request

from mock_platforms.mailbox.errors import ApiError, invalid_argument
from mock_platforms.mailbox.mock import MailboxMock
from mock_platforms.mailbox.store import decode_cursor, encode_cursor
from mock_platforms.mailbox.writebacks import ENDPOINTS

DEFAULT_LIMIT = 20
MAX_LIMIT = 100
WRITE_BACK_PATH = re.compile(r"^/v2/letters/[^/]+/(acceptance|answer|transfer)$")
METHODS = {"acceptance": "PUT", "answer": "PUT", "transfer": "POST"}


def is_write_back(method: str, path: str) -> bool:
    """Tell whether a request is a write-back (the calls whose responses may be dropped)."""
    match = WRITE_BACK_PATH.match(path)
    return match is not None and METHODS[match.group(1)] == method


def feed_page(mock: MailboxMock, params: Mapping[str, str]) -> dict[str, Any]:
    """Answer one page of the change feed; raise 400 naming a bad query parameter.

    ``next_cursor`` points after the last letter returned; it is null only when nothing was
    returned, and then the client keeps the cursor it sent (our reading of §4's ``str|null``).
    """
    limit = DEFAULT_LIMIT
    if params.get("limit"):
        try:
            limit = int(params["limit"])
        except ValueError as exc:
            raise invalid_argument("limit", "must be an integer") from exc
        if not 1 <= limit <= MAX_LIMIT:
            raise invalid_argument("limit", f"must be from 1 to {MAX_LIMIT}")
    after = 0
    if params.get("cursor"):
        try:
            after = decode_cursor(params["cursor"])
        except ValueError as exc:
            raise invalid_argument("cursor", str(exc)) from exc
    records, more = mock.store.page(after, limit)
    return {
        "letters": [record.letter for record in records],
        "next_cursor": encode_cursor(records[-1].seq) if records else None,
        "has_more": more,
    }


def build_api_router(mock: MailboxMock) -> APIRouter:
    """Return the /v2 routes; every call must carry ``Authorization: Bearer {api_key}``."""
    router = APIRouter(prefix="/v2", tags=["局长信箱 API"])

    def authorized(request: Request) -> None:
        mock.check_key(request.headers.get("Authorization"))

    @router.get("/letters")
    async def list_letters(request: Request) -> dict[str, Any]:
        authorized(request)
        return feed_page(mock, request.query_params)

    @router.get("/letters/{letter_no}")
    async def get_letter(letter_no: str, request: Request) -> dict[str, Any]:
        authorized(request)
        return mock.record_of(letter_no).letter

    @router.put("/letters/{letter_no}/{endpoint}")
    async def put_write_back(letter_no: str, endpoint: str, request: Request) -> dict[str, Any]:
        return await _write_back(letter_no, endpoint, "PUT", request)

    @router.post("/letters/{letter_no}/{endpoint}")
    async def post_write_back(letter_no: str, endpoint: str, request: Request) -> dict[str, Any]:
        return await _write_back(letter_no, endpoint, "POST", request)

    async def _write_back(letter_no: str, endpoint: str, method: str, request: Request) -> dict[str, Any]:
        authorized(request)
        if endpoint not in ENDPOINTS:
            raise ApiError(404, f"unknown write-back {endpoint}")
        if METHODS[endpoint] != method:
            raise ApiError(405, f"{endpoint} takes {METHODS[endpoint]}, not {method}")
        return mock.write_back(letter_no, endpoint, await request.body())

    return router
