"""12345 HMAC signing and push verification (PLATFORMS.md §1 "Auth and signing")."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterator

import pytest
from hypothesis import given
from hypothesis import strategies as st

from adapters.p12345 import P12345Adapter
from adapters.p12345_signing import new_nonce, signature, signed_headers, verify_headers
from gateway.errors import SignatureError
from gateway.settings import P12345Settings

SECRET = "s3cr3t-for-tests-only"
APP_ID = "gw-test-0571"
NOW = 1_763_777_700.0  # 2025-11-22T10:15:00+08:00
BODY = (
    '{"event_id":"evt-1","event_type":"order.urged","order_no":"2511221015000123","data":{"note":"请尽快处理"}}'
).encode()
SETTINGS = P12345Settings(app_id=APP_ID, app_secret=SECRET, signature_window_s=300)


@pytest.fixture
def adapter() -> Iterator[P12345Adapter]:
    built = P12345Adapter(SETTINGS)
    yield built
    built.close()


def test_the_signature_matches_a_vector_computed_independently() -> None:
    expected = hmac.new(SECRET.encode(), b"1763777700\nabc123\n" + BODY, hashlib.sha256).hexdigest()

    assert signature(SECRET, "1763777700", "abc123", BODY) == expected
    assert expected == expected.lower() and len(expected) == 64


def test_a_get_is_signed_over_an_empty_body() -> None:
    expected = hmac.new(SECRET.encode(), b"1763777700\nn1\n", hashlib.sha256).hexdigest()

    assert signed_headers(APP_ID, SECRET, b"", now=NOW, nonce="n1")["X-Signature"] == expected


def test_signed_headers_carry_app_id_unix_seconds_and_a_fresh_short_nonce() -> None:
    first = signed_headers(APP_ID, SECRET, BODY, now=NOW + 0.9)
    second = signed_headers(APP_ID, SECRET, BODY, now=NOW + 0.9)

    assert first["X-App-Id"] == APP_ID
    assert first["X-Timestamp"] == "1763777700"
    assert 0 < len(first["X-Nonce"]) <= 32 and len(new_nonce()) == 32
    assert first["X-Nonce"] != second["X-Nonce"]


def test_sign_then_verify_round_trips_and_returns_the_nonce(adapter: P12345Adapter) -> None:
    headers = signed_headers(APP_ID, SECRET, BODY, now=NOW, nonce="9f86d081884c7d65")

    assert adapter.verify(headers, BODY, now=NOW) == "9f86d081884c7d65"


def test_header_names_are_matched_case_insensitively(adapter: P12345Adapter) -> None:
    headers = {k.lower(): v for k, v in signed_headers(APP_ID, SECRET, BODY, now=NOW, nonce="n-1").items()}
    upper = {k.upper(): v for k, v in headers.items()}

    assert adapter.verify(headers, BODY, now=NOW) == "n-1"
    assert adapter.verify(upper, BODY, now=NOW) == "n-1"


@pytest.mark.parametrize("skew", [-300, 300, 0])
def test_a_timestamp_at_the_edge_of_the_window_is_accepted(adapter: P12345Adapter, skew: int) -> None:
    headers = signed_headers(APP_ID, SECRET, BODY, now=NOW + skew)

    assert adapter.verify(headers, BODY, now=NOW)


@pytest.mark.parametrize("skew", [-301, 301, -86_400, 86_400])
def test_a_timestamp_beyond_the_window_is_refused_either_way(adapter: P12345Adapter, skew: int) -> None:
    headers = signed_headers(APP_ID, SECRET, BODY, now=NOW + skew)

    with pytest.raises(SignatureError, match="X-Timestamp"):
        adapter.verify(headers, BODY, now=NOW)


def test_a_body_changed_after_signing_is_refused(adapter: P12345Adapter) -> None:
    headers = signed_headers(APP_ID, SECRET, BODY, now=NOW)

    with pytest.raises(SignatureError, match="X-Signature"):
        adapter.verify(headers, BODY.replace("请尽快".encode(), "请立即".encode()), now=NOW)


def test_a_signature_made_with_another_secret_is_refused(adapter: P12345Adapter) -> None:
    headers = signed_headers(APP_ID, "someone-elses-secret", BODY, now=NOW)

    with pytest.raises(SignatureError, match="bad X-Signature") as caught:
        adapter.verify(headers, BODY, now=NOW)
    assert SECRET not in str(caught.value)


def test_a_non_ascii_signature_is_refused_not_crashed(adapter: P12345Adapter) -> None:
    headers = {**signed_headers(APP_ID, SECRET, BODY, now=NOW), "X-Signature": "签名"}

    with pytest.raises(SignatureError, match="X-Signature"):
        adapter.verify(headers, BODY, now=NOW)


def test_another_app_id_is_refused(adapter: P12345Adapter) -> None:
    headers = signed_headers("gw-other", SECRET, BODY, now=NOW)

    with pytest.raises(SignatureError, match="X-App-Id"):
        adapter.verify(headers, BODY, now=NOW)


@pytest.mark.parametrize("missing", ["X-App-Id", "X-Timestamp", "X-Nonce", "X-Signature"])
def test_a_missing_header_is_refused_by_name(adapter: P12345Adapter, missing: str) -> None:
    headers = signed_headers(APP_ID, SECRET, BODY, now=NOW)
    del headers[missing]

    with pytest.raises(SignatureError, match=f"missing header {missing}"):
        adapter.verify(headers, BODY, now=NOW)


@pytest.mark.parametrize("blank", ["", "   "])
def test_a_blank_nonce_counts_as_missing(adapter: P12345Adapter, blank: str) -> None:
    headers = {**signed_headers(APP_ID, SECRET, BODY, now=NOW), "X-Nonce": blank}

    with pytest.raises(SignatureError, match="missing header X-Nonce"):
        adapter.verify(headers, BODY, now=NOW)


def test_a_nonce_longer_than_32_chars_is_refused_even_when_signed(adapter: P12345Adapter) -> None:
    headers = signed_headers(APP_ID, SECRET, BODY, now=NOW, nonce="n" * 33)

    with pytest.raises(SignatureError, match="X-Nonce"):
        adapter.verify(headers, BODY, now=NOW)


def test_a_nonce_of_exactly_32_chars_is_accepted(adapter: P12345Adapter) -> None:
    headers = signed_headers(APP_ID, SECRET, BODY, now=NOW, nonce="n" * 32)

    assert adapter.verify(headers, BODY, now=NOW) == "n" * 32


@pytest.mark.parametrize("timestamp", ["1763777700.5", "-1763777700", "soon", "１７６３７７７７００"])
def test_a_timestamp_that_is_not_unix_seconds_is_refused(adapter: P12345Adapter, timestamp: str) -> None:
    headers = {**signed_headers(APP_ID, SECRET, BODY, now=NOW), "X-Timestamp": timestamp}

    with pytest.raises(SignatureError, match="X-Timestamp"):
        adapter.verify(headers, BODY, now=NOW)


def test_verify_headers_uses_the_given_window() -> None:
    headers = signed_headers(APP_ID, SECRET, BODY, now=NOW - 61)

    with pytest.raises(SignatureError):
        verify_headers(headers, BODY, app_id=APP_ID, secret=SECRET, now=NOW, window_s=60)
    assert verify_headers(headers, BODY, app_id=APP_ID, secret=SECRET, now=NOW, window_s=61)


@given(
    body=st.binary(max_size=2048),
    nonce=st.text(alphabet=st.characters(min_codepoint=33, max_codepoint=126), min_size=1, max_size=32),
    skew=st.integers(min_value=-300, max_value=300),
)
def test_any_body_and_nonce_signed_within_the_window_verifies(body: bytes, nonce: str, skew: int) -> None:
    headers = signed_headers(APP_ID, SECRET, body, now=NOW + skew, nonce=nonce)

    assert verify_headers(headers, body, app_id=APP_ID, secret=SECRET, now=NOW, window_s=300) == nonce


@given(body=st.binary(min_size=1, max_size=512), flip=st.integers(min_value=0))
def test_any_single_byte_change_breaks_the_signature(body: bytes, flip: int) -> None:
    headers = signed_headers(APP_ID, SECRET, body, now=NOW)
    index = flip % len(body)
    tampered = body[:index] + bytes([body[index] ^ 0x01]) + body[index + 1 :]

    with pytest.raises(SignatureError):
        verify_headers(headers, tampered, app_id=APP_ID, secret=SECRET, now=NOW, window_s=300)
