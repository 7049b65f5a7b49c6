"""The app factory of the mock 12345 platform."""

from __future__ import annotations

from dataclasses import replace

from fastapi import FastAPI
from starlette.exceptions import HTTPException as StarletteHTTPException

from mock_platforms.common.app import mock_app
from mock_platforms.common.control import build_control_router
from mock_platforms.common.middleware import FaultMiddleware, header_key
from mock_platforms.common.runner import MockOptions
from mock_platforms.p12345.api import build_api_router, is_write_back
from mock_platforms.p12345.config import P12345MockConfig, default_generator
from mock_platforms.p12345.control import build_p12345_control_router
from mock_platforms.p12345.errors import ApiError, error_response, handle_api_error, handle_http_error
from mock_platforms.p12345.mock import P12345Mock


def create_app(config: P12345MockConfig | None = None) -> FastAPI:
    """Return a FastAPI app that behaves like the 12345 platform of PLATFORMS.md §1.

    The live state is on `app.state.mock` (a P12345Mock). Background work (generator, pushes,
    auto-decisions) runs as asyncio tasks of the serving loop; the generator starts with the
    app's lifespan, or when switched on through `POST /_mock/generator`.
    """
    mock = P12345Mock(config or P12345MockConfig())
    app = mock_app("mock 12345 platform", mock)
    app.add_exception_handler(ApiError, handle_api_error)
    app.add_exception_handler(StarletteHTTPException, handle_http_error)
    app.add_middleware(
        FaultMiddleware,
        faults=mock.faults,
        limiter=mock.limiter,
        error_response=error_response,
        is_write_back=is_write_back,
        rate_key=header_key("X-App-Id"),
    )
    app.include_router(build_api_router(mock))
    app.include_router(build_control_router(mock))
    app.include_router(build_p12345_control_router(mock))
    return app


def app_from_options(options: MockOptions) -> FastAPI:
    """Build the app from the platform-neutral command-line options."""
    config = P12345MockConfig(seed=options.seed, push_url=options.push_url, faults=options.faults)
    if options.app_id:
        config.app_id = options.app_id
    if options.app_secret:
        config.app_secret = options.app_secret
    if options.rate_limit_per_s is not None:
        config.rate_limit_per_s = options.rate_limit_per_s
    if options.push_retry_schedule is not None:
        config.push_retry_schedule = list(options.push_retry_schedule)
    if options.generate_per_min > 0:
        config.generator = replace(default_generator(), enabled=True, per_min=options.generate_per_min,
                                   random_gaps=options.generate_random_gaps)
    config.auto_decide = options.auto_decide
    config.auto_review_replies = options.auto_decide
    config.auto_decide_delay_s = options.auto_decide_delay_s
    return create_app(config)
