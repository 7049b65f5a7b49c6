"""Validation of write-back bodies (PLATFORMS.md §4 write-back table): 400 ``invalid_argument``."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any

from mock_platforms.mailbox.errors import invalid_argument

ENDPOINTS = ("acceptance", "answer", "transfer")
TRANSFER_TARGETS = ("信访", "其他单位")
MAX_TEXT = 4000
# Epoch milliseconds of any date after 1973-03 have 12+ digits: a smaller number is seconds.
MIN_EPOCH_MS = 100_000_000_000

Check = Callable[[Mapping[str, Any], str], None]


def parse_body(raw: bytes) -> dict[str, Any]:
    """Parse a UTF-8 JSON object body or raise 400."""
    try:
        body = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise invalid_argument("body", f"not UTF-8 JSON ({exc})") from exc
    if not isinstance(body, dict):
        raise invalid_argument("body", "must be a JSON object")
    return body


def _present(body: Mapping[str, Any], name: str) -> Any:
    if name not in body or body[name] is None:
        raise invalid_argument(name, "missing")
    return body[name]


def text(limit: int = MAX_TEXT) -> Check:
    """A required non-empty string of at most ``limit`` characters."""

    def check(body: Mapping[str, Any], name: str) -> None:
        value = _present(body, name)
        if not isinstance(value, str) or not value.strip():
            raise invalid_argument(name, "must be a non-empty string")
        if len(value) > limit:
            raise invalid_argument(name, f"longer than {limit} characters")

    return check


def epoch_ms(body: Mapping[str, Any], name: str) -> None:
    """A required integer of epoch milliseconds."""
    value = _present(body, name)
    if isinstance(value, bool) or not isinstance(value, int):
        raise invalid_argument(name, "must be an integer of epoch milliseconds")
    if value < MIN_EPOCH_MS:
        raise invalid_argument(name, "must be epoch milliseconds, not seconds")


def flag(body: Mapping[str, Any], name: str) -> None:
    """A required JSON boolean."""
    if not isinstance(_present(body, name), bool):
        raise invalid_argument(name, "must be true or false")


def target(body: Mapping[str, Any], name: str) -> None:
    """A required transfer target."""
    if _present(body, name) not in TRANSFER_TARGETS:
        raise invalid_argument(name, f"must be one of {'/'.join(TRANSFER_TARGETS)}")


FIELDS: dict[str, dict[str, Check]] = {
    "acceptance": {"accepted_by": text(64), "accepted_at": epoch_ms},
    "answer": {"text": text(), "dept": text(64), "publish": flag, "approved_by": text(64)},
    "transfer": {"reason": text(), "to": target},
}


def validate(endpoint: str, body: Mapping[str, Any]) -> None:
    """Raise 400 naming the first unknown, missing or invalid field of a write-back body."""
    fields = FIELDS[endpoint]
    unknown = sorted(set(body) - set(fields))
    if unknown:
        raise invalid_argument(unknown[0], "unknown field")
    for name, check in fields.items():
        check(body, name)
