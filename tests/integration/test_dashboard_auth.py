"""Dashboard sign-in: login and logout, cookie flags, lock-out, CSRF on forms and on the API, the audit log."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from app.bootstrap import Container
from gateway.store.tables import TicketRecord
from gateway.store.tables_auth import AuditRecord, LoginSessionRecord
from tests.integration.dashboard_support import Browser, add_ticket, build_container
from tests.integration.dashboard_support import cheap_hashes as cheap_hashes


@pytest.fixture
def container(db_url: str, make_settings: Callable[..., Any], tmp_path: Path) -> Iterator[Container]:
    yield from build_container(db_url, make_settings, tmp_path, cookie_secure=True, login_max_failures=3)


def audit_actions(container: Container) -> list[tuple[str, str]]:
    with container.sessions() as s:
        rows = s.scalars(select(AuditRecord).order_by(AuditRecord.id))
        return [(r.actor, r.action) for r in rows if r.actor != "test"]


def test_a_page_without_a_login_redirects_to_the_login_form(container: Container) -> None:
    response = Browser(container).get("/dashboard/queue?platform=p12345", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/dashboard/login?next=%2Fdashboard%2Fqueue%3Fplatform%3Dp12345"


def test_login_sets_a_secure_httponly_lax_cookie_and_logout_ends_the_session(container: Container) -> None:
    browser = Browser(container)
    response = browser.login("duty")
    assert response.status_code == 303 and response.headers["location"] == "/dashboard/"
    cookie = next(v for k, v in response.headers.multi_items() if k == "set-cookie" and v.startswith("hg_session="))
    flags = {part.strip().lower() for part in cookie.split(";")}
    assert {"httponly", "secure", "samesite=lax", "path=/"} <= flags
    assert "值班员甲" in browser.get("/dashboard/").text
    assert browser.post("/dashboard/logout").status_code == 303
    assert browser.get("/dashboard/", follow_redirects=False).status_code == 303
    with container.sessions() as s:
        assert s.scalars(select(LoginSessionRecord)).all() == []
    assert audit_actions(container) == [("值班员甲", "login"), ("值班员甲", "logout")]


def test_a_stolen_cookie_stops_working_after_logout(container: Container) -> None:
    browser = Browser(container)
    browser.login("duty")
    stolen = browser.client.cookies.get("hg_session")
    browser.post("/dashboard/logout")
    thief = Browser(container)
    thief.client.cookies.set("hg_session", stolen or "", domain="testserver")
    assert thief.get("/dashboard/", follow_redirects=False).status_code == 303


def test_a_forged_cookie_never_reaches_the_database_as_a_session(container: Container) -> None:
    browser = Browser(container)
    browser.client.cookies.set("hg_session", "made-up-token.bad-mac", domain="testserver")
    assert browser.get("/dashboard/", follow_redirects=False).status_code == 303


def test_a_wrong_password_is_refused_and_three_in_a_row_lock_the_account(container: Container) -> None:
    browser = Browser(container)
    for _ in range(2):
        response = browser.login("duty", "wrong-password-1")
        assert response.status_code == 401 and "用户名或密码错误" in response.text
    third = browser.login("duty", "wrong-password-1")
    assert third.status_code == 429 and "已暂时锁定" in third.text  # says so, and until when
    locked = browser.login("duty")  # the right password, but locked now (this browser never signed in)
    assert locked.status_code == 429 and "已暂时锁定" in locked.text
    assert [a for _, a in audit_actions(container)] == ["login_failed"] * 3 + ["login_locked", "login_throttled"]


def test_an_unknown_user_gets_the_same_answer_as_a_wrong_password(container: Container) -> None:
    response = Browser(container).login("nobody", "whatever-123")
    assert response.status_code == 401 and "用户名或密码错误" in response.text


def test_a_login_post_without_its_form_token_is_refused(container: Container) -> None:
    browser = Browser(container)
    response = browser.client.post("/dashboard/login", data={"username": "duty", "password": "correct-horse-42"},
                                   follow_redirects=False)
    assert response.status_code == 403 and "hg_session" not in response.headers.get("set-cookie", "")


def test_a_form_without_the_csrf_token_is_refused_and_changes_nothing(container: Container) -> None:
    ticket_id = add_ticket(container, "CSRF-1")
    browser = Browser(container)
    browser.login("duty")
    forged = browser.client.post(f"/dashboard/tickets/{ticket_id}/sign-off", data={"csrf_token": "guess"},
                                 follow_redirects=False)
    assert forged.status_code == 403
    missing = browser.client.post(f"/dashboard/tickets/{ticket_id}/sign-off", follow_redirects=False)
    assert missing.status_code == 403
    with container.sessions() as s:
        assert s.get(TicketRecord, ticket_id).status == "received"  # type: ignore[union-attr]
    assert browser.post(f"/dashboard/tickets/{ticket_id}/sign-off").status_code == 303
    with container.sessions() as s:
        assert s.get(TicketRecord, ticket_id).status == "signed"  # type: ignore[union-attr]


def test_the_json_api_accepts_the_session_cookie_for_writes_only_with_the_csrf_header(container: Container) -> None:
    ticket_id = add_ticket(container, "CSRF-2")
    browser = Browser(container)
    browser.login("duty")
    assert browser.client.get("/api/v1/tickets").json()["items"][0]["id"] == ticket_id
    refused = browser.client.post(f"/api/v1/tickets/{ticket_id}/sign-off")
    assert refused.status_code == 403 and refused.json()["error"]["code"] == "forbidden"
    signed = browser.client.post(f"/api/v1/tickets/{ticket_id}/sign-off", headers={"X-CSRF-Token": browser.csrf})
    assert signed.status_code == 200 and signed.json()["signed_by"] == "值班员甲"


def test_pages_are_sent_with_a_strict_content_security_policy_and_no_caching(container: Container) -> None:
    browser = Browser(container)
    browser.login("duty")
    headers = browser.get("/dashboard/").headers
    assert "script-src 'self'" in headers["content-security-policy"]
    assert headers["x-frame-options"] == "DENY" and headers["cache-control"] == "no-store"


def test_changing_ones_password_signs_out_and_the_new_password_works(container: Container) -> None:
    browser = Browser(container)
    browser.login("unit")
    response = browser.post("/dashboard/account/password",
                            {"current": "correct-horse-42", "new": "another-horse-77", "repeat": "another-horse-77"})
    assert response.status_code == 303 and response.headers["location"] == "/dashboard/login"
    assert Browser(container).login("unit").status_code == 401
    assert Browser(container).login("unit", "another-horse-77").status_code == 303


def test_the_admin_creates_a_user_who_can_then_log_in_and_it_is_audited(container: Container) -> None:
    admin = Browser(container)
    admin.login("admin")
    response = admin.post("/dashboard/admin/users", {"username": "wang", "display_name": "王警官",
                                                     "password": "wang-pass-2026", "roles": ["unit"],
                                                     "unit": "城关派出所"})
    assert response.status_code == 303 and "已创建用户" in admin.flash()
    assert Browser(container).login("wang", "wang-pass-2026").status_code == 303
    assert ("管理员戊", "user_created") in audit_actions(container)
    duty = Browser(container)
    duty.login("duty")
    assert duty.get("/dashboard/admin/users").status_code == 403
    assert duty.post("/dashboard/admin/users", {"username": "x1", "display_name": "x", "password": "abc-def-12345",
                                                "roles": ["admin"]}).status_code == 403
