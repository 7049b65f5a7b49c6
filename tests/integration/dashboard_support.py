"""Helpers of the dashboard and workflow tests: a container with users and tokens, tickets, a browser-like client."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from argon2 import PasswordHasher
from fastapi.testclient import TestClient
from sqlalchemy import select

from app.bootstrap import Container, bootstrap
from app.web import create_app
from gateway.services import accounts, inbound, processing
from gateway.store.db import transaction
from gateway.store.tables import TicketRecord
from tests.fakes import FakeAdapter, FakeMapper, raw

NOW = datetime(2026, 11, 20, 2, 0, tzinfo=UTC)  # Friday 10:00 in Shanghai
UNIT, OTHER_UNIT = "城关派出所", "东城派出所"
PASSWORD = "correct-horse-42"
# username -> (display name, roles, unit); each also has a bearer token "<username>-token-0123456789".
PEOPLE: dict[str, tuple[str, list[str], str | None]] = {
    "duty": ("值班员甲", ["duty"], None),
    "unit": ("城关所民警", ["unit"], UNIT),
    "other_unit": ("东城所民警", ["unit"], OTHER_UNIT),
    "unit_head": ("城关所所长", ["unit_head"], UNIT),
    "leader": ("分管领导丙", ["leader"], None),
    "supervisor": ("督察丁", ["supervisor"], None),
    "admin": ("管理员戊", ["admin"], None),
}
REPLY = {"is_true": "属实", "investigation": "经民警现场核查，反映情况属实。", "disposition": "已责令整改",
         "citizen_opinion": "诉求人表示认可", "resolved": "已解决"}
# A 12389 核查报告 also carries 责任认定 and 整改情况 (001 四(四)).
REPORT = {**REPLY, "responsibility": "民警甲对接处警不规范负直接责任",
          "rectification": "已责令书面检查并开展规范执法培训"}


def token(name: str) -> dict[str, str]:
    """The bearer header of a person's machine token."""
    return {"Authorization": f"Bearer {name}-token-0123456789"}


@pytest.fixture(autouse=True)
def cheap_hashes(monkeypatch: pytest.MonkeyPatch) -> None:
    """Argon2 with tiny costs: the tests check the logic, not the hash's strength."""
    monkeypatch.setattr(accounts, "HASHER", PasswordHasher(time_cost=1, memory_cost=8, parallelism=1))


def build_container(db_url: str, make_settings: Callable[..., Any], tmp_path: Any,
                    people: dict[str, tuple[str, list[str], str | None]] | None = None,
                    **dashboard: Any) -> Iterator[Container]:
    """A container with every person (``PEOPLE`` and ``people``) as a dashboard user and as a bearer token."""
    everyone = PEOPLE | (people or {})
    tokens = [{"name": name, "token": f"{n}-token-0123456789", "roles": r, "unit": u}
              if n in (people or {}) else {"name": f"{n}-api", "token": f"{n}-token-0123456789", "roles": r, "unit": u}
              for n, (name, r, u) in everyone.items()]
    settings = make_settings(database_url=db_url, api_tokens=tokens, data_dir=str(tmp_path), dashboard=dashboard)
    container = bootstrap(settings, adapters={"fake": FakeAdapter()}, clock=lambda: NOW)  # type: ignore[dict-item]
    container.mappers["fake"] = FakeMapper()
    with transaction(container.sessions) as session:
        for username, (name, roles, unit) in everyone.items():
            accounts.create_user(session, username=username, display_name=name, password=PASSWORD, roles=roles,
                                 unit=unit, actor="test", now=NOW)
    yield container
    container.close()


def add_ticket(container: Container, external_id: str, **fields: Any) -> int:
    """A ticket through the real inbox and processing (platform p12345 unless told), with its SLA timers."""
    item = {"id": external_id, "version": 1, "platform": "p12345", "phone": "13812341234", **fields}
    with transaction(container.sessions) as session:
        row_id = inbound.store_item(session, platform="fake", item=raw(f"ev-{external_id}", **item),
                                    source="push", now=container.clock())
    with transaction(container.sessions) as session:
        processing.process_inbox_row(session, row_id=row_id or 0, mappers=container.mappers, now=container.clock())
    with container.sessions() as session:
        found = session.scalars(select(TicketRecord.id).where(TicketRecord.external_id == external_id)).one()
        return int(found)


class Browser:
    """A TestClient that logs in like a person and sends the CSRF token with every form."""

    def __init__(self, container: Container) -> None:
        self.client = TestClient(create_app(container), base_url="https://testserver")
        self.csrf = ""

    def login(self, username: str, password: str = PASSWORD) -> Any:
        """Fill in and submit the login form."""
        form = self.client.get("/dashboard/login")
        found = re.search(r'name="form_token" value="([^"]+)"', form.text)
        assert found, form.text[:500]
        response = self.client.post("/dashboard/login", data={"username": username, "password": password,
                                                              "form_token": found.group(1), "next": "/dashboard/"},
                                    follow_redirects=False)
        if response.status_code == 303:
            self.refresh_csrf()
        return response

    def refresh_csrf(self) -> None:
        """Read the session's CSRF token from a page."""
        page = self.client.get("/dashboard/account")
        found = re.search(r'<meta name="csrf-token" content="([^"]*)"', page.text)
        self.csrf = found.group(1) if found else ""

    def get(self, path: str, **kwargs: Any) -> Any:
        """GET a page."""
        return self.client.get(path, **kwargs)

    def post(self, path: str, data: dict[str, Any] | None = None, **kwargs: Any) -> Any:
        """POST a form as the page would (with the hidden CSRF field)."""
        return self.client.post(path, data={"csrf_token": self.csrf, **(data or {})}, follow_redirects=False,
                                **kwargs)

    def flash(self) -> str:
        """The one-time message the last action left (shown on the next page)."""
        page = self.get("/dashboard/account").text
        found = re.search(r'<div class="flash (\w+)" id="flash"[^>]*>([^<]*)</div>', page)
        return f"{found.group(1)}: {found.group(2)}" if found else ""
