"""Hostile XML nested 100,000 deep is refused like the other hostile XML, never a RecursionError."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import respx

from adapters.p12389 import P12389Adapter
from adapters.p12389.xml import XmlRefused, parse
from gateway.errors import MappingError, TransientError
from mappers.p12389 import P12389Mapper
from tests.integration.p12389_wire import BASE, Clock, listing, make_adapter, token_answer

DEPTH = 100_000


def deep_case(depth: int = DEPTH) -> str:
    return "<case><jbbh>JB1</jbbh>" + "<case>" * depth + "x" + "</case>" * depth + "</case>"


@pytest.fixture
def adapter() -> Iterator[P12389Adapter]:
    with respx.mock(base_url=BASE, assert_all_called=False) as router:
        router.post("/oauth/token").mock(return_value=token_answer("tok-1"))
        router.get("/api/cases").mock(return_value=listing(deep_case()))
        built = make_adapter(Clock())
        yield built
        built.close()


def test_a_100k_deep_document_is_refused_as_xml_refused() -> None:
    body = f'<response code="0"><cases total="1">{deep_case()}</cases></response>'.encode()
    with pytest.raises(XmlRefused, match="nested deeper"):
        parse(body)


def test_a_100k_deep_case_in_the_list_is_a_transient_error_of_the_adapter(adapter: P12389Adapter) -> None:
    with pytest.raises(TransientError):  # the body is refused: "HTTP 200 without the platform's XML"
        adapter.poll(None)


def test_a_100k_deep_snapshot_in_the_inbox_is_a_mapping_error() -> None:
    payload = f'<snapshot observed="2025-11-22T10:30:00+08:00" version="1">{deep_case()}</snapshot>'
    with pytest.raises(MappingError) as caught:
        P12389Mapper().inbound("case.snapshot", payload)
    assert caught.value.field == "payload" and "unsafe" in str(caught.value)


def test_ordinary_nesting_still_parses() -> None:
    assert parse(f'<response code="0"><cases total="1">{deep_case(40)}</cases></response>'.encode()).tag == "response"
