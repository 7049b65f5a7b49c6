"""A day's work in a real browser (Debian's chromium via Playwright) against a real gateway and mock 12345, as the
role who meets each part (issue 13: 1, 3, 5, 6): the leader works through the 待办审批 inbox from the header's
count; the duty officer's overview puts the nearest deadline of any kind first and 预警中/已超时 open the filtered
queue; the duty officer is offered only what can be done in the ticket's state, the unit list starting with
请选择 and suggesting the district's unit; the unit sees the reply its head sent back, with the reason. Saves the
screenshots the README shows (docs/screenshots/approvals.png, overview.png).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select

from gateway.services import accounts
from gateway.sla.deadlines import SHANGHAI
from gateway.store.db import transaction
from gateway.store.tables_sla import SlaTimerRecord
from tests.e2e.harness import REPLY, UNIT, Stack, wait_for
from tests.e2e.test_browser import PASSWORD, PEOPLE, SHOTS, new_order, signed_in
from tests.e2e.test_browser import browser as browser

pytestmark = pytest.mark.browser
SUSPEND = {"reason_code": 5, "expected_days": 120, "note": "涉及多个部门联动调查"}
NEW_CITY = {"district": "新城区", "subdistrict": "新华街道", "community": "阳光社区"}  # 城关派出所's 辖区 (units.json)


def people(stack: Stack) -> None:
    with transaction(stack.container.sessions) as session:
        for username, (name, roles, unit) in PEOPLE.items():
            accounts.create_user(session, username=username, display_name=name, password=PASSWORD, roles=roles,
                                 unit=unit, actor="test", now=stack.container.clock())


def pushed(stack: Stack, **fields: Any) -> dict[str, Any]:
    order = new_order(stack, **fields)
    found = wait_for(lambda: stack.ticket_for("p12345", order["orderNo"]), what="the pushed ticket")
    return dict(found)


def cn(moment: datetime) -> str:
    return moment.astimezone(SHANGHAI).replace(microsecond=0).isoformat()


def test_the_leader_works_through_the_approvals_inbox_from_the_headers_count(
    make_stack: Callable[..., Stack], browser: Any
) -> None:
    """000 二 (dispatch), 000 限时办结 二 (extension), 002 四(六) (挂单), 002 三(二) and 000 督办 三 (replies)."""
    stack = make_stack(platforms={"p12345": {}})
    people(stack)
    titles = ("小区门口夜间违停堵塞消防通道", "邻居长期饲养大型犬未拴绳", "商铺噪音扰民多次反映未解决",
              "电动车在楼道充电存在隐患")
    proposal, extension, suspension, reply = (pushed(stack, title=title) for title in titles)
    stack.act("duty", proposal["id"], "sign-off")
    stack.act("duty", proposal["id"], "dispatch", {"unit": UNIT})
    for ticket in (extension, suspension, reply):
        stack.act("duty", ticket["id"], "sign-off")
        stack.dispatch(ticket["id"])
    stack.act("unit", extension["id"], "extension", {"days": 3, "reason": "需调取周边监控核实"})
    stack.act("unit", suspension["id"], "suspend/request", SUSPEND)
    stack.act("unit", reply["id"], "response", {"note": "已电话联系诉求人"})
    stack.act("unit", reply["id"], "reply", REPLY)
    stack.review(reply["id"])

    leader = signed_in(browser, stack, "leader")
    assert leader.inner_text("#approvals-count") == "4"
    assert leader.get_attribute("#approvals-count", "title") == "答复审批 1 · 派单 1 · 延期 1 · 延期挂单 1"
    leader.click("header nav >> text=待办审批")
    leader.wait_for_url(f"{stack.url}/dashboard/approvals")
    for section, title in (("#replies", reply["title"]), ("#dispatches", proposal["title"]),
                           ("#extensions", extension["title"]), ("#suspensions", suspension["title"])):
        assert title in leader.inner_text(section)
    SHOTS.mkdir(parents=True, exist_ok=True)
    leader.screenshot(path=str(SHOTS / "approvals.png"), full_page=True)

    leader.click(f"#dispatches >> text={proposal['title']}")  # opens the ticket at the decision
    leader.wait_for_url(f"{stack.url}/dashboard/tickets/{proposal['id']}#form-dispatch-approve")
    assert leader.is_visible("#form-dispatch-approve") and leader.query_selector("#form-dispatch") is None
    leader.click("#form-dispatch-approve button")
    assert "已批准派单" in leader.inner_text(".flash.ok")
    assert leader.inner_text("#approvals-count") == "3"

    leader.click("header nav >> text=待办审批")
    leader.click(f"#suspensions >> text={suspension['title']}")
    leader.wait_for_url(f"{stack.url}/dashboard/tickets/{suspension['id']}#form-suspend-approve")
    assert "预计 120 天" in leader.inner_text("#form-suspend-approve")
    leader.fill("#form-suspend-approve input[name=chief]", "局长王某")
    leader.click("#form-suspend-approve button")  # asks for confirmation; the dialog handler accepts
    assert "已批准挂单" in leader.inner_text(".flash.ok")
    assert leader.is_visible("#suspended-badge") and "局长王某" in leader.inner_text("#suspension")
    assert leader.inner_text("#approvals-count") == "2"


def test_the_duty_officers_overview_puts_the_nearest_deadline_first_and_its_figures_open_the_queue(
    make_stack: Callable[..., Stack], browser: Any
) -> None:
    stack = make_stack(platforms={"p12345": {}})
    people(stack)
    now = datetime.now(SHANGHAI)
    for _ in range(3):
        pushed(stack)  # fresh: sign-off about 24 hours away
    warned = pushed(stack, title="反映路口信号灯故障", dispatchedAt=cn(now - timedelta(hours=20)),
                    signDeadline=cn(now + timedelta(hours=4)))
    late = pushed(stack, title="反映小区外卖电动车逆行", dispatchedAt=cn(now - timedelta(hours=26)),
                  signDeadline=cn(now - timedelta(hours=2)))
    urged = pushed(stack, title="反映夜市占道经营噪音扰民", region=NEW_CITY)
    stack.act("duty", urged["id"], "sign-off")
    stack.dispatch(urged["id"])
    stack.act("leader", urged["id"], "supervise",
              {"order": "催办", "due_at": cn(now + timedelta(minutes=10)), "note": "请今日内反馈办理进展"})
    sent_back = pushed(stack, title="反映停车场收费不规范", region=NEW_CITY)
    stack.act("duty", sent_back["id"], "sign-off")
    stack.dispatch(sent_back["id"])
    stack.act("unit", sent_back["id"], "response", {"note": "已电话联系诉求人"})
    stack.act("unit", sent_back["id"], "reply", REPLY)
    stack.act("unit_head", sent_back["id"], "reply/review/send-back", {"reason": "请补充收费公示核查情况"})

    def warned_by_the_engine() -> bool:  # the sweep fires the sign-off warning (≥ 50 % of the window gone)
        with stack.container.sessions() as session:
            timer = session.scalars(select(SlaTimerRecord).where(
                SlaTimerRecord.ticket_id == warned["id"], SlaTimerRecord.kind == "sign_off")).one()
            return timer.last_threshold > 0

    wait_for(warned_by_the_engine, what="the sign-off warning")
    duty = signed_in(browser, stack, "duty")
    first = duty.inner_text("#nearest tr:first-child")
    assert urged["external_id"] in first and "催办期限" in first  # 10 minutes, before a sign-off 4 h away
    assert warned["external_id"] in duty.inner_text("#nearest")
    assert late["external_id"] in duty.inner_text("#breached")
    assert sent_back["external_id"] in duty.inner_text("#sent-back-list")
    duty.wait_for_function("document.querySelector('#nearest [data-due]').textContent.startsWith('剩余')")
    SHOTS.mkdir(parents=True, exist_ok=True)
    duty.screenshot(path=str(SHOTS / "overview.png"), full_page=True)

    # The figures count tickets as the queue's filters do (other timers may warn too, by the real clock).
    for figure, state, ticket in (("#stat-warning", "warning", warned), ("#stat-breached", "breached", late)):
        duty.goto(f"{stack.url}/dashboard/")
        count = duty.inner_text(figure)
        duty.click(figure)
        duty.wait_for_url(f"**/dashboard/queue?timer_state={state}&sort=due")
        assert f"共 {count} 件" in duty.inner_text("h1") and ticket["external_id"] in duty.inner_text("#queue")


def test_the_duty_officer_sees_only_what_the_state_allows_and_the_unit_sees_its_reply_sent_back(
    make_stack: Callable[..., Stack], browser: Any
) -> None:
    stack = make_stack(platforms={"p12345": {}})
    people(stack)
    ticket = pushed(stack, title="反映小区内机动车乱停乱放", region=NEW_CITY)
    url = f"{stack.url}/dashboard/tickets/{ticket['id']}"

    duty = signed_in(browser, stack, "duty")
    duty.goto(url)
    duty.click("#form-sign-off button")
    duty.wait_for_selector(".flash.ok")
    for unit_form in ("#form-response", "#form-reply", "#form-extension", "#form-suspend-request", "#form-evidence"):
        assert duty.query_selector(unit_form) is None, unit_form  # nothing of the unit's before the dispatch
    assert duty.eval_on_selector("#dispatch-unit", "s => [s.value, s.options[s.selectedIndex].text]") == ["", "请选择"]
    assert duty.eval_on_selector("#dispatch-unit optgroup", "g => g.label") == "按辖区推荐（新城区 新华街道 阳光社区）"
    assert duty.eval_on_selector("#dispatch-unit optgroup option", "o => o.value") == UNIT
    duty.click("#form-dispatch button")  # nothing chosen: the browser refuses the empty 请选择
    assert duty.eval_on_selector("#dispatch-unit", "s => s.validity.valueMissing") is True
    assert duty.query_selector("#dispatch-pending") is None  # nothing was proposed
    duty.select_option("#dispatch-unit", UNIT)
    duty.click("#form-dispatch button")
    assert "待分管领导审批" in duty.inner_text(".flash")
    assert "城关派出所" in duty.inner_text("#dispatch-pending")

    stack.act("leader", ticket["id"], "dispatch/approve", {})
    stack.act("unit", ticket["id"], "response", {"note": "已电话联系诉求人"})
    stack.act("unit", ticket["id"], "reply", REPLY)
    stack.act("unit_head", ticket["id"], "reply/review/send-back", {"reason": "请补充现场照片和处罚决定书编号"})

    unit = signed_in(browser, stack, "unit")
    assert "请补充现场照片" in unit.inner_text("#sent-back-list")
    unit.click(f"#sent-back-list >> text={ticket['external_id']}")
    unit.wait_for_selector("#sent-back")
    notice = unit.inner_text("#sent-back")
    assert "部门负责人" in notice and "请补充现场照片和处罚决定书编号" in notice
    assert unit.is_visible("#sent-back-badge") and unit.is_visible("#form-reply")
    assert unit.query_selector("#form-dispatch") is None and unit.query_selector("#form-approve") is None
    unit.click("header nav >> text=工单列表")
    unit.check("input[name=sent_back]")
    unit.click("form.filters button[type=submit]")
    unit.wait_for_url("**/dashboard/queue?**sent_back=1**")
    assert "共 1 件" in unit.inner_text("h1") and "被退回" in unit.inner_text("#queue")
    unit.goto(url)
    unit.fill("#form-reply textarea[name=investigation]", "经民警现场核查，已拍摄现场照片，处罚决定书编号已附。")
    unit.click("#form-reply button")
    assert "等待部门负责人审核" in unit.inner_text(".flash")
    assert unit.query_selector("#sent-back") is None
