"""Shared by the mayor contract tests: the platform's wire format written from PLATFORMS.md §3."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx

BASE = "https://mayor.test"
TOKEN = "tk-contract-5f1c9e"
NOW = 1_763_777_700.0  # 2025-11-22 10:15:00 in Shanghai
LSH = "SZ2511220000123"
FIXTURES = Path(__file__).parents[1] / "fixtures" / "mayor"
GBK_JSON = {"Content-Type": "application/json;charset=GBK"}
FORM = "application/x-www-form-urlencoded; charset=GBK"


class Clock:
    """A settable clock for cycle starts."""

    def __init__(self) -> None:
        self.now = NOW

    def __call__(self) -> float:
        return self.now


def gbk(answer: dict[str, Any], headers: dict[str, str] | None = None) -> httpx.Response:
    """An answer encoded the way the platform sends it."""
    raw = json.dumps(answer, ensure_ascii=False).encode("gbk")
    return httpx.Response(200, content=raw, headers=GBK_JSON if headers is None else headers)


def encoded(answer: Any) -> bytes:
    """A test answer as bytes: a dict as GBK JSON, a fixture file by name, text as GBK, bytes as is."""
    if isinstance(answer, dict):
        return json.dumps(answer, ensure_ascii=False).encode("gbk")
    if isinstance(answer, bytes):
        return answer
    return (FIXTURES / answer).read_bytes() if answer.endswith(".html") else str(answer).encode("gbk")


def fixture(name: str) -> dict[str, Any]:
    """A row fixture (stored as UTF-8 JSON: the decoded form)."""
    document: dict[str, Any] = json.loads((FIXTURES / name).read_text(encoding="utf-8"))
    return document


def row(lsh: str, gxsj: str, **changes: Any) -> dict[str, Any]:
    """The base row under another serial number and update time."""
    return {**fixture("row_base.json"), "lsh": lsh, "gxsj": gxsj, **changes}


def params(request: httpx.Request) -> dict[str, str]:
    """The query parameters of a request."""
    return dict(request.url.params)
