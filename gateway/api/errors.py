"""Every error answers ``{"error": {"code", "message"}}`` with a fitting status; never a stack trace."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel
from sqlalchemy.exc import DataError, NoResultFound, StatementError
from starlette.exceptions import HTTPException as StarletteHTTPException

from gateway.errors import DomainError, NotFound
from gateway.store.db import DatabaseUnavailable, brief, transient
from gateway.validation_zh import summary

log = logging.getLogger(__name__)
REFUSED_MESSAGE = "请求中的数据无法保存（超长、含 NUL 或无效字符、数值越界）"
UNAVAILABLE_MESSAGE = "数据库暂时不可用，请稍后重试"
RETRY_AFTER_S = 5  # a PostgreSQL restart or failover takes seconds


class FieldError(BaseModel):
    """One invalid parameter, for programs: where (``loc``) and pydantic's error ``type``."""

    loc: list[str]
    type: str


class ErrorDetail(BaseModel):
    """What went wrong: a stable code for programs, a message for people (Chinese only)."""

    code: str
    message: str
    fields: list[FieldError] | None = None  # 422 on invalid parameters: which ones, and pydantic's error type


class ErrorBody(BaseModel):
    """The one error shape of the API."""

    error: ErrorDetail


ERROR_DESCRIPTIONS = {
    400: "请求体无法解析",
    401: "未登录或令牌无效",
    403: "当前角色无权执行此操作",
    404: "对象不存在或不在本单位范围内",
    409: "当前状态不允许此操作",
    413: "请求体过大",
    422: "请求参数有误",
}


def documented(*codes: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI ``responses`` for these 4xx answers, each in the error shape."""
    return {code: {"model": ErrorBody, "description": ERROR_DESCRIPTIONS[code]} for code in codes}


WRITE = documented(400, 401, 403, 404, 409, 413, 422)  # an action: role, row, state, body


def error_response(status: int, code: str, message: str) -> JSONResponse:
    """The one error shape of the API."""
    return JSONResponse({"error": {"code": code, "message": message}}, status_code=status)


def validation_response(errors: Sequence[Any]) -> JSONResponse:
    """422 for invalid parameters: the message in Chinese (``gateway.validation_zh``); each error's ``loc`` and
    pydantic ``type`` kept for programs under ``fields``; English, if any, only in the log."""
    errors = list(errors)
    log.info("invalid request: %s", "; ".join(f"{e.get('loc')}: {e.get('type')}" for e in errors[:5]))
    body = {"error": {"code": "invalid_request", "message": "请求参数有误：" + summary(errors),
                      "fields": [{"loc": [str(p) for p in e.get("loc", ())], "type": str(e.get("type", ""))}
                                 for e in errors[:20]]}}
    return JSONResponse(body, status_code=422)


def install(app: FastAPI) -> None:
    """Register the handlers that give every error the API's shape."""

    @app.exception_handler(DomainError)
    async def _domain(_: Request, exc: DomainError) -> JSONResponse:
        return error_response(exc.status, exc.code, str(exc))

    @app.exception_handler(RequestValidationError)
    async def _validation(_: Request, exc: RequestValidationError) -> JSONResponse:
        return validation_response(exc.errors())

    @app.exception_handler(StarletteHTTPException)
    async def _http(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = {400: "bad_request", 401: "unauthorized", 403: "forbidden", 404: "not_found", 405: "method_not_allowed",
                413: "payload_too_large"}.get(exc.status_code, "http_error")
        response = error_response(exc.status_code, code, str(exc.detail))
        for k, v in (exc.headers or {}).items():
            response.headers[k] = v
        return response

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        return error_response(500, "internal_error", "服务内部错误，请稍后重试")

    async def _unavailable(request: Request, exc: Exception) -> Response:
        # The database connection was lost (a PostgreSQL restart or failover; issue 12, "API returns 500
        # during a PostgreSQL restart") or SQLite was busy: weather, not a bug. The request's transaction
        # was rolled back (cut during its commit, its outcome is in doubt, as with any lost answer): 503
        # with Retry-After tells the caller to try again shortly; one log line, no traceback.
        log.warning("database unavailable on %s %s (%s); answered 503", request.method, request.url.path,
                    brief(exc))
        domain = DomainError(UNAVAILABLE_MESSAGE, code="database_unavailable", status=503)
        response: Response = await request.app.exception_handlers[DomainError](request, domain)
        response.headers["Retry-After"] = str(RETRY_AFTER_S)
        return response

    async def _refused(request: Request, exc: Exception) -> Response:
        if transient(exc):
            return await _unavailable(request, exc)
        # A value of the request the database cannot hold (a number past 64 bits, NUL, a lone
        # surrogate, text longer than its column) that no validation caught first: the caller's
        # fault, so 422 in the shape of the path (the dashboard renders it as a page).
        if isinstance(exc, StatementError) and not isinstance(exc, DataError) and not isinstance(
                exc.orig, UnicodeError | OverflowError):
            return await _unexpected(request, exc)
        log.warning("refused a value on %s %s: %s", request.method, request.url.path, type(exc).__name__)
        domain = DomainError(REFUSED_MESSAGE, code="invalid_request", status=422)
        return await request.app.exception_handlers[DomainError](request, domain)  # type: ignore[no-any-return]

    async def _no_row(request: Request, exc: Exception) -> Response:
        return await request.app.exception_handlers[DomainError](request, NotFound("记录不存在"))  # type: ignore[no-any-return]

    for kind in (StatementError, OverflowError, UnicodeError):
        app.add_exception_handler(kind, _refused)
    app.add_exception_handler(DatabaseUnavailable, _unavailable)
    app.add_exception_handler(NoResultFound, _no_row)
