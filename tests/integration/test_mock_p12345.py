"""The mock 12345 keeps PLATFORMS.md §1; calls are signed by a helper written from the spec, not the mock."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import secrets
import time
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
from fastapi import FastAPI, Request

from mock_platforms.cli import build_app, parse_options
from mock_platforms.common import GeneratorSettings, ServerHandle, serve_in_thread
from mock_platforms.p12345 import P12345MockConfig, create_app

APP_ID, SECRET = "test-app", "test-secret-不要外传"
ENUMS = {
    "channel": {"电话", "网站", "微信", "APP", "领导留言板", "110转办", "省平台流转"},
    "appealType": {"咨询", "求助", "投诉", "举报", "建议", "表扬"},
    "urgency": {"一般", "紧急", "特急"}, "timeUnit": {"工作日", "自然日", "小时"},
    "status": {"待签收", "办理中", "待审核", "已办结", "已退回", "已关闭"},
}
SIGN = {"operator": "值班员甲", "signedAt": "2026-11-22T10:15:00+08:00"}
REPLY: dict[str, Any] = {"isTrue": "属实", "investigation": "经查属实", "disposition": "已处理"}
REPLY |= {"resolved": "已解决", "contacted": True, "contactedAt": "2026-11-22T11:00:00+08:00"}
REPLY |= {"citizenOpinion": "满意", "publicReply": "您反映的问题已处理", "approvedBy": "分管领导乙"}
ORDER_FIELDS = {
    *("orderNo", "dispatchId", "parentOrderNo", "acceptedAt", "dispatchedAt", "channel", "appealType"),
    *("categoryPath", "urgency", "title", "content", "citizen", "respondent", "region", "address", "lng"),
    *("lat", "signDeadline", "dueAt", "timeLimit", "timeUnit", "needsCallback", "attachments", "status"),
    "version",
}


def spec_headers(body: bytes = b"", *, ts: int | None = None, nonce: str | None = None) -> dict[str, str]:
    """X-* headers computed straight from PLATFORMS.md §1."""
    ts_text, nonce = str(int(time.time()) if ts is None else ts), nonce or secrets.token_hex(8)
    mac = hmac.new(SECRET.encode(), f"{ts_text}\n{nonce}\n".encode() + body, hashlib.sha256).hexdigest()
    return {"X-App-Id": APP_ID, "X-Timestamp": ts_text, "X-Nonce": nonce, "X-Signature": mac}


def wait_until(check: Callable[[], Any], timeout: float = 10.0) -> Any:
    """Poll until check() is truthy; fail after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while not (result := check()):
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.02)
    return result


class Platform:
    """A running mock with a signed API client and an unsigned control client."""

    def __init__(self, handle: ServerHandle, timeout: float = 5.0) -> None:
        self.handle = handle
        self.http = httpx.Client(base_url=handle.url, timeout=timeout, trust_env=False)

    def get(self, path: str, **params: Any) -> httpx.Response:
        return self.http.get(path, params=params, headers=spec_headers())

    def post(self, path: str, body: dict[str, Any], headers: dict[str, str] | None = None) -> httpx.Response:
        raw = json.dumps(body, ensure_ascii=False).encode()
        sent = {"Content-Type": "application/json", **(headers or spec_headers(raw))}
        return self.http.post(path, content=raw, headers=sent)

    def write(self, order_no: str, action: str, request_id: str, **fields: Any) -> httpx.Response:
        return self.post(f"/api/v1/orders/{order_no}/{action}", {"requestId": request_id, **fields})

    def control(self, path: str, body: dict[str, Any] | None = None) -> Any:
        response = self.http.post(path, json=body or {}) if body is not None else self.http.get(path)
        assert response.status_code == 200, response.text
        return response.json()

    def events(self, **filters: str) -> list[dict[str, Any]]:
        return list(self.control(f"/_mock/pushes?{httpx.QueryParams(filters)}")["events"])

    def new_order(self, **overrides: Any) -> str:
        return str(self.control("/_mock/orders", {"push": False, **overrides})["orderNo"])


Start = Callable[..., Platform]


@pytest.fixture
def start() -> Iterator[Start]:
    platforms: list[Platform] = []

    def run(**config: Any) -> Platform:
        app = create_app(P12345MockConfig(app_id=APP_ID, app_secret=SECRET, **config))
        platforms.append(Platform(serve_in_thread(app)))
        return platforms[-1]

    yield run
    for platform in platforms:
        platform.http.close()
        platform.handle.stop()


@pytest.fixture
def mock(start: Start) -> Platform:
    return start()


def test_a_bad_signature_a_stale_timestamp_and_a_replayed_nonce_get_401(mock: Platform) -> None:
    order_no = mock.new_order()
    assert mock.get(f"/api/v1/orders/{order_no}").json()["data"]["orderNo"] == order_no
    forged, replay = {**spec_headers(), "X-Signature": "0" * 64}, spec_headers()
    stale = spec_headers(ts=int(time.time()) - 301)
    assert mock.http.get(f"/api/v1/orders/{order_no}", headers=replay).status_code == 200
    for headers in (forged, stale, replay, {}):
        response = mock.http.get(f"/api/v1/orders/{order_no}", headers=headers)
        assert (response.status_code, response.json()["code"]) == (401, 40100)
    body = {"requestId": "r-1", **SIGN}
    tampered = spec_headers(json.dumps({**body, "operator": "x"}).encode())
    assert mock.post(f"/api/v1/orders/{order_no}/sign", body, headers=tampered).status_code == 401


def test_a_repeated_request_id_gets_the_original_receipt_and_one_ledger_entry(mock: Platform) -> None:
    order_no = mock.new_order()
    first = mock.write(order_no, "sign", "req-sign-1", **SIGN).json()
    again = mock.write(order_no, "sign", "req-sign-1", **SIGN).json()
    assert first["code"] == again["code"] == 0 and first["data"]["receiptId"] == again["data"]["receiptId"]
    ledger = mock.control("/_mock/ledger")
    assert (ledger["count"], ledger["duplicates"]) == (1, 1)
    assert mock.get(f"/api/v1/orders/{order_no}").json()["data"]["version"] == 2
    actions = mock.get(f"/api/v1/orders/{order_no}/actions").json()["data"]
    assert [(a["action"], a["requestId"]) for a in actions] == [("sign", "req-sign-1")]


def test_state_checks_answer_409_for_reply_before_sign_and_sign_after_return(mock: Platform) -> None:
    fresh, returned = mock.new_order(), mock.new_order()
    response = mock.write(fresh, "reply", "r-early", **REPLY)
    assert (response.status_code, response.json()["code"]) == (409, 40901)
    assert mock.write(returned, "return", "r-ret", reason="不属于本单位职责").status_code == 200
    assert mock.get(f"/api/v1/orders/{returned}").json()["data"]["status"] == "已退回"
    assert mock.write(returned, "sign", "r-late", **SIGN).status_code == 409
    assert mock.write(fresh, "sign", "s-1", **SIGN).status_code == 200
    assert mock.write(fresh, "sign", "s-2", **SIGN).status_code == 409
    assert mock.write(fresh, "reply", "r-ok", **REPLY).status_code == 200
    assert mock.get(f"/api/v1/orders/{fresh}").json()["data"]["status"] == "待审核"
    assert mock.write("9999", "sign", "s-x", **SIGN).json()["code"] == 40400


@pytest.mark.parametrize(
    ("action", "body", "field"),
    [
        ("sign", {"requestId": "a", "signedAt": SIGN["signedAt"]}, "operator"),
        ("sign", {"requestId": "x" * 65, **SIGN}, "requestId"),
        ("sign", {**SIGN}, "requestId"),
        ("extension", {"requestId": "b", "days": 6, "reason": "复杂"}, "days"),
        ("reply", {"requestId": "c", **REPLY, "resolved": "差不多"}, "resolved"),
        ("contact", {"requestId": "d", "contactedAt": "昨天", "contactPhone": "110", "note": ""}, "contactedAt"),
        ("reply", {"requestId": "e", **REPLY, "attachments": [{"name": "整改后.png", "url": "evidence:7"}]},
         "attachments[0].url"),  # the platform downloads attachments: an internal reference is no URL
    ],
)
def test_a_field_error_is_400_naming_it(mock: Platform, action: str, body: dict[str, Any], field: str) -> None:
    order_no = mock.new_order(status="办理中")
    response = mock.post(f"/api/v1/orders/{order_no}/{action}", body)
    assert (response.status_code, response.json()["code"]) == (400, 40001)
    assert field in response.json()["message"]
    assert mock.control("/_mock/ledger")["count"] == 0


def test_pages_follow_change_order_and_an_order_changed_mid_paging_moves_to_the_end(mock: Platform) -> None:
    orders = [mock.new_order() for _ in range(5)]
    first = mock.get("/api/v1/orders", pageSize=2, updatedSince="2000-01-01T00:00:00+08:00").json()["data"]
    assert [o["orderNo"] for o in first["items"]] == orders[:2]
    assert mock.write(orders[0], "sign", "mid-paging", **SIGN).status_code == 200
    seen, token = [o["orderNo"] for o in first["items"]], first["nextPageToken"]
    while token:
        page = mock.get("/api/v1/orders", pageSize=2, pageToken=token).json()["data"]
        seen, token = seen + [o["orderNo"] for o in page["items"]], page["nextPageToken"]
    assert seen == [*orders, orders[0]]
    future = mock.get("/api/v1/orders", updatedSince="2999-01-01T00:00:00+08:00").json()["data"]
    assert future == {"items": [], "nextPageToken": None}
    assert mock.get("/api/v1/orders", pageSize=101).json()["code"] == 40001


def test_orders_have_every_spec_field_with_valid_enums_and_shanghai_times(mock: Platform) -> None:
    mock.control("/_mock/generator", {"generate_now": 30})
    mock.control("/_mock/orders", {"citizen": {"confidential": True}})
    orders = mock.control("/_mock/orders")["items"]
    for order in orders:
        for key, allowed in ENUMS.items():
            assert order[key] in allowed
        assert order["citizen"]["gender"] in (0, 1, 2) and 1 <= len(order["categoryPath"]) <= 5
        assert all(order[k].endswith("+08:00") for k in ("acceptedAt", "dispatchedAt", "dueAt"))
        phone = order["citizen"]["phone"]
        assert phone[0] == "1" and phone[1] in "3456789" and len(phone) == 11 and phone.isdigit()
        assert set(order) == ORDER_FIELDS
    assert orders[-1]["citizen"]["name"] == "保密"


def test_a_burst_above_the_rate_limit_gets_429_with_retry_after(start: Start) -> None:
    mock = start(rate_limit_per_s=5)
    answers = [mock.get("/api/v1/orders") for _ in range(12)]
    limited = [r for r in answers if r.status_code == 429]
    assert limited and all(r.json()["code"] == 42900 and int(r.headers["Retry-After"]) >= 1 for r in limited)


def test_outage_and_error_rate_answer_transient_5xx_until_switched_off(mock: Platform) -> None:
    assert mock.control("/_mock/faults", {"outage_seconds": 600})["outage_until"]
    assert (answer := mock.get("/api/v1/orders")).status_code == 503 and answer.json()["code"] == 50300
    mock.control("/_mock/faults", {"outage_seconds": 0, "error_rate": 1.0, "error_status": 500})
    assert (answer := mock.get("/api/v1/orders")).status_code == 500 and answer.json()["code"] == 50000
    mock.control("/_mock/faults", {"error_rate": 0})
    assert mock.get("/api/v1/orders").status_code == 200


def test_a_dropped_response_leaves_a_ledger_entry_and_a_retry_gets_the_same_receipt(mock: Platform) -> None:
    order_no = mock.new_order()
    mock.control("/_mock/faults", {"drop_next": 1})
    with pytest.raises((httpx.RemoteProtocolError, httpx.ReadError)):
        mock.write(order_no, "sign", "lost-answer", **SIGN)
    entries = mock.control("/_mock/ledger")["entries"]
    assert [(e["action"], e["request_id"]) for e in entries] == [("sign", "lost-answer")]
    retry = mock.write(order_no, "sign", "lost-answer", **SIGN).json()
    assert retry["data"]["receiptId"] == entries[0]["receipt_id"]
    mock.control("/_mock/faults", {"drop_next": 1, "drop_mode": "hang", "drop_hang_s": 3})
    hurried = Platform(mock.handle, timeout=0.3)
    with hurried.http, pytest.raises(httpx.ReadTimeout):
        hurried.write(order_no, "progress", "slow-answer", note="正在核查")
    assert mock.control("/_mock/ledger")["count"] == 2


def test_a_push_is_resent_with_the_same_event_id_until_the_receiver_answers_code_0(start: Start) -> None:
    calls: list[tuple[str, bool]] = []
    receiver = FastAPI()

    @receiver.post("/inbound/p12345")
    async def inbound(request: Request) -> Any:
        raw, h = await request.body(), request.headers
        expected = spec_headers(raw, ts=int(h["x-timestamp"]), nonce=h["x-nonce"])["X-Signature"]
        calls.append((json.loads(raw)["event_id"], expected == h["x-signature"]))
        return [{"code": 50000}, {"code": 1}, {"code": 0}][min(len(calls), 3) - 1]

    with serve_in_thread(receiver) as inbox:
        mock = start(push_url=f"{inbox.url}/inbound/p12345", push_retry_schedule=[0.05, 0.05, 0.05])
        order_no = mock.control("/_mock/orders", {})["orderNo"]
        events = wait_until(lambda: [e for e in mock.events() if e["state"] != "pending"])
    assert len(calls) == 3 and len({event_id for event_id, _ in calls}) == 1 and all(ok for _, ok in calls)
    assert (events[0]["state"], events[0]["attempts"], events[0]["order_no"]) == ("delivered", 3, order_no)
    assert (events[0]["body"]["event_type"], events[0]["body"]["data"]["orderNo"]) == ("order.dispatched", order_no)


def test_a_push_nobody_answers_is_given_up_after_the_last_retry(start: Start) -> None:
    with serve_in_thread(FastAPI()) as gone:
        dead_url = f"{gone.url}/inbound/p12345"
    mock = start(push_url=dead_url, push_retry_schedule=[0.01, 0.01])
    mock.control("/_mock/orders", {})
    event = wait_until(lambda: [e for e in mock.events() if e["state"] == "gave_up"])[0]
    attempts = mock.control("/_mock/pushes")["attempts"]
    assert event["attempts"] == len(attempts) == 3 and {a["event_id"] for a in attempts} == {event["event_id"]}


def test_an_auto_decided_extension_is_pushed_and_moves_the_due_time(start: Start) -> None:
    mock = start(auto_decide=True, auto_decide_delay_s=0.05)
    order_no = mock.new_order(status="办理中")
    due = mock.get(f"/api/v1/orders/{order_no}").json()["data"]["dueAt"]
    assert mock.write(order_no, "extension", "ext-1", days=3, reason="需调取监控").status_code == 200
    assert mock.write(order_no, "extension", "ext-2", days=3, reason="再延").status_code == 409
    decided = wait_until(lambda: mock.events(event_type="extension.decided", order_no=order_no))[0]["body"]
    order = mock.get(f"/api/v1/orders/{order_no}").json()["data"]
    assert decided["data"]["approved"] is True and order["dueAt"] == decided["data"]["new_due_at"] != due
    reopened = mock.control(f"/_mock/orders/{order_no}/events", {"event_type": "order.reopened"})
    assert reopened["order"]["version"] == order["version"] + 1 and reopened["event"]["data"]["reason"]


def test_the_generator_follows_the_mix_and_is_deterministic_for_a_seed(start: Start) -> None:
    mix = GeneratorSettings(per_min=1200, mix={"投诉": 1, "咨询": 1}, urgent_fraction=1.0)

    async def burst(seed: int) -> list[tuple[str, str, str]]:
        app = create_app(P12345MockConfig(seed=seed, generator=mix))
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://mock") as client:
            await client.post("/_mock/generator", json={"generate_now": 40})
            items = (await client.get("/_mock/orders")).json()["items"]
        return [(o["appealType"], o["urgency"], o["citizen"]["phone"]) for o in items]

    first, same, other = asyncio.run(burst(7)), asyncio.run(burst(7)), asyncio.run(burst(8))
    assert first == same != other and {kind for kind, _, _ in first} == {"投诉", "咨询"}
    assert {urgency for _, urgency, _ in first} <= {"紧急", "特急"}
    mock = start(generator=mix)
    mock.control("/_mock/generator", {"enabled": True})
    wait_until(lambda: mock.control("/_mock/health")["orders"] >= 5)
    assert mock.control("/_mock/generator", {"enabled": False})["generated"] >= 5
    assert len(mock.events(event_type="order.dispatched")) >= 5


def test_the_cli_registry_builds_the_app_with_start_up_faults() -> None:
    platform, options, _ = parse_options(["p12345", "--port", "0", "--error-rate", "0.5", "--latency-ms", "9"])
    app = build_app(platform, options)
    assert app.state.mock.faults.snapshot()["error_rate"] == 0.5 and options.faults.latency_ms == 9
    with pytest.raises(SystemExit):
        parse_options(["nope", "--port", "1"])
