"""ASGI middleware that applies the fault switches and the rate limit to a mock's API calls.

Dropped responses: the write-back runs to completion (the platform applied it), its response is
discarded, and the TCP connection is closed without a single byte of response, so an httpx
client raises `RemoteProtocolError` ("Server disconnected without sending a response") at once.
With `drop_mode="hang"` the mock first holds the connection for `drop_hang_s` seconds, so a
client with a shorter read timeout raises `ReadTimeout`. Closing the socket needs the server's
transport, which uvicorn exposes on its `receive` callable; under any other server (or httpx's
in-process ASGITransport) the mock raises `ResponseDroppedError` instead, which the in-process
client sees as that exception.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable
from typing import Any

from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from mock_platforms.common.faults import FaultState
from mock_platforms.common.ratelimit import SlidingWindowLimiter

ErrorResponder = Callable[[int, str], Response]
RateKey = Callable[[Scope], str]
WriteBackTest = Callable[[str, str], bool]


class ResponseDroppedError(RuntimeError):
    """Raised when a response must be dropped but the server's transport is out of reach."""


def header_key(name: str) -> RateKey:
    """Return a rate-limit key function that reads one request header (or the client address)."""
    raw_name = name.lower().encode("latin-1")

    def key(scope: Scope) -> str:
        for header, value in scope.get("headers", []):
            if header == raw_name:
                return str(value.decode("latin-1"))
        client = scope.get("client")
        return f"client:{client[0]}" if client else "anonymous"

    return key


def _transport_of(receive: Receive) -> Any:
    # uvicorn passes the bound method RequestResponseCycle.receive; its owner holds the socket.
    # Duck-typed because uvloop's transports are not asyncio.BaseTransport subclasses.
    owner = getattr(receive, "__self__", None)
    transport = getattr(owner, "transport", None)
    return transport if callable(getattr(transport, "close", None)) else None


class FaultMiddleware:
    """Latency, outage, rate limit, injected 5xx and dropped write-back responses, in that order."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        faults: FaultState,
        limiter: SlidingWindowLimiter,
        error_response: ErrorResponder,
        is_write_back: WriteBackTest,
        rate_key: RateKey,
        api_prefix: str = "/api/",
    ) -> None:
        self.app = app
        self.faults = faults
        self.limiter = limiter
        self.error_response = error_response
        self.is_write_back = is_write_back
        self.rate_key = rate_key
        self.api_prefix = api_prefix

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Apply the switches to API calls; pass everything else (the control API) through."""
        if scope["type"] != "http" or not str(scope["path"]).startswith(self.api_prefix):
            await self.app(scope, receive, send)
            return
        faults = self.faults
        if faults.latency_ms > 0:
            await asyncio.sleep(faults.latency_ms / 1000)
        if faults.in_outage(time.time()):
            await self.error_response(503, "service unavailable: platform outage")(scope, receive, send)
            return
        retry_after = self.limiter.hit(self.rate_key(scope), time.monotonic())
        if retry_after is not None:
            response = self.error_response(429, "rate limit exceeded")
            response.headers["Retry-After"] = str(retry_after)
            await response(scope, receive, send)
            return
        status = faults.pick_error()
        if status is not None:
            await self.error_response(status, "injected transient error")(scope, receive, send)
            return
        if not self.is_write_back(str(scope["method"]), str(scope["path"])):
            await self.app(scope, receive, send)
            return
        await self._write_back(scope, receive, send)

    async def _write_back(self, scope: Scope, receive: Receive, send: Send) -> None:
        held: list[Message] = []

        async def hold(message: Message) -> None:
            held.append(message)

        await self.app(scope, receive, hold)
        status: Any = held[0].get("status") if held else None
        # Only applied write-backs (and idempotent replays) lose their answer: the point of the
        # switch is a client that cannot tell whether the platform acted.
        if status == 200 and self.faults.take_drop():
            await self._drop(receive)
            return
        for message in held:
            await send(message)

    async def _drop(self, receive: Receive) -> None:
        if self.faults.drop_mode == "hang":
            # Hold the answer back, but stop early once the client has given up and gone.
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self.faults.drop_hang_s):
                    await _disconnected(receive)
        transport = _transport_of(receive)
        if transport is None:
            raise ResponseDroppedError("response dropped by the drop_response fault switch")
        transport.close()
        # Let the server notice the disconnect so it does not try to answer 500 itself.
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(2):
                await _disconnected(receive)


async def _disconnected(receive: Receive) -> None:
    while (await receive())["type"] != "http.disconnect":
        pass
