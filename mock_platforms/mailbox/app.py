"""The app factory of the mock 局长信箱 (director's mailbox)."""

from __future__ import annotations

from dataclasses import replace

from fastapi import FastAPI
from starlette.exceptions import HTTPException as StarletteHTTPException

from mock_platforms.common.app import mock_app
from mock_platforms.common.control import build_control_router
from mock_platforms.common.middleware import FaultMiddleware, header_key
from mock_platforms.common.runner import MockOptions
from mock_platforms.mailbox.api import build_api_router, is_write_back
from mock_platforms.mailbox.config import MailboxMockConfig, default_generator
from mock_platforms.mailbox.control import build_mailbox_control_router
from mock_platforms.mailbox.errors import API_PREFIX, ApiError, error_response, handle_api_error, handle_http_error
from mock_platforms.mailbox.mock import MailboxMock


def create_app(config: MailboxMockConfig | None = None) -> FastAPI:
    """Return a FastAPI app that behaves like the mailbox of PLATFORMS.md §4.

    The live state is on ``app.state.mock`` (a MailboxMock). Background work (generator, automatic
    ratings) runs as asyncio tasks of the serving loop; the generator starts with the app's
    lifespan, or when switched on through ``POST /_mock/generator``.
    """
    mock = MailboxMock(config or MailboxMockConfig())
    app = mock_app("mock 局长信箱 (director's mailbox)", mock)
    app.add_exception_handler(ApiError, handle_api_error)
    app.add_exception_handler(StarletteHTTPException, handle_http_error)
    app.add_middleware(
        FaultMiddleware,
        faults=mock.faults,
        limiter=mock.limiter,
        error_response=error_response,
        is_write_back=is_write_back,
        rate_key=header_key("Authorization"),  # 5 requests/s per API key
        api_prefix=API_PREFIX,
    )
    app.include_router(build_api_router(mock))
    app.include_router(build_control_router(mock))
    app.include_router(build_mailbox_control_router(mock))
    return app


def app_from_options(options: MockOptions) -> FastAPI:
    """Build the app from the platform-neutral command-line options (``app_secret`` is the API key)."""
    config = MailboxMockConfig(seed=options.seed, faults=options.faults)
    if options.app_secret:
        config.api_key = options.app_secret
    if options.rate_limit_per_s is not None:
        config.rate_limit_per_s = options.rate_limit_per_s
    if options.generate_per_min > 0:
        config.generator = replace(default_generator(), enabled=True, per_min=options.generate_per_min,
                                   random_gaps=options.generate_random_gaps)
    # auto_decide (the demo's "the platform acts by itself"): writers rate answers after a while.
    config.auto_rate = options.auto_decide
    config.auto_rate_delay_s = options.auto_decide_delay_s
    return create_app(config)
