"""Uploads and bodies are bounded while they stream: refused on Content-Length, cut off past the limit.

Driven at the ASGI level so the test sees exactly how much of a body the gateway pulled: a 3 GB
upload must be refused without being read, and a chunked one as soon as it passes the limit.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI

from app.bootstrap import Container
from app.web import create_app
from tests.integration.dashboard_support import Browser, add_ticket, build_container
from tests.integration.dashboard_support import cheap_hashes as cheap_hashes

MIB = 1_048_576
UPLOAD_LIMIT = 2 * MIB
THREE_GB = 3 * 1024 * MIB


@pytest.fixture
def container(sqlite_url: str, make_settings: Callable[..., Any], tmp_path: Path) -> Iterator[Container]:
    yield from build_container(sqlite_url, make_settings, tmp_path, upload_max_bytes=UPLOAD_LIMIT)


class Upload:
    """An endless body in 1 MiB chunks, counting how many the app pulled."""

    def __init__(self, *, total: int) -> None:
        self.total, self.sent, self.pulls = total, 0, 0
        self.head = (b"--b\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.png\"\r\n"
                     b"Content-Type: image/png\r\n\r\n\x89PNG\r\n\x1a\n")

    async def receive(self) -> dict[str, Any]:
        self.pulls += 1
        chunk = self.head if self.sent == 0 else b"\0" * MIB
        chunk = chunk[: max(0, self.total - self.sent)]
        self.sent += len(chunk)
        return {"type": "http.request", "body": chunk, "more_body": self.sent < self.total}


def call(app: FastAPI, method: str, path: str, headers: dict[str, str], body: Upload) -> tuple[int, bytes]:
    scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": method, "path": path,
             "raw_path": path.encode(), "query_string": b"", "root_path": "", "scheme": "http",
             "server": ("testserver", 80), "client": ("127.0.0.1", 5000),
             "headers": [(k.lower().encode(), v.encode()) for k, v in headers.items()]}
    sent: list[dict[str, Any]] = []

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    async def run() -> None:
        async with app.router.lifespan_context(app):
            await app(scope, body.receive, send)

    asyncio.run(run())
    start = next(m for m in sent if m["type"] == "http.response.start")
    return start["status"], b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")


def test_a_3_gb_upload_is_refused_on_its_content_length_without_reading_it(container: Container) -> None:
    ticket_id = add_ticket(container, "U1")
    body = Upload(total=THREE_GB)
    status, answer = call(create_app(container), "POST", f"/api/v1/tickets/{ticket_id}/evidence",
                          {"content-type": "multipart/form-data; boundary=b", "content-length": str(THREE_GB),
                           "authorization": "Bearer unit-token-0123456789"}, body)
    assert status == 413 and json.loads(answer)["error"]["code"] == "payload_too_large"
    assert body.pulls == 0


def test_a_chunked_upload_is_cut_off_as_soon_as_it_passes_the_limit(container: Container) -> None:
    ticket_id = add_ticket(container, "U2")
    body = Upload(total=THREE_GB)
    status, _ = call(create_app(container), "POST", f"/api/v1/tickets/{ticket_id}/evidence",
                     {"content-type": "multipart/form-data; boundary=b", "transfer-encoding": "chunked",
                      "authorization": "Bearer unit-token-0123456789"}, body)
    assert status == 413
    assert body.sent <= UPLOAD_LIMIT + 2 * MIB  # stopped at the limit, not at 3 GB


def test_the_dashboards_upload_form_is_refused_the_same_way(container: Container) -> None:
    ticket_id = add_ticket(container, "U3")
    body = Upload(total=THREE_GB)
    status, page = call(create_app(container), "POST", f"/dashboard/tickets/{ticket_id}/evidence",
                        {"content-type": "multipart/form-data; boundary=b", "transfer-encoding": "chunked"}, body)
    assert status == 413 and "请求体超过" in page.decode()
    assert body.sent <= UPLOAD_LIMIT + 2 * MIB


def test_every_other_form_and_json_body_is_bounded_at_one_mebibyte(container: Container) -> None:
    browser = Browser(container)
    login = browser.client.post("/dashboard/login", data={"username": "duty", "password": "x" * (2 * MIB)})
    assert login.status_code == 413
    ticket_id = add_ticket(container, "U4")
    api = browser.client
    reply = api.post(f"/api/v1/tickets/{ticket_id}/return", json={"reason": "很长" * MIB},
                     headers={"Authorization": "Bearer duty-token-0123456789"})
    assert reply.status_code == 413 and reply.json()["error"]["code"] == "payload_too_large"
    small = api.post(f"/api/v1/tickets/{ticket_id}/return", json={"reason": "不属于本单位管辖"},
                     headers={"Authorization": "Bearer duty-token-0123456789"})
    assert small.status_code == 200, small.text
