"""Pull: fetch pages from a platform and store them with their cursor, one transaction per page."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta

from sqlalchemy.orm import Session, sessionmaker

from gateway.errors import GatewayError
from gateway.ports import PlatformAdapter
from gateway.services import inbound
from gateway.store import locks
from gateway.store.db import transaction

log = logging.getLogger(__name__)


def poll_platform(
    sessions: sessionmaker[Session],
    *,
    adapter: PlatformAdapter,
    owner: str,
    clock: Callable[[], datetime],
    max_pages: int = 50,
    lease: timedelta = timedelta(seconds=120),
) -> list[int]:
    """One pull cycle (up to ``max_pages``); returns the new inbox ids. Errors are recorded, not raised."""
    key = adapter.key
    with transaction(sessions) as session:
        if not locks.acquire(session, name=f"poll:{key}", owner=owner, ttl=lease, now=clock()):
            return []  # another poller is on it
        cursor = inbound.load_cursor(session, platform=key)
    new_ids: list[int] = []
    try:
        for _ in range(max_pages):
            page = adapter.poll(cursor)
            with transaction(sessions) as session:
                new_ids += inbound.store_page(
                    session, platform=key, items=page.items, cursor=page.cursor, now=clock()
                )
                locks.acquire(session, name=f"poll:{key}", owner=owner, ttl=lease, now=clock())
            cursor = page.cursor
            if page.done:
                break
    except GatewayError as exc:
        log.warning("poll %s failed: %s", key, exc)
        with transaction(sessions) as session:
            inbound.record_poll_error(session, platform=key, error=f"{type(exc).__name__}: {exc}", now=clock())
    finally:
        with transaction(sessions) as session:
            locks.release(session, name=f"poll:{key}", owner=owner)
    return new_ids
