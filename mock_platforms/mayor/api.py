"""The platform API of PLATFORMS.md §3 under /hotline: list.do, detail.do and the four write-backs."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from fastapi import APIRouter, Request
from starlette.responses import Response
from starlette.types import Scope

from mock_platforms.mayor import workflow
from mock_platforms.mayor.mock import MayorMock
from mock_platforms.mayor.wire import TIME_FORMAT, FormError, failure, parse_form, success

API_PREFIX = "/hotline/"
DEFAULT_PAGE_SIZE = 20
MAX_PAGE_SIZE = 50
TOKEN_REFUSED = "token无效"
WRITE_BACK_PATHS = frozenset(f"/hotline/{action}.do" for action in workflow.ACTIONS)


def is_write_back(method: str, path: str) -> bool:
    """Tell whether a request is a write-back (the calls whose responses may be dropped)."""
    return method == "POST" and path in WRITE_BACK_PATHS


def token_key(scope: Scope) -> str:
    """Rate-limit key: the client's token from the query string (or its address without one)."""
    for part in bytes(scope.get("query_string", b"")).split(b"&"):
        if part.startswith(b"token="):
            return "token:" + part[6:].decode("latin-1")
    client = scope.get("client")
    return f"client:{client[0]}" if client else "anonymous"


def _time(params: Mapping[str, str], name: str) -> str | None:
    value = params.get(name)
    if not value:
        return None
    try:
        datetime.strptime(value, TIME_FORMAT)
    except ValueError as exc:
        raise workflow.Refusal(f"{name}时间格式错误，应为yyyy-MM-dd HH:mm:ss") from exc
    return value


def _number(params: Mapping[str, str], name: str, default: int, highest: int) -> int:
    value = params.get(name) or str(default)
    if not value.isdigit() or not 1 <= int(value) <= highest:
        raise workflow.Refusal(f"{name}须为1-{highest}的整数")
    return int(value)


def build_api_router(mock: MayorMock) -> APIRouter:
    """Return the /hotline routes; every call must carry the token in its query string."""
    router = APIRouter(prefix="/hotline", tags=["mayor's hotline API"])

    def authorised(request: Request) -> bool:
        if request.query_params.get("token") == mock.config.token:
            return True
        mock.auth_rejected += 1
        return False

    @router.get("/list.do")
    async def list_do(request: Request) -> Response:
        if not authorised(request):
            return failure(TOKEN_REFUSED)
        params = request.query_params
        try:
            begin, end = _time(params, "begin"), _time(params, "end")
            page_no = _number(params, "pageNo", 1, 1_000_000)
            size = _number(params, "pageSize", DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE)
        except workflow.Refusal as refusal:
            return failure(refusal.message)
        rows, total = mock.store.page(begin, end, page_no, size)
        return success(total=total, rows=rows)

    @router.get("/detail.do")
    async def detail_do(request: Request) -> Response:
        if not authorised(request):
            return failure(TOKEN_REFUSED)
        record = mock.store.get(request.query_params.get("lsh", ""))
        if record is None:
            return failure(workflow.NO_SUCH_ROW)
        return success(data=record.row)

    @router.post("/{action}.do")
    async def write_back(action: str, request: Request) -> Response:
        if action not in workflow.ACTIONS:
            return failure(f"不支持的操作{action}")
        if not authorised(request):
            return failure(TOKEN_REFUSED)
        try:
            mock.write_back(action, parse_form(await request.body()))
        except (workflow.Refusal, FormError) as refusal:
            return failure(str(refusal))
        return success()

    return router
