"""MayorAdapter write-backs against PLATFORMS.md §3: GBK forms, result "0" answers, read-back of detail.do."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qsl

import httpx
import pytest
import respx

from adapters.mayor import MayorAdapter
from gateway.errors import (
    AuthenticationError,
    GatewayError,
    OutcomeUnknown,
    PermanentError,
    RateLimited,
    TransientError,
)
from gateway.ports import Lookup, SendResult
from gateway.settings import MayorSettings
from tests.integration.mayor_support import (
    BASE,
    FORM,
    GBK_JSON,
    LSH,
    TOKEN,
    Clock,
    encoded,
    fixture,
    gbk,
    params,
)


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def settings() -> MayorSettings:
    return MayorSettings(base_url=BASE, token=TOKEN, page_size=2, poll_overlap_s=120)  # type: ignore[arg-type]


@pytest.fixture
def router() -> Iterator[respx.MockRouter]:
    with respx.mock(base_url=BASE, assert_all_called=False, assert_all_mocked=True) as mock:
        yield mock


@pytest.fixture
def adapter(settings: MayorSettings, clock: Clock) -> Iterator[MayorAdapter]:
    built = MayorAdapter(settings, clock=clock, initial_lookback_s=86_400)
    yield built
    built.close()


# -- write-back -----------------------------------------------------------------------------------

FEEDBACK = {
    "sfss": "2",
    "dcqk": "经民警现场核查，部分属实。",
    "czjg": "已约谈经营者并责令整改。",
    "ldryj": "来电人表示认可。",
    "bljg": "您反映的问题已处理，\n感谢监督。",
    "shr": "王建国",
}
WRITE_BACKS: list[tuple[str, str, dict[str, str]]] = [
    ("sign", "sign.do", {"qsr": "值班员甲"}),
    ("reply", "feedback.do", FEEDBACK),
    ("return", "back.do", {"thyy": "不属于公安机关职责"}),
    ("extension", "delay.do", {"yqts": "3", "yqly": "需调取监控核实"}),
]
OK = {"result": "1", "msg": "成功"}


@pytest.mark.parametrize(("action", "endpoint", "body"), WRITE_BACKS, ids=[w[0] for w in WRITE_BACKS])
def test_each_write_back_posts_a_gbk_form_with_the_token_in_the_query(
    router: respx.MockRouter, adapter: MayorAdapter, action: str, endpoint: str, body: dict[str, str]
) -> None:
    route = router.post(f"/hotline/{endpoint}").mock(return_value=gbk(OK))

    result = adapter.send(action, LSH, body, "hg" + "0" * 32)

    assert result == SendResult(receipt_id=None, detail={"msg": "成功"})
    request = route.calls.last.request
    assert params(request) == {"token": TOKEN}
    assert request.headers["Content-Type"] == FORM
    assert dict(parse_qsl(request.content.decode("ascii"), encoding="gbk")) == {"lsh": LSH, **body}
    assert request.content.startswith(f"lsh={LSH}&".encode())


def test_chinese_goes_out_as_percent_encoded_gbk_bytes_not_utf8(
    router: respx.MockRouter, adapter: MayorAdapter
) -> None:
    route = router.post("/hotline/sign.do").mock(return_value=gbk(OK))

    adapter.send("sign", LSH, {"qsr": "签收人"}, "r")

    assert route.calls.last.request.content == f"lsh={LSH}&qsr=%C7%A9%CA%D5%C8%CB".encode()


def test_a_character_gbk_cannot_encode_is_permanent_and_never_sent(
    router: respx.MockRouter, adapter: MayorAdapter
) -> None:
    with pytest.raises(PermanentError, match="bljg") as caught:
        adapter.send("reply", LSH, {**FEEDBACK, "bljg": "已处理😀"}, "r")

    assert caught.value.code == "charset"
    assert len(router.calls) == 0


@pytest.mark.parametrize("action", ["contact", "progress", "report", "transfer"])
def test_a_write_back_the_platform_does_not_have_is_permanent_and_never_sent(
    router: respx.MockRouter, adapter: MayorAdapter, action: str
) -> None:
    with pytest.raises(PermanentError, match=action):
        adapter.send(action, LSH, {"note": "x"}, "r")
    with pytest.raises(PermanentError, match=action):
        adapter.lookup(action, LSH, {}, "r")

    assert len(router.calls) == 0


SEND_FAILURES = [
    ({"result": "0", "msg": "token无效"}, GBK_JSON, 200, AuthenticationError),
    ({"result": "0", "msg": "工单不存在"}, GBK_JSON, 200, PermanentError),
    ({"result": "0"}, GBK_JSON, 200, PermanentError),
    ("maintenance.gbk.html", {"Content-Type": "text/html;charset=GBK"}, 200, TransientError),
    ('{"result": "1", "ms', GBK_JSON, 200, OutcomeUnknown),
    ({"result": "ok"}, GBK_JSON, 200, OutcomeUnknown),
    (b"\xff\xfe\xfa", GBK_JSON, 200, OutcomeUnknown),
    ({"result": "0", "msg": "访问过于频繁"}, {"Retry-After": "7"}, 429, RateLimited),
    ("<html>500</html>", {}, 500, TransientError),
    ("", {"Retry-After": "60"}, 503, TransientError),
    ("", {}, 302, TransientError),
    ("Unauthorized", {}, 401, AuthenticationError),
    ("Not Found", {}, 404, PermanentError),
]


@pytest.mark.parametrize(("answer", "headers", "status", "error"), SEND_FAILURES)
def test_each_platform_answer_maps_to_the_error_that_says_what_to_do(
    router: respx.MockRouter,
    adapter: MayorAdapter,
    answer: Any,
    headers: dict[str, str],
    status: int,
    error: type[GatewayError],
) -> None:
    response = httpx.Response(status, content=encoded(answer), headers=headers)
    route = router.post("/hotline/sign.do").mock(return_value=response)

    with pytest.raises(error) as caught:
        adapter.send("sign", LSH, {"qsr": "值班员甲"}, "r")

    assert type(caught.value) is error
    assert route.call_count == 1
    if isinstance(caught.value, TransientError) and "Retry-After" in headers:
        assert caught.value.retry_after == float(headers["Retry-After"])
    if isinstance(answer, dict) and answer.get("msg") == "工单不存在":
        assert "工单不存在" in str(caught.value)


def test_a_connect_error_is_retried_once_then_transient(router: respx.MockRouter, adapter: MayorAdapter) -> None:
    route = router.post("/hotline/sign.do").mock(side_effect=httpx.ConnectError("refused"))

    with pytest.raises(TransientError) as caught:
        adapter.send("sign", LSH, {"qsr": "值班员甲"}, "r")

    assert type(caught.value) is TransientError
    assert route.call_count == 2


@pytest.mark.parametrize(
    "failure", [httpx.ReadTimeout("no answer"), httpx.RemoteProtocolError("peer closed"), httpx.ReadError("reset")]
)
def test_a_failure_after_the_form_left_is_an_unknown_outcome_never_retried(
    router: respx.MockRouter, adapter: MayorAdapter, failure: Exception
) -> None:
    route = router.post("/hotline/feedback.do").mock(side_effect=failure)

    with pytest.raises(OutcomeUnknown) as caught:
        adapter.send("reply", LSH, FEEDBACK, "r")

    assert caught.value.__cause__ is failure
    assert route.call_count == 1


# -- "already done" answers and read-back ----------------------------------------------------------


def detail(**changes: Any) -> httpx.Response:
    return gbk({"result": "1", "data": {**fixture("row_base.json"), "lsh": LSH, **changes}})


@pytest.mark.parametrize("zt", ["02", "03", "04", "05"])
def test_an_already_signed_answer_is_success_when_the_row_is_past_waiting(
    router: respx.MockRouter, adapter: MayorAdapter, zt: str
) -> None:
    router.post("/hotline/sign.do").mock(return_value=gbk({"result": "0", "msg": "该工单已签收"}))
    read = router.get("/hotline/detail.do").mock(return_value=detail(zt=zt))

    result = adapter.send("sign", LSH, {"qsr": "值班员甲"}, "r")

    assert result == SendResult(receipt_id=None, detail={"reconciled": True, "msg": "该工单已签收", "zt": zt})
    assert params(read.calls.last.request) == {"lsh": LSH, "token": TOKEN}


def test_an_already_signed_answer_on_a_waiting_row_is_permanent(
    router: respx.MockRouter, adapter: MayorAdapter
) -> None:
    router.post("/hotline/sign.do").mock(return_value=gbk({"result": "0", "msg": "该工单已签收"}))
    router.get("/hotline/detail.do").mock(return_value=detail(zt="01"))

    with pytest.raises(PermanentError, match="does not show ours"):
        adapter.send("sign", LSH, {"qsr": "值班员甲"}, "r")


def test_an_already_fed_back_answer_is_success_when_the_stored_text_is_ours(
    router: respx.MockRouter, adapter: MayorAdapter
) -> None:
    router.post("/hotline/feedback.do").mock(return_value=gbk({"result": "0", "msg": "该工单已反馈"}))
    stored = {"fksj": "2025-11-24 16:20:05", "bljg": " 您反映的问题已处理，\r\n感谢监督。"}  # CRLF, padded
    router.get("/hotline/detail.do").mock(return_value=detail(zt="03", fkxx=stored))

    result = adapter.send("reply", LSH, FEEDBACK, "r")

    assert result.detail == {"reconciled": True, "msg": "该工单已反馈", "zt": "03", "fksj": "2025-11-24 16:20:05"}


def test_someone_elses_feedback_on_the_row_is_a_permanent_error_saying_so(
    router: respx.MockRouter, adapter: MayorAdapter
) -> None:
    router.post("/hotline/feedback.do").mock(return_value=gbk({"result": "0", "msg": "该工单已反馈"}))
    other = {"fksj": "2025-11-24 09:00:00", "bljg": "已电话答复来电人。"}
    router.get("/hotline/detail.do").mock(return_value=detail(zt="03", fkxx=other))

    with pytest.raises(PermanentError, match="someone else's feedback") as caught:
        adapter.send("reply", LSH, FEEDBACK, "r")

    assert caught.value.code == "other_feedback"
    assert "已电话答复来电人" not in str(caught.value)


def test_an_already_returned_answer_is_success_when_the_row_is_returned(
    router: respx.MockRouter, adapter: MayorAdapter
) -> None:
    router.post("/hotline/back.do").mock(return_value=gbk({"result": "0", "msg": "该工单已退回"}))
    router.get("/hotline/detail.do").mock(return_value=detail(zt="05"))

    assert adapter.send("return", LSH, {"thyy": "不属于公安机关职责"}, "r").detail["reconciled"] is True


def test_a_pending_extension_answer_is_taken_as_applied_without_a_read_back(
    router: respx.MockRouter, adapter: MayorAdapter
) -> None:
    router.post("/hotline/delay.do").mock(return_value=gbk({"result": "0", "msg": "该工单已申请延期"}))

    result = adapter.send("extension", LSH, {"yqts": "3", "yqly": "需调取监控核实"}, "r")

    assert result.detail == {"msg": "该工单已申请延期", "unverified": True}
    assert len(router.calls) == 1


@pytest.mark.parametrize(
    ("action", "body", "data", "applied"),
    [
        ("sign", {"qsr": "甲"}, {"zt": "01"}, False),
        ("sign", {"qsr": "甲"}, {"zt": "02"}, True),
        ("return", {"thyy": "不属于"}, {"zt": "02"}, False),
        ("return", {"thyy": "不属于"}, {"zt": "05"}, True),
        ("reply", FEEDBACK, {"zt": "02", "fkxx": None}, False),
        ("reply", FEEDBACK, {"zt": "03", "fkxx": {"fksj": "2025-11-24 16:20:05", "bljg": FEEDBACK["bljg"]}}, True),
    ],
)
def test_lookup_reads_zt_or_fkxx_back(
    router: respx.MockRouter, adapter: MayorAdapter, action: str, body: dict[str, str], data: Any, applied: bool
) -> None:
    router.get("/hotline/detail.do").mock(return_value=detail(**data))

    found = adapter.lookup(action, LSH, body, "r")

    assert found.applied is applied
    assert found.detail["zt"] == data["zt"]


def test_lookup_of_an_extension_makes_no_request_and_lets_the_re_send_decide(
    router: respx.MockRouter, adapter: MayorAdapter
) -> None:
    assert adapter.lookup("extension", LSH, {}, "r") == Lookup(applied=False, detail={"read_back": "none for delay.do"})
    assert len(router.calls) == 0


@pytest.mark.parametrize(
    ("mock", "error"),
    [
        ({"side_effect": httpx.ReadTimeout("no answer")}, TransientError),
        ({"return_value": httpx.Response(200, content=encoded("maintenance.gbk.html"))}, TransientError),
        ({"return_value": gbk({"result": "0", "msg": "工单不存在"})}, PermanentError),
        ({"return_value": gbk({"result": "0", "msg": "token无效"})}, AuthenticationError),
        ({"return_value": gbk({"result": "1", "data": None})}, TransientError),
        ({"return_value": detail(zt="03", fkxx="已反馈")}, TransientError),
    ],
)
def test_a_failed_read_back_is_never_an_unknown_outcome(
    router: respx.MockRouter, adapter: MayorAdapter, mock: dict[str, Any], error: type[GatewayError]
) -> None:
    router.get("/hotline/detail.do").mock(**mock)

    with pytest.raises(error) as caught:
        adapter.lookup("reply", LSH, FEEDBACK, "r")

    assert type(caught.value) is error


