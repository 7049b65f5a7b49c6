"""问责记录 in a real browser (Debian's chromium via Playwright) against a real gateway and mock 12345 (issue 16
point 7): 督察 opens the page from the menu, takes a suggested overdue ticket (000 责任追究制度 三) into the proposal
form, submits it; another leader approves it (四眼原则, 001 四(五)) and the unit's yearly figure counts it
(002 四(二): 纳入部门实绩考核).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select

from gateway.services import accounts
from gateway.store.db import transaction
from gateway.store.tables import TicketRecord
from gateway.store.tables_sla import SlaTimerRecord
from tests.e2e.harness import UNIT, Stack, wait_for
from tests.e2e.test_browser import PASSWORD, new_order, signed_in
from tests.e2e.test_browser import browser as browser

pytestmark = pytest.mark.browser
PEOPLE = {"supervisor": ("督察小孙", ["supervisor"], None), "leader": ("分管领导赵局", ["leader"], None)}


def test_supervision_proposes_from_a_suggestion_and_a_leader_approves_it(
    make_stack: Callable[..., Stack], browser: Any
) -> None:
    stack = make_stack(platforms={"p12345": {}})
    now = stack.container.clock()
    with transaction(stack.container.sessions) as session:
        for username, (name, roles, unit) in PEOPLE.items():
            accounts.create_user(session, username=username, display_name=name, password=PASSWORD, roles=roles,
                                 unit=unit, actor="test", now=now)
    order = new_order(stack, title="楼道堆物长期未清理")
    ticket = wait_for(lambda: stack.ticket_for("p12345", order["orderNo"]), what="the pushed ticket")
    with transaction(stack.container.sessions) as session:  # dispatched to the unit, its deadlines long past
        record = session.get(TicketRecord, ticket["id"])
        assert record is not None
        record.unit = UNIT
        for timer in session.scalars(select(SlaTimerRecord).where(SlaTimerRecord.ticket_id == ticket["id"])):
            timer.due_at = now - timedelta(days=2)

    supervisor = signed_in(browser, stack, "supervisor")
    supervisor.click("header nav >> text=问责记录")
    supervisor.wait_for_url(f"{stack.url}/dashboard/accountability")
    assert "楼道堆物长期未清理" in supervisor.inner_text("#suggestions")
    supervisor.click("#suggestions >> text=提出问责")
    assert supervisor.input_value("#form-propose input[name=ticket_ids]") == str(ticket["id"])
    assert supervisor.input_value("#form-propose select[name=cause]") == "overdue_open"
    supervisor.check("#form-propose input[value=circular]")
    supervisor.check("#form-propose input[value=deduction]")
    supervisor.fill("#form-propose input[name=points]", "1.5")
    supervisor.fill("#form-propose textarea[name=facts]", "工单超过办结时限两日仍未办理，经督察核实属实")
    supervisor.click("#form-propose button[type=submit]")
    supervisor.wait_for_selector(".flash.ok")
    assert "已提出问责建议" in supervisor.inner_text(".flash.ok")
    assert supervisor.query_selector("[id^=form-approve-]") is None  # not on one's own proposal

    leader = signed_in(browser, stack, "leader")
    leader.goto(f"{stack.url}/dashboard/accountability")
    leader.fill("[id^=form-approve-] input[name=note]", "同意全市通报并扣分")
    leader.click("[id^=form-approve-] button[type=submit]")
    leader.wait_for_selector(".flash.ok")
    assert "已批准" in leader.inner_text(".flash.ok")
    yearly = leader.inner_text("#yearly")
    assert UNIT in yearly and "1.5" in yearly
