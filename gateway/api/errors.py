"""Every error answers ``{"error": {"code", "message"}}`` with a fitting status; never a stack trace."""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from sqlalchemy.exc import DataError, NoResultFound, StatementError
from starlette.exceptions import HTTPException as StarletteHTTPException

from gateway.errors import DomainError, NotFound

log = logging.getLogger(__name__)
REFUSED_MESSAGE = "请求中的数据无法保存（超长、含 NUL 或无效字符、数值越界）(a value cannot be stored)"


def error_response(status: int, code: str, message: str) -> JSONResponse:
    """The one error shape of the API."""
    return JSONResponse({"error": {"code": code, "message": message}}, status_code=status)


def install(app: FastAPI) -> None:
    """Register the handlers that give every error the API's shape."""

    @app.exception_handler(DomainError)
    async def _domain(_: Request, exc: DomainError) -> JSONResponse:
        return error_response(exc.status, exc.code, str(exc))

    @app.exception_handler(RequestValidationError)
    async def _validation(_: Request, exc: RequestValidationError) -> JSONResponse:
        parts = []
        for err in exc.errors()[:5]:
            where = ".".join(str(p) for p in err.get("loc", ()) if p != "body")
            parts.append(f"{where}: {err.get('msg')}")
        return error_response(422, "invalid_request", "请求参数有误 (invalid request): " + "; ".join(parts))

    @app.exception_handler(StarletteHTTPException)
    async def _http(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = {401: "unauthorized", 403: "forbidden", 404: "not_found", 405: "method_not_allowed",
                413: "payload_too_large"}.get(exc.status_code, "http_error")
        response = error_response(exc.status_code, code, str(exc.detail))
        for k, v in (exc.headers or {}).items():
            response.headers[k] = v
        return response

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        return error_response(500, "internal_error", "服务内部错误，请稍后重试 (internal error)")

    async def _refused(request: Request, exc: Exception) -> Response:
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
        return await request.app.exception_handlers[DomainError](request, NotFound("记录不存在 (not found)"))  # type: ignore[no-any-return]

    for kind in (StatementError, OverflowError, UnicodeError):
        app.add_exception_handler(kind, _refused)
    app.add_exception_handler(NoResultFound, _no_row)
