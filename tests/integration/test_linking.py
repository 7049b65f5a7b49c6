"""一事多投 and 重复投诉: the same matter through several platforms is one case (SQLite + PostgreSQL)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from gateway.principal import Principal
from gateway.services import actions, inbound, processing
from gateway.services.linking import citizen_key, similarity
from gateway.settings import Role
from gateway.store.db import make_session_factory, transaction
from gateway.store.tables import CaseRecord, TicketRecord
from tests.fakes import FakeMapper, raw
from tests.sla_support import bound_engine

NOW = datetime(2026, 11, 20, 2, 0, tzinfo=UTC)
DUTY = Principal("值班员甲", frozenset({Role.duty}))
PHONE = "13900001111"
COMPLAINT = "小区门口夜间施工噪音严重，影响休息，希望派出所尽快处理。"


@pytest.fixture
def sessions(db_url: str) -> sessionmaker[Session]:
    return make_session_factory(bound_engine(db_url))


def ingest(sessions: sessionmaker[Session], event_id: str, **data: Any) -> TicketRecord:
    mappers = {"fake": FakeMapper()}
    with transaction(sessions) as s:
        row_id = inbound.store_item(s, platform="fake", item=raw(event_id, **data), source="push", now=NOW)
    with transaction(sessions) as s:
        processing.process_inbox_row(s, row_id=row_id or 0, mappers=mappers, now=NOW)
    with sessions() as s:
        return s.scalars(select(TicketRecord).where(TicketRecord.external_id == data["id"])).one()


def test_the_same_matter_on_two_platforms_becomes_one_case(sessions: sessionmaker[Session]) -> None:
    first = ingest(sessions, "a", id="A1", version=1, platform="p12345", phone=PHONE, content=COMPLAINT)
    second = ingest(sessions, "b", id="M1", version=1, platform="mayor", phone="139-0000-1111",
                    content="小区门口夜间施工噪音严重影响休息，希望尽快处理！")
    assert first.case_id is None and second.case_id is not None
    with sessions() as s:
        case = s.get_one(CaseRecord, second.case_id)
        assert s.get_one(TicketRecord, first.id).case_id == case.id
    assert (case.ticket_count, case.repeat_count) == (2, 0)


def test_different_content_or_another_phone_is_not_linked(sessions: sessionmaker[Session]) -> None:
    ingest(sessions, "a", id="A1", version=1, platform="p12345", phone=PHONE, content=COMPLAINT)
    other_text = ingest(sessions, "b", id="M1", version=1, platform="mayor", phone=PHONE, content="户口迁移要哪些材料")
    other_phone = ingest(sessions, "c", id="M2", version=1, platform="mayor", phone="13700002222", content=COMPLAINT)
    assert other_text.case_id is None and other_phone.case_id is None


def test_dispatching_one_ticket_gives_the_case_and_its_other_tickets_the_same_unit(
    sessions: sessionmaker[Session],
) -> None:
    first = ingest(sessions, "a", id="A1", version=1, platform="p12345", phone=PHONE, content=COMPLAINT)
    second = ingest(sessions, "b", id="M1", version=1, platform="mayor", phone=PHONE, content=COMPLAINT)
    with transaction(sessions) as s:
        actions.sign_off(s, ticket_id=first.id, principal=DUTY, now=NOW)
    with transaction(sessions) as s:
        actions.dispatch(s, ticket_id=first.id, principal=DUTY, unit="城关派出所", now=NOW, approval="after")
    with sessions() as s:
        assert s.get_one(TicketRecord, second.id).unit == "城关派出所"
        assert s.get_one(CaseRecord, second.case_id).unit == "城关派出所"


def test_a_matter_filed_again_after_our_reply_counts_as_a_repeat_complaint(sessions: sessionmaker[Session]) -> None:
    first = ingest(sessions, "a", id="A1", version=1, platform="p12345", phone=PHONE, content=COMPLAINT)
    with transaction(sessions) as s:
        s.get_one(TicketRecord, first.id).status = "replied"
    again = ingest(sessions, "b", id="A2", version=1, platform="p12345", phone=PHONE, content=COMPLAINT)
    with sessions() as s:
        case = s.get_one(CaseRecord, again.case_id)
    assert case.repeat_count == 1


def test_phone_keys_ignore_formatting_and_similarity_ignores_punctuation() -> None:
    assert citizen_key("139-0000-1111") == citizen_key("13900001111") != citizen_key("13900001112")
    assert citizen_key("") is None
    assert similarity("噪音，扰民！", "噪音扰民") == 1.0
