"""12389 end to end: the mock platform and the gateway over real HTTP, with faults on.

The mock's ledger is the proof: every case listed becomes one ticket, and every receipt and report
the bureau approved reaches the platform exactly once, whatever the platform did in between
(tokens expiring and revoked, pages shifting, 5xx, answers dropped after the write was applied).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import func, select

from gateway.store.tables import InboxRecord, PollCursorRecord
from tests.e2e.harness import REPLY, UNIT, Stack, wait_for

KEY = "p12389"


def new_case(stack: Stack, **fields: Any) -> dict[str, Any]:
    response = stack.mock(KEY).post("/_mock/cases", json=fields)
    assert response.is_success, response.text
    return dict(response.json())


def control(stack: Stack, path: str, body: dict[str, Any]) -> dict[str, Any]:
    response = stack.mock(KEY).post(path, json=body)
    assert response.is_success, response.text
    return dict(response.json())


def pulled(stack: Stack, jbbh: str, check: Callable[[dict[str, Any]], bool] = bool, timeout: float = 20) -> Any:
    """Ring a poll until the gateway's ticket for ``jbbh`` exists and passes ``check``."""

    def ticket() -> dict[str, Any] | None:
        stack.container.doorbell.poll(KEY)
        found = stack.ticket_for(KEY, jbbh)
        return found if found and check(found) else None

    return wait_for(ticket, timeout=timeout, interval=0.3, what=f"ticket {jbbh}")


def all_sent(stack: Stack, jbbh: str, count: int) -> dict[str, Any] | None:
    ticket = stack.ticket_for(KEY, jbbh) or {}
    rows = ticket.get("outbound", [])
    return ticket if len(rows) == count and all(r["state"] == "sent" for r in rows) else None


def cursor(stack: Stack) -> dict[str, Any]:
    with stack.container.sessions() as session:
        record = session.get(PollCursorRecord, KEY)
        return dict(record.cursor) if record else {}


def snapshot_rows(stack: Stack, jbbh: str) -> int:
    with stack.container.sessions() as session:
        stmt = select(func.count()).select_from(InboxRecord).where(
            InboxRecord.platform == KEY, InboxRecord.external_id == jbbh, InboxRecord.event_type == "case.snapshot")
        return int(session.scalar(stmt) or 0)


def test_a_listed_case_becomes_one_ticket_whose_reporter_only_supervision_sees(
    make_stack: Callable[..., Stack],
) -> None:
    stack = make_stack(platforms={KEY: {}})
    case = new_case(stack, sfsm="1", ajdj="重大", bjbmj={"xm": "郑浩", "jh": "990417", "zw": "民警"})

    ticket = pulled(stack, case["jbbh"])

    assert (ticket["status"], ticket["level"], ticket["appeal_type"]) == ("received", "重大", "report")
    assert ticket["respondent"]["badge_no"] == "990417"
    assert ticket["citizen"]["masked"] is True and ticket["citizen"]["name"] != case["jbr"]["xm"]
    seen_by_supervision = stack.api("supervisor").get(f"/api/v1/tickets/{ticket['id']}").json()["citizen"]
    assert seen_by_supervision["id_number"] == case["jbr"]["sfzh"].upper()
    assert seen_by_supervision["name"] == case["jbr"]["xm"] and seen_by_supervision["masked"] is False
    for role in ("duty", "unit", "leader", "admin"):
        shown = stack.api(role).get(f"/api/v1/tickets/{ticket['id']}")
        if shown.status_code == 200:
            assert case["jbr"]["sfzh"] not in shown.text and case["jbr"]["lxdh"] not in shown.text
    assert snapshot_rows(stack, case["jbbh"]) == 1


def test_the_bureau_path_posts_one_receipt_one_extension_and_one_report_carrying_our_request_id(
    make_stack: Callable[..., Stack],
) -> None:
    stack = make_stack(platforms={KEY: {}})
    case = new_case(stack)
    ticket = pulled(stack, case["jbbh"])
    tid = ticket["id"]
    assert stack.api("duty").post(f"/api/v1/tickets/{tid}/sign-off").is_success
    stack.dispatch(tid)
    # A leader's extension goes straight out (a unit's would wait for one), with the written progress
    # report a 12389 extension needs (001 四(三)).
    ask = {"days": 3, "reason": "需调取异地监控", "report": "已询问当事民警，监控待异地调取"}
    extension = stack.api("leader").post(f"/api/v1/tickets/{tid}/extension", json=ask)
    assert extension.is_success, extension.text
    assert stack.api("unit").post(f"/api/v1/tickets/{tid}/reply", json=REPLY).is_success
    stack.review(tid)
    assert stack.api("leader").post(f"/api/v1/tickets/{tid}/reply/approve").is_success

    done = wait_for(lambda: all_sent(stack, case["jbbh"], 3), what="receipt, extension and report sent")

    ledger = stack.ledger(KEY, order_no=case["jbbh"])
    assert [e["action"] for e in ledger["entries"]] == ["receipt", "extension", "report"]
    reply_row = next(o for o in done["outbound"] if o["action"] == "reply")
    report = ledger["entries"][2]
    assert report["request_id"] == reply_row["request_id"] == report["body"]["wbbh"]
    assert len(report["body"]["wbbh"]) == 34
    assert report["body"]["hcjl"] == "属实" and report["body"]["spr"] == "leader-e2e"
    assert report["body"]["hcqk"] == REPLY["investigation"] and report["body"]["fkqk"] == REPLY["citizen_opinion"]
    assert (report["body"]["zrrd"], report["body"]["zgqk"]) == (REPLY["responsibility"], REPLY["rectification"])
    assert ledger["entries"][1]["body"] == {"yqts": "3",
                                            "yqly": f"需调取异地监控\n阶段进展情况：{ask['report']}"}
    assert ledger["duplicates"] == 0 and done["status"] == "replied"


def test_a_dropped_report_answer_is_read_back_and_the_report_is_never_posted_twice(
    make_stack: Callable[..., Stack],
) -> None:
    stack = make_stack(platforms={KEY: {}})
    case = new_case(stack)
    ticket = pulled(stack, case["jbbh"])
    assert stack.api("duty").post(f"/api/v1/tickets/{ticket['id']}/sign-off").is_success
    wait_for(lambda: all_sent(stack, case["jbbh"], 1), what="the receipt")
    control(stack, "/_mock/faults", {"drop_next": 1, "drop_mode": "close"})
    for role, path, body in (("duty", "dispatch", {"unit": UNIT}), ("leader", "dispatch/approve", {}),
                             ("unit", "reply", REPLY), ("unit_head", "reply/review", {}),
                             ("leader", "reply/approve", None)):
        assert stack.api(role).post(f"/api/v1/tickets/{ticket['id']}/{path}", json=body).is_success

    done = wait_for(lambda: all_sent(stack, case["jbbh"], 2), what="the report reconciled")

    report_row = done["outbound"][1]
    assert report_row["attempts"] == 2  # the post whose answer was dropped, then the read-back that found it
    ledger = stack.ledger(KEY, order_no=case["jbbh"], action="report")
    assert ledger["count"] == 1 and ledger["duplicates"] == 0
    assert stack.mock(KEY).get("/_mock/faults").json()["counters"]["responses_dropped"] == 1


def test_a_revoked_token_is_renewed_and_the_receipt_goes_out_once(make_stack: Callable[..., Stack]) -> None:
    stack = make_stack(platforms={KEY: {}})
    case = new_case(stack)
    ticket = pulled(stack, case["jbbh"])
    assert control(stack, "/_mock/auth", {"revoke": True})["revoked"] >= 1

    assert stack.api("duty").post(f"/api/v1/tickets/{ticket['id']}/sign-off").is_success
    wait_for(lambda: all_sent(stack, case["jbbh"], 1), what="the receipt")

    auth = stack.mock(KEY).get("/_mock/auth").json()
    assert auth["refused_tokens"] >= 1 and auth["issued"] >= 2
    assert stack.ledger(KEY, order_no=case["jbbh"])["count"] == 1


def test_changes_to_a_case_outside_the_list_window_are_caught_by_reading_it_again(
    make_stack: Callable[..., Stack],
) -> None:
    stack = make_stack(platforms={KEY: {}})
    stack.container.settings.platforms.p12389.poll_overlap_s = 1  # let the list window pass the case quickly
    case = new_case(stack)
    pulled(stack, case["jbbh"])

    def window_passed() -> bool:
        stack.container.doorbell.poll(KEY)
        state = cursor(stack)
        return bool(state.get("since", "") > case["xfsj"] and state.get("phase") == "done")

    wait_for(window_passed, timeout=20, interval=0.3, what="the list window to pass the case")
    control(stack, f"/_mock/cases/{case['jbbh']}/changes", {"zt": "已办结", "fkpj": "满意", "blqx": "2026-12-31"})

    ticket = pulled(stack, case["jbbh"], lambda t: t["status"] == "closed" and bool(t["callback"]))

    assert ticket["platform_status"] == "已办结"
    assert ticket["callback"] == {"satisfaction": "satisfied", "fkpj": "满意"}
    assert ticket["platform_deadlines"]["due_at"] == "2026-12-31T23:59:59+08:00"
    assert case["jbbh"] not in cursor(stack)["watch"]  # closed and rated: no longer read again


def test_a_contact_12389_has_no_write_back_for_is_recorded_and_does_not_hold_up_the_report(
    make_stack: Callable[..., Stack],
) -> None:
    stack = make_stack(platforms={KEY: {}})
    case = new_case(stack)
    ticket = pulled(stack, case["jbbh"])

    stack.handle_to_approval(ticket["id"])  # 签收, 派单, 先行联系, 答复, 审批

    done = wait_for(lambda: all_sent(stack, case["jbbh"], 2), what="receipt and report")
    assert [o["action"] for o in done["outbound"]] == ["sign", "reply"]
    assert any(e["kind"] == "not_on_platform" and e["detail"]["action"] == "contact" for e in done["events"])
    assert [e["action"] for e in stack.ledger(KEY, order_no=case["jbbh"])["entries"]] == ["receipt", "report"]


def test_with_faults_on_every_case_arrives_once_and_every_write_back_is_posted_exactly_once(
    make_stack: Callable[..., Stack],
) -> None:
    stack = make_stack(platforms={KEY: {}})
    # 120 cases are three pages of 50; two more arrive before every later page, so the list shifts.
    control(stack, "/_mock/generator", {"generate_now": 120})
    control(stack, "/_mock/paging", {"arrivals_per_page": 2})
    control(stack, "/_mock/auth", {"expires_in": 1})
    control(stack, "/_mock/faults", {"error_rate": 0.2, "error_status": "mixed"})

    def tickets_for_all_cases(exact: bool) -> bool:
        stack.container.doorbell.poll(KEY)
        cases = {c["jbbh"] for c in stack.mock(KEY).get("/_mock/cases").json()["items"]}
        tickets = {t["external_id"] for t in stack.tickets(platform=KEY)}
        return tickets == cases if exact else len(tickets) >= 120

    wait_for(lambda: tickets_for_all_cases(False), timeout=60, interval=0.5, what="the first 120 tickets")
    control(stack, "/_mock/paging", {"arrivals_per_page": 0})
    wait_for(lambda: tickets_for_all_cases(True), timeout=60, interval=0.5, what="a ticket for every case")
    cases = stack.mock(KEY).get("/_mock/cases").json()["items"]
    assert len(cases) > 120  # cases did arrive while the gateway paged
    assert all(snapshot_rows(stack, c["jbbh"]) == 1 for c in cases)  # none handed on twice

    chosen = [c["jbbh"] for c in cases[:6]]
    control(stack, "/_mock/faults", {"drop_rate": 0.5, "drop_mode": "close"})
    for number, jbbh in enumerate(chosen):
        ticket = stack.ticket_for(KEY, jbbh)
        assert ticket is not None
        stack.handle_to_approval(ticket["id"])
        if number == 2:
            control(stack, "/_mock/auth", {"revoke": True})  # mid-run: every live token dies at once

    for jbbh in chosen:
        wait_for(lambda jbbh=jbbh: all_sent(stack, jbbh, 2), timeout=60, what=f"receipt and report of {jbbh}")

    ledger = stack.ledger(KEY)
    assert ledger["duplicates"] == 0
    for jbbh in chosen:
        entries = [e for e in ledger["entries"] if e["order_no"] == jbbh]
        assert [e["action"] for e in entries] == ["receipt", "report"], jbbh
    health = stack.mock(KEY).get("/_mock/health").json()
    assert health["faults"]["counters"]["errors_injected"] > 0
    assert health["faults"]["counters"]["responses_dropped"] > 0
    assert health["tokens_issued"] > 2
    with stack.container.sessions() as session:
        failed = session.scalar(select(func.count()).select_from(InboxRecord).where(InboxRecord.state == "failed"))
    assert failed == 0
