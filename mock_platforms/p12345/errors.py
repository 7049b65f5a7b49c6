"""The 12345 error shape: HTTP status plus `{"code": N, "message": str}`."""

from __future__ import annotations

from fastapi import Request
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response

# PLATFORMS.md §1 error table; other statuses fall back to status * 100.
CODES = {400: 40001, 401: 40100, 404: 40400, 409: 40901, 429: 42900, 500: 50000, 503: 50300}


class ApiError(Exception):
    """An API failure answered in the platform's error shape."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = CODES.get(status, status * 100)
        self.message = message


def invalid_field(name: str, why: str) -> ApiError:
    """Return the 400/40001 error that names the offending field."""
    return ApiError(400, f"invalid field {name}: {why}")


def error_response(status: int, message: str) -> Response:
    """Render an error in the platform's shape (also used by the fault middleware)."""
    return JSONResponse({"code": CODES.get(status, status * 100), "message": message}, status_code=status)


async def handle_api_error(request: Request, exc: Exception) -> Response:
    """Exception handler for ApiError."""
    assert isinstance(exc, ApiError)
    return error_response(exc.status, exc.message)


async def handle_http_error(request: Request, exc: Exception) -> Response:
    """Render routing errors (unknown path, wrong method) like the platform would."""
    assert isinstance(exc, StarletteHTTPException)
    if request.url.path.startswith("/api/"):
        response = error_response(exc.status_code, str(exc.detail))
    else:
        response = JSONResponse({"error": str(exc.detail)}, status_code=exc.status_code)
    response.headers.update(exc.headers or {})
    return response
