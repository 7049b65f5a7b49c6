"""``/files/evidence``: the platform's download says nosniff, and runs sandboxed if a browser renders it."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from fastapi.testclient import TestClient

from app.bootstrap import Container
from app.web import create_app
from gateway.services.signing import evidence_links
from tests.integration.dashboard_support import NOW, add_ticket, build_container, token
from tests.integration.dashboard_support import cheap_hashes as cheap_hashes

PNG = b"\x89PNG\r\n\x1a\n" + b"<html><script>alert(1)</script></html>"


@pytest.fixture
def container(sqlite_url: str, make_settings: Callable[..., Any], tmp_path: Path) -> Iterator[Container]:
    yield from build_container(sqlite_url, make_settings, tmp_path)


def test_an_evidence_download_is_sent_with_nosniff(container: Container) -> None:
    ticket_id = add_ticket(container, "E1")
    api = TestClient(create_app(container))
    upload = api.post(f"/api/v1/tickets/{ticket_id}/evidence", headers=token("duty"),
                      files={"file": ("照片.png", PNG, "image/png")})
    assert upload.status_code == 200, upload.text
    links = evidence_links(container)
    assert links is not None
    url = urlsplit(links.url(upload.json()["id"], issued=NOW))
    fetched = api.get(f"{url.path}?{url.query}")
    assert fetched.status_code == 200 and fetched.content == PNG
    assert fetched.headers["x-content-type-options"] == "nosniff"
    assert "sandbox" in fetched.headers["content-security-policy"]
