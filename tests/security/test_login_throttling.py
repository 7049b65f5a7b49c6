"""Login throttling per client address and per account, with growing delays nobody can turn against a
user: the lock-out says until when (Chinese), an admin can unlock, and all of it is audited."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from app.bootstrap import Container
from app.web import create_app
from gateway.store.tables_auth import AuditRecord, LoginThrottleRecord, UserRecord
from tests.integration.dashboard_support import NOW, Browser, build_container
from tests.integration.dashboard_support import cheap_hashes as cheap_hashes

WRONG = "wrong-password-9"


@pytest.fixture
def container(db_url: str, make_settings: Callable[..., Any], tmp_path: Path) -> Iterator[Container]:
    yield from build_container(db_url, make_settings, tmp_path, cookie_secure=True, login_max_failures=3,
                               login_address_max_failures=6, login_delay_s=60, login_lockout_s=600)


def browser_at(container: Container, address: str) -> Browser:
    """A browser at its own client address."""
    browser = Browser(container)
    browser.client = TestClient(create_app(container), base_url="https://testserver", client=(address, 50000))
    return browser


def at(container: Container, minutes: float) -> None:
    container.clock = lambda: NOW + timedelta(minutes=minutes)


def audit(container: Container, action: str) -> list[AuditRecord]:
    with container.sessions() as s:
        return list(s.scalars(select(AuditRecord).where(AuditRecord.action == action).order_by(AuditRecord.id)))


def blocked_until(container: Container, key: str) -> Any:
    with container.sessions() as s:
        row = s.get(LoginThrottleRecord, key)
        return None if row is None else row.blocked_until


def test_a_stranger_who_knows_the_name_cannot_lock_the_user_out_of_their_own_browser(container: Container) -> None:
    own = browser_at(container, "10.1.1.10")
    assert own.login("duty").status_code == 303  # the user's workstation: it is known from now on
    own.post("/dashboard/logout")
    stranger = browser_at(container, "10.9.9.9")
    answers = [stranger.login("duty", WRONG) for _ in range(3)]
    assert [a.status_code for a in answers] == [401, 401, 429]
    assert "请于 2026-11-20 10:01:00（北京时间）后再试" in answers[-1].text  # locked, and until when
    assert stranger.login("duty").status_code == 429  # the right password from a stranger: still locked
    assert own.login("duty").status_code == 303  # the user at their own browser is not
    new_place = browser_at(container, "10.1.1.11")  # a browser that never signed in waits like the stranger
    assert new_place.login("duty").status_code == 429


def test_delays_grow_with_each_failure_past_the_limit_up_to_the_ceiling(container: Container) -> None:
    stranger = browser_at(container, "10.9.9.8")
    waits = []
    minute = 0.0
    for _ in range(7):
        at(container, minute)
        stranger.login("leader", WRONG)
        until = blocked_until(container, "account:leader")
        if until is not None:
            waits.append((until - (NOW + timedelta(minutes=minute))).total_seconds())
            minute = (until - NOW).total_seconds() / 60 + 0.5  # try again once the block has passed
    assert waits == [60, 120, 240, 480, 600]  # doubling from login_delay_s, capped at login_lockout_s
    at(container, minute)
    assert stranger.login("leader").status_code == 303  # after the block the right password works
    assert blocked_until(container, "account:leader") is None  # and the count starts again


def test_spraying_names_from_one_address_is_throttled_for_that_address_only(container: Container) -> None:
    sprayer = browser_at(container, "10.6.6.6")
    names = ["duty", "unit", "leader", "supervisor", "admin", "nobody"]
    answers = [sprayer.login(name, WRONG).status_code for name in names]
    assert answers == [401] * 5 + [429]  # the sixth failure from the address blocks it
    refused = sprayer.login("other_unit")
    assert refused.status_code == 429 and "本机地址已暂时锁定" in refused.text
    assert browser_at(container, "10.6.6.7").login("other_unit").status_code == 303  # others are not


def test_an_unknown_name_is_throttled_exactly_like_a_real_one(container: Container) -> None:
    stranger = browser_at(container, "10.9.9.7")
    real = [stranger.login("duty", WRONG) for _ in range(3)]
    made_up = [stranger.login("nobody-here", WRONG) for _ in range(3)]
    assert [r.status_code for r in real] == [r.status_code for r in made_up] == [401, 401, 429]
    assert "该账号已暂时锁定" in real[-1].text and "该账号已暂时锁定" in made_up[-1].text


def test_an_admin_unlocks_a_locked_account_and_every_step_is_audited(container: Container) -> None:
    stranger = browser_at(container, "10.9.9.6")
    for _ in range(3):
        stranger.login("unit", WRONG)
    admin = browser_at(container, "10.1.1.1")
    admin.login("admin")
    users = admin.get("/dashboard/admin/users").text
    assert "已锁定至" in users and "/unlock" in users
    with container.sessions() as s:
        unit_id = s.scalars(select(UserRecord.id).where(UserRecord.username == "unit")).one()
    assert admin.post(f"/dashboard/admin/users/{unit_id}/unlock").status_code == 303
    assert "已解锁 unit" in admin.flash()
    assert browser_at(container, "10.2.2.2").login("unit").status_code == 303
    assert [(a.actor, a.target) for a in audit(container, "login_unlocked")] == [("管理员戊", "unit")]
    assert [a.target for a in audit(container, "login_locked")] == ["account:unit"]
    assert len(audit(container, "login_failed")) == 3


def test_a_unit_user_cannot_unlock_anyone(container: Container) -> None:
    unit = browser_at(container, "10.3.3.3")
    unit.login("unit")
    with container.sessions() as s:
        duty_id = s.scalars(select(UserRecord.id).where(UserRecord.username == "duty")).one()
    assert unit.post(f"/dashboard/admin/users/{duty_id}/unlock").status_code == 403
    assert audit(container, "login_unlocked") == []
