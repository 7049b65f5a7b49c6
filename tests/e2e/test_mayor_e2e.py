"""市长热线 end to end: the mock mayor's hotline and the gateway over real HTTP, with faults on.

The mock's ledger is the proof: every write-back it applied is there once, and a re-post of an
applied one (answered 该工单已签收/已反馈) would count as a duplicate.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

import pytest
from pydantic import SecretStr

from adapters.mayor import MayorAdapter
from tests.e2e.harness import CREDENTIALS, REPLY, Stack, wait_for

KEY = "mayor"
TOKEN = CREDENTIALS[KEY]["token"]


def new_row(stack: Stack, **fields: Any) -> str:
    response = stack.mock(KEY).post("/_mock/orders", json=fields)
    assert response.is_success, response.text
    return str(response.json()["lsh"])


def faults(stack: Stack, **switches: Any) -> dict[str, Any]:
    response = stack.mock(KEY).post("/_mock/faults", json=switches)
    assert response.is_success, response.text
    return dict(response.json())


def platform_event(stack: Stack, lsh: str, event_type: str, **data: Any) -> dict[str, Any]:
    response = stack.mock(KEY).post(f"/_mock/orders/{lsh}/events", json={"event_type": event_type, "data": data})
    assert response.is_success, response.text
    return dict(response.json()["order"])


def pulled(stack: Stack, lsh: str, check: Callable[[dict[str, Any]], bool] = bool, timeout: float = 20) -> Any:
    """Ring a pull until the gateway's ticket for ``lsh`` passes ``check``."""

    def ready() -> dict[str, Any] | None:
        stack.container.doorbell.poll(KEY)
        ticket = stack.ticket_for(KEY, lsh)
        return ticket if ticket and check(ticket) else None

    return wait_for(ready, timeout=timeout, interval=0.3, what=f"ticket {lsh}")


def act(stack: Stack, role: str, ticket_id: int, path: str, body: dict[str, Any] | None = None) -> None:
    response = stack.api(role).post(f"/api/v1/tickets/{ticket_id}/{path}", json=body)
    assert response.is_success, (path, response.status_code, response.text)


def handle_to_feedback(stack: Stack, ticket_id: int) -> None:
    """签收, 派单, 答复, 审批: the mayor path (no 先行联系: §3 has no such write-back)."""
    act(stack, "duty", ticket_id, "sign-off")
    stack.dispatch(ticket_id)
    act(stack, "unit", ticket_id, "reply", REPLY)
    stack.review(ticket_id)
    act(stack, "leader", ticket_id, "reply/approve")


def use_settings(stack: Stack, **changes: Any) -> None:
    """Swap the gateway's mayor adapter for one built with changed settings."""
    settings = stack.container.settings.platforms.mayor.model_copy(update=changes)
    if "token" in changes:
        settings = settings.model_copy(update={"token": SecretStr(changes["token"])})
    # The old adapter is left open: a poll the stack started may be using it right now.
    stack.container.adapters[KEY] = MayorAdapter(settings)


def outbound_done(stack: Stack, lsh: str, n: int) -> dict[str, Any] | None:
    ticket = stack.ticket_for(KEY, lsh) or {}
    rows = ticket.get("outbound", [])
    return ticket if len(rows) == n and all(o["state"] == "sent" for o in rows) else None


def outbound_row(stack: Stack, lsh: str, action: str, state: str) -> dict[str, Any] | None:
    rows = (stack.ticket_for(KEY, lsh) or {}).get("outbound", [])
    return next((o for o in rows if o["action"] == action and o["state"] == state), None)


def test_a_row_in_the_feed_becomes_one_ticket_and_its_changes_update_it(make_stack: Callable[..., Stack]) -> None:
    stack = make_stack(platforms={KEY: {}})
    lsh = new_row(stack, sqlb="揭发控告", jjcd="1", ldnr="举报阳光小区门口有人非法营运摩的，占道拉客。")

    ticket = pulled(stack, lsh)
    assert (ticket["appeal_type"], ticket["status"], ticket["platform_status"]) == ("report", "received", "待签收")
    assert ticket["content"] == "举报阳光小区门口有人非法营运摩的，占道拉客。"  # GBK on the wire, intact here
    assert ticket["accepted_at"].endswith("+08:00")
    stack.mock(KEY).post(f"/_mock/orders/{lsh}/events", json={"event_type": "updated", "changes": {"jjcd": "3"}})
    urgent = pulled(stack, lsh, lambda t: t["urgency"] == "critical")
    assert [t["external_id"] for t in stack.tickets(platform=KEY)] == [lsh] and urgent["status"] == "received"


def test_sign_and_feedback_are_posted_once_each_although_both_answers_are_dropped(
    make_stack: Callable[..., Stack], db_url: str
) -> None:
    stack = make_stack(platforms={KEY: {}}, database_url=db_url)  # also on PostgreSQL: gxsj versions are big
    lsh = new_row(stack)
    ticket = pulled(stack, lsh)
    faults(stack, drop_rate=1.0, drop_mode="close")  # every write-back is applied, its answer lost

    handle_to_feedback(stack, ticket["id"])

    done = wait_for(lambda: outbound_done(stack, lsh, 2), timeout=30, what="sign and feedback sent")
    assert [(o["action"], o["attempts"]) for o in done["outbound"]] == [("sign", 2), ("reply", 2)]
    assert done["status"] == "replied"
    ledger = stack.ledger(KEY, order_no=lsh)
    assert [e["action"] for e in ledger["entries"]] == ["sign", "feedback"] and ledger["duplicates"] == 0
    assert ledger["entries"][1]["body"] == {
        "lsh": lsh, "sfss": "1", "dcqk": REPLY["investigation"], "czjg": REPLY["disposition"],
        "ldryj": REPLY["citizen_opinion"], "bljg": REPLY["public_reply"], "shr": "leader-e2e",
    }
    fed_back = pulled(stack, lsh, lambda t: t["platform_status"] == "已反馈")
    assert fed_back["extra"]["fkxx"]["bljg"] == REPLY["public_reply"]


def test_maintenance_pages_5xx_429s_lost_answers_and_shifting_pages_lose_nothing_and_post_nothing_twice(
    make_stack: Callable[..., Stack],
) -> None:
    stack = make_stack(platforms={KEY: {"rate_limit_per_s": 4}})
    use_settings(stack, page_size=2)  # pages of two: rows move between pages while the gateway pages
    rows = [new_row(stack) for _ in range(6)]
    faults(stack, maintenance_rate=0.25, error_rate=0.15, error_status="mixed", drop_rate=0.3, drop_next=2)
    tickets = [pulled(stack, lsh, timeout=60) for lsh in rows]

    for ticket in tickets:
        handle_to_feedback(stack, ticket["id"])
    late = [new_row(stack) for _ in range(2)]  # rows changing and arriving while the gateway pages

    wait_for(lambda: all(outbound_done(stack, lsh, 2) for lsh in rows), timeout=120, interval=0.5, what="all sent")
    for lsh in late:
        pulled(stack, lsh, timeout=60)
    ledger = stack.ledger(KEY)
    # Applied exactly once each. A re-post can still happen (a read-back that itself hits a
    # maintenance page sends the row back to plain retry in the core's delivery); the platform
    # refuses it (该工单已签收/已反馈), it counts as a ledger duplicate, and our read-back settles it.
    assert sorted((e["order_no"], e["action"]) for e in ledger["entries"]) == sorted(
        (lsh, action) for lsh in rows for action in ("sign", "feedback")
    )
    assert sorted(t["external_id"] for t in stack.tickets(platform=KEY)) == sorted(rows + late)
    health = stack.mock(KEY).get("/_mock/health").json()
    assert health["maintenance_pages"] > 0 and health["faults"]["counters"]["responses_dropped"] >= 2
    assert health["faults"]["counters"]["errors_injected"] > 0


def test_a_return_whose_answer_was_lost_is_read_back_and_never_posted_twice(make_stack: Callable[..., Stack]) -> None:
    stack = make_stack(platforms={KEY: {}})
    lsh = new_row(stack)
    ticket = pulled(stack, lsh)
    faults(stack, drop_next=1, drop_mode="close")

    act(stack, "duty", ticket["id"], "return", {"reason": "不属于公安机关职责，请改派其他单位"})

    wait_for(lambda: outbound_done(stack, lsh, 1), timeout=30, what="return reconciled")
    ledger = stack.ledger(KEY, order_no=lsh)
    assert [e["action"] for e in ledger["entries"]] == ["back"] and ledger["duplicates"] == 0
    assert ledger["entries"][0]["body"] == {"lsh": lsh, "thyy": "不属于公安机关职责，请改派其他单位"}
    assert pulled(stack, lsh, lambda t: t["status"] == "returned")["platform_status"] == "已退回"


def test_the_callback_result_reaches_the_ticket_once(make_stack: Callable[..., Stack]) -> None:
    stack = make_stack(platforms={KEY: {}})
    lsh = new_row(stack)
    handle_to_feedback(stack, pulled(stack, lsh)["id"])
    wait_for(lambda: outbound_done(stack, lsh, 2), timeout=30, what="the feedback")

    platform_event(stack, lsh, "callback", myd="不满意", hfsj="2026-11-25 10:00:00", hfyj="问题未解决")

    called = pulled(stack, lsh, lambda t: bool(t["callback"]) and t["status"] == "closed")
    assert {k: called["callback"][k] for k in ("satisfaction", "comment", "visited_at")} == {
        "satisfaction": "dissatisfied", "comment": "问题未解决", "visited_at": "2026-11-25T10:00:00+08:00"
    }
    pulled(stack, lsh, lambda t: [e["kind"] for e in t["events"]].count("callback") == 1)
    stack.container.doorbell.poll(KEY)
    again = pulled(stack, lsh)
    assert [e["kind"] for e in again["events"]].count("callback") == 1


def test_someone_elses_feedback_on_the_platform_makes_ours_dead_with_the_reason(
    make_stack: Callable[..., Stack],
) -> None:
    stack = make_stack(platforms={KEY: {}})
    lsh = new_row(stack, zt="02")  # signed on the platform's own web page, not through us
    ticket = pulled(stack, lsh)
    mock = stack.mock(KEY)
    form = {"lsh": lsh, "sfss": "0", "dcqk": "经查不属实情况", "czjg": "已答复", "ldryj": "无", "bljg": "经查不属实"}
    form["shr"] = "甲"
    colleague = mock.post(  # a colleague's feedback, typed into the platform's own web page
        "/hotline/feedback.do", params={"token": TOKEN}, content=urlencode(form, encoding="gbk"),
        headers={"Content-Type": "application/x-www-form-urlencoded; charset=GBK"},
    )
    assert colleague.content.decode("gbk") == '{"result": "1", "msg": "成功"}'
    act(stack, "duty", ticket["id"], "sign-off")
    stack.dispatch(ticket["id"])
    act(stack, "unit", ticket["id"], "reply", REPLY)
    stack.review(ticket["id"])
    act(stack, "leader", ticket["id"], "reply/approve")

    row = wait_for(lambda: outbound_row(stack, lsh, "reply", "dead"), timeout=30, what="the reply dead")
    assert "someone else's feedback" in row["last_error"]
    assert outbound_row(stack, lsh, "sign", "sent") is not None  # 已签收 read back: zt 02 counts as signed
    assert [e["action"] for e in stack.ledger(KEY, order_no=lsh)["entries"]] == ["feedback"]


def test_a_contact_has_no_mayor_endpoint_so_it_stays_on_the_ticket_and_the_feedback_still_goes_out(
    make_stack: Callable[..., Stack],
) -> None:
    stack = make_stack(platforms={KEY: {}})
    lsh = new_row(stack)

    stack.handle_to_approval(pulled(stack, lsh)["id"])  # 签收, 派单, 先行联系, 答复, 审批

    done = wait_for(lambda: outbound_done(stack, lsh, 2), timeout=30, what="sign and feedback sent")
    assert [o["action"] for o in done["outbound"]] == ["sign", "reply"]
    assert any(e["kind"] == "not_on_platform" and e["detail"].get("action") == "contact" for e in done["events"])
    assert [e["action"] for e in stack.ledger(KEY, order_no=lsh)["entries"]] == ["sign", "feedback"]


def test_a_wrong_token_is_an_authentication_failure_and_the_token_never_reaches_a_log(
    make_stack: Callable[..., Stack], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    wrong = "e2e-wrong-token-7c1d"
    stack = make_stack(platforms={KEY: {}})

    def health() -> dict[str, Any]:
        items = stack.api().get("/api/v1/platforms/health").json()["items"]
        return next((i for i in items if i["platform"] == KEY), {})

    # The stack's first poll (right token) must be over before the swap: finishing after the refused one, it
    # would clear the error this test looks for (a slow first tick — the scheduler also makes its bulletins).
    wait_for(lambda: health().get("last_poll_ok_at"), timeout=20, what="the stack's first poll")
    use_settings(stack, token=wrong)
    new_row(stack)

    def refused() -> int:
        stack.container.doorbell.poll(KEY)
        return int(stack.mock(KEY).get("/_mock/health").json()["auth_rejected"])

    def poll_error() -> str:
        return str(health().get("poll_error") or "")

    wait_for(refused, timeout=20, interval=0.3, what="a refused poll")
    error = wait_for(poll_error, timeout=10, what="the poll error on the health page")
    assert error.startswith("AuthenticationError") and "token无效" in error and wrong not in error
    assert "token=***" in caplog.text  # httpx logged the URLs, redacted
    assert wrong not in caplog.text and TOKEN not in caplog.text
