"""Request bodies are bounded while they arrive, not after they were spooled to disk.

A plain ASGI middleware counts the bytes each request hands to its endpoint: a body whose
``Content-Length`` is over its route's limit is refused at its first read, before a byte of it is
taken, and a body without one (chunked) is cut off as soon as it passes the limit. The refusal is an
``HTTPException(413)``, so the API answers in its error shape and the dashboard with its error page.
Limits: evidence uploads ``dashboard.upload_max_bytes`` (plus the multipart envelope), every other
form or body ``max_request_bytes``; the webhook bounds its own body (it answers in the platform's shape).
"""

from __future__ import annotations

from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from gateway.settings import Settings

MULTIPART_ENVELOPE = 64 * 1024  # boundaries, part headers and the note field around an evidence file


def body_limit(settings: Settings, method: str, path: str) -> int | None:
    """The most bytes a request to ``path`` may send; None when the route bounds its body itself."""
    if path.startswith("/inbound/"):
        return None
    if method == "POST" and path.endswith("/evidence"):
        return settings.dashboard.upload_max_bytes + MULTIPART_ENVELOPE
    return settings.max_request_bytes


def too_large(limit: int) -> HTTPException:
    return HTTPException(413, f"请求体超过 {limit} 字节的上限")


class BodyLimit:
    """Refuse on ``Content-Length``; stop reading past the limit (plain ASGI: streamed bodies stay streamed)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Wrap ``receive`` with the route's limit."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        settings: Settings = scope["app"].state.container.settings
        limit = body_limit(settings, scope["method"], scope["path"])
        if limit is None:
            await self.app(scope, receive, send)
            return
        declared = dict(scope["headers"]).get(b"content-length", b"")
        refused = declared.isdigit() and int(declared) > limit
        received = 0

        async def bounded() -> Message:
            nonlocal received
            if refused:
                raise too_large(limit)  # nothing of the body is read
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise too_large(limit)
            return message

        await self.app(scope, bounded, send)
