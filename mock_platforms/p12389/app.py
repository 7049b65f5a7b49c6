"""The app factory of the mock 12389 platform."""

from __future__ import annotations

from dataclasses import replace

from fastapi import FastAPI
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import Scope

from mock_platforms.common.app import mock_app
from mock_platforms.common.control import build_control_router
from mock_platforms.common.middleware import FaultMiddleware
from mock_platforms.common.runner import MockOptions
from mock_platforms.p12389.api import build_api_router, is_write_back
from mock_platforms.p12389.config import P12389MockConfig, default_generator
from mock_platforms.p12389.control import build_p12389_control_router
from mock_platforms.p12389.mock import P12389Mock
from mock_platforms.p12389.xmlio import ApiError, error_response, handle_api_error, handle_http_error


def client_address(scope: Scope) -> str:
    """Rate-limit key: the client's address (tokens rotate, so they cannot be the key)."""
    client = scope.get("client")
    return f"client:{client[0]}" if client else "anonymous"


def create_app(config: P12389MockConfig | None = None) -> FastAPI:
    """A FastAPI app that behaves like the 12389 platform of PLATFORMS.md §2.

    The live state is on ``app.state.mock`` (a P12389Mock). The generator starts with the app's
    lifespan when enabled, or through ``POST /_mock/generator``.
    """
    mock = P12389Mock(config or P12389MockConfig())
    app = mock_app("mock 12389 platform", mock)
    app.add_exception_handler(ApiError, handle_api_error)
    app.add_exception_handler(StarletteHTTPException, handle_http_error)
    app.add_middleware(
        FaultMiddleware,
        faults=mock.faults,
        limiter=mock.limiter,
        error_response=error_response,
        is_write_back=is_write_back,
        rate_key=client_address,
    )
    app.include_router(build_api_router(mock))
    app.include_router(build_control_router(mock))
    app.include_router(build_p12389_control_router(mock))
    return app


def app_from_options(options: MockOptions) -> FastAPI:
    """Build the app from the platform-neutral command-line options (app id/secret = client id/secret)."""
    config = P12389MockConfig(seed=options.seed, faults=options.faults)
    if options.app_id:
        config.client_id = options.app_id
    if options.app_secret:
        config.client_secret = options.app_secret
    if options.rate_limit_per_s is not None:
        config.rate_limit_per_s = options.rate_limit_per_s
    if options.generate_per_min > 0:
        config.generator = replace(default_generator(), enabled=True, per_min=options.generate_per_min,
                                   random_gaps=options.generate_random_gaps)
    config.auto_decide = options.auto_decide
    config.auto_decide_delay_s = options.auto_decide_delay_s
    return create_app(config)
