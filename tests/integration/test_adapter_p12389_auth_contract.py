"""P12389Adapter's OAuth2 client credentials against PLATFORMS.md §2, and what its log may hold."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator
from urllib.parse import parse_qs

import httpx
import pytest
import respx

from adapters.p12389 import P12389Adapter
from gateway.errors import AuthenticationError, RateLimited, TransientError
from gateway.ports import SendResult
from tests.integration.p12389_wire import (
    BASE,
    CLIENT_ID,
    FIXTURES,
    NOW,
    OK,
    REPORT,
    SECRET,
    WBBH,
    Clock,
    bearer,
    case,
    detail,
    error,
    listing,
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


# -- auth -----------------------------------------------------------------------------------------


def test_the_token_is_fetched_once_with_the_client_credentials_form_and_sent_as_bearer(
    router: respx.MockRouter, adapter: P12389Adapter, token_route: respx.Route
) -> None:
    route = router.get("/api/cases/J1").mock(return_value=detail(case("J1", qszt="1")))

    assert adapter.lookup("sign", "J1", {}, WBBH).applied
    assert adapter.lookup("sign", "J1", {}, WBBH).applied

    assert token_route.call_count == 1
    sent = token_route.calls[0].request
    assert sent.headers["Content-Type"] == "application/x-www-form-urlencoded"
    assert parse_qs(sent.content.decode()) == {
        "grant_type": ["client_credentials"], "client_id": [CLIENT_ID], "client_secret": [SECRET]}
    assert [bearer(c.request) for c in route.calls] == ["Bearer tok-1", "Bearer tok-1"]
    assert route.calls[0].request.headers["Accept"] == "application/xml"


def test_the_token_is_renewed_shortly_before_it_expires(
    router: respx.MockRouter, adapter: P12389Adapter, clock: Clock, token_route: respx.Route
) -> None:
    route = router.get("/api/cases/J1").mock(return_value=detail(case("J1")))
    adapter.lookup("sign", "J1", {}, WBBH)
    clock.now = NOW + 7200 - 61  # still more than a minute left: kept
    adapter.lookup("sign", "J1", {}, WBBH)
    clock.now = NOW + 7200 - 59  # within the last minute: renewed before the platform refuses it
    adapter.lookup("sign", "J1", {}, WBBH)
    assert [bearer(c.request) for c in route.calls] == ["Bearer tok-1", "Bearer tok-1", "Bearer tok-2"]


def test_an_invalid_token_answer_renews_the_token_and_retries_the_call_once(
    router: respx.MockRouter, adapter: P12389Adapter, token_route: respx.Route
) -> None:
    invalid = (FIXTURES / "response_invalid_token.xml").read_text(encoding="utf-8")
    route = router.post("/api/cases/J1/receipt").mock(side_effect=[xml(401, invalid), OK])

    assert adapter.send("sign", "J1", {"qsr": "值班员", "qssj": "2025-11-22T10:15:00"}, WBBH) == SendResult(None)

    assert token_route.call_count == 2
    assert [bearer(c.request) for c in route.calls] == ["Bearer tok-1", "Bearer tok-2"]
    assert route.calls[0].request.content == route.calls[1].request.content


def test_a_second_401_with_a_fresh_token_is_an_authentication_error_without_a_third_try(
    router: respx.MockRouter, adapter: P12389Adapter, token_route: respx.Route
) -> None:
    route = router.get("/api/cases/J1").mock(return_value=error(401, "invalid_token"))
    with pytest.raises(AuthenticationError) as caught:
        adapter.lookup("sign", "J1", {}, WBBH)
    assert route.call_count == 2 and token_route.call_count == 2
    assert "invalid_token" in str(caught.value)


@pytest.mark.parametrize(("answer", "kind"), [
    (httpx.Response(401, json={"error": "invalid_client"}), AuthenticationError),
    (httpx.Response(400, json={"error": "unsupported_grant_type"}), AuthenticationError),
    (httpx.Response(503, text="down"), TransientError),
    (httpx.Response(429, headers={"Retry-After": "7"}), RateLimited),
    (httpx.Response(200, json={"token_type": "Bearer", "expires_in": 7200}), TransientError),
    (httpx.Response(200, json={"access_token": "t", "token_type": "mac", "expires_in": 7200}), TransientError),
    (httpx.Response(200, json={"access_token": "t", "token_type": "Bearer", "expires_in": 0}), TransientError),
    (httpx.Response(200, text="<html>login</html>"), TransientError),
])
def test_every_failure_of_the_token_endpoint_is_translated_and_never_shows_the_secret(
    router: respx.MockRouter, clock: Clock, answer: httpx.Response, kind: type[Exception]
) -> None:
    router.post("/oauth/token").mock(return_value=answer)
    api = router.get("/api/cases/J1")
    with pytest.raises(kind) as caught:
        make_adapter(clock).lookup("sign", "J1", {}, WBBH)
    assert SECRET not in str(caught.value) and api.call_count == 0
    if kind is RateLimited:
        assert isinstance(caught.value, RateLimited) and caught.value.retry_after == 7


def test_threads_whose_token_lapsed_together_share_one_new_token(
    router: respx.MockRouter, clock: Clock
) -> None:
    fetches: list[float] = []

    def slow_token(request: httpx.Request) -> httpx.Response:
        fetches.append(time.monotonic())
        time.sleep(0.05)  # the platform is slow: every thread arrives while the fetch is under way
        return token_answer(f"tok-{len(fetches)}")

    router.post("/oauth/token").mock(side_effect=slow_token)
    route = router.get("/api/cases/J1").mock(return_value=detail(case("J1")))
    adapter = make_adapter(clock)
    start = threading.Barrier(8)
    failures: list[BaseException] = []

    def work() -> None:
        start.wait()
        try:
            adapter.lookup("sign", "J1", {}, WBBH)
        except BaseException as exc:
            failures.append(exc)

    threads = [threading.Thread(target=work) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)

    assert failures == [] and len(fetches) == 1
    assert {bearer(c.request) for c in route.calls} == {"Bearer tok-1"} and route.call_count == 8


def test_a_token_refused_by_two_threads_is_renewed_once(
    router: respx.MockRouter, adapter: P12389Adapter, token_route: respx.Route
) -> None:
    adapter.tokens.get()
    adapter.tokens.invalidate("tok-1")
    adapter.tokens.get()
    adapter.tokens.invalidate("tok-1")  # a second thread reports the same old token: tok-2 stays
    assert adapter.tokens.get() == "tok-2" and token_route.call_count == 2


# -- confidentiality ------------------------------------------------------------------------------


def test_nothing_personal_or_secret_reaches_the_log(
    router: respx.MockRouter, adapter: P12389Adapter, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    router.get("/api/cases").mock(return_value=listing(case("J1", zt="核查中", qszt="1")))
    router.get("/api/cases/J1").mock(return_value=detail(case("J1", zt="核查中", qszt="1")))
    router.post("/api/cases/J1/report").mock(side_effect=[error(401, "invalid_token"), OK])
    adapter.poll(None)
    adapter.send("reply", "J1", REPORT, WBBH)

    logged = "\n".join(f"{r.getMessage()} {r.args}" for r in caplog.records)
    assert "p12389 report J1 accepted" in logged and "token fetched" in logged
    for secret in ("周雨欣", "99010119900307002", "13900001234", "人民路88号", "Q7K2M9XA", SECRET, "tok-1", "tok-2"):
        assert secret not in logged
