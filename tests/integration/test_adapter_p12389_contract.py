"""P12389Adapter's write-backs and read-backs against PLATFORMS.md §2, with respx standing in for the platform."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
import respx

from adapters.p12389 import P12389Adapter
from gateway.errors import (
    AuthenticationError,
    OutcomeUnknown,
    PermanentError,
    RateLimited,
    TransientError,
)
from gateway.ports import Lookup, SendResult
from tests.integration.p12389_wire import (
    BASE,
    FIXTURES,
    OK,
    REPORT,
    WBBH,
    XML_HEAD,
    Clock,
    bearer,
    case,
    detail,
    error,
    make_adapter,
    token_answer,
    xml,
)


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def router() -> Iterator[respx.MockRouter]:
    with respx.mock(base_url=BASE, assert_all_called=False, assert_all_mocked=True) as mock:
        yield mock


@pytest.fixture
def token_route(router: respx.MockRouter) -> respx.Route:
    tokens = iter(token_answer(f"tok-{n}") for n in range(1, 100))
    return router.post("/oauth/token").mock(side_effect=lambda request: next(tokens))


@pytest.fixture
def adapter(clock: Clock, token_route: respx.Route) -> Iterator[P12389Adapter]:
    built = make_adapter(clock)
    yield built
    built.close()


# -- write-backs ----------------------------------------------------------------------------------


def test_a_receipt_is_posted_as_xml_with_the_bearer_token(router: respx.MockRouter, adapter: P12389Adapter) -> None:
    route = router.post("/api/cases/J1/receipt").mock(return_value=OK)

    result = adapter.send("sign", "J1", {"qsr": "值班员甲", "qssj": "2025-11-22T10:15:00"}, WBBH)

    assert result == SendResult(receipt_id=None)
    request = route.calls[0].request
    expected = "<request><qsr>值班员甲</qsr><qssj>2025-11-22T10:15:00</qssj></request>"
    assert request.content == XML_HEAD + expected.encode()
    assert request.headers["Content-Type"] == "application/xml; charset=utf-8"
    assert bearer(request) == "Bearer tok-1"


def test_a_repeated_receipt_answered_409_is_success_when_the_case_reads_signed(
    router: respx.MockRouter, adapter: P12389Adapter
) -> None:
    already = (FIXTURES / "response_already_signed.xml").read_text(encoding="utf-8")
    router.post("/api/cases/J1/receipt").mock(return_value=xml(409, already))
    read = router.get("/api/cases/J1").mock(return_value=detail(case("J1", zt="核查中", qszt="1")))

    result = adapter.send("sign", "J1", {"qsr": "值班员甲", "qssj": "2025-11-22T10:15:00"}, WBBH)

    assert result == SendResult(receipt_id=None, detail={"already_signed": True}) and read.call_count == 1


def test_a_receipt_refused_409_on_a_case_that_reads_unsigned_is_permanent(
    router: respx.MockRouter, adapter: P12389Adapter
) -> None:
    router.post("/api/cases/J1/receipt").mock(return_value=error(409, "案件已退回"))
    router.get("/api/cases/J1").mock(return_value=detail(case("J1", zt="已退回")))
    with pytest.raises(PermanentError) as caught:
        adapter.send("sign", "J1", {"qsr": "值班员甲", "qssj": "2025-11-22T10:15:00"}, WBBH)
    assert (caught.value.status, caught.value.code) == (409, "409") and "案件已退回" in str(caught.value)


def test_a_report_is_read_back_first_then_posted_with_our_wbbh_first(
    router: respx.MockRouter, adapter: P12389Adapter
) -> None:
    read = router.get("/api/cases/J1").mock(return_value=detail(case("J1", zt="核查中", qszt="1", bgs=("other",))))
    post = router.post("/api/cases/J1/report").mock(return_value=OK)

    result = adapter.send("reply", "J1", REPORT, WBBH)

    assert result == SendResult(receipt_id=WBBH)
    assert read.call_count == 1 and post.call_count == 1
    elements = "".join(f"<{k}>{v}</{k}>" for k, v in REPORT.items())
    assert post.calls[0].request.content == XML_HEAD + f"<request><wbbh>{WBBH}</wbbh>{elements}</request>".encode()


def test_a_report_already_on_the_case_is_not_posted_again(router: respx.MockRouter, adapter: P12389Adapter) -> None:
    router.get("/api/cases/J1").mock(return_value=detail(case("J1", zt="已报结", qszt="1", bgs=(WBBH,))))
    post = router.post("/api/cases/J1/report")

    result = adapter.send("report", "J1", REPORT, WBBH)

    assert result == SendResult(receipt_id=WBBH, detail={"reconciled": True, "report_sj": "2025-11-28T16:00:00"})
    assert post.call_count == 0


def test_a_report_is_not_posted_when_the_read_back_fails(router: respx.MockRouter, adapter: P12389Adapter) -> None:
    router.get("/api/cases/J1").mock(return_value=error(503, "busy"))
    post = router.post("/api/cases/J1/report")
    with pytest.raises(TransientError):
        adapter.send("reply", "J1", REPORT, WBBH)
    assert post.call_count == 0


def test_a_wbbh_longer_than_forty_chars_is_refused_before_any_request(
    router: respx.MockRouter, adapter: P12389Adapter, token_route: respx.Route
) -> None:
    with pytest.raises(PermanentError):
        adapter.send("reply", "J1", REPORT, "hg" + "0" * 39)
    assert token_route.call_count == 0


@pytest.mark.parametrize("failure", [httpx.ReadTimeout("no answer"), httpx.RemoteProtocolError("closed")])
def test_a_report_whose_answer_never_came_is_an_unknown_outcome(
    router: respx.MockRouter, adapter: P12389Adapter, failure: Exception
) -> None:
    router.get("/api/cases/J1").mock(return_value=detail(case("J1", zt="核查中", qszt="1")))
    post = router.post("/api/cases/J1/report").mock(side_effect=failure)
    with pytest.raises(OutcomeUnknown):
        adapter.send("reply", "J1", REPORT, WBBH)
    assert post.call_count == 1  # never re-sent blindly


def test_a_write_that_could_not_connect_is_transient_and_tried_once_more(
    router: respx.MockRouter, adapter: P12389Adapter
) -> None:
    post = router.post("/api/cases/J1/extension").mock(side_effect=httpx.ConnectError("refused"))
    with pytest.raises(TransientError):
        adapter.send("extension", "J1", {"yqts": 3, "yqly": "需调取异地监控"}, WBBH)
    assert post.call_count == 2


@pytest.mark.parametrize(("answer", "kind", "status"), [
    (httpx.Response(502, text="<html>Bad Gateway</html>"), OutcomeUnknown, None),
    (httpx.Response(504, text=""), OutcomeUnknown, None),
    (httpx.Response(200, text="<html>ok?</html>"), OutcomeUnknown, None),
    (xml(200, "<case><jbbh>J1</jbbh></case>"), OutcomeUnknown, None),
    (error(503, "维护中", **{"Retry-After": "9"}), TransientError, None),
    (error(500, "内部错误"), TransientError, None),
    (error(429, "too many", **{"Retry-After": "2"}), RateLimited, None),
    (error(400, "invalid field hcqk: must not be empty"), PermanentError, 400),
    (error(404, "案件不存在"), PermanentError, 404),
    (xml(200, '<response code="400"><message>invalid field spr</message></response>'), PermanentError, 400),
    (error(403, "forbidden"), AuthenticationError, 403),
])
def test_every_answer_to_a_write_back_is_translated(
    router: respx.MockRouter, adapter: P12389Adapter, answer: httpx.Response, kind: type[Exception],
    status: int | None
) -> None:
    router.post("/api/cases/J1/extension").mock(return_value=answer)
    with pytest.raises(kind) as caught:
        adapter.send("extension", "J1", {"yqts": 3, "yqly": "需调取异地监控"}, WBBH)
    if status is not None:
        assert isinstance(caught.value, PermanentError) and caught.value.status == status
    if answer.headers.get("Retry-After"):
        assert isinstance(caught.value, TransientError)
        assert caught.value.retry_after == float(answer.headers["Retry-After"])


def test_an_extension_is_posted_with_days_and_reason(router: respx.MockRouter, adapter: P12389Adapter) -> None:
    post = router.post("/api/cases/J1/extension").mock(return_value=OK)
    assert adapter.send("extension", "J1", {"yqts": 3, "yqly": "需调取异地监控"}, WBBH) == SendResult(None)
    expected = "<request><yqts>3</yqts><yqly>需调取异地监控</yqly></request>"
    assert post.calls[0].request.content == XML_HEAD + expected.encode()


def test_characters_xml_cannot_carry_are_dropped_from_a_body(router: respx.MockRouter, adapter: P12389Adapter) -> None:
    post = router.post("/api/cases/J1/extension").mock(return_value=OK)
    adapter.send("extension", "J1", {"yqts": 1, "yqly": "调取\x0b监控 & <记录>"}, WBBH)
    assert b"<yqly>\xe8\xb0\x83\xe5\x8f\x96\xe7\x9b\x91\xe6\x8e\xa7 &amp; &lt;\xe8\xae\xb0\xe5\xbd\x95&gt;</yqly>" in (
        post.calls[0].request.content)


@pytest.mark.parametrize("action", ["contact", "progress", "return", "transfer"])
def test_a_write_back_12389_does_not_have_is_permanent_and_sends_nothing(
    router: respx.MockRouter, adapter: P12389Adapter, token_route: respx.Route, action: str
) -> None:
    with pytest.raises(PermanentError, match="no"):
        adapter.send(action, "J1", {}, WBBH)
    assert token_route.call_count == 0


# -- read-back ------------------------------------------------------------------------------------


@pytest.mark.parametrize(("qszt", "applied"), [("1", True), ("0", False)])
def test_a_receipt_is_read_back_from_qszt(
    router: respx.MockRouter, adapter: P12389Adapter, qszt: str, applied: bool
) -> None:
    router.get("/api/cases/J1").mock(return_value=detail(case("J1", qszt=qszt)))
    assert adapter.lookup("sign", "J1", {}, WBBH).applied is applied


def test_a_report_is_read_back_only_by_its_exact_wbbh(router: respx.MockRouter, adapter: P12389Adapter) -> None:
    route = router.get("/api/cases/J1")
    route.mock(return_value=detail(case("J1", zt="已报结", qszt="1", bgs=(WBBH[:-1], WBBH + "0", "x"))))
    assert adapter.lookup("reply", "J1", REPORT, WBBH) == Lookup(applied=False)
    route.mock(return_value=detail(case("J1", zt="已报结", qszt="1", bgs=("x", WBBH))))
    found = adapter.lookup("reply", "J1", REPORT, WBBH)
    assert (found.applied, found.receipt_id) == (True, WBBH)


def test_a_bare_case_document_is_read_as_well_as_a_wrapped_one(
    router: respx.MockRouter, adapter: P12389Adapter
) -> None:
    router.get("/api/cases/J1").mock(return_value=xml(200, case("J1", qszt="1")))
    assert adapter.lookup("sign", "J1", {}, WBBH).applied is True


def test_an_extension_cannot_be_read_back_so_the_lookup_refuses_to_guess(
    router: respx.MockRouter, adapter: P12389Adapter
) -> None:
    read = router.get("/api/cases/J1")
    with pytest.raises(PermanentError) as caught:
        adapter.lookup("extension", "J1", {"yqts": 3, "yqly": "x"}, WBBH)
    assert caught.value.code == "unverifiable" and read.call_count == 0


def test_a_read_back_of_an_unknown_case_is_permanent(router: respx.MockRouter, adapter: P12389Adapter) -> None:
    router.get("/api/cases/J%2F1").mock(return_value=error(404, "案件不存在"))
    with pytest.raises(PermanentError) as caught:
        adapter.lookup("sign", "J/1", {}, WBBH)  # the id stays one path segment
    assert caught.value.status == 404
