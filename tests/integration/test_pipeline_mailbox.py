"""Mailbox letters through the real inbox and processing, once on SQLite and once on PostgreSQL.

The version of a letter is its ``updated_at`` in epoch milliseconds (about 1.7e12): it must survive
the ``source_version`` column of both databases, and a rating must reach the ticket as its callback.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from gateway.ports import RawItem
from gateway.services import inbound, processing
from gateway.store.db import make_session_factory, transaction
from gateway.store.tables import InboxRecord, TicketRecord
from mappers.mailbox import MailboxMapper
from tests.sla_support import bound_engine

NOW = datetime(2025, 12, 7, 2, 0, tzinfo=UTC)
FIXTURES = Path(__file__).parents[1] / "fixtures" / "mailbox"
MAPPERS = {"mailbox": MailboxMapper()}


@pytest.fixture
def sessions(db_url: str) -> sessionmaker[Session]:
    # Runs on PostgreSQL too: epoch-ms versions need tickets.source_version to be BIGINT.
    return make_session_factory(bound_engine(db_url))


def letter_item(name: str, event_type: str = "letter.snapshot") -> RawItem:
    text = (FIXTURES / name).read_text(encoding="utf-8")
    letter: dict[str, Any] = json.loads(text)
    if event_type == "letter.rated":
        event_id = f"rating:{letter['letter_no']}:{letter['rating']['rated_at']}"
    else:
        event_id = f"pull:{letter['letter_no']}:{letter['updated_at']}"
    return RawItem(event_id=event_id, event_type=event_type, external_id=letter["letter_no"], payload=text)


def ingest(sessions: sessionmaker[Session], item: RawItem) -> int | None:
    with transaction(sessions) as s:
        row_id = inbound.store_item(s, platform="mailbox", item=item, source="pull", now=NOW)
    if row_id is not None:
        with transaction(sessions) as s:
            processing.process_inbox_row(s, row_id=row_id, mappers=MAPPERS, now=NOW)
    return row_id


def test_letters_are_versioned_by_epoch_ms_and_a_late_rating_becomes_the_callback(
    sessions: sessionmaker[Session],
) -> None:
    assert ingest(sessions, letter_item("letter_answered.json")) is not None
    assert ingest(sessions, letter_item("letter_pending.json")) is not None  # older: must not win
    assert ingest(sessions, letter_item("letter_rated.json")) is not None
    assert ingest(sessions, letter_item("letter_rated.json", "letter.rated")) is not None
    assert ingest(sessions, letter_item("letter_rated.json", "letter.rated")) is None  # the same rating again

    with sessions() as s:
        ticket = s.scalars(select(TicketRecord)).one()
        states = list(s.scalars(select(InboxRecord.state).order_by(InboxRecord.id)))
    assert states == ["done", "stale", "done", "done"]
    assert ticket.source_version == 1765022731777
    assert ticket.platform_status == "answered"
    assert ticket.callback == {
        "score": 2,
        "satisfaction": "dissatisfied",
        "comment": "周末还是有人飙车，希望持续整治",
        "rated_at": "2025-12-06T20:05:31.777000+08:00",
    }


def test_a_rating_read_before_its_letter_waits_for_the_ticket(sessions: sessionmaker[Session]) -> None:
    ingest(sessions, letter_item("letter_rated.json", "letter.rated"))
    with sessions() as s:
        assert s.scalars(select(InboxRecord.state)).one() == "waiting"

    ingest(sessions, letter_item("letter_rated.json"))

    with sessions() as s:
        states = list(s.scalars(select(InboxRecord.state).order_by(InboxRecord.id)))
        assert s.scalars(select(TicketRecord)).one().platform_status == "answered"
    assert states == ["pending", "done"]  # released, for the worker to apply now
