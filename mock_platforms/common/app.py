"""The FastAPI app every platform mock starts from: lifespan, `/_mock` docs, and `app.state.mock`."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Protocol

from fastapi import FastAPI


class MockLifecycle(Protocol):
    """What the app's lifespan needs of a platform mock."""

    def start(self) -> None:
        """Start background work inside the running loop."""

    async def aclose(self) -> None:
        """Stop every background task."""


def mock_app(title: str, mock: MockLifecycle) -> FastAPI:
    """Return a bare app whose lifespan starts and closes `mock`, with the docs under `/_mock`."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        mock.start()
        try:
            yield
        finally:
            await mock.aclose()

    app = FastAPI(
        title=title,
        lifespan=lifespan,
        docs_url="/_mock/docs",
        openapi_url="/_mock/openapi.json",
        redoc_url=None,
    )
    app.state.mock = mock
    return app
