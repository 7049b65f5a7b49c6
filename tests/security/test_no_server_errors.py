"""No request answers 500: each of the penetration test's cases gets the right 4xx in the API's shape."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from app.bootstrap import Container
from app.web import create_app
from tests.integration.dashboard_support import Browser, add_ticket, build_container, token
from tests.integration.dashboard_support import cheap_hashes as cheap_hashes
from tests.security.support import client_of as webhook_client
from tests.security.support import order_envelope, push, webhook_container

HUGE = "99999999999999999999"  # > 2^63


@pytest.fixture
def container(db_url: str, make_settings: Callable[..., Any], tmp_path: Path) -> Iterator[Container]:
    yield from build_container(db_url, make_settings, tmp_path)


@pytest.fixture
def api(container: Container) -> TestClient:
    add_ticket(container, "N1")
    return TestClient(create_app(container), raise_server_exceptions=False)


def error_of(response: Any) -> dict[str, Any]:
    body = response.json()
    # A 422 on invalid parameters also lists them for programs (``fields``: loc and pydantic type).
    assert set(body) == {"error"} and set(body["error"]) - {"fields"} == {"code", "message"}, body
    return dict(body["error"])


@pytest.mark.parametrize(("method", "path", "status"), [
    ("GET", f"/api/v1/tickets/{HUGE}", 422),
    ("GET", "/api/v1/tickets/9223372036854775808", 422),
    ("GET", f"/api/v1/tickets?cursor={HUGE}", 422),
    ("GET", f"/api/v1/alerts?cursor={HUGE}", 422),
    ("GET", f"/api/v1/tickets/{HUGE}/evidence", 422),
    ("POST", f"/api/v1/alerts/{HUGE}/ack", 422),
    ("POST", "/api/v1/inbox/0/replay", 422),
    ("POST", "/api/v1/outbound/0/replay", 422),
    ("POST", "/api/v1/inbox/12345/replay", 404),
    ("POST", "/api/v1/outbound/12345/replay", 404),
    ("GET", "/api/v1/calendar/workdays?start=9999-12-31&days=366", 422),
    ("GET", "/api/v1/calendar/workdays?start=9999-12-31&days=1&unit=calendar_days", 422),
    ("GET", "/api/v1/calendar/workdays?start=2026-11-20&days=1&unit=foo", 422),
    ("GET", "/api/v1/tickets?timer=foo", 422),
    ("GET", "/api/v1/tickets?status=foo", 422),
    ("GET", "/api/v1/tickets?appeal_type=foo", 422),
    ("GET", "/api/v1/approvals?state=foo", 422),
])
def test_a_hostile_request_gets_its_4xx_in_the_error_shape(api: TestClient, method: str, path: str,
                                                          status: int) -> None:
    response = api.request(method, path, headers=token("admin"))
    assert response.status_code == status, response.text
    assert error_of(response)["code"] in ("invalid_request", "not_found")


def test_an_evidence_link_with_a_non_ascii_signature_is_403(api: TestClient) -> None:
    response = api.get("/files/evidence/1", params={"expires": "1", "sig": "é签名"})
    assert response.status_code == 403 and error_of(response)["code"] == "forbidden"


def test_text_the_database_cannot_hold_in_a_query_is_never_a_500(api: TestClient) -> None:
    response = api.get("/api/v1/tickets", params={"q": "噪声\x00"}, headers=token("duty"))
    assert response.status_code in (200, 422), response.text  # PostgreSQL refuses NUL: 422
    if response.status_code == 422:
        assert error_of(response)["code"] == "invalid_request"


def test_the_dashboard_queue_refuses_a_huge_or_forged_cursor_with_422(container: Container) -> None:
    browser = Browser(container)
    browser.login("duty")
    for query in (f"cursor={HUGE}", "sort=due&cursor=1|1", "sort=due&cursor=2026-11-20T10:00:00|1",
                  f"sort=due&cursor=2026-11-20T10:00:00%2B08:00|{HUGE}"):
        response = browser.get(f"/dashboard/queue?{query}")
        assert response.status_code == 422, (query, response.status_code)
        assert "分页参数无效" in response.text


@pytest.fixture
def hook(db_url: str, make_settings: Callable[..., Any]) -> Iterator[TestClient]:
    for container in webhook_container(db_url, make_settings):
        yield webhook_client(container)


def test_a_4301_digit_timestamp_is_a_401_not_a_500(hook: TestClient) -> None:
    response = push(hook, order_envelope(), timestamp="1" * 4301)
    assert response.status_code == 401 and response.json()["code"] == 40100
    assert len(response.text) < 300  # the value is not echoed back whole


def test_the_replayed_nonce_of_a_signed_malformed_push_is_a_401_not_a_500(hook: TestClient) -> None:
    first = push(hook, b'{"event_id": "x"}', nonce="n-malformed-1")
    assert first.status_code == 400 and first.json()["code"] == 40001
    again = push(hook, b'{"event_id": "x"}', nonce="n-malformed-1")
    assert again.status_code == 401 and "replay" in again.json()["message"]


def test_dashboard_pages_and_forms_with_ids_past_64_bits_are_422_pages(container: Container) -> None:
    browser = Browser(container)
    browser.login("admin")
    for path in (f"/dashboard/tickets/{HUGE}", f"/dashboard/tickets/{HUGE}/evidence/{HUGE}",
                 f"/dashboard/admin/audit?before={HUGE}"):
        assert browser.get(path).status_code == 422, path
    assert browser.post(f"/dashboard/admin/users/{HUGE}/unlock").status_code == 422
    duty = Browser(container)  # admin signs nothing off (roles fail closed): the duty officer's form
    duty.login("duty")
    assert duty.post(f"/dashboard/tickets/{HUGE}/sign-off").status_code == 422


@pytest.mark.parametrize(("action", "body"), [
    ("supervise", {"order": "督办", "due_at": "2026-11-25T17:00:00+08:00", "note": "请于25日前办结回复"}),
    ("complex", {"reason": "涉及多部门联动"}),
    ("plan", {"plan": "会同城管联合整治，预计月底办结"}),
])
def test_the_deadline_routes_refuse_ids_past_64_bits_with_a_422_naming_the_id(api: TestClient, action: str,
                                                                           body: dict[str, Any]) -> None:
    # 督办/催办 (000 限时办结 二), 复杂问题 and its plan (002 工作要求(二)) take a row id like every ticket route.
    response = api.post(f"/api/v1/tickets/{HUGE}/{action}", json=body, headers=token("leader"))
    assert response.status_code == 422, response.text
    assert "ticket_id" in error_of(response)["message"]
