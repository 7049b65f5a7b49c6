"""Roles fail closed at start-up and at run time (RULES.md §5): a dashboard user without usable roles stops
the gateway from starting, and one whose roles are emptied later reads nothing (SQLite and PostgreSQL)."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import update

from app.bootstrap import Container
from app.cli import check_users
from app.web import create_app
from gateway.store.db import transaction
from gateway.store.tables_auth import UserRecord
from tests.integration.dashboard_support import UNIT, Browser, add_ticket, build_container
from tests.integration.dashboard_support import cheap_hashes as cheap_hashes


@pytest.fixture
def container(db_url: str, make_settings: Callable[..., Any], tmp_path: Path) -> Iterator[Container]:
    yield from build_container(db_url, make_settings, tmp_path)


def set_user(container: Container, username: str, **values: Any) -> None:
    with transaction(container.sessions) as s:
        s.execute(update(UserRecord).where(UserRecord.username == username).values(**values))


@pytest.mark.parametrize(("change", "reason"), [
    ({"roles": []}, "roles must be listed explicitly"),
    ({"roles": ["unit"], "unit": None}, "needs its unit"),
    ({"roles": ["root"]}, "unknown role"),
])
def test_start_up_refuses_a_user_without_usable_roles_naming_the_user(
    container: Container, change: dict[str, Any], reason: str
) -> None:
    check_users(container)  # every user as created is fine
    set_user(container, "duty", **change)  # e.g. edited in the database
    with pytest.raises(SystemExit, match=rf"refusing to start: user 'duty': .*{reason}"):
        check_users(container)


def test_a_disabled_user_does_not_stop_start_up(container: Container) -> None:
    set_user(container, "duty", roles=[], active=False)
    check_users(container)


@pytest.mark.parametrize(("change"), [{"roles": []}, {"unit": None}], ids=["no-role", "unit-without-unit"])
def test_a_user_whose_roles_no_longer_hold_reads_nothing_on_any_read_route(
    container: Container, change: dict[str, Any]
) -> None:
    """A principal with no role (or a unit role without its unit) sees nothing: every GET of the API is 403."""
    ticket_id = add_ticket(container, "R-1")
    browser = Browser(container)
    browser.login("unit")
    set_user(container, "unit", **change)
    spec = TestClient(create_app(container)).get("/openapi.json").json()
    reads = [p for p, ops in spec["paths"].items() if "get" in ops and p.startswith("/api/v1/")]
    assert "/api/v1/tickets" in reads and len(reads) >= 8
    for path in reads:
        url = re.sub(r"\{[a-z_]+\}", str(ticket_id), path)
        response = browser.get(url, params={"start": "2026-11-20", "days": 1})
        assert response.status_code == 403, (path, response.status_code, response.text[:200])
    for page in ("/dashboard/", "/dashboard/queue", f"/dashboard/tickets/{ticket_id}", "/dashboard/reports"):
        response = browser.get(page)
        assert response.status_code == 403 and "R-1" not in response.text, page
    assert UNIT  # the unit user's tickets are not the point: nothing at all is
