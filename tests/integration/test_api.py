"""The gateway's own API: auth, roles, the approval gate, the error shape, deadlines (SQLite + PostgreSQL)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from app.bootstrap import Container, bootstrap
from app.web import create_app
from gateway.services import inbound, processing
from gateway.store.db import transaction
from gateway.store.tables import OutboxRecord, TicketRecord
from tests.fakes import FakeAdapter, FakeMapper, raw

NOW = datetime(2026, 11, 20, 2, 0, tzinfo=UTC)  # 10:00 in Shanghai
TOKENS = [
    {"name": "值班员甲", "token": "duty-token-0123456789", "roles": ["duty"]},
    {"name": "派出所乙", "token": "unit-token-0123456789", "roles": ["unit"], "unit": "城关派出所"},
    {"name": "分管领导丙", "token": "leader-token-0123456789", "roles": ["leader"]},
    {"name": "所长丁", "token": "head-token-0123456789", "roles": ["unit_head"], "unit": "城关派出所"},
]
DUTY, UNIT, LEADER, HEAD = ({"Authorization": f"Bearer {t['token']}"} for t in TOKENS)
REPLY = {
    "is_true": "属实",
    "investigation": "经民警现场核查，反映情况属实。",
    "disposition": "已责令施工方停止夜间施工",
    "citizen_opinion": "诉求人表示认可",
}


@pytest.fixture
def container(db_url: str, make_settings: Callable[..., Any]) -> Iterator[Container]:
    c = bootstrap(make_settings(database_url=db_url, api_tokens=TOKENS), adapters={"fake": FakeAdapter()},  # type: ignore[dict-item]
                  clock=lambda: NOW)
    c.mappers["fake"] = FakeMapper()
    yield c
    c.close()


@pytest.fixture
def client(container: Container) -> TestClient:
    return TestClient(create_app(container))


@pytest.fixture
def ticket_id(container: Container) -> int:
    with transaction(container.sessions) as s:
        row_id = inbound.store_item(s, platform="fake", item=raw("e1", id="2611201000000001", version=1),
                                    source="push", now=NOW)
    with transaction(container.sessions) as s:
        processing.process_inbox_row(s, row_id=row_id or 0, mappers=container.mappers, now=NOW)
    with container.sessions() as s:
        return int(s.scalars(select(TicketRecord.id)).one())


def outbox_actions(container: Container) -> list[str]:
    with container.sessions() as s:
        return list(s.scalars(select(OutboxRecord.action).order_by(OutboxRecord.id)))


def test_a_request_without_a_token_gets_401_in_the_error_shape(client: TestClient) -> None:
    response = client.get("/api/v1/tickets")
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "unauthorized"
    assert client.get("/api/v1/tickets", headers={"Authorization": "Bearer nope"}).status_code == 401


def test_the_queue_shows_the_sign_off_deadline_24_hours_after_issue(client: TestClient, ticket_id: int) -> None:
    body = client.get("/api/v1/tickets", headers=DUTY).json()
    (item,) = body["items"]
    assert item["id"] == ticket_id and item["platform"] == "fake"
    assert item["deadlines"]["sign_off"]["due_at"] == "2026-11-21T09:00:00+08:00"
    assert item["deadlines"]["sign_off"]["state"] == "running"
    assert item["deadlines"]["response"]["state"] == "not_started"
    assert body["next_cursor"] is None


def test_sign_off_by_a_unit_is_forbidden_and_changes_nothing(
    client: TestClient, container: Container, ticket_id: int
) -> None:
    response = client.post(f"/api/v1/tickets/{ticket_id}/sign-off", headers=UNIT)
    assert response.status_code == 403 and response.json()["error"]["code"] == "forbidden"
    assert outbox_actions(container) == []
    assert client.get(f"/api/v1/tickets/{ticket_id}", headers=DUTY).json()["status"] == "received"


def test_the_full_operator_path_queues_sign_then_contact_then_the_approved_reply(
    client: TestClient, container: Container, ticket_id: int
) -> None:
    signed = client.post(f"/api/v1/tickets/{ticket_id}/sign-off", headers=DUTY).json()
    assert signed["status"] == "signed"
    assert signed["deadlines"]["sign_off"]["state"] == "met"
    assert signed["deadlines"]["response"]["state"] == "not_started"  # it starts when the unit gets the order
    proposed = client.post(f"/api/v1/tickets/{ticket_id}/dispatch", json={"unit": "城关派出所"}, headers=DUTY)
    # 000 二: a duty officer's dispatch waits for the leader, so the unit has no order and no clock yet.
    assert proposed.json()["deadlines"]["response"]["state"] == "not_started"
    approved = client.post(f"/api/v1/tickets/{ticket_id}/dispatch/approve", json={}, headers=LEADER)
    assert approved.json()["deadlines"]["response"]["due_at"] == "2026-11-20T12:00:00+08:00"
    assert client.post(f"/api/v1/tickets/{ticket_id}/response", json={"note": "已电话联系"}, headers=UNIT).is_success
    assert client.post(f"/api/v1/tickets/{ticket_id}/reply", json=REPLY, headers=UNIT).is_success
    assert client.post(f"/api/v1/tickets/{ticket_id}/reply/review", json={}, headers=HEAD).is_success
    approved = client.post(f"/api/v1/tickets/{ticket_id}/reply/approve", headers=LEADER).json()
    assert approved["status"] == "approved" and approved["reply_approved_by"] == "分管领导丙"
    assert outbox_actions(container) == ["sign", "contact", "reply"]
    assert [o["state"] for o in approved["outbound"]] == ["pending", "pending", "pending"]


def test_a_reply_is_refused_without_a_leaders_approval(
    client: TestClient, container: Container, ticket_id: int
) -> None:
    client.post(f"/api/v1/tickets/{ticket_id}/sign-off", headers=DUTY)
    client.post(f"/api/v1/tickets/{ticket_id}/reply", json=REPLY, headers=UNIT)
    for headers in (DUTY, UNIT):
        assert client.post(f"/api/v1/tickets/{ticket_id}/reply/approve", headers=headers).status_code == 403
    assert outbox_actions(container) == ["sign"]


def test_a_reply_draft_missing_a_required_part_gets_a_clear_422(client: TestClient, ticket_id: int) -> None:
    client.post(f"/api/v1/tickets/{ticket_id}/sign-off", headers=DUTY)
    response = client.post(f"/api/v1/tickets/{ticket_id}/reply", json={**REPLY, "citizen_opinion": ""}, headers=DUTY)
    assert response.status_code == 422
    error = response.json()["error"]  # issue 13 point 7: the message in Chinese, the field's loc for programs
    assert error["message"] == "请求参数有误：反映人意见：至少 2 个字"
    assert error["fields"] == [{"loc": ["body", "citizen_opinion"], "type": "string_too_short"}]


def test_an_action_in_the_wrong_state_answers_409(client: TestClient, ticket_id: int) -> None:
    response = client.post(f"/api/v1/tickets/{ticket_id}/reply/approve", headers=LEADER)
    assert response.status_code == 409
    assert "待签收" in response.json()["error"]["message"]


def test_an_unknown_ticket_answers_404(client: TestClient) -> None:
    response = client.get("/api/v1/tickets/999999", headers=DUTY)
    assert response.status_code == 404 and response.json()["error"]["code"] == "not_found"


def test_a_unit_sees_only_its_own_units_tickets(client: TestClient, ticket_id: int) -> None:
    assert client.get("/api/v1/tickets", headers=UNIT).json()["items"] == []
    assert client.get(f"/api/v1/tickets/{ticket_id}", headers=UNIT).status_code == 404
    client.post(f"/api/v1/tickets/{ticket_id}/sign-off", headers=DUTY)
    client.post(f"/api/v1/tickets/{ticket_id}/dispatch", json={"unit": "城关派出所"}, headers=DUTY)
    assert client.get("/api/v1/tickets", headers=UNIT).json()["items"] == []  # a proposal is not a dispatch yet
    client.post(f"/api/v1/tickets/{ticket_id}/dispatch/approve", json={}, headers=LEADER)
    assert [t["id"] for t in client.get("/api/v1/tickets", headers=UNIT).json()["items"]] == [ticket_id]


def test_the_queue_pages_with_a_cursor(client: TestClient, container: Container) -> None:
    for n in range(5):
        with transaction(container.sessions) as s:
            row_id = inbound.store_item(s, platform="fake", item=raw(f"e{n}", id=f"X{n}", version=1),
                                        source="push", now=NOW)
        with transaction(container.sessions) as s:
            processing.process_inbox_row(s, row_id=row_id or 0, mappers=container.mappers, now=NOW)
    first = client.get("/api/v1/tickets?limit=3", headers=DUTY).json()
    second = client.get(f"/api/v1/tickets?limit=3&cursor={first['next_cursor']}", headers=DUTY).json()
    ids = [t["external_id"] for t in first["items"] + second["items"]]
    assert ids == ["X4", "X3", "X2", "X1", "X0"] and second["next_cursor"] is None


def test_breached_filter_finds_tickets_past_their_sign_off_deadline(
    client: TestClient, container: Container, ticket_id: int
) -> None:
    container.clock = lambda: NOW + timedelta(hours=25)
    items = client.get("/api/v1/tickets?breached=true&timer=sign_off", headers=DUTY).json()["items"]
    assert [t["id"] for t in items] == [ticket_id]
    assert client.get("/api/v1/tickets?breached=false", headers=DUTY).json()["items"] == []


def test_health_readiness_and_openapi_docs(client: TestClient) -> None:
    assert client.get("/healthz").json() == {"status": "ok"}
    ready = client.get("/readyz")
    assert ready.status_code == 200 and ready.json()["checks"]["database"] == "ok"
    spec = client.get("/openapi.json").json()
    assert "/api/v1/tickets/{ticket_id}/reply/approve" in spec["paths"]
    assert client.get("/docs").status_code == 200


def test_platform_health_shows_backlog_and_its_oldest_age(
    client: TestClient, container: Container, ticket_id: int
) -> None:
    client.post(f"/api/v1/tickets/{ticket_id}/sign-off", headers=DUTY)
    container.clock = lambda: NOW + timedelta(minutes=10)
    items = {i["platform"]: i for i in client.get("/api/v1/platforms/health", headers=DUTY).json()["items"]}
    assert items["p12345"]["outbox_backlog"] == 0
    assert (items["fake"]["outbox_backlog"], items["fake"]["outbox_oldest_age_s"]) == (1, 600)
    assert items["fake"]["circuit"] == "closed"
    metrics = client.get("/metrics").text
    assert 'hotline_platform_outbox_backlog{platform="fake"} 1.0' in metrics
    assert 'hotline_platform_outbox_oldest_age_seconds{platform="fake"} 600.0' in metrics
    assert 'hotline_platform_circuit_open{platform="fake"} 0.0' in metrics
    assert client.get("/api/v1/platforms/health", headers=UNIT).status_code == 403


def test_a_failed_inbound_event_is_listed_with_its_error_and_can_be_replayed(
    client: TestClient, container: Container
) -> None:
    with transaction(container.sessions) as s:
        row_id = inbound.store_item(s, platform="fake", item=raw("bad", id="B1", version=1, type="吐槽"),
                                    source="push", now=NOW)
    with transaction(container.sessions) as s:
        processing.process_inbox_row(s, row_id=row_id or 0, mappers=container.mappers, now=NOW)
    (item,) = client.get("/api/v1/inbox?state=failed", headers=DUTY).json()["items"]
    assert item["id"] == row_id and "appealType" in item["error"]
    assert client.post(f"/api/v1/inbox/{row_id}/replay", headers=UNIT).status_code == 403
    assert client.post(f"/api/v1/inbox/{row_id}/replay", headers=DUTY).json() == {"id": row_id, "state": "pending"}
