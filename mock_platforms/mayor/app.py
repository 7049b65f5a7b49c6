"""The app factory of the mock mayor's hotline."""

from __future__ import annotations

from dataclasses import replace

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response

from mock_platforms.common.app import mock_app
from mock_platforms.common.control import build_control_router
from mock_platforms.common.middleware import FaultMiddleware
from mock_platforms.common.runner import MockOptions
from mock_platforms.mayor.api import API_PREFIX, build_api_router, is_write_back, token_key
from mock_platforms.mayor.config import MayorMockConfig, default_generator
from mock_platforms.mayor.control import build_mayor_control_router
from mock_platforms.mayor.maintenance import MaintenanceMiddleware
from mock_platforms.mayor.mock import MayorMock
from mock_platforms.mayor.wire import error_page


async def _routing_error(request: Request, exc: Exception) -> Response:
    """An unknown path or wrong method: the web server's HTML page on the API, JSON on the control API."""
    assert isinstance(exc, StarletteHTTPException)
    if request.url.path.startswith(API_PREFIX):
        response = error_page(exc.status_code, str(exc.detail))
    else:
        response = JSONResponse({"error": str(exc.detail)}, status_code=exc.status_code)
    response.headers.update(exc.headers or {})
    return response


def create_app(config: MayorMockConfig | None = None) -> FastAPI:
    """Return a FastAPI app that behaves like the mayor's hotline of PLATFORMS.md §3.

    The live state is on `app.state.mock` (a MayorMock). The generator and auto-decisions run as
    asyncio tasks of the serving loop; the generator starts with the app's lifespan, or when
    switched on through `POST /_mock/generator`.
    """
    mock = MayorMock(config or MayorMockConfig())
    app = mock_app("mock mayor's hotline", mock)
    app.add_exception_handler(StarletteHTTPException, _routing_error)
    app.add_middleware(
        FaultMiddleware,
        faults=mock.faults,
        limiter=mock.limiter,
        error_response=error_page,
        is_write_back=is_write_back,
        rate_key=token_key,
        api_prefix=API_PREFIX,
    )
    # Outermost: the maintenance page is served by the front web server, before anything else runs.
    app.add_middleware(MaintenanceMiddleware, state=mock.maintenance, api_prefix=API_PREFIX)
    app.include_router(build_api_router(mock))
    app.include_router(build_mayor_control_router(mock))  # before the shared one: its /faults wins
    app.include_router(build_control_router(mock))
    return app


def app_from_options(options: MockOptions) -> FastAPI:
    """Build the app from the platform-neutral command-line options (``app_secret`` is the token)."""
    config = MayorMockConfig(seed=options.seed, faults=options.faults)
    if options.app_secret:
        config.token = options.app_secret
    if options.rate_limit_per_s is not None:
        config.rate_limit_per_s = options.rate_limit_per_s
    if options.generate_per_min > 0:
        config.generator = replace(default_generator(), enabled=True, per_min=options.generate_per_min,
                                   random_gaps=options.generate_random_gaps)
    config.auto_decide = options.auto_decide
    config.auto_decide_delay_s = options.auto_decide_delay_s
    return create_app(config)
