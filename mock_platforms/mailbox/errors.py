"""The mailbox error shape: HTTP status plus ``{"error": {"code": str, "message": str}}``."""

from __future__ import annotations

from fastapi import Request
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response

# PLATFORMS.md §4 error codes by status; 500 is not in the table but the fault switches inject it.
CODES = {
    400: "invalid_argument",
    401: "unauthorized",
    404: "not_found",
    405: "invalid_argument",
    409: "conflict",
    429: "rate_limited",
    500: "internal",
    503: "unavailable",
}
API_PREFIX = "/v2/"


class ApiError(Exception):
    """An API failure answered in the platform's error shape."""

    def __init__(self, status: int, message: str, code: str | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.code = code or CODES.get(status, "error")
        self.message = message


def invalid_argument(name: str, why: str) -> ApiError:
    """Return the 400 ``invalid_argument`` error that names the offending field."""
    return ApiError(400, f"{name}: {why}")


def render(status: int, code: str, message: str) -> Response:
    """Render one error in the platform's shape."""
    return JSONResponse({"error": {"code": code, "message": message}}, status_code=status)


def error_response(status: int, message: str) -> Response:
    """Render an error by status (also used by the fault middleware)."""
    return render(status, CODES.get(status, "error"), message)


async def handle_api_error(request: Request, exc: Exception) -> Response:
    """Exception handler for ApiError."""
    assert isinstance(exc, ApiError)
    return render(exc.status, exc.code, exc.message)


async def handle_http_error(request: Request, exc: Exception) -> Response:
    """Render routing errors (unknown path, wrong method) like the platform would."""
    assert isinstance(exc, StarletteHTTPException)
    if request.url.path.startswith(API_PREFIX):
        response = error_response(exc.status_code, str(exc.detail))
    else:
        response = JSONResponse({"error": str(exc.detail)}, status_code=exc.status_code)
    response.headers.update(exc.headers or {})
    return response
