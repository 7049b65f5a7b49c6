"""``POST /inbound/{platform}``: verify, store the raw event, commit, answer. Nothing else here."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from functools import partial
from typing import Any

import anyio.to_thread
from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from sqlalchemy import Engine
from sqlalchemy.exc import DBAPIError

from gateway.container import Container
from gateway.errors import MappingError, SignatureError
from gateway.services import inbound, storable
from gateway.services.group_commit import GroupCommitter
from gateway.store.db import make_engine, transaction

log = logging.getLogger(__name__)
router = APIRouter(tags=["inbound"])
# Threads committing pushes: two, so one batch is written while the other waits for its commit.
COMMIT_THREADS = 2
_build_lock = threading.Lock()


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


class PlatformAnswer(BaseModel):
    """The platform's own answer shape (PLATFORMS.md §1): ``code`` 0 is success, anything else a refusal."""

    code: int
    message: str


def _documented(**answers: str) -> dict[int | str, dict[str, Any]]:
    return {int(status[1:]): {"model": PlatformAnswer, "description": text} for status, text in answers.items()}


@router.post(
    "/inbound/{platform}", summary="Platform webhook (push)",
    responses=_documented(
        s200="stored (code 0), or kept as a failed row for review when the database could not hold it as sent",
        s400="signed but malformed: kept for review (code 40001)",
        s401="signature, timestamp or nonce refused (code 40100)",
        s404="unknown or pull-only platform (code 40400)",
        s413="body too large (code 41300)",
        s503="the event could not be stored now; the platform re-sends it (code 50300)",
    ),
    openapi_extra={"requestBody": {"required": True, "description": "The platform's signed event, as sent",
                                   "content": {"application/json": {"schema": {"type": "object"}}}}},
)
async def receive_push(platform: str, request: Request) -> JSONResponse:
    """Durably store one pushed event; the platform re-sends until it gets ``{"code": 0}``."""
    # The container straight from the app, not through a dependency: on the hottest path, solving a
    # dependency per push cost more than the signature check (profiled).
    container: Container = request.app.state.container
    verifier = container.verifiers.get(platform)
    if verifier is None:
        return _answer(404, 40400, f"unknown or pull-only platform: {platform}")
    body = await _read_limited(request, container.settings.max_body_bytes)
    if body is None:
        return _answer(413, 41300, f"body larger than {container.settings.max_body_bytes} bytes")
    now = container.clock()
    try:  # an HMAC over a bounded body: microseconds, fine on the event loop
        nonce = verifier.verify(request.headers, body, now=now.timestamp())
    except SignatureError as exc:
        log.warning("rejected push on %s: %s", platform, exc)
        return _answer(401, 40100, str(exc))
    try:
        item = verifier.parse(body)
    except MappingError as exc:  # signed but not an event: keep it, visible as failed (rare, so no batching)
        keep = partial(inbound.store_malformed, platform=platform, body=body, error=str(exc))
        return await _keep_failed(container, platform, nonce, keep, _answer(
            400, 40001, f"malformed event, kept for review: {exc}"))
    if (problem := storable.item_problem(item)) is not None:
        # An event the database would refuse (over-long id, NUL, lone surrogate): a 503 would have the
        # platform re-send it forever. Kept as a failed row naming the field, and answered 200.
        keep = partial(inbound.store_refused, platform=platform, item=item, problem=problem, source="push")
        return await _keep_failed(container, platform, nonce, keep, _answer(
            200, 0, f"accepted, kept as failed for review: {problem}"))
    try:
        await committer(container).submit(inbound.Push(platform, nonce, item))
    except SignatureError as exc:
        log.warning("rejected push on %s: %s", platform, exc)
        return _answer(401, 40100, str(exc))
    except Exception as exc:  # the database is unavailable: nothing is stored, the platform re-sends
        log.error("push on %s not stored: %s", platform, exc)
        return _answer(503, 50300, "temporarily unable to store the event; please re-send")
    return _answer(200, 0, "ok")


def committer(container: Container) -> GroupCommitter[inbound.Push, inbound.PushOutcome]:
    """The container's push committer, built on the first push (group commit, services/group_commit.py)."""
    with _build_lock:
        if container.inbound_committer is None:
            engine = container.engine
            if engine.dialect.name == "postgresql":
                # A batch is one atomic statement on PostgreSQL: on an autocommit connection it costs
                # one round trip; a pool of its own skips the per-checkout ping (a connection found
                # dead is retried once on a fresh one, see _flush).
                engine = make_engine(container.settings.database_url, pool_size=COMMIT_THREADS, max_overflow=0,
                                     pool_pre_ping=False, isolation_level="AUTOCOMMIT")
            container.inbound_committer = GroupCommitter(
                partial(_flush, container, engine), then=partial(_ring, container), name="inbound-commit",
                threads=COMMIT_THREADS, closing=engine.dispose if engine is not container.engine else None,
            )
    return container.inbound_committer


def _flush(container: Container, engine: Engine, pushes: list[inbound.Push]) -> list[inbound.PushOutcome]:
    try:
        with engine.begin() as conn:
            return inbound.store_pushes(conn, pushes, now=container.clock())
    except DBAPIError as exc:
        if not exc.connection_invalidated:
            raise
    # The pooled connection was dead (the database restarted or failed over): SQLAlchemy has dropped
    # the pool, so once more on a fresh connection. Were the first statement to have landed after all,
    # its nonces now read as replays and the platform's re-send (new nonce, same event) is answered ok.
    with engine.begin() as conn:
        return inbound.store_pushes(conn, pushes, now=container.clock())


def _ring(container: Container, _pushes: list[inbound.Push], outcomes: list[object]) -> None:
    container.doorbell.inbox([o for o in outcomes if isinstance(o, int)])


async def _keep_failed(container: Container, platform: str, nonce: str, keep: Callable[..., object],
                       answer: JSONResponse) -> JSONResponse:
    """Claim the nonce and keep a push as a failed inbox row (rare, so in its own transaction)."""
    def store() -> None:
        now = container.clock()
        with transaction(container.sessions) as session:
            inbound.claim_nonce(session, platform=platform, nonce=nonce, now=now)
            keep(session, now=now)

    try:
        await anyio.to_thread.run_sync(store)
    except SignatureError as exc:  # the nonce of a signed push seen before: a replay, as for any push
        log.warning("rejected push on %s: %s", platform, exc)
        return _answer(401, 40100, str(exc))
    except Exception as exc:
        log.error("push on %s not stored: %s", platform, type(exc).__name__)
        return _answer(503, 50300, "temporarily unable to store the event; please re-send")
    return answer
