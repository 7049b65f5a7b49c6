"""The platform API of PLATFORMS.md §2: the token endpoint (JSON) and the case API (XML, Bearer)."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response

from mock_platforms.p12389.mock import P12389Mock
from mock_platforms.p12389.workflow import ACTIONS, LOCAL_TIME
from mock_platforms.p12389.xmlio import ApiError, case_element, ok_response, xml_response

DEFAULT_LIMIT = 20
MAX_LIMIT = 50
WRITE_BACK_PATH = re.compile(r"^/api/cases/[^/]+/(" + "|".join(ACTIONS) + r")$")


def is_write_back(method: str, path: str) -> bool:
    """Whether a request is a write-back (the calls whose responses may be dropped)."""
    return method == "POST" and WRITE_BACK_PATH.match(path) is not None


def _number(params: Any, name: str, default: int, low: int, high: int) -> int:
    raw = params.get(name)
    if raw is None or raw == "":
        return default
    if not raw.isdigit() or not low <= int(raw) <= high:
        raise ApiError(400, f"invalid field {name}: must be a whole number from {low} to {high}")
    return int(raw)


def list_cases(mock: P12389Mock, params: Any) -> Response:
    """One page of the newest-first list of cases issued since ``since``."""
    since = params.get("since") or None
    if since is not None and not LOCAL_TIME.match(since):
        raise ApiError(400, "invalid field since: must be yyyy-MM-ddTHH:mm:ss (local time, no offset)")
    offset = _number(params, "offset", 0, 0, 10**9)
    limit = _number(params, "limit", DEFAULT_LIMIT, 1, MAX_LIMIT)
    mock.before_list_page(offset)
    records, total = mock.store.page(since, offset, limit)
    root = ET.Element("response", {"code": "0"})
    holder = ET.SubElement(root, "cases", {"total": str(total)})
    for record in records:
        holder.append(case_element(record.case))
    return xml_response(root)


def build_api_router(mock: P12389Mock) -> APIRouter:
    """The token endpoint and the /api routes; every /api call needs a live bearer token."""
    router = APIRouter(tags=["12389 platform API"])

    def authorized(request: Request) -> None:
        if not mock.tokens.valid(request.headers.get("Authorization")):
            raise ApiError(401, "invalid_token")

    @router.post("/oauth/token", response_model=None)
    async def token(request: Request) -> JSONResponse:
        form = await request.form()
        grant, client_id, secret = (str(form.get(k) or "") for k in ("grant_type", "client_id", "client_secret"))
        if grant != "client_credentials":
            return JSONResponse({"error": "unsupported_grant_type"}, status_code=400)
        if not mock.tokens.credentials_ok(client_id, secret):
            return JSONResponse({"error": "invalid_client"}, status_code=401)
        value, ttl = mock.tokens.issue()
        return JSONResponse({"access_token": value, "token_type": "Bearer", "expires_in": int(ttl)})

    @router.get("/api/cases")
    async def get_cases(request: Request) -> Response:
        authorized(request)
        return list_cases(mock, request.query_params)

    @router.get("/api/cases/{jbbh}")
    async def get_case(jbbh: str, request: Request) -> Response:
        authorized(request)
        root = ET.Element("response", {"code": "0"})
        root.append(case_element(mock.record_of(jbbh).case))
        return xml_response(root)

    @router.post("/api/cases/{jbbh}/{action}")
    async def write_back(jbbh: str, action: str, request: Request) -> Response:
        authorized(request)
        if action not in ACTIONS:
            raise ApiError(404, f"unknown write-back {action}")
        mock.write_back(jbbh, action, await request.body())
        return ok_response()

    return router
