"""Inbound data the database refuses is kept as a failed, replayable inbox row, never looped.

The platform re-sends anything but 200 (PLATFORMS.md §1), so an event whose fields cannot be stored
is answered 200 and kept as failed with the field named; a row whose processing the database refuses
becomes failed too, instead of being rung again forever.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from app.bootstrap import Container
from gateway.services import inbound
from gateway.store.db import transaction
from tests.security.support import client_of, inbox_rows, order_envelope, push, webhook_container
from workers import handlers


@pytest.fixture
def container(db_url: str, make_settings: Callable[..., Any]) -> Iterator[Container]:
    yield from webhook_container(db_url, make_settings)


@pytest.fixture
def client(container: Container) -> TestClient:
    return client_of(container)


@pytest.mark.parametrize(("changes", "field"), [
    ({"event_type": "order." + "x" * 60}, "event_type: longer than 40"),
    ({"event_id": "evt-" + "9" * 200}, "event_id: longer than 128"),
    ({"order_no": "2511221015000123" * 5}, "external_id (order_no): longer than 64"),
    ({"event_type": "order.dispatched\x00"}, "event_type: contains NUL"),
    ({"event_id": "evt-\x00-1"}, "event_id: contains NUL"),
    ({"order_no": "2511221015000123\x00"}, "external_id (order_no): contains NUL"),
    ({"event_id": "evt-\ud800"}, "event_id: contains a lone surrogate"),
    ({"order_no": "\udfff2511221015000123"}, "external_id (order_no): contains a lone surrogate"),
])
def test_a_push_the_database_would_refuse_is_answered_200_and_kept_failed_with_the_field_named(
    client: TestClient, container: Container, changes: dict[str, Any], field: str
) -> None:
    envelope = order_envelope(**changes)
    first = push(client, envelope)
    assert (first.status_code, first.json()["code"]) == (200, 0), first.text  # so the platform stops re-sending
    assert field in first.json()["message"]
    again = push(client, envelope)  # a re-send anyway (new nonce, same body): one row all the same
    assert (again.status_code, again.json()["code"]) == (200, 0)
    (row,) = inbox_rows(container)
    assert row.state == "failed" and row.error is not None and field in row.error
    assert row.event_id.startswith("refused:")


def test_a_refused_push_whose_nonce_is_replayed_is_401(client: TestClient) -> None:
    envelope = order_envelope(event_type="x" * 41)
    assert push(client, envelope, nonce="n-refused-1").status_code == 200
    replay = push(client, envelope, nonce="n-refused-1")
    assert replay.status_code == 401 and replay.json()["code"] == 40100


def test_a_push_refused_only_for_its_event_id_maps_normally_when_replayed(
    client: TestClient, container: Container
) -> None:
    assert push(client, order_envelope(event_id="e" * 129)).status_code == 200
    (row,) = inbox_rows(container)
    with transaction(container.sessions) as s:
        inbound.replay_inbox(s, row_id=row.id, now=container.clock())
    handlers.handle_inbox(container, row.id)
    (row,) = inbox_rows(container)
    assert row.state == "done" and row.ticket_id is not None


def test_a_nul_in_a_title_fails_the_row_with_the_field_named_instead_of_retrying_forever(
    client: TestClient, container: Container
) -> None:
    assert push(client, order_envelope(data={"title": "夜间噪声\x00扰民"})).json()["code"] == 0
    (row,) = inbox_rows(container)
    assert row.state == "pending"
    handlers.handle_inbox(container, row.id)  # the worker's path; before, PostgreSQL raised here every time
    (row,) = inbox_rows(container)
    assert row.state == "failed" and row.error is not None and "title: contains NUL" in row.error


def test_a_database_error_while_processing_makes_a_failed_replayable_row(
    client: TestClient, container: Container
) -> None:
    """A version past 64 bits passes the mapper (an int) and no pre-check: the database refuses it."""
    assert push(client, order_envelope(data={"version": 2**70})).json()["code"] == 0
    (row,) = inbox_rows(container)
    handlers.handle_inbox(container, row.id)
    (row,) = inbox_rows(container)
    assert row.state == "failed" and row.attempts == 1
    assert row.error is not None and row.error.startswith("数据库拒绝保存：")
    with transaction(container.sessions) as s:  # visible and replayable like a mapping failure
        assert inbound.replay_inbox(s, row_id=row.id, now=container.clock()).state == "pending"
