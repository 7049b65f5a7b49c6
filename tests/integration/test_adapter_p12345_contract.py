"""P12345Adapter against the wire contract of PLATFORMS.md §1, with respx standing in for the platform."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import httpx
import pytest
import respx

from adapters.p12345 import P12345Adapter
from adapters.p12345_signing import verify_headers
from gateway.errors import (
    AuthenticationError,
    GatewayError,
    MappingError,
    OutcomeUnknown,
    PermanentError,
    RateLimited,
    TransientError,
)
from gateway.ports import Lookup, SendResult
from gateway.settings import P12345Settings

BASE = "https://p12345.test"
SECRET = "contract-secret-9d2f71"
APP_ID = "gw-contract"
NOW = 1_763_777_700.0  # 2025-11-22T10:15:00+08:00
CST = timezone(timedelta(hours=8))
ORDER_NO = "2511221015000123"
REQUEST_ID = "outbox-41-sign-1"
FIXTURES = Path(__file__).parents[1] / "fixtures" / "p12345"


class Clock:
    """A settable clock for cycle starts and request timestamps."""

    def __init__(self) -> None:
        self.now = NOW

    def __call__(self) -> float:
        return self.now


def order(order_no: str, version: int) -> dict[str, Any]:
    base = json.loads((FIXTURES / "order_base.json").read_text(encoding="utf-8"))
    return {**base, "orderNo": order_no, "version": version}


def iso(ts: float) -> str:
    return datetime.fromtimestamp(ts, tz=CST).isoformat(timespec="seconds")


def ok(data: Any) -> httpx.Response:
    return httpx.Response(200, json={"code": 0, "message": "ok", "data": data})


def assert_signed(request: httpx.Request, clock: Clock) -> None:
    verify_headers(request.headers, request.content, app_id=APP_ID, secret=SECRET, now=clock(), window_s=300)


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def settings() -> P12345Settings:
    return P12345Settings(
        base_url=BASE,
        app_id=APP_ID,
        app_secret=SECRET,
        page_size=2,
        poll_overlap_s=120,
    )


@pytest.fixture
def router() -> Iterator[respx.MockRouter]:
    with respx.mock(base_url=BASE, assert_all_called=False, assert_all_mocked=True) as mock:
        yield mock


@pytest.fixture
def adapter(settings: P12345Settings, clock: Clock) -> Iterator[P12345Adapter]:
    built = P12345Adapter(settings, clock=clock, initial_lookback_s=86_400)
    yield built
    built.close()


# -- pull -----------------------------------------------------------------------------------------


def test_a_pull_cycle_pages_with_tokens_then_restarts_at_the_cycle_start_minus_overlap(
    router: respx.MockRouter, adapter: P12345Adapter, clock: Clock
) -> None:
    pages = {
        None: ok({"items": [order("A1", 1), order("A2", 4)], "nextPageToken": "tok-2"}),
        "tok-2": ok({"items": [order("A1", 2)], "nextPageToken": None}),
    }
    route = router.get("/api/v1/orders").mock(side_effect=lambda r: pages[r.url.params.get("pageToken")])

    first = adapter.poll(None)
    clock.now = NOW + 5
    second = adapter.poll(first.cursor)
    clock.now = NOW + 30
    third = adapter.poll(second.cursor)

    sent = [call.request for call in route.calls]
    assert [dict(r.url.params) for r in sent] == [
        {"updatedSince": iso(NOW - 86_400), "pageSize": "2"},
        {"updatedSince": iso(NOW - 86_400), "pageSize": "2", "pageToken": "tok-2"},
        {"updatedSince": iso(NOW - 120), "pageSize": "2"},
    ]
    assert "+08:00" in str(sent[0].url.params["updatedSince"])
    for request in sent:
        assert request.content == b""
    assert_signed(sent[2], clock)
    assert first.cursor == {"since": iso(NOW - 86_400), "page_token": "tok-2", "cycle_started": iso(NOW)}
    assert first.done is False
    assert second.cursor == {"since": iso(NOW - 86_400), "page_token": None, "cycle_started": iso(NOW)}
    assert second.done is True
    assert third.cursor["cycle_started"] == iso(NOW + 30)
    assert [i.event_id for i in first.items + second.items] == ["pull:A1:1", "pull:A2:4", "pull:A1:2"]
    item = first.items[0]
    assert (item.event_type, item.external_id) == ("order.snapshot", "A1")
    assert json.loads(item.payload) == order("A1", 1)


def test_a_repeated_poll_with_the_same_cursor_asks_for_the_same_page(
    router: respx.MockRouter, adapter: P12345Adapter
) -> None:
    route = router.get("/api/v1/orders").mock(return_value=ok({"items": [], "nextPageToken": None}))
    cursor = {"since": "2025-11-21T10:15:00+08:00", "page_token": "tok-9", "cycle_started": iso(NOW)}

    adapter.poll(cursor)
    adapter.poll(cursor)

    assert route.calls[0].request.url.params == route.calls[1].request.url.params


def test_an_unreadable_cursor_starts_afresh_and_page_size_is_capped_at_100(
    router: respx.MockRouter, settings: P12345Settings, clock: Clock
) -> None:
    route = router.get("/api/v1/orders").mock(return_value=ok({"items": [], "nextPageToken": None}))
    big = P12345Adapter(settings.model_copy(update={"page_size": 500}), clock=clock, initial_lookback_s=3600)

    page = big.poll({"since": None, "page_token": None, "cycle_started": "yesterday-ish"})

    assert route.calls[0].request.url.params["updatedSince"] == iso(NOW - 3600)
    assert route.calls[0].request.url.params["pageSize"] == "100"
    assert page.done is True and page.items == []
    big.close()


def test_a_malformed_order_in_a_page_is_kept_for_the_mapper_to_flag(
    router: respx.MockRouter, adapter: P12345Adapter
) -> None:
    router.get("/api/v1/orders").mock(return_value=ok({"items": [{"orderNo": "B7"}], "nextPageToken": None}))

    (item,) = adapter.poll(None).items

    assert item.event_id.startswith("pull:malformed:")
    assert item.external_id == "B7"


@pytest.mark.parametrize("data", [None, [], {"items": None}, {"items": [], "nextPageToken": 7}])
def test_a_page_that_is_not_the_documented_shape_is_transient(
    router: respx.MockRouter, adapter: P12345Adapter, data: Any
) -> None:
    router.get("/api/v1/orders").mock(return_value=ok(data))

    with pytest.raises(TransientError):
        adapter.poll(None)


def test_fetch_order_reads_one_order_as_a_snapshot(
    router: respx.MockRouter, adapter: P12345Adapter, clock: Clock
) -> None:
    route = router.get(f"/api/v1/orders/{ORDER_NO}").mock(return_value=ok(order(ORDER_NO, 6)))

    item = adapter.fetch_order(ORDER_NO)

    assert (item.event_id, item.event_type, item.external_id) == (
        f"pull:{ORDER_NO}:6",
        "order.snapshot",
        ORDER_NO,
    )
    assert_signed(route.calls[0].request, clock)


def test_an_order_number_cannot_escape_its_path_segment(router: respx.MockRouter, adapter: P12345Adapter) -> None:
    route = router.route(method="GET").mock(return_value=ok(order("x", 1)))

    adapter.fetch_order("../admin?x=1")

    assert route.calls[0].request.url.raw_path == b"/api/v1/orders/..%2Fadmin%3Fx%3D1"


# -- write-back -----------------------------------------------------------------------------------

WRITE_BACKS: list[tuple[str, dict[str, Any]]] = [
    ("sign", {"operator": "市公安局", "signedAt": "2025-11-22T11:20:00+08:00"}),
    (
        "contact",
        {"contactedAt": "2025-11-22T11:40:00+08:00", "contactPhone": "0791-86000000", "note": "已联系"},
    ),
    ("return", {"reason": "不属于公安机关职责", "attachments": []}),
    ("extension", {"days": 3, "reason": "需调取监控核实"}),
    ("progress", {"note": "已约谈店主"}),
    (
        "reply",
        {
            "isTrue": "属实",
            "investigation": "经民警现场核查属实。",
            "disposition": "已责令整改。",
            "citizenOpinion": "来电人认可。",
            "resolved": "已解决",
            "contacted": True,
            "contactedAt": "2025-11-23T09:00:00+08:00",
            "publicReply": "您反映的问题已处理。",
            "approvedBy": "王建国",
            "attachments": [{"name": "照片.jpg", "url": "https://e.example/1.jpg", "mime": "image/jpeg", "size": 1}],
        },
    ),
]


@pytest.mark.parametrize(("action", "body"), WRITE_BACKS, ids=[w[0] for w in WRITE_BACKS])
def test_each_write_back_posts_the_body_with_request_id_signed(
    router: respx.MockRouter, adapter: P12345Adapter, clock: Clock, action: str, body: dict[str, Any]
) -> None:
    route = router.post(f"/api/v1/orders/{ORDER_NO}/{action}").mock(
        return_value=httpx.Response(200, json={"code": 0, "message": "ok", "data": {"receiptId": "R-88"}})
    )

    result = adapter.send(action, ORDER_NO, body, REQUEST_ID)

    assert result == SendResult(receipt_id="R-88", detail={"receiptId": "R-88"})
    request = route.calls.last.request
    assert request.method == "POST"
    assert json.loads(request.content) == {**body, "requestId": REQUEST_ID}
    assert request.headers["Content-Type"].startswith("application/json")
    assert_signed(request, clock)


ERRORS = [
    (400, {"code": 40001, "message": "invalid field: signedAt"}, {}, PermanentError, "40001", None),
    (401, {"code": 40100, "message": "bad signature"}, {}, AuthenticationError, "40100", None),
    (404, {"code": 40400, "message": "unknown order"}, {}, PermanentError, "40400", None),
    (409, {"code": 40901, "message": "reply before sign"}, {}, PermanentError, "40901", None),
    (429, {"code": 42900, "message": "slow down"}, {"Retry-After": "7"}, RateLimited, None, 7.0),
    (429, {"code": 42900, "message": "slow down"}, {}, RateLimited, None, None),
    (500, {"code": 50000, "message": "internal"}, {}, TransientError, None, None),
    (503, {"code": 50300, "message": "maintenance"}, {"Retry-After": "60"}, TransientError, None, 60.0),
    (502, "<html>Bad Gateway</html>", {}, TransientError, None, None),
    (200, "<html>系统维护中</html>", {}, TransientError, None, None),
    (200, {"code": 0, "message": "ok"}, {}, TransientError, None, None),
    (200, {"code": 40901, "message": "wrong state"}, {}, PermanentError, "40901", None),
]


@pytest.mark.parametrize(
    ("status", "answer", "headers", "error", "code", "retry_after"),
    ERRORS,
    ids=[f"{e[0]}-{e[1]['code'] if isinstance(e[1], dict) else 'text'}" for e in ERRORS],
)
def test_each_platform_answer_maps_to_the_error_that_says_what_to_do(
    router: respx.MockRouter,
    adapter: P12345Adapter,
    status: int,
    answer: Any,
    headers: dict[str, str],
    error: type[GatewayError],
    code: str | None,
    retry_after: float | None,
) -> None:
    content = json.dumps(answer).encode() if isinstance(answer, dict) else answer.encode()
    route = router.post(f"/api/v1/orders/{ORDER_NO}/sign").mock(
        return_value=httpx.Response(status, content=content, headers=headers)
    )

    with pytest.raises(error) as caught:
        adapter.send("sign", ORDER_NO, WRITE_BACKS[0][1], REQUEST_ID)

    assert type(caught.value) is error
    assert route.call_count == 1
    if code is not None:
        assert isinstance(caught.value, PermanentError) and caught.value.code == code
    if isinstance(caught.value, TransientError):
        assert caught.value.retry_after == retry_after


def test_the_invalid_field_named_by_the_platform_reaches_the_error(
    router: respx.MockRouter, adapter: P12345Adapter
) -> None:
    router.post(f"/api/v1/orders/{ORDER_NO}/extension").mock(
        return_value=httpx.Response(400, json={"code": 40001, "message": "days must be 1-5"})
    )

    with pytest.raises(PermanentError, match="days must be 1-5") as caught:
        adapter.send("extension", ORDER_NO, {"days": 9, "reason": "x"}, REQUEST_ID)
    assert caught.value.status == 400


def test_a_connect_error_is_retried_once_then_transient(router: respx.MockRouter, adapter: P12345Adapter) -> None:
    route = router.post(f"/api/v1/orders/{ORDER_NO}/sign").mock(side_effect=httpx.ConnectError("refused"))

    with pytest.raises(TransientError) as caught:
        adapter.send("sign", ORDER_NO, WRITE_BACKS[0][1], REQUEST_ID)

    assert type(caught.value) is TransientError
    assert isinstance(caught.value.__cause__, httpx.ConnectError)
    assert route.call_count == 2


def test_a_connect_timeout_then_success_sends_once_more_with_a_fresh_signature(
    router: respx.MockRouter, adapter: P12345Adapter, clock: Clock
) -> None:
    answer = httpx.Response(200, json={"code": 0, "message": "ok", "data": {"receiptId": "R-2"}})
    route = router.post(f"/api/v1/orders/{ORDER_NO}/sign").mock(side_effect=[httpx.ConnectTimeout("slow"), answer])

    assert adapter.send("sign", ORDER_NO, WRITE_BACKS[0][1], REQUEST_ID).receipt_id == "R-2"
    first, second = (call.request for call in route.calls)
    assert first.headers["X-Nonce"] != second.headers["X-Nonce"]
    assert first.content == second.content
    assert_signed(second, clock)


@pytest.mark.parametrize(
    "failure",
    [
        httpx.ReadTimeout("no answer"),
        httpx.RemoteProtocolError("peer closed"),
        httpx.ReadError("reset by peer"),
    ],
)
def test_a_failure_after_the_request_left_is_an_unknown_outcome_never_retried(
    router: respx.MockRouter, adapter: P12345Adapter, failure: Exception
) -> None:
    route = router.post(f"/api/v1/orders/{ORDER_NO}/sign").mock(side_effect=failure)

    with pytest.raises(OutcomeUnknown) as caught:
        adapter.send("sign", ORDER_NO, WRITE_BACKS[0][1], REQUEST_ID)

    assert caught.value.__cause__ is failure
    assert route.call_count == 1


@pytest.mark.parametrize(
    ("action", "request_id"), [("report", REQUEST_ID), ("transfer", REQUEST_ID), ("sign", "r" * 65)]
)
def test_a_write_back_12345_cannot_take_is_permanent_and_never_sent(
    router: respx.MockRouter, adapter: P12345Adapter, action: str, request_id: str
) -> None:
    with pytest.raises(PermanentError):
        adapter.send(action, ORDER_NO, {}, request_id)

    assert len(router.calls) == 0


# -- read-back ------------------------------------------------------------------------------------

ACTIONS_ANSWER = [
    {"action": "sign", "requestId": "outbox-7-sign-1", "receiptId": "R-1", "at": "2025-11-22T11:20:01+08:00"},
    {"action": "sign", "requestId": REQUEST_ID, "receiptId": "R-9", "at": "2025-11-22T11:21:00+08:00"},
]


def test_lookup_finds_our_request_id_among_the_accepted_write_backs(
    router: respx.MockRouter, adapter: P12345Adapter, clock: Clock
) -> None:
    route = router.get(f"/api/v1/orders/{ORDER_NO}/actions").mock(return_value=ok(ACTIONS_ANSWER))

    found = adapter.lookup("sign", ORDER_NO, WRITE_BACKS[0][1], REQUEST_ID)
    missing = adapter.lookup("sign", ORDER_NO, WRITE_BACKS[0][1], "outbox-41-sign-2")

    assert found == Lookup(applied=True, receipt_id="R-9", detail=ACTIONS_ANSWER[1])
    assert missing == Lookup(applied=False)
    assert route.calls[0].request.content == b""
    assert_signed(route.calls[0].request, clock)


def test_our_request_id_on_another_action_is_a_permanent_conflict(
    router: respx.MockRouter, adapter: P12345Adapter
) -> None:
    router.get(f"/api/v1/orders/{ORDER_NO}/actions").mock(return_value=ok(ACTIONS_ANSWER))

    with pytest.raises(PermanentError, match="reply"):
        adapter.lookup("reply", ORDER_NO, {}, REQUEST_ID)


@pytest.mark.parametrize(
    ("mock", "error"),
    [
        ({"side_effect": httpx.ReadTimeout("no answer")}, TransientError),
        ({"side_effect": httpx.RemoteProtocolError("closed")}, TransientError),
        ({"return_value": httpx.Response(503, json={"code": 50300, "message": "down"})}, TransientError),
        ({"return_value": ok({"not": "a list"})}, TransientError),
        (
            {"return_value": httpx.Response(404, json={"code": 40400, "message": "unknown order"})},
            PermanentError,
        ),
        (
            {"return_value": httpx.Response(401, json={"code": 40100, "message": "bad sig"})},
            AuthenticationError,
        ),
    ],
)
def test_a_failed_read_back_is_never_an_unknown_outcome(
    router: respx.MockRouter, adapter: P12345Adapter, mock: dict[str, Any], error: type[GatewayError]
) -> None:
    router.get(f"/api/v1/orders/{ORDER_NO}/actions").mock(**mock)

    with pytest.raises(error) as caught:
        adapter.lookup("sign", ORDER_NO, {}, REQUEST_ID)

    assert type(caught.value) is error


# -- push parsing, secrets, lifecycle -------------------------------------------------------------


def test_parse_splits_a_push_envelope_and_keeps_the_raw_text(adapter: P12345Adapter) -> None:
    body = (FIXTURES / "push_order_urged.json").read_bytes()

    item = adapter.parse(body)

    assert (item.event_id, item.event_type, item.external_id) == (
        "evt-5e0a7d13c6b94f20",
        "order.urged",
        ORDER_NO,
    )
    assert item.payload == body.decode("utf-8")


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ((FIXTURES / "malformed_truncated.json").read_bytes(), "body"),
        ((FIXTURES / "malformed_missing_event_id.json").read_bytes(), "event_id"),
        (b'{"event_id": "e1", "event_type": 5}', "event_type"),
        (b"[1, 2]", "body"),
        ("{}".encode("utf-16"), "body"),
    ],
)
def test_parse_refuses_what_is_not_a_push_envelope(adapter: P12345Adapter, body: bytes, field: str) -> None:
    with pytest.raises(MappingError) as caught:
        adapter.parse(body)

    assert caught.value.field == field


def test_the_app_secret_never_reaches_logs_or_errors(
    router: respx.MockRouter, adapter: P12345Adapter, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    router.post(f"/api/v1/orders/{ORDER_NO}/sign").mock(
        side_effect=[
            httpx.Response(200, json={"code": 0, "data": {"receiptId": "R-1"}}),
            httpx.ReadTimeout("x"),
        ]
    )

    adapter.send("sign", ORDER_NO, WRITE_BACKS[0][1], REQUEST_ID)
    with pytest.raises(OutcomeUnknown) as caught:
        adapter.send("sign", ORDER_NO, WRITE_BACKS[0][1], REQUEST_ID)

    assert SECRET not in caplog.text
    assert SECRET not in str(caught.value)
    assert SECRET not in repr(adapter.__dict__)


def test_close_closes_only_a_client_the_adapter_built(settings: P12345Settings) -> None:
    given = httpx.Client(base_url=BASE)
    borrowed = P12345Adapter(settings, client=given)
    owned = P12345Adapter(settings)

    borrowed.close()
    owned.close()

    assert given.is_closed is False
    assert owned._client.is_closed is True
    given.close()
