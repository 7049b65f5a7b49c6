"""MayorAdapter pull, read errors and secrecy against PLATFORMS.md §3, with respx standing in for the platform."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from typing import Any

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
from gateway.settings import MayorSettings
from tests.integration.mayor_support import (
    BASE,
    FIXTURES,
    GBK_JSON,
    LSH,
    NOW,
    TOKEN,
    Clock,
    encoded,
    fixture,
    gbk,
    params,
    row,
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


# -- pull -----------------------------------------------------------------------------------------


def test_a_first_poll_asks_for_the_last_day_in_local_time_and_decodes_gbk(
    router: respx.MockRouter, adapter: MayorAdapter, settings: MayorSettings
) -> None:
    raw = (FIXTURES / "list_page.gbk.json").read_bytes()
    route = router.get("/hotline/list.do").mock(return_value=httpx.Response(200, content=raw, headers=GBK_JSON))
    big = MayorAdapter(settings.model_copy(update={"page_size": 50}), clock=lambda: NOW)

    page = big.poll(None)

    request = route.calls.last.request
    assert (request.method, request.url.path, request.content) == ("GET", "/hotline/list.do", b"")
    assert params(request) == {
        "begin": "2025-11-21 10:14:59",
        "end": "2025-11-22 10:14:59",  # the second in progress is left for the next cycle
        "pageNo": "1",
        "pageSize": "50",
        "token": TOKEN,
    }
    assert [(i.event_id, i.event_type, i.external_id) for i in page.items] == [
        ("pull:SZ2511220000123:20251122101500:01", "order.snapshot", "SZ2511220000123"),
        ("pull:SZ2511220000124:20251124162005:03", "order.snapshot", "SZ2511220000124"),
        ("pull:SZ2511220000125:20251126103000:04", "order.snapshot", "SZ2511220000125"),
        ("callback:SZ2511220000125:20251126103000", "order.callback", "SZ2511220000125"),
    ]
    assert json.loads(page.items[0].payload) == fixture("row_base.json")
    assert page.items[3].payload == page.items[2].payload
    assert page.done is True
    assert page.cursor == {"since": "2025-11-26 10:30:00", "begin": None, "end": None, "page": 1}
    big.close()


def test_paging_re_anchors_on_the_newest_gxsj_and_walks_equal_runs_by_page_number(
    router: respx.MockRouter, adapter: MayorAdapter, clock: Clock
) -> None:
    answers = [
        {"total": 6, "rows": [row("A", "2025-11-22 09:00:00"), row("B", "2025-11-22 09:05:00")]},
        {"total": 5, "rows": [row("B", "2025-11-22 09:05:00"), row("C", "2025-11-22 09:05:00")]},
        {"total": 5, "rows": [row("D", "2025-11-22 09:05:00"), row("E", "2025-11-22 09:07:00")]},
        {"total": 2, "rows": [row("E", "2025-11-22 09:07:00"), row("F", "2025-11-22 09:08:00")]},
        {"total": 0, "rows": []},
    ]
    route = router.get("/hotline/list.do").mock(
        side_effect=[gbk({"result": "1", "msg": "成功", **a}) for a in answers]
    )

    cursor: dict[str, Any] | None = None
    pages = []
    for _ in range(4):
        pages.append(adapter.poll(cursor))
        cursor = pages[-1].cursor
    clock.now = NOW + 60
    adapter.poll(cursor)

    asked = [(p["begin"], p["end"], p["pageNo"]) for p in map(params, (c.request for c in route.calls))]
    assert asked == [
        ("2025-11-21 10:14:59", "2025-11-22 10:14:59", "1"),
        ("2025-11-22 09:05:00", "2025-11-22 10:14:59", "1"),
        ("2025-11-22 09:05:00", "2025-11-22 10:14:59", "2"),
        ("2025-11-22 09:07:00", "2025-11-22 10:14:59", "1"),
        ("2025-11-22 09:06:00", "2025-11-22 10:15:59", "1"),  # since 09:08 minus the 120 s overlap
    ]
    assert [p.done for p in pages] == [False, False, False, True]
    assert pages[1].cursor == {
        "since": "2025-11-22 09:05:00",
        "begin": "2025-11-22 09:05:00",
        "end": "2025-11-22 10:14:59",
        "page": 2,
    }
    assert pages[3].cursor == {"since": "2025-11-22 09:08:00", "begin": None, "end": None, "page": 1}
    assert [i.external_id for p in pages for i in p.items] == ["A", "B", "B", "C", "D", "E", "E", "F"]


def test_a_row_that_changes_while_we_page_cannot_push_an_unseen_row_past_us(
    router: respx.MockRouter, adapter: MayorAdapter
) -> None:
    # A server that filters and pages by offset, as §3 describes, with R1 changing after page 1.
    table = {f"R{n}": f"2025-11-22 09:0{n}:00" for n in range(1, 7)}

    def list_do(request: httpx.Request) -> httpx.Response:
        q = params(request)
        chosen = sorted((g, k) for k, g in table.items() if q["begin"] <= g <= q["end"])
        start = (int(q["pageNo"]) - 1) * int(q["pageSize"])
        rows = [row(k, g) for g, k in chosen[start : start + int(q["pageSize"])]]
        table["R1"] = "2025-11-22 10:15:00"  # updated right after the first page was served
        return gbk({"result": "1", "msg": "成功", "total": len(chosen), "rows": rows})

    router.get("/hotline/list.do").mock(side_effect=list_do)

    seen: set[str] = set()
    cursor: dict[str, Any] | None = None
    for _ in range(10):
        page = adapter.poll(cursor)
        seen |= {i.external_id for i in page.items if i.external_id}
        cursor = page.cursor
        if page.done:
            break

    assert seen == set(table)


def test_a_page_that_reaches_the_total_ends_the_cycle_without_another_request(
    router: respx.MockRouter, adapter: MayorAdapter
) -> None:
    rows = [row("A", "2025-11-22 09:00:00"), row("B", "2025-11-22 09:01:00")]
    route = router.get("/hotline/list.do").mock(return_value=gbk({"result": "1", "total": 2, "rows": rows}))

    assert adapter.poll(None).done is True
    assert route.call_count == 1


@pytest.mark.parametrize(
    "cursor",
    [
        {"since": "yesterday", "begin": "2025-11-22 09:00:00", "end": None, "page": 3},
        {"since": None, "begin": "2025-11-22T09:00:00", "end": "2025-11-22 10:00:00", "page": 1},
        {"since": None, "begin": "2025-11-22 09:00:00", "end": "2025-11-22 10:00:00", "page": True},
    ],
)
def test_an_unreadable_cursor_starts_a_fresh_cycle_and_page_size_is_capped_at_50(
    router: respx.MockRouter, settings: MayorSettings, cursor: dict[str, Any]
) -> None:
    route = router.get("/hotline/list.do").mock(return_value=gbk({"result": "1", "total": 0, "rows": []}))
    big = MayorAdapter(settings.model_copy(update={"page_size": 500}), clock=lambda: NOW, initial_lookback_s=3600)

    big.poll(cursor)

    sent = params(route.calls.last.request)
    assert (sent["begin"], sent["pageNo"], sent["pageSize"]) == ("2025-11-22 09:14:59", "1", "50")
    big.close()


def test_a_malformed_row_is_kept_for_the_mapper_to_flag(router: respx.MockRouter, adapter: MayorAdapter) -> None:
    rows = [{"lsh": "B7", "gxsj": "2025/11/22"}, "not a row"]
    router.get("/hotline/list.do").mock(return_value=gbk({"result": "1", "total": 2, "rows": rows}))

    first, second = adapter.poll(None).items

    assert first.event_id.startswith("pull:malformed:") and first.external_id == "B7"
    assert second.event_id.startswith("pull:malformed:") and second.external_id is None
    assert first.event_id != second.event_id


def test_fetch_row_reads_detail_do_as_a_snapshot(router: respx.MockRouter, adapter: MayorAdapter) -> None:
    route = router.get("/hotline/detail.do").mock(
        return_value=gbk({"result": "1", "data": fixture("row_feedback.json")})
    )

    item = adapter.fetch_row("SZ2511220000124")

    assert params(route.calls.last.request) == {"lsh": "SZ2511220000124", "token": TOKEN}
    assert (item.event_id, item.event_type) == ("pull:SZ2511220000124:20251124162005:03", "order.snapshot")


READ_FAILURES = [
    ({"result": "0", "msg": "token无效"}, GBK_JSON, 200, AuthenticationError),
    ({"result": "0", "msg": "开始时间格式错误"}, GBK_JSON, 200, PermanentError),
    ({"result": "1", "msg": "成功", "total": 1, "rows": None}, GBK_JSON, 200, TransientError),
    ("maintenance.gbk.html", {"Content-Type": "text/html"}, 200, TransientError),
    ('{"result": "1", "rows": [', GBK_JSON, 200, TransientError),
    ({"result": "0", "msg": "busy"}, {"Retry-After": "9"}, 429, RateLimited),
    ("<html>500 Internal Server Error</html>", {}, 500, TransientError),
    ("", {}, 503, TransientError),
    ("Not Found", {}, 404, PermanentError),
]


@pytest.mark.parametrize(("answer", "headers", "status", "error"), READ_FAILURES)
def test_a_failed_list_says_what_to_do_and_is_never_an_unknown_outcome(
    router: respx.MockRouter,
    adapter: MayorAdapter,
    answer: Any,
    headers: dict[str, str],
    status: int,
    error: type[GatewayError],
) -> None:
    response = httpx.Response(status, content=encoded(answer), headers=headers)
    router.get("/hotline/list.do").mock(return_value=response)

    with pytest.raises(error) as caught:
        adapter.poll(None)

    assert type(caught.value) is error
    if error is RateLimited:
        assert caught.value.retry_after == 9.0  # type: ignore[attr-defined]
    if answer == "maintenance.gbk.html":
        assert "系统维护中" in str(caught.value)


# -- the token stays secret -----------------------------------------------------------------------


def test_the_token_never_reaches_logs_or_errors(
    router: respx.MockRouter, adapter: MayorAdapter, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    caplog.set_level(logging.DEBUG, logger="httpx")  # a CLI test may have run configure_logging (httpx at WARNING)
    router.get("/hotline/list.do").mock(return_value=gbk({"result": "1", "total": 0, "rows": []}))
    router.post("/hotline/sign.do").mock(
        side_effect=[
            httpx.ReadTimeout(f"timed out reading {BASE}/hotline/sign.do?token={TOKEN}"),
            gbk({"result": "0", "msg": f"token无效:{TOKEN}"}),
            gbk({"result": "x", "msg": f"echo token={TOKEN}"}),
        ]
    )

    adapter.poll(None)
    errors = []
    for _ in range(3):
        with pytest.raises(GatewayError) as caught:
            adapter.send("sign", LSH, {"qsr": "值班员甲"}, "r")
        errors.append(caught.value)

    assert "token=***" in caplog.text  # httpx did log the URL, redacted
    assert TOKEN not in caplog.text
    assert [type(e) for e in errors] == [OutcomeUnknown, AuthenticationError, OutcomeUnknown]
    assert all(TOKEN not in str(e) for e in errors)
    assert TOKEN not in repr(adapter.__dict__)


def test_close_closes_only_a_client_the_adapter_built(settings: MayorSettings) -> None:
    given = httpx.Client(base_url=BASE)
    borrowed = MayorAdapter(settings, client=given)
    owned = MayorAdapter(settings)

    borrowed.close()
    owned.close()

    assert given.is_closed is False
    assert owned._client.is_closed is True
    given.close()
