"""Helpers of the security tests: a gateway with the real 12345 webhook, signed pushes, the inbox."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import select

from adapters.p12345_signing import signed_headers
from app.bootstrap import Container, bootstrap
from app.web import create_app
from gateway.store.tables import InboxRecord
from tests.integration.dashboard_support import NOW

FIXTURES = Path(__file__).parents[1] / "fixtures" / "p12345"
APP_ID, SECRET = "gw-test", "test-secret-p12345-0123456789abcdef"


def webhook_container(db_url: str, make_settings: Callable[..., Any], **settings: Any) -> Iterator[Container]:
    """A container whose 12345 platform is enabled (its webhook verifies with ``SECRET``)."""
    values = {"database_url": db_url,
              "platforms": {"p12345": {"enabled": True, "app_id": APP_ID, "app_secret": SECRET}}, **settings}
    container = bootstrap(make_settings(**values), clock=lambda: NOW)
    yield container
    container.close()


def order_envelope(**changes: Any) -> dict[str, Any]:
    """The fixture push of a dispatched order, with top-level fields replaced and ``data`` fields merged."""
    envelope: dict[str, Any] = json.loads((FIXTURES / "push_order_dispatched.json").read_text(encoding="utf-8"))
    data = changes.pop("data", {})
    envelope.update(changes)
    envelope["data"].update(data)
    return envelope


def signed(body: bytes, *, nonce: str | None = None, timestamp: str | None = None) -> dict[str, str]:
    headers = signed_headers(APP_ID, SECRET, body, now=NOW.timestamp(), nonce=nonce)
    if timestamp is not None:
        headers["X-Timestamp"] = timestamp
    return headers | {"Content-Type": "application/json"}


def push(client: TestClient, envelope: dict[str, Any] | bytes, **sign: Any) -> Any:
    """Sign and post one push (``ensure_ascii`` JSON: a lone surrogate travels as its escape)."""
    body = envelope if isinstance(envelope, bytes) else json.dumps(envelope).encode()
    return client.post("/inbound/p12345", content=body, headers=signed(body, **sign))


def client_of(container: Container) -> TestClient:
    return TestClient(create_app(container), raise_server_exceptions=False)


def inbox_rows(container: Container) -> list[InboxRecord]:
    with container.sessions() as s:
        return list(s.scalars(select(InboxRecord).order_by(InboxRecord.id)))
