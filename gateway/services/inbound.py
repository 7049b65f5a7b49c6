"""Inbound: store raw events durably and idempotently, nothing else (DESIGN.md "Inbound")."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import delete, select, text
from sqlalchemy.orm import Session

from adapters.base import RawItem
from gateway.errors import SignatureError
from gateway.store.sql import insert_ignore
from gateway.store.tables import InboxRecord, NonceRecord, PollCursorRecord


def claim_nonce(session: Session, *, platform: str, nonce: str, now: datetime) -> None:
    """Record a webhook nonce; a nonce already seen in the window is a replay (``SignatureError``)."""
    inserted = insert_ignore(
        session,
        NonceRecord.__table__,  # type: ignore[arg-type]
        {"platform": platform, "nonce": nonce, "seen_at": now},
        conflict=["platform", "nonce"],
        returning="nonce",
    )
    if inserted is None:
        raise SignatureError("nonce already used (replay)")


def purge_nonces(session: Session, *, older_than: datetime) -> int:
    """Forget nonces past the replay window."""
    result = session.execute(delete(NonceRecord).where(NonceRecord.seen_at < older_than))
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


def store_item(session: Session, *, platform: str, item: RawItem, source: str, now: datetime) -> int | None:
    """Insert one raw item into the inbox; returns its id, or None when this event id is already stored."""
    values: dict[str, Any] = {
        "platform": platform,
        "event_id": item.event_id,
        "source": source,
        "event_type": item.event_type,
        "external_id": item.external_id,
        "payload": item.payload,
        "received_at": now,
        "next_attempt_at": now,
        "rung_at": now,
        "state": "pending",
        "attempts": 0,
    }
    new_id = insert_ignore(
        session, InboxRecord.__table__, values, conflict=["platform", "event_id"]  # type: ignore[arg-type]
    )
    return None if new_id is None else int(new_id)


def store_malformed(session: Session, *, platform: str, body: bytes, error: str, now: datetime) -> int | None:
    """Keep a signed but unparseable push, visible as failed, deduplicated on the body's hash."""
    digest = hashlib.sha256(body).hexdigest()[:40]
    item = RawItem(
        event_id=f"malformed:{digest}",
        event_type="malformed",
        external_id=None,
        payload=body.decode("utf-8", errors="replace"),
    )
    row_id = store_item(session, platform=platform, item=item, source="push", now=now)
    if row_id is not None:
        row = session.get_one(InboxRecord, row_id)
        row.state, row.error = "failed", error
    return row_id


def store_page(
    session: Session,
    *,
    platform: str,
    items: Sequence[RawItem],
    cursor: dict[str, Any],
    now: datetime,
) -> list[int]:
    """Store a pulled page and its cursor in the caller's one transaction; returns the new inbox ids."""
    new_ids = [
        row_id
        for item in items
        if (row_id := store_item(session, platform=platform, item=item, source="pull", now=now)) is not None
    ]
    record = session.get(PollCursorRecord, platform)
    if record is None:
        record = PollCursorRecord(platform=platform, cursor=cursor)
        session.add(record)
    record.cursor = cursor
    record.updated_at = now
    record.last_success_at = now
    record.consecutive_errors = 0
    return new_ids


def load_cursor(session: Session, *, platform: str) -> dict[str, Any] | None:
    """The saved pull cursor of a platform, if any."""
    record = session.get(PollCursorRecord, platform)
    return None if record is None or not record.cursor else dict(record.cursor)


def record_poll_error(session: Session, *, platform: str, error: str, now: datetime) -> None:
    """Remember a failed pull for health reporting; the cursor stays where it was."""
    record = session.get(PollCursorRecord, platform)
    if record is None:
        record = PollCursorRecord(platform=platform, cursor={}, consecutive_errors=0)
        session.add(record)
    record.last_error, record.last_error_at = error[:2000], now
    record.consecutive_errors = (record.consecutive_errors or 0) + 1


def due_inbox_ids(session: Session, *, now: datetime, ring_again_after: timedelta, limit: int = 500) -> list[int]:
    """Inbox rows waiting to be processed that nobody rang recently (sweeper)."""
    stmt = (
        select(InboxRecord.id)
        .where(InboxRecord.state.in_(("pending", "waiting")))
        .where(InboxRecord.next_attempt_at <= now)
        .where((InboxRecord.rung_at.is_(None)) | (InboxRecord.rung_at < now - ring_again_after))
        .order_by(InboxRecord.id)
        .limit(limit)
    )
    ids = list(session.scalars(stmt))
    if ids:
        for row in session.scalars(select(InboxRecord).where(InboxRecord.id.in_(ids))):
            row.rung_at = now
    return ids


def replay_inbox(session: Session, *, row_id: int, now: datetime) -> InboxRecord:
    """Queue a failed inbox row again (after a mapper fix); the raw payload is untouched."""
    from gateway.errors import DomainError

    row = session.get_one(InboxRecord, row_id, with_for_update=True)
    if row.state not in ("failed", "waiting"):
        raise DomainError(f"只能重放处理失败的入站事件 (row {row_id} is {row.state})")
    row.state, row.next_attempt_at, row.rung_at = "pending", now, now
    return row


_PUSH_PG = text(
    # One round trip for the webhook on PostgreSQL: the nonce claim and the inbox row together; the
    # row is written only when the nonce was new. Measured: the webhook is bound by round trips.
    """
    WITH n AS (
        INSERT INTO webhook_nonces (platform, nonce, seen_at) VALUES (:platform, :nonce, :now)
        ON CONFLICT DO NOTHING RETURNING 1 AS ok
    ), i AS (
        INSERT INTO inbox (platform, event_id, source, event_type, external_id, payload, received_at, state,
                           attempts, next_attempt_at, rung_at)
        SELECT :platform, :event_id, 'push', :event_type, :external_id, :payload, :now, 'pending', 0, :now, :now
        WHERE EXISTS (SELECT 1 FROM n)
        ON CONFLICT (platform, event_id) DO NOTHING RETURNING id
    )
    SELECT (SELECT count(*) FROM n) AS nonce_ok, (SELECT id FROM i) AS id
    """
)


def store_push(session: Session, *, platform: str, nonce: str, item: RawItem, now: datetime) -> int | None:
    """Claim the nonce and store a pushed item; the inbox id, None for a duplicate event, or ``SignatureError``."""
    if session.get_bind().dialect.name != "postgresql":
        claim_nonce(session, platform=platform, nonce=nonce, now=now)
        return store_item(session, platform=platform, item=item, source="push", now=now)
    stamp = now.astimezone(UTC).replace(tzinfo=None)  # the store keeps naive UTC (UTCDateTime)
    nonce_ok, row_id = session.execute(_PUSH_PG, {
        "platform": platform, "nonce": nonce, "now": stamp, "event_id": item.event_id,
        "event_type": item.event_type, "external_id": item.external_id, "payload": item.payload,
    }).one()
    if not nonce_ok:
        raise SignatureError("nonce already used (replay)")
    return None if row_id is None else int(row_id)
