"""MailboxAdapter against the wire contract of PLATFORMS.md §4, with respx standing in for the platform."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import respx

from adapters.mailbox import MailboxAdapter
from adapters.mailbox_pacing import Pacer
from gateway.errors import (
    AuthenticationError,
    OutcomeUnknown,
    PermanentError,
    RateLimited,
    TransientError,
)
from gateway.settings import MailboxSettings

BASE = "https://mailbox.test"
API_KEY = "contract-key-5c1e09"
LETTER_NO = "JZ2025112400318"
FIXTURES = Path(__file__).parents[1] / "fixtures" / "mailbox"
SIGN = {"accepted_by": "值班员甲", "accepted_at": 1763949735088}
ANSWER = {"text": "您反映的问题已整治，感谢监督。", "dept": "交警支队", "publish": False, "approved_by": "分管领导丙"}
TRANSFER = {"reason": "不属于公安机关职责", "to": "其他单位"}
OUR_ANSWER = {"text": ANSWER["text"], "dept": "交警支队", "answered_at": 1763950000000, "published": False}


def fixture(name: str) -> dict[str, Any]:
    document: dict[str, Any] = json.loads((FIXTURES / name).read_text(encoding="utf-8"))
    return document


def error(status: int, code: str, message: str = "", headers: dict[str, str] | None = None) -> httpx.Response:
    return httpx.Response(status, json={"error": {"code": code, "message": message}}, headers=headers)


class FakeTime:
    """Clock and sleep for the pacer: sleeping moves the clock, nothing really waits."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.sleeps: list[float] = []

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(round(seconds, 6))
        self.now += seconds


@pytest.fixture
def fake_time() -> FakeTime:
    return FakeTime()


@pytest.fixture
def settings() -> MailboxSettings:
    return MailboxSettings(base_url=BASE, api_key=API_KEY, page_size=2, rate_limit_per_s=4)


@pytest.fixture
def router() -> Iterator[respx.MockRouter]:
    with respx.mock(base_url=BASE, assert_all_called=False, assert_all_mocked=True) as mock:
        yield mock


@pytest.fixture
def adapter(settings: MailboxSettings, fake_time: FakeTime) -> Iterator[MailboxAdapter]:
    pacer = Pacer(settings.rate_limit_per_s, clock=fake_time.clock, sleep=fake_time.sleep)
    built = MailboxAdapter(settings, pacer=pacer)
    yield built
    built.close()


def assert_authorized(request: httpx.Request) -> None:
    assert request.headers["Authorization"] == f"Bearer {API_KEY}"


# -- pull -----------------------------------------------------------------------------------------


def test_the_feed_is_read_with_the_stored_cursor_and_each_letter_becomes_a_versioned_item(
    router: respx.MockRouter, adapter: MailboxAdapter
) -> None:
    pages = {None: fixture("feed_page.json"), "c2VxOjI": fixture("feed_last_page.json")}
    route = router.get("/v2/letters").mock(
        side_effect=lambda request: httpx.Response(200, json=pages[request.url.params.get("cursor")])
    )

    first = adapter.poll(None)
    second = adapter.poll(first.cursor)

    sent = [call.request for call in route.calls]
    assert [dict(r.url.params) for r in sent] == [{"limit": "2"}, {"limit": "2", "cursor": "c2VxOjI"}]
    for request in sent:
        assert_authorized(request)
        assert request.content == b""
    assert (first.cursor, first.done) == ({"cursor": "c2VxOjI"}, False)
    assert (second.cursor, second.done) == ({"cursor": "c2VxOjM"}, True)
    assert [i.event_id for i in first.items] == [f"pull:{LETTER_NO}:1763947800000", f"pull:{LETTER_NO}:1763949735088"]
    assert {(i.event_type, i.external_id) for i in first.items} == {("letter.snapshot", LETTER_NO)}
    assert json.loads(first.items[0].payload) == fixture("letter_pending.json")


def test_a_rated_letter_is_handed_in_as_a_snapshot_and_as_a_rating_keyed_on_rated_at(
    router: respx.MockRouter, adapter: MailboxAdapter
) -> None:
    router.get("/v2/letters").mock(return_value=httpx.Response(200, json=fixture("feed_last_page.json")))

    snapshot, rating = adapter.poll({"cursor": "c2VxOjI"}).items

    assert (snapshot.event_id, snapshot.event_type) == (f"pull:{LETTER_NO}:1765022731777", "letter.snapshot")
    assert (rating.event_id, rating.event_type) == (f"rating:{LETTER_NO}:1765022731777", "letter.rated")
    assert rating.external_id == LETTER_NO and rating.payload == snapshot.payload


def test_the_same_rating_read_again_after_another_change_keeps_its_event_id(
    router: respx.MockRouter, adapter: MailboxAdapter
) -> None:
    later = {**fixture("letter_rated.json"), "updated_at": 1765100000000}
    router.get("/v2/letters").mock(
        return_value=httpx.Response(200, json={"letters": [later], "next_cursor": "c9", "has_more": False})
    )

    snapshot, rating = adapter.poll(None).items

    assert snapshot.event_id == f"pull:{LETTER_NO}:1765100000000"
    assert rating.event_id == f"rating:{LETTER_NO}:1765022731777"


def test_an_empty_page_with_a_null_cursor_keeps_the_cursor_we_sent(
    router: respx.MockRouter, adapter: MailboxAdapter
) -> None:
    route = router.get("/v2/letters").mock(return_value=httpx.Response(200, json=fixture("feed_empty.json")))

    page = adapter.poll({"cursor": "c2VxOjM"})

    assert route.calls[0].request.url.params["cursor"] == "c2VxOjM"
    assert (page.items, page.cursor, page.done) == ([], {"cursor": "c2VxOjM"}, True)


def test_an_empty_feed_read_from_its_beginning_keeps_no_cursor(
    router: respx.MockRouter, adapter: MailboxAdapter
) -> None:
    router.get("/v2/letters").mock(return_value=httpx.Response(200, json=fixture("feed_empty.json")))

    assert adapter.poll(None).cursor == {"cursor": None}


@pytest.mark.parametrize("cursor", [{"cursor": 17}, {}, {"since": "2025-11-24"}])
def test_an_unreadable_cursor_reads_the_feed_from_its_beginning(
    router: respx.MockRouter, adapter: MailboxAdapter, cursor: dict[str, Any]
) -> None:
    route = router.get("/v2/letters").mock(return_value=httpx.Response(200, json=fixture("feed_empty.json")))

    adapter.poll(cursor)

    assert dict(route.calls[0].request.url.params) == {"limit": "2"}


def test_the_page_size_is_capped_at_100(router: respx.MockRouter, settings: MailboxSettings) -> None:
    route = router.get("/v2/letters").mock(return_value=httpx.Response(200, json=fixture("feed_empty.json")))
    big = MailboxAdapter(settings.model_copy(update={"page_size": 500}))

    big.poll(None)

    assert route.calls[0].request.url.params["limit"] == "100"
    big.close()


@pytest.mark.parametrize(
    "body",
    [
        {"letters": [], "next_cursor": None, "has_more": True},
        {"letters": None, "next_cursor": None, "has_more": False},
        {"letters": [], "next_cursor": 7, "has_more": False},
        {"letters": [], "next_cursor": "c1"},
        ["not", "an", "object"],
    ],
)
def test_a_feed_page_that_is_not_the_documented_shape_is_transient(
    router: respx.MockRouter, adapter: MailboxAdapter, body: Any
) -> None:
    router.get("/v2/letters").mock(return_value=httpx.Response(200, json=body))

    with pytest.raises(TransientError):
        adapter.poll(None)


def test_a_malformed_letter_in_a_page_is_kept_with_a_stable_id_for_the_mapper_to_flag(
    router: respx.MockRouter, adapter: MailboxAdapter
) -> None:
    bad = {"letter_no": "JZ9", "updated_at": "yesterday"}
    router.get("/v2/letters").mock(
        return_value=httpx.Response(200, json={"letters": [bad], "next_cursor": "c1", "has_more": False})
    )

    (first,) = adapter.poll(None).items
    (again,) = adapter.poll(None).items

    assert first.event_id.startswith("pull:malformed:") and first.event_id == again.event_id
    assert (first.event_type, first.external_id) == ("letter.snapshot", None)


def test_read_letter_gets_one_letter_in_its_own_path_segment(router: respx.MockRouter, adapter: MailboxAdapter) -> None:
    route = router.route(method="GET").mock(return_value=httpx.Response(200, json=fixture("letter_pending.json")))

    assert adapter.read_letter("../admin?x=1")["letter_no"] == LETTER_NO
    assert route.calls[0].request.url.raw_path == b"/v2/letters/..%2Fadmin%3Fx%3D1"
    assert_authorized(route.calls[0].request)


# -- errors on reads ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("response", "kind"),
    [
        (error(401, "unauthorized", "bad key"), AuthenticationError),
        (error(404, "not_found"), PermanentError),
        (error(400, "invalid_argument", "limit: must be from 1 to 100"), PermanentError),
        (error(503, "unavailable"), TransientError),
        (error(500, "internal"), TransientError),
        (httpx.Response(200, text="<html>网关维护中</html>"), TransientError),
        (httpx.Response(502, text="Bad Gateway"), TransientError),
    ],
)
def test_each_error_status_of_a_read_raises_the_error_that_says_what_to_do(
    router: respx.MockRouter, adapter: MailboxAdapter, response: httpx.Response, kind: type[Exception]
) -> None:
    router.get("/v2/letters").mock(return_value=response)

    with pytest.raises(kind) as caught:
        adapter.poll(None)

    assert type(caught.value) is kind


def test_the_error_code_and_message_are_kept_on_a_permanent_error(
    router: respx.MockRouter, adapter: MailboxAdapter
) -> None:
    router.get(f"/v2/letters/{LETTER_NO}").mock(return_value=error(404, "not_found", "no such letter"))

    with pytest.raises(PermanentError) as caught:
        adapter.read_letter(LETTER_NO)

    assert (caught.value.status, caught.value.code) == (404, "not_found")
    assert "no such letter" in str(caught.value)


def test_429_raises_rate_limited_with_retry_after_and_pauses_every_later_request(
    router: respx.MockRouter, adapter: MailboxAdapter, fake_time: FakeTime
) -> None:
    route = router.get("/v2/letters").mock(
        side_effect=[
            error(429, "rate_limited", headers={"Retry-After": "3"}),
            httpx.Response(200, json=fixture("feed_empty.json")),
        ]
    )

    with pytest.raises(RateLimited) as caught:
        adapter.poll(None)
    adapter.poll(None)

    assert caught.value.retry_after == 3.0
    assert route.call_count == 2
    assert fake_time.sleeps[-1] == pytest.approx(3.0)  # the next request waited out Retry-After


def test_a_connection_refused_read_is_retried_once_then_transient(
    router: respx.MockRouter, adapter: MailboxAdapter
) -> None:
    route = router.get("/v2/letters").mock(side_effect=httpx.ConnectError("refused"))

    with pytest.raises(TransientError):
        adapter.poll(None)

    assert route.call_count == 2


def test_a_read_that_times_out_is_transient_not_unknown(router: respx.MockRouter, adapter: MailboxAdapter) -> None:
    router.get("/v2/letters").mock(side_effect=httpx.ReadTimeout("slow"))

    with pytest.raises(TransientError):
        adapter.poll(None)


def test_requests_are_paced_below_the_platform_limit(
    router: respx.MockRouter, adapter: MailboxAdapter, fake_time: FakeTime
) -> None:
    router.get("/v2/letters").mock(return_value=httpx.Response(200, json=fixture("feed_empty.json")))

    for _ in range(5):
        adapter.poll(None)

    assert fake_time.sleeps == [0.25] * 4  # 4 requests/s: one every 250 ms


def test_a_rate_setting_above_the_platform_limit_is_held_below_it(settings: MailboxSettings) -> None:
    fast = MailboxAdapter(settings.model_copy(update={"rate_limit_per_s": 50}))

    assert fast.pacer.interval >= 1 / 5
    fast.close()


# -- write-back -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("action", "method", "endpoint", "body"),
    [
        ("sign", "PUT", "acceptance", SIGN),
        ("reply", "PUT", "answer", ANSWER),
        ("return", "POST", "transfer", TRANSFER),
        ("transfer", "POST", "transfer", {"reason": "属于信访事项", "to": "信访"}),
    ],
)
def test_each_write_back_goes_to_its_endpoint_as_utf8_json_with_the_key(
    router: respx.MockRouter, adapter: MailboxAdapter, action: str, method: str, endpoint: str, body: dict[str, Any]
) -> None:
    answer = {**fixture("letter_accepted.json"), "status": "answered", "updated_at": 1763950000123}
    route = router.route(method=method, path=f"/v2/letters/{LETTER_NO}/{endpoint}").mock(
        return_value=httpx.Response(200, json=answer)
    )

    result = adapter.send(action, LETTER_NO, body, "hg" + "0" * 32)

    request = route.calls[0].request
    assert_authorized(request)
    assert request.headers["Content-Type"] == "application/json; charset=utf-8"
    assert request.content == json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    assert "hg" + "0" * 32 not in request.content.decode()  # §4 has no idempotency key to carry it
    assert result.receipt_id == f"{LETTER_NO}@1763950000123"
    assert result.detail == {"letter_status": "answered"}


def test_an_answer_without_a_department_is_given_as_the_bureau(
    router: respx.MockRouter, adapter: MailboxAdapter, settings: MailboxSettings
) -> None:
    route = router.put(f"/v2/letters/{LETTER_NO}/answer").mock(
        return_value=httpx.Response(200, json=fixture("letter_answered.json"))
    )

    adapter.send("reply", LETTER_NO, {**ANSWER, "dept": None}, "hg1")

    assert json.loads(route.calls[0].request.content)["dept"] == settings.operator_name


def test_an_action_without_an_endpoint_is_permanent_and_sends_nothing(
    router: respx.MockRouter, adapter: MailboxAdapter
) -> None:
    route = router.route().mock(return_value=httpx.Response(200, json={}))

    with pytest.raises(PermanentError):
        adapter.send("extension", LETTER_NO, {"days": 3}, "hg1")

    assert route.call_count == 0


@pytest.mark.parametrize(
    ("response", "kind", "code"),
    [
        (error(400, "invalid_argument", "text: must be a non-empty string"), PermanentError, "invalid_argument"),
        (error(401, "unauthorized"), AuthenticationError, "unauthorized"),
        (error(404, "not_found"), PermanentError, "not_found"),
        (error(409, "conflict", "accept it before answering"), PermanentError, "conflict"),
        (error(429, "rate_limited", headers={"Retry-After": "2"}), RateLimited, None),
        (error(503, "unavailable"), TransientError, None),
    ],
)
def test_each_error_status_of_a_write_back_raises_the_error_that_says_what_to_do(
    router: respx.MockRouter, adapter: MailboxAdapter, response: httpx.Response, kind: type[Exception], code: str | None
) -> None:
    router.put(f"/v2/letters/{LETTER_NO}/answer").mock(return_value=response)

    with pytest.raises(kind) as caught:
        adapter.send("reply", LETTER_NO, ANSWER, "hg1")

    assert type(caught.value) is kind
    if code is not None:
        assert isinstance(caught.value, PermanentError) and caught.value.code == code


@pytest.mark.parametrize("failure", [httpx.ReadTimeout("slow"), httpx.RemoteProtocolError("disconnected")])
def test_a_write_back_without_an_answer_is_an_unknown_outcome(
    router: respx.MockRouter, adapter: MailboxAdapter, failure: Exception
) -> None:
    route = router.post(f"/v2/letters/{LETTER_NO}/transfer").mock(side_effect=failure)

    with pytest.raises(OutcomeUnknown):
        adapter.send("return", LETTER_NO, TRANSFER, "hg1")

    assert route.call_count == 1  # never re-sent blindly: the transfer is not idempotent


def test_a_write_back_that_could_not_connect_is_retried_once_then_transient(
    router: respx.MockRouter, adapter: MailboxAdapter
) -> None:
    route = router.post(f"/v2/letters/{LETTER_NO}/transfer").mock(side_effect=httpx.ConnectError("refused"))

    with pytest.raises(TransientError):
        adapter.send("return", LETTER_NO, TRANSFER, "hg1")

    assert route.call_count == 2


def test_a_second_transfer_answered_409_counts_as_applied_when_the_letter_reads_back_transferred(
    router: respx.MockRouter, adapter: MailboxAdapter
) -> None:
    router.post(f"/v2/letters/{LETTER_NO}/transfer").mock(return_value=error(409, "already_transferred"))
    read = router.get(f"/v2/letters/{LETTER_NO}").mock(
        return_value=httpx.Response(200, json={**fixture("letter_pending.json"), "status": "transferred"})
    )

    result = adapter.send("return", LETTER_NO, TRANSFER, "hg1")

    assert read.call_count == 1
    assert result.receipt_id == f"{LETTER_NO}@1763947800000"
    assert result.detail == {"letter_status": "transferred", "already_transferred": True}


def test_a_409_already_transferred_is_refused_when_the_letter_does_not_read_back_transferred(
    router: respx.MockRouter, adapter: MailboxAdapter
) -> None:
    router.post(f"/v2/letters/{LETTER_NO}/transfer").mock(return_value=error(409, "already_transferred"))
    router.get(f"/v2/letters/{LETTER_NO}").mock(return_value=httpx.Response(200, json=fixture("letter_accepted.json")))

    with pytest.raises(PermanentError) as caught:
        adapter.send("return", LETTER_NO, TRANSFER, "hg1")

    assert caught.value.code == "already_transferred"


def test_a_409_already_transferred_whose_read_back_fails_stays_unknown(
    router: respx.MockRouter, adapter: MailboxAdapter
) -> None:
    router.post(f"/v2/letters/{LETTER_NO}/transfer").mock(return_value=error(409, "already_transferred"))
    router.get(f"/v2/letters/{LETTER_NO}").mock(return_value=error(503, "unavailable"))

    with pytest.raises(OutcomeUnknown):
        adapter.send("return", LETTER_NO, TRANSFER, "hg1")


def test_a_409_conflict_on_transfer_is_not_read_back(router: respx.MockRouter, adapter: MailboxAdapter) -> None:
    router.post(f"/v2/letters/{LETTER_NO}/transfer").mock(return_value=error(409, "conflict"))
    read = router.get(f"/v2/letters/{LETTER_NO}").mock(return_value=httpx.Response(200, json={}))

    with pytest.raises(PermanentError):
        adapter.send("return", LETTER_NO, TRANSFER, "hg1")

    assert read.call_count == 0


# -- lookup (read-back) ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("action", "letter", "applied"),
    [
        ("sign", {"status": "pending_review"}, False),
        ("sign", {"status": "accepted"}, True),
        ("sign", {"status": "answered"}, True),
        ("sign", {"status": "transferred"}, False),
        ("return", {"status": "accepted"}, False),
        ("return", {"status": "transferred"}, True),
        ("reply", {"status": "accepted", "answer": None}, False),
        ("reply", {"status": "answered", "answer": {**fixture("letter_answered.json")["answer"]}}, False),
        ("reply", {"status": "answered", "answer": OUR_ANSWER}, True),
        ("reply", {"status": "answered", "answer": {**OUR_ANSWER, "published": True}}, False),
        ("reply", {"status": "answered", "answer": {**OUR_ANSWER, "dept": "治安支队"}}, False),
    ],
)
def test_lookup_reads_the_letter_back_and_tells_whether_our_write_is_there(
    router: respx.MockRouter, adapter: MailboxAdapter, action: str, letter: dict[str, Any], applied: bool
) -> None:
    body = {"sign": SIGN, "return": TRANSFER, "reply": ANSWER}[action]
    route = router.get(f"/v2/letters/{LETTER_NO}").mock(
        return_value=httpx.Response(200, json={**fixture("letter_pending.json"), **letter})
    )

    found = adapter.lookup(action, LETTER_NO, body, "hg1")

    assert found.applied is applied
    assert found.receipt_id == (f"{LETTER_NO}@1763947800000" if applied else None)
    assert found.detail == {"letter_status": letter["status"]}
    assert_authorized(route.calls[0].request)


def test_lookup_of_an_answer_without_department_compares_with_the_bureau_s_name(
    router: respx.MockRouter, adapter: MailboxAdapter, settings: MailboxSettings
) -> None:
    letter = {**fixture("letter_pending.json"), "status": "answered"}
    letter["answer"] = {**OUR_ANSWER, "dept": settings.operator_name}
    router.get(f"/v2/letters/{LETTER_NO}").mock(return_value=httpx.Response(200, json=letter))

    assert adapter.lookup("reply", LETTER_NO, {**ANSWER, "dept": None}, "hg1").applied is True


@pytest.mark.parametrize(
    ("response", "kind"),
    [
        (error(503, "unavailable"), OutcomeUnknown),
        (error(429, "rate_limited", headers={"Retry-After": "1"}), OutcomeUnknown),
        (httpx.ReadTimeout("slow"), OutcomeUnknown),
        (error(404, "not_found"), PermanentError),
        (error(401, "unauthorized"), AuthenticationError),
    ],
)
def test_a_failed_read_back_keeps_the_outcome_unknown_unless_it_is_permanent(
    router: respx.MockRouter, adapter: MailboxAdapter, response: httpx.Response | Exception, kind: type[Exception]
) -> None:
    route = router.get(f"/v2/letters/{LETTER_NO}")
    if isinstance(response, Exception):
        route.mock(side_effect=response)
    else:
        route.mock(return_value=response)

    with pytest.raises(kind) as caught:
        adapter.lookup("sign", LETTER_NO, SIGN, "hg1")

    assert type(caught.value) is kind


def test_neither_the_key_nor_the_writer_s_data_reach_the_logs_or_errors(
    router: respx.MockRouter, adapter: MailboxAdapter, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    router.get("/v2/letters").mock(return_value=httpx.Response(200, json=fixture("feed_page.json")))
    router.put(f"/v2/letters/{LETTER_NO}/acceptance").mock(
        return_value=httpx.Response(200, json=fixture("letter_accepted.json"))
    )
    router.put(f"/v2/letters/{LETTER_NO}/answer").mock(return_value=error(401, "unauthorized", "bad key"))

    adapter.poll(None)
    result = adapter.send("sign", LETTER_NO, SIGN, "hg1")
    with pytest.raises(AuthenticationError) as caught:
        adapter.send("reply", LETTER_NO, ANSWER, "hg2")

    writer = fixture("letter_pending.json")["writer"]
    seen = caplog.text + str(caught.value) + json.dumps(result.detail, ensure_ascii=False)
    for secret in (API_KEY, writer["name"], writer["phone"], writer["email"]):
        assert secret not in seen
