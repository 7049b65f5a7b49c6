"""P12389Adapter's pull against PLATFORMS.md §2 (list, detail, cursor), with respx standing in for the platform."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
import respx

from adapters.p12389 import P12389Adapter
from gateway.errors import PermanentError, RateLimited, TransientError
from gateway.schema import TicketDraft, TicketNotice
from mappers.p12389 import P12389Mapper
from tests.integration.p12389_wire import (
    BASE,
    FIXTURES,
    NOW,
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


# -- pull -----------------------------------------------------------------------------------------


def test_the_first_poll_lists_the_look_back_window_newest_first_in_local_time(
    router: respx.MockRouter, adapter: P12389Adapter
) -> None:
    route = router.get("/api/cases").mock(return_value=listing(case("J3"), case("J2"), case("J1"), total=5))

    page = adapter.poll(None)

    request = route.calls[0].request
    assert dict(request.url.params) == {"since": "2025-11-21T10:15:00", "offset": "0", "limit": "3"}
    assert bearer(request) == "Bearer tok-1" and request.content == b""
    assert [i.external_id for i in page.items] == ["J3", "J2", "J1"]
    assert {i.event_type for i in page.items} == {"case.snapshot"}
    assert all(i.event_id.startswith(f"pull:{i.external_id}:") for i in page.items)
    assert page.done is False
    assert page.cursor["phase"] == "list" and page.cursor["offset"] == 3 and page.cursor["seen"] == ["J3", "J2", "J1"]
    assert page.cursor["cycle_started"] == "2025-11-22T10:15:00+08:00"


def test_a_pulled_case_reaches_the_mapper_with_its_version_stamp(
    router: respx.MockRouter, adapter: P12389Adapter
) -> None:
    router.get("/api/cases").mock(return_value=listing(case("J1", zt="已办结", qszt="1", fkpj="不满意")))

    items = adapter.poll(None).items

    draft = P12389Mapper().inbound(items[0].event_type, items[0].payload)
    assert isinstance(draft, TicketDraft) and draft.source_version == int(NOW)
    assert draft.citizen.id_number == "99010119900307002X"
    rated = items[1]
    assert (rated.event_id, rated.event_type, rated.external_id) == ("rated:J1:不满意", "case.rated", "J1")
    assert "周雨欣" not in rated.payload and "99010119900307002" not in rated.payload
    notice = P12389Mapper().inbound(rated.event_type, rated.payload)
    assert isinstance(notice, TicketNotice) and notice.data["satisfaction"] == "dissatisfied"


def test_later_pages_start_at_the_anchor_and_arrivals_are_not_handed_on_twice(
    router: respx.MockRouter, adapter: P12389Adapter
) -> None:
    pages = [
        listing(case("J5"), case("J4"), case("J3"), total=5),
        # J7 and J6 arrived meanwhile: the list moved down by two, so J4 and J3 show again.
        listing(case("J4"), case("J3"), case("J2"), total=7),
        listing(case("J2"), case("J1"), total=7),
    ]
    route = router.get("/api/cases").mock(side_effect=pages)

    first = adapter.poll(None)
    second = adapter.poll(first.cursor)
    third = adapter.poll(second.cursor)

    assert [c.request.url.params["offset"] for c in route.calls] == ["0", "2", "4"]
    handed = [i.external_id for i in first.items + second.items + third.items]
    assert handed == ["J5", "J4", "J3", "J2", "J1"]
    assert third.cursor["phase"] == "list" and third.cursor["sweeps"] == 1  # 5 seen of 7: sweep again


def test_an_unchanged_case_read_again_keeps_its_event_id_and_a_changed_one_gets_a_new_one(
    router: respx.MockRouter, adapter: P12389Adapter, clock: Clock
) -> None:
    route = router.get("/api/cases")
    route.mock(return_value=listing(case("J1")))
    first = adapter.poll(None).items[0]
    route.mock(return_value=listing(case("J1").replace("<qszt>0</qszt>", "  <qszt>0</qszt>  ")))
    again = adapter.poll(None).items[0]
    clock.now += 1
    route.mock(return_value=listing(case("J1", zt="核查中", qszt="1")))
    changed = adapter.poll(None).items[0]

    assert first.event_id == again.event_id != changed.event_id


def test_open_cases_are_read_again_one_by_one_after_the_list_and_a_gone_one_is_dropped(
    router: respx.MockRouter, adapter: P12389Adapter, clock: Clock
) -> None:
    lists = router.get("/api/cases").mock(return_value=listing(case("J2"), case("J1")))
    first = adapter.poll(None)  # J2, J1 listed: the list ended, so the recheck phase is next
    recheck = adapter.poll(first.cursor)
    assert recheck.items == [] and recheck.done is True

    clock.now = NOW + 60
    lists.mock(return_value=listing())  # both issued before the new window
    one = router.get("/api/cases/J1").mock(return_value=detail(case("J1", zt="核查中", qszt="1")))
    two = router.get("/api/cases/J2").mock(return_value=error(404, "案件不存在"))
    listed = adapter.poll(recheck.cursor)
    reread = adapter.poll(listed.cursor)

    assert lists.calls[-1].request.url.params["since"] == "2025-11-22T10:13:00"  # cycle start − 120 s
    assert one.call_count == two.call_count == 1
    assert [i.external_id for i in reread.items] == ["J1"] and reread.done is True
    assert set(reread.cursor["watch"]) == {"J1"}
    assert reread.cursor["watch"]["J1"][0] == int(NOW + 60)


def test_a_failure_in_the_middle_of_the_rereads_keeps_what_was_read_and_resumes(
    router: respx.MockRouter, adapter: P12389Adapter, clock: Clock
) -> None:
    router.get("/api/cases").mock(return_value=listing(case("J2"), case("J1")))
    cursor = adapter.poll(adapter.poll(None).cursor).cursor
    clock.now = NOW + 60
    router.get("/api/cases").mock(return_value=listing())
    cursor = adapter.poll(cursor).cursor
    router.get("/api/cases/J1").mock(return_value=detail(case("J1")))  # read first: same time, lower jbbh
    router.get("/api/cases/J2").mock(side_effect=[error(503, "busy"), detail(case("J2")), error(503, "busy")])

    partial = adapter.poll(cursor)
    resumed = adapter.poll(partial.cursor)

    assert [i.external_id for i in partial.items] == ["J1"] and partial.done is False
    assert [i.external_id for i in resumed.items] == ["J2"] and resumed.done is True


def test_page_size_is_clamped_to_the_platforms_limit_and_to_two(router: respx.MockRouter, clock: Clock) -> None:
    router.post("/oauth/token").mock(return_value=token_answer())
    route = router.get("/api/cases").mock(return_value=listing())
    make_adapter(clock, page_size=500).poll(None)
    make_adapter(clock, page_size=1).poll(None)
    assert [c.request.url.params["limit"] for c in route.calls] == ["50", "2"]


def test_an_unreadable_cursor_starts_a_new_cycle(router: respx.MockRouter, adapter: P12389Adapter) -> None:
    route = router.get("/api/cases").mock(return_value=listing())
    page = adapter.poll({"phase": "list", "since": "yesterday"})
    assert route.calls[0].request.url.params["since"] == "2025-11-21T10:15:00"
    assert page.cursor["phase"] == "recheck"


@pytest.mark.parametrize(("answer", "kind"), [
    (error(503, "维护中", **{"Retry-After": "30"}), TransientError),
    (error(500, "内部错误"), TransientError),
    (error(429, "too many", **{"Retry-After": "4"}), RateLimited),
    (error(400, "invalid field since"), PermanentError),
    (error(404, "not found"), PermanentError),
    (httpx.Response(200, text="<html><body>系统维护中"), TransientError),
    (xml(200, "<response code='0'><message>ok</message></response>"), TransientError),  # no <cases>
    (xml(200, (FIXTURES / "malformed_billion_laughs.xml").read_text()), TransientError),
    (xml(200, (FIXTURES / "malformed_external_entity.xml").read_text()), TransientError),
])
def test_every_failure_of_the_list_is_translated(
    router: respx.MockRouter, adapter: P12389Adapter, answer: httpx.Response, kind: type[Exception]
) -> None:
    router.get("/api/cases").mock(return_value=answer)
    with pytest.raises(kind) as caught:
        adapter.poll(None)
    if answer.headers.get("Retry-After"):
        assert isinstance(caught.value, TransientError)
        assert caught.value.retry_after == float(answer.headers["Retry-After"])


@pytest.mark.parametrize("declared", [True, False])
def test_a_response_of_more_than_four_megabytes_is_refused_with_a_clear_error(
    router: respx.MockRouter, adapter: P12389Adapter, declared: bool
) -> None:
    chunk = b" " * 65_536
    body = [b'<response code="0"><cases total="1">'] + [chunk] * 70
    answer = httpx.Response(200, content=b"".join(body)) if declared else httpx.Response(200, content=iter(body))
    router.get("/api/cases").mock(return_value=answer)
    with pytest.raises(TransientError, match=r"larger than|bytes refused"):
        adapter.poll(None)


def test_the_network_failing_during_a_read_is_transient(router: respx.MockRouter, adapter: P12389Adapter) -> None:
    route = router.get("/api/cases").mock(side_effect=httpx.ConnectError("refused"))
    with pytest.raises(TransientError):
        adapter.poll(None)
    assert route.call_count == 2  # one quick retry: nothing can have reached the platform
    route.mock(side_effect=httpx.ReadTimeout("slow"))
    with pytest.raises(TransientError):
        adapter.poll(None)
