"""Validation of write-back bodies (PLATFORMS.md §1 write-back table)."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any

from mock_platforms.common.clock import parse_iso
from mock_platforms.p12345.errors import ApiError, invalid_field

ACTIONS = ("sign", "contact", "return", "extension", "progress", "reply")
IS_TRUE = ("属实", "部分属实", "不属实")
RESOLVED = ("已解决", "部分解决", "未解决")
MAX_REQUEST_ID = 64
MAX_TEXT = 4000

Check = Callable[[Mapping[str, Any], str], None]


def parse_body(raw: bytes) -> dict[str, Any]:
    """Parse a UTF-8 JSON object body or raise 400."""
    try:
        body = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ApiError(400, f"invalid field body: not UTF-8 JSON ({exc})") from exc
    if not isinstance(body, dict):
        raise invalid_field("body", "must be a JSON object")
    return body


def request_id_of(body: Mapping[str, Any]) -> str:
    """Return the body's requestId or raise 400 naming it."""
    if "requestId" not in body:
        raise invalid_field("requestId", "missing")
    value = body["requestId"]
    if not isinstance(value, str) or not value.strip():
        raise invalid_field("requestId", "must be a non-empty string")
    if len(value) > MAX_REQUEST_ID:
        raise invalid_field("requestId", f"longer than {MAX_REQUEST_ID} characters")
    return value


def _present(body: Mapping[str, Any], name: str) -> Any:
    if name not in body or body[name] is None:
        raise invalid_field(name, "missing")
    return body[name]


def text(*, empty_ok: bool = False, limit: int = MAX_TEXT) -> Check:
    """A required string, non-empty unless empty_ok, at most `limit` characters."""

    def check(body: Mapping[str, Any], name: str) -> None:
        value = _present(body, name)
        if not isinstance(value, str):
            raise invalid_field(name, "must be a string")
        if not empty_ok and not value.strip():
            raise invalid_field(name, "must not be empty")
        if len(value) > limit:
            raise invalid_field(name, f"longer than {limit} characters")

    return check


def one_of(choices: tuple[str, ...]) -> Check:
    """A required string from a fixed enum."""

    def check(body: Mapping[str, Any], name: str) -> None:
        if _present(body, name) not in choices:
            raise invalid_field(name, f"must be one of {'/'.join(choices)}")

    return check


def when(body: Mapping[str, Any], name: str) -> None:
    """A required ISO-8601 time with a UTC offset."""
    value = _present(body, name)
    if isinstance(value, str):
        try:
            parse_iso(value, naive_as_local=False)
        except ValueError:
            pass
        else:
            return
    raise invalid_field(name, "must be ISO-8601 with offset, e.g. 2026-11-22T10:15:00+08:00")


def flag(body: Mapping[str, Any], name: str) -> None:
    """A required JSON boolean."""
    if not isinstance(_present(body, name), bool):
        raise invalid_field(name, "must be true or false")


def days(body: Mapping[str, Any], name: str) -> None:
    """A required integer from 1 to 5."""
    value = _present(body, name)
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 5:
        raise invalid_field(name, "must be an integer from 1 to 5")


def phone(body: Mapping[str, Any], name: str) -> None:
    """A required phone number: digits with optional +, - or spaces."""
    value = _present(body, name)
    digits = value.replace("-", "").replace(" ", "").removeprefix("+") if isinstance(value, str) else ""
    if not digits.isdigit() or not 3 <= len(digits) <= 20:
        raise invalid_field(name, "must be a phone number")


def attachments(body: Mapping[str, Any], name: str) -> None:
    """An optional list of {name, url, mime, size}; missing means none."""
    value = body.get(name)
    if value is None:
        return
    if not isinstance(value, list):
        raise invalid_field(name, "must be a list")
    for index, item in enumerate(value):
        where = f"{name}[{index}]"
        if not isinstance(item, dict):
            raise invalid_field(where, "must be an object")
        for key in ("name", "url"):
            if not isinstance(item.get(key), str) or not item[key]:
                raise invalid_field(f"{where}.{key}", "must be a non-empty string")
        if not item["url"].startswith(("http://", "https://")):  # the platform downloads the file from it
            raise invalid_field(f"{where}.url", "must be an http(s) URL the platform can download")
        size = item.get("size")
        if size is not None and (isinstance(size, bool) or not isinstance(size, int) or size < 0):
            raise invalid_field(f"{where}.size", "must be a non-negative integer")


FIELDS: dict[str, dict[str, Check]] = {
    "sign": {"operator": text(limit=64), "signedAt": when},
    "contact": {"contactedAt": when, "contactPhone": phone, "note": text(empty_ok=True)},
    "return": {"reason": text(), "attachments": attachments},
    "extension": {"days": days, "reason": text()},
    "progress": {"note": text()},
    "reply": {
        "isTrue": one_of(IS_TRUE),
        "investigation": text(),
        "disposition": text(),
        "citizenOpinion": text(),
        "resolved": one_of(RESOLVED),
        "contacted": flag,
        "publicReply": text(),
        "approvedBy": text(limit=64),
        "attachments": attachments,
    },
}


def validate(action: str, body: Mapping[str, Any]) -> None:
    """Raise 400 naming the first missing or invalid field of a write-back body."""
    for name, check in FIELDS[action].items():
        check(body, name)
    # contactedAt only has a meaning when the citizen was reached; null is fine otherwise.
    if action == "reply" and (body["contacted"] or body.get("contactedAt") is not None):
        when(body, "contactedAt")
