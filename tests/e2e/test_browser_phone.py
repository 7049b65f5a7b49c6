"""The dashboard on a phone (issue 13, point 9): at 390 px the header does not overlap, nothing makes the page scroll
sideways, and the queue, the ticket page and the approvals inbox can be used — the queue one card per ticket with
its labels, the ticket's forms full width. Real browser (Debian's chromium), real gateway and mock 12345.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from tests.e2e.harness import REPLY, Stack
from tests.e2e.test_browser import PASSWORD, SHOTS
from tests.e2e.test_browser import browser as browser
from tests.e2e.test_browser_day import people, pushed

pytestmark = pytest.mark.browser
PHONE = {"width": 390, "height": 844}

# Boxes of the header's three parts, and how far the page reaches sideways.
LAYOUT = """() => {
  const box = (sel) => { const e = document.querySelector(sel); if (!e) return null;
                         const r = e.getBoundingClientRect(), y = window.scrollY;
                         return [r.left, r.top + y, r.right, r.bottom + y]; };
  return { width: window.innerWidth, scroll: document.documentElement.scrollWidth,
           brand: box('header.top .brand'), nav: box('header.top nav'), who: box('header.top .who'),
           header: box('header.top'), main: box('main') };
}"""


def on_phone(browser: Any, stack: Stack, username: str) -> Any:
    page = browser.new_context(viewport=PHONE, locale="zh-CN", is_mobile=True, has_touch=True).new_page()
    page.on("dialog", lambda dialog: dialog.accept())
    page.goto(f"{stack.url}/dashboard/login")
    page.fill("#username", username)
    page.fill("#password", PASSWORD)
    page.click("#login-submit")
    page.wait_for_url(f"{stack.url}/dashboard/")
    return page


def overlap(a: list[float], b: list[float]) -> bool:
    return a[0] < b[2] - 0.5 and b[0] < a[2] - 0.5 and a[1] < b[3] - 0.5 and b[1] < a[3] - 0.5


def assert_fits(page: Any, where: str) -> None:
    layout = page.evaluate(LAYOUT)
    # A mobile browser widens its layout viewport to content that overflows, so compare with the phone itself.
    assert layout["width"] == PHONE["width"], f"{where}: the page is {layout['width']} px wide on a 390 px phone"
    assert layout["scroll"] <= PHONE["width"], f"{where}: the page scrolls sideways ({layout['scroll']} px wide)"
    parts = [layout[k] for k in ("brand", "nav", "who") if layout[k] is not None]
    for i, a in enumerate(parts):
        for b in parts[i + 1:]:
            assert not overlap(a, b), f"{where}: header parts overlap: {a} {b}"
    for part in parts:
        assert part[1] >= -0.5 and part[3] <= layout["main"][1] + 0.5, f"{where}: the header spills over the page"
    assert layout["main"][1] >= layout["header"][3] - 0.5, f"{where}: the header covers the page"


def test_queue_ticket_and_approvals_fit_a_390_px_phone(make_stack: Callable[..., Stack], browser: Any) -> None:
    stack = make_stack(platforms={"p12345": {}})
    people(stack)
    ticket = pushed(stack, title="小区门口夜间违停堵塞消防通道，多次反映仍未解决，请尽快处理")
    stack.act("duty", ticket["id"], "sign-off")
    stack.dispatch(ticket["id"])
    stack.act("unit", ticket["id"], "response", {"note": "已电话联系诉求人"})
    stack.act("unit", ticket["id"], "reply", REPLY)
    stack.review(ticket["id"])

    duty = on_phone(browser, stack, "duty")
    assert_fits(duty, "overview")
    duty.goto(f"{stack.url}/dashboard/queue")
    assert_fits(duty, "queue")
    assert not duty.is_visible("#queue thead"), "on a phone the queue is one card per ticket, without the header row"
    SHOTS.mkdir(parents=True, exist_ok=True)
    duty.screenshot(path=str(SHOTS / "phone-queue.png"))  # the README shows it
    card = duty.locator("#queue-rows tr").first
    labels = card.evaluate("tr => [...tr.cells].map(td => getComputedStyle(td, '::before').content)")
    assert {'"状态："', '"承办单位："', '"最近期限："'} <= set(labels), labels  # each value keeps its label
    card.locator("td.title a").click()
    duty.wait_for_url(f"{stack.url}/dashboard/tickets/{ticket['id']}")
    assert_fits(duty, "ticket")

    leader = on_phone(browser, stack, "leader")
    leader.goto(f"{stack.url}/dashboard/approvals")
    assert_fits(leader, "approvals")
    link = leader.locator("#replies a", has_text="小区门口").first
    box, width = link.bounding_box(), PHONE["width"]
    assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= width  # reachable without scrolling
    link.click()
    leader.wait_for_url(f"{stack.url}/dashboard/tickets/{ticket['id']}#*")
    assert_fits(leader, "ticket at the decision")
    form = leader.locator(".actions form").first
    form_box = form.bounding_box()
    assert form_box is not None and form_box["x"] + form_box["width"] <= width, "a form wider than the phone"
