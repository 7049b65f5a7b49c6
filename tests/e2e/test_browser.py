"""The dashboard in a real browser (Debian's chromium via Playwright) against a real gateway and mock 12345:
duty signs and proposes the dispatch, the leader approves it, the unit contacts and drafts, the unit head
reviews, the leader approves, the reply reaches the platform. Saves the README's ticket screenshot
(docs/screenshots/ticket.png; the overview and approvals ones come from test_browser_day.py).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from gateway.services import accounts
from gateway.store.db import transaction
from tests.conftest import _unavailable
from tests.e2e.harness import UNIT, Stack, wait_for

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--no-first-run", "--disable-sync"]
SHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
PASSWORD = "browser-pass-2026"
PEOPLE = {"duty": ("值班员小王", ["duty"], None), "unit": ("城关所李警官", ["unit"], UNIT),
          "unit_head": ("城关所周所长", ["unit_head"], UNIT), "leader": ("分管领导赵局", ["leader"], None)}

pytestmark = pytest.mark.browser


@pytest.fixture
def browser() -> Iterator[Any]:
    """Debian's chromium, headless; skipped when absent (failed under CI=true)."""
    if not os.access(CHROMIUM, os.X_OK):
        _unavailable("chromium", FileNotFoundError(CHROMIUM))
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield instance
        instance.close()


def new_order(stack: Stack, **fields: Any) -> dict[str, Any]:
    response = stack.mock("p12345").post("/_mock/orders", json={"push": True, **fields})
    assert response.is_success, response.text
    return dict(response.json())


def signed_in(browser: Any, stack: Stack, username: str) -> Any:
    """A page in its own browser context, logged in through the form."""
    page = browser.new_context(viewport={"width": 1440, "height": 900}, locale="zh-CN").new_page()
    page.on("dialog", lambda dialog: dialog.accept())
    page.goto(f"{stack.url}/dashboard/login")
    page.fill("#username", username)
    page.fill("#password", PASSWORD)
    page.click("#login-submit")
    page.wait_for_url(f"{stack.url}/dashboard/")
    return page


def test_duty_unit_and_leader_take_a_mock_ticket_to_a_reply_the_platform_received(
    make_stack: Callable[..., Stack], browser: Any
) -> None:
    stack = make_stack(platforms={"p12345": {}})
    with transaction(stack.container.sessions) as session:
        for username, (name, roles, unit) in PEOPLE.items():
            accounts.create_user(session, username=username, display_name=name, password=PASSWORD, roles=roles,
                                 unit=unit, actor="test", now=stack.container.clock())
    orders = [new_order(stack) for _ in range(4)]
    order = orders[0]
    ticket = wait_for(lambda: stack.ticket_for("p12345", order["orderNo"]), what="the pushed ticket")
    for other in orders[1:]:
        wait_for(lambda o=other: stack.ticket_for("p12345", o["orderNo"]), what="the other tickets")

    duty = signed_in(browser, stack, "duty")
    duty.wait_for_selector("#stat-open")
    assert duty.inner_text("#stat-open") == "4"
    duty.wait_for_function("document.querySelector('[data-due]').textContent.startsWith('剩余')")
    SHOTS.mkdir(parents=True, exist_ok=True)  # overview.png: tests/e2e/test_browser_day.py, with every kind of row

    url = f"{stack.url}/dashboard/tickets/{ticket['id']}"
    duty.goto(url)
    duty.click("#form-sign-off button")
    duty.wait_for_selector(".flash.ok")
    duty.select_option("#form-dispatch select[name=unit]", UNIT)
    duty.click("#form-dispatch button")
    assert "待分管领导审批" in duty.inner_text(".flash")  # 000 二: the leader reviews before the dispatch

    leader = signed_in(browser, stack, "leader")
    leader.goto(url)
    leader.click("#form-dispatch-approve button")
    leader.wait_for_selector(".flash.ok")
    assert leader.inner_text("#ticket-unit") == UNIT

    unit = signed_in(browser, stack, "unit")
    unit.goto(url)
    unit.click("#form-response button")
    unit.wait_for_selector(".flash.ok")
    unit.select_option("#form-reply select[name=is_true]", "属实")
    unit.fill("#form-reply textarea[name=investigation]", "经民警现场核查，反映的夜间施工噪音情况属实。")
    unit.fill("#form-reply textarea[name=disposition]", "已责令施工方停止夜间施工，并加强巡查。")
    unit.fill("#form-reply textarea[name=citizen_opinion]", "诉求人表示认可处理结果。")
    unit.select_option("#form-reply select[name=resolved]", "已解决")
    unit.click("#form-reply button")
    assert "等待部门负责人审核" in unit.inner_text(".flash")
    assert unit.query_selector("#form-approve") is None  # a unit cannot approve its own reply

    head = signed_in(browser, stack, "unit_head")
    head.goto(url)
    head.click("#form-review button")  # 002 三(二): the unit head reviews before the leader
    assert "已审核" in head.inner_text(".flash")

    leader.goto(url)
    leader.click("#form-approve button")  # asks for confirmation; the dialog handler accepts
    assert "答复将回传平台" in leader.inner_text(".flash")

    ledger = wait_for(lambda: (lg := stack.ledger("p12345", order_no=order["orderNo"]))["count"] == 3 and lg,
                      what="sign, contact and reply in the mock's ledger")
    assert [e["action"] for e in ledger["entries"]] == ["sign", "contact", "reply"]
    reply = ledger["entries"][2]["body"]
    assert reply["approvedBy"] == "分管领导赵局" and reply["investigation"].startswith("经民警现场核查")
    wait_for(lambda: (t := stack.ticket_for("p12345", order["orderNo"])) and t["status"] == "replied",
             what="the ticket marked replied")
    leader.goto(url)
    assert "已送达" in leader.inner_text("#outbound")
    leader.screenshot(path=str(SHOTS / "ticket.png"), full_page=True)
