"""``POST /inbound/{platform}``: verify, store the raw event, commit, answer. Nothing else here."""

from __future__ import annotations

import logging
from collections.abc import Mapping

import anyio
import anyio.to_thread
from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from adapters.base import PushVerifier
from gateway.api.deps import ContainerDep
from gateway.bootstrap import Container
from gateway.errors import MappingError, SignatureError
from gateway.services import inbound
from gateway.store.db import transaction

log = logging.getLogger(__name__)
router = APIRouter(tags=["inbound"])
INBOUND_THREADS = 8


def _answer(status: int, code: int, message: str) -> JSONResponse:
    # The platform's own answer shape (PLATFORMS.md §1): {"code": 0} on success.
    return JSONResponse({"code": code, "message": message}, status_code=status)


async def _read_limited(request: Request, limit: int) -> bytes | None:
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        return None
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            return None
        chunks.append(chunk)
    return b"".join(chunks)


@router.post("/inbound/{platform}", summary="Platform webhook (push)")
async def receive_push(platform: str, request: Request, container: ContainerDep) -> JSONResponse:
    """Durably store one pushed event; the platform re-sends until it gets ``{"code": 0}``."""
    verifier = container.verifiers.get(platform)
    if verifier is None:
        return _answer(404, 40400, f"unknown or pull-only platform: {platform}")
    body = await _read_limited(request, container.settings.max_body_bytes)
    if body is None:
        return _answer(413, 41300, f"body larger than {container.settings.max_body_bytes} bytes")
    # Database and broker calls block: run them in threads, never on the event loop, and only a
    # few at a time: past ~8 threads the GIL and lock convoys cut throughput in half (measured).
    limiter = container.extras.setdefault("inbound_limiter", anyio.CapacityLimiter(INBOUND_THREADS))
    return await anyio.to_thread.run_sync(_store, container, platform, verifier, request.headers, body,
                                          limiter=limiter)


def _store(
    container: Container, platform: str, verifier: PushVerifier, headers: Mapping[str, str], body: bytes
) -> JSONResponse:
    now = container.clock()
    try:
        nonce = verifier.verify(headers, body, now=now.timestamp())
    except SignatureError as exc:
        log.warning("rejected push on %s: %s", platform, exc)
        return _answer(401, 40100, str(exc))
    try:
        item = verifier.parse(body)
    except MappingError as exc:
        with transaction(container.sessions) as session:
            inbound.claim_nonce(session, platform=platform, nonce=nonce, now=now)
            inbound.store_malformed(session, platform=platform, body=body, error=str(exc), now=now)
        return _answer(400, 40001, f"malformed event, kept for review: {exc}")
    try:
        with transaction(container.sessions) as session:
            row_id = inbound.store_push(session, platform=platform, nonce=nonce, item=item, now=now)
    except SignatureError as exc:
        return _answer(401, 40100, str(exc))
    if row_id is not None:
        container.doorbell.inbox([row_id])
    return _answer(200, 0, "ok")
