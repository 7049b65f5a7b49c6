"""The FastAPI application: routers, error shape, OpenAPI docs."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

from fastapi import FastAPI

from gateway.api import errors
from gateway.api.docs import install_docs
from gateway.api.limits import BodyLimit
from gateway.api.routers import (
    accountability,
    alerts,
    calendar,
    files,
    health,
    inbound,
    interventions,
    metrics,
    outbound,
    oversight,
    platforms,
    processes,
    tickets,
    workflow,
)
from gateway.container import Container
from gateway.dashboard import install as install_dashboard


def create_app(container: Container, *, on_start: Callable[[], None] | None = None,
               on_stop: Callable[[], None] | None = None) -> FastAPI:
    """Build the app around a container; ``on_start``/``on_stop`` run the embedded worker if any."""

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        if on_start:
            on_start()
        try:
            yield
        finally:
            container.close_inbound()  # requests are finished: commit what they queued
            if on_stop:
                on_stop()

    app = FastAPI(
        title="hotline-gateway",
        summary="12345 / 12389 / 市长热线 / 局长信箱 统一接入网关",
        version="0.1.0",
        lifespan=lifespan,
        docs_url=None, redoc_url=None, openapi_url=None,  # served by gateway.api.docs: offline, signed in
    )
    app.state.container = container
    errors.install(app)
    for router in (health.router, inbound.router, tickets.router, outbound.router, platforms.router,
                   calendar.router, alerts.router, metrics.router, workflow.router, files.router, oversight.router,
                   processes.router, accountability.router,
                   interventions.router):
        app.include_router(router)
    install_dashboard(app)
    install_docs(app, container)
    app.add_middleware(BodyLimit)  # outermost: every body is bounded before anything reads it
    return app
