"""局长信箱 end to end: the mock mailbox and the gateway over real HTTP, with faults on.

The mock's ledger is the proof: every write-back it accepted is there once, and a repeated or
second transfer would show as a duplicate.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from tests.e2e.harness import REPLY, UNIT, Stack, wait_for

KEY = "mailbox"


def new_letter(stack: Stack, **fields: Any) -> str:
    response = stack.mock(KEY).post("/_mock/letters", json=fields)
    assert response.is_success, response.text
    return str(response.json()["letter_no"])


def faults(stack: Stack, **switches: Any) -> None:
    assert stack.mock(KEY).post("/_mock/faults", json=switches).is_success


def pulled(stack: Stack, letter_no: str, check: Callable[[dict[str, Any]], bool] = bool, timeout: float = 20) -> Any:
    """Ring a pull until the gateway's ticket for ``letter_no`` passes ``check``."""

    def ready() -> dict[str, Any] | None:
        stack.container.doorbell.poll(KEY)
        ticket = stack.ticket_for(KEY, letter_no)
        return ticket if ticket and check(ticket) else None

    return wait_for(ready, timeout=timeout, interval=0.3, what=f"ticket {letter_no}")


def act(stack: Stack, role: str, ticket_id: int, path: str, body: dict[str, Any] | None = None) -> None:
    response = stack.api(role).post(f"/api/v1/tickets/{ticket_id}/{path}", json=body)
    assert response.is_success, (path, response.status_code, response.text)


def handle_to_answer(stack: Stack, ticket_id: int) -> None:
    """签收, 派单, 答复, 审批: the mailbox path (no 先行联系: §4 has no such write-back)."""
    act(stack, "duty", ticket_id, "sign-off")
    stack.dispatch(ticket_id)
    act(stack, "unit", ticket_id, "reply", REPLY)
    stack.review(ticket_id)
    act(stack, "leader", ticket_id, "reply/approve")


def ledger_has(stack: Stack, count: int, **filters: str) -> dict[str, Any] | None:
    ledger = stack.ledger(KEY, **filters)
    return ledger if ledger["count"] >= count else None


def outbound_done(stack: Stack, letter_no: str, n: int) -> dict[str, Any] | None:
    ticket = stack.ticket_for(KEY, letter_no) or {}
    rows = ticket.get("outbound", [])
    return ticket if len(rows) == n and all(o["state"] == "sent" for o in rows) else None


def test_a_letter_in_the_feed_becomes_one_ticket_and_its_changes_update_it(make_stack: Callable[..., Stack]) -> None:
    stack = make_stack(platforms={KEY: {}})
    letter_no = new_letter(stack, title="滨江大道夜间飙车扰民", letter_type="投诉")

    ticket = pulled(stack, letter_no)
    assert (ticket["title"], ticket["appeal_type"]) == ("滨江大道夜间飙车扰民", "complaint")
    assert ticket["status"] == "received" and ticket["platform_status"] == "pending_review"
    stack.mock(KEY).post(f"/_mock/letters/{letter_no}/changes", json={"status": "duplicate"})
    closed = pulled(stack, letter_no, lambda t: t["status"] == "closed")
    assert closed["source_version"] > ticket["source_version"] and closed["platform_status"] == "duplicate"
    assert [t["external_id"] for t in stack.tickets()] == [letter_no]


def test_acceptance_and_answer_are_posted_once_each_although_both_responses_are_dropped(
    make_stack: Callable[..., Stack],
) -> None:
    stack = make_stack(platforms={KEY: {}})
    letter_no = new_letter(stack)
    ticket = pulled(stack, letter_no)
    faults(stack, drop_rate=1.0, drop_mode="close")  # every write-back is applied, its answer lost

    handle_to_answer(stack, ticket["id"])

    done = wait_for(lambda: outbound_done(stack, letter_no, 2), timeout=30, what="acceptance and answer sent")
    assert [(o["action"], o["attempts"]) for o in done["outbound"]] == [("sign", 2), ("reply", 2)]
    assert done["status"] == "replied"
    ledger = stack.ledger(KEY, order_no=letter_no)
    assert [e["action"] for e in ledger["entries"]] == ["acceptance", "answer"]
    assert ledger["duplicates"] == 0
    assert ledger["entries"][1]["body"] == {
        "text": REPLY["public_reply"], "dept": UNIT, "publish": False, "approved_by": "leader-e2e"
    }


def test_a_transfer_whose_response_was_lost_is_read_back_and_never_posted_twice(
    make_stack: Callable[..., Stack],
) -> None:
    stack = make_stack(platforms={KEY: {}})
    letter_no = new_letter(stack)
    ticket = pulled(stack, letter_no)
    faults(stack, drop_next=1, drop_mode="close")

    act(stack, "duty", ticket["id"], "return", {"reason": "不属于公安机关职责，请转其他单位"})

    wait_for(lambda: outbound_done(stack, letter_no, 1), timeout=30, what="transfer reconciled")
    ledger = stack.ledger(KEY, order_no=letter_no)
    assert [e["action"] for e in ledger["entries"]] == ["transfer"] and ledger["duplicates"] == 0
    assert ledger["entries"][0]["body"] == {"reason": "不属于公安机关职责，请转其他单位", "to": "其他单位"}
    health = stack.mock(KEY).get("/_mock/health").json()
    assert health["transfer_conflicts"] == 0 and health["faults"]["counters"]["responses_dropped"] == 1
    assert pulled(stack, letter_no, lambda t: t["status"] == "returned")["platform_status"] == "transferred"


def test_a_rating_that_arrives_after_the_answer_becomes_the_ticket_s_callback(make_stack: Callable[..., Stack]) -> None:
    stack = make_stack(platforms={KEY: {}})
    letter_no = new_letter(stack)
    handle_to_answer(stack, pulled(stack, letter_no)["id"])
    wait_for(lambda: ledger_has(stack, 1, action="answer"), what="the answer")

    stack.mock(KEY).post(f"/_mock/letters/{letter_no}/rating", json={"score": 5, "comment": "处理及时，非常满意"})

    rated = pulled(stack, letter_no, lambda t: bool(t["callback"]))
    assert {k: rated["callback"][k] for k in ("score", "satisfaction", "comment")} == {
        "score": 5, "satisfaction": "satisfied", "comment": "处理及时，非常满意"
    }
    assert [e["kind"] for e in rated["events"]].count("rated") == 1


def test_a_contact_has_no_mailbox_endpoint_so_it_is_recorded_locally_and_the_answer_still_goes(
    make_stack: Callable[..., Stack],
) -> None:
    stack = make_stack(platforms={KEY: {}})
    letter_no = new_letter(stack)
    ticket = pulled(stack, letter_no)
    stack.handle_to_approval(ticket["id"])  # includes 先行联系, which the mailbox has no endpoint for

    wait_for(lambda: outbound_done(stack, letter_no, 2), timeout=30, what="acceptance and answer sent")
    detail = stack.ticket_for(KEY, letter_no) or {}
    assert [o["action"] for o in detail["outbound"]] == ["sign", "reply"]  # no contact row to block the reply
    assert any(e["kind"] == "not_on_platform" and e["detail"]["action"] == "contact" for e in detail["events"])
    assert [e["action"] for e in stack.ledger(KEY, order_no=letter_no)["entries"]] == ["acceptance", "answer"]


def test_a_429_storm_errors_and_lost_responses_lose_nothing_and_post_nothing_twice(
    make_stack: Callable[..., Stack],
) -> None:
    # The mock allows 2 requests/s while the gateway paces at 4/s: 429s with Retry-After all along.
    stack = make_stack(platforms={KEY: {"rate_limit_per_s": 2}})
    letters = [new_letter(stack) for _ in range(4)]
    tickets = [pulled(stack, letter_no, timeout=40) for letter_no in letters]
    faults(stack, error_rate=0.2, error_status="mixed", drop_rate=0.3, drop_next=2, drop_mode="close")

    for ticket in tickets:
        handle_to_answer(stack, ticket["id"])

    wait_for(lambda: all(outbound_done(stack, n, 2) for n in letters), timeout=90, interval=0.5, what="all sent")
    ledger = stack.ledger(KEY)
    assert sorted((e["order_no"], e["action"]) for e in ledger["entries"]) == sorted(
        (n, action) for n in letters for action in ("acceptance", "answer")
    )
    assert ledger["duplicates"] == 0
    health = stack.mock(KEY).get("/_mock/health").json()
    # The storm really happened: 429s, injected 5xx and applied write-backs whose answer was lost.
    assert health["rate_limited"] > 0 and health["faults"]["counters"]["responses_dropped"] >= 2
    assert health["faults"]["counters"]["errors_injected"] > 0
