"""12345 end to end: mock platform and gateway over real HTTP, with faults on."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import OperationalError

from adapters.p12345_signing import signed_headers
from gateway.store.tables import InboxRecord, OutboxRecord, PollCursorRecord
from gateway.store.tables_auth import AuditRecord
from tests.e2e.harness import CREDENTIALS, REPLY, Stack, wait_for

SECRET = CREDENTIALS["p12345"]["app_secret"]
APP_ID = CREDENTIALS["p12345"]["app_id"]


def new_order(stack: Stack, *, push: bool = True, **fields: Any) -> dict[str, Any]:
    response = stack.mock("p12345").post("/_mock/orders", json={"push": push, **fields})
    assert response.is_success, response.text
    return dict(response.json())


def after_first_pull(stack: Stack) -> None:
    """Wait until the scheduler's start-up pull is over: an order made after it reaches us only by push."""

    def done() -> bool:
        with stack.container.sessions() as s:
            return s.scalars(select(PollCursorRecord.last_success_at).where(
                PollCursorRecord.platform == "p12345")).first() is not None

    wait_for(done, what="the start-up pull")


def push(stack: Stack, envelope: dict[str, Any], *, secret: str = SECRET) -> httpx.Response:
    body = json.dumps(envelope, ensure_ascii=False).encode()
    headers = signed_headers(APP_ID, secret, body, now=time.time()) | {"Content-Type": "application/json"}
    return httpx.post(f"{stack.url}/inbound/p12345", content=body, headers=headers, timeout=10)


def envelope(order: dict[str, Any], event_id: str) -> dict[str, Any]:
    return {"event_id": event_id, "event_type": "order.dispatched", "occurred_at": order["dispatchedAt"],
            "order_no": order["orderNo"], "data": order}


def inbox_count(stack: Stack) -> int:
    """Inbox rows stored from pushes (the scheduler's first pull, at start-up, may store orders too)."""
    with stack.container.sessions() as s:
        return int(s.scalar(select(func.count()).select_from(InboxRecord).where(InboxRecord.source == "push")) or 0)


def test_a_pushed_order_becomes_one_ticket_in_the_queue(make_stack: Callable[..., Stack]) -> None:
    stack = make_stack(platforms={"p12345": {}})
    order = new_order(stack)
    ticket = wait_for(lambda: stack.ticket_for("p12345", order["orderNo"]), what="the pushed ticket")
    assert ticket["title"] == order["title"] and ticket["status"] == "received"
    pushes = stack.mock("p12345").get("/_mock/pushes", params={"order_no": order["orderNo"]}).json()
    assert [(e["event_type"], e["state"]) for e in pushes["events"]] == [("order.dispatched", "delivered")]


def test_a_push_delivered_twice_gives_one_ticket(make_stack: Callable[..., Stack]) -> None:
    stack = make_stack(platforms={"p12345": {}})
    after_first_pull(stack)
    order = new_order(stack, push=False)
    first = push(stack, envelope(order, "evt-dup-1"))
    second = push(stack, envelope(order, "evt-dup-1"))
    assert first.json() == second.json() == {"code": 0, "message": "ok"}
    wait_for(lambda: stack.ticket_for("p12345", order["orderNo"]))
    assert [t["external_id"] for t in stack.tickets()] == [order["orderNo"]]
    assert inbox_count(stack) == 1


def test_a_burst_of_concurrent_pushes_with_resends_and_a_replay_is_answered_push_by_push(
    make_stack: Callable[..., Stack], db_url: str
) -> None:
    """Pushes arriving together share commits (group commit); each answer is still its own."""
    stack = make_stack(platforms={"p12345": {}}, database_url=db_url)
    after_first_pull(stack)
    orders = [new_order(stack, push=False) for _ in range(30)]
    signed = []
    for n, order in enumerate(orders):
        for attempt in range(2):  # the platform re-sends each event, freshly signed
            body = json.dumps(envelope(order, f"evt-burst-{n}"), ensure_ascii=False).encode()
            signed.append((body, signed_headers(APP_ID, SECRET, body, now=time.time()) | {
                "Content-Type": "application/json", "X-Attempt": str(attempt)}))
    captured = signed[0]

    def send(request: tuple[bytes, dict[str, str]]) -> httpx.Response:
        return httpx.post(f"{stack.url}/inbound/p12345", content=request[0], headers=request[1], timeout=30)

    with ThreadPoolExecutor(max_workers=12) as pool:
        answers = list(pool.map(send, signed))
    assert [(r.status_code, r.json()["code"]) for r in answers] == [(200, 0)] * len(signed)
    replay = send(captured)  # a captured request sent again: same nonce
    assert replay.status_code == 401 and "replay" in replay.json()["message"]
    assert inbox_count(stack) == len(orders)
    wait_for(lambda: len(stack.tickets(limit=100)) == len(orders) or None, what="a ticket per order")
    assert sorted(t["external_id"] for t in stack.tickets(limit=100)) == sorted(o["orderNo"] for o in orders)


def test_a_push_the_database_cannot_store_gets_503_and_its_resend_is_kept(
    make_stack: Callable[..., Stack], monkeypatch: pytest.MonkeyPatch
) -> None:
    from gateway.services import inbound

    stack = make_stack(platforms={"p12345": {}})
    after_first_pull(stack)
    order = new_order(stack, push=False)
    real = inbound.store_pushes

    def database_down(*_: Any, **__: Any) -> Any:
        raise OperationalError("INSERT", {}, Exception("connection refused"))

    monkeypatch.setattr(inbound, "store_pushes", database_down)
    refused = push(stack, envelope(order, "evt-outage"))
    assert refused.status_code == 503 and refused.json()["code"] == 50300
    assert inbox_count(stack) == 0
    monkeypatch.setattr(inbound, "store_pushes", real)
    assert push(stack, envelope(order, "evt-outage")).json() == {"code": 0, "message": "ok"}  # the platform re-sends
    wait_for(lambda: stack.ticket_for("p12345", order["orderNo"]), what="the ticket after the outage")


def test_a_push_with_a_bad_signature_gets_401_and_stores_nothing(make_stack: Callable[..., Stack]) -> None:
    stack = make_stack(platforms={"p12345": {}})
    after_first_pull(stack)
    order = new_order(stack, push=False)
    response = push(stack, envelope(order, "evt-forged"), secret="not-the-secret")
    assert response.status_code == 401 and response.json()["code"] == 40100
    assert inbox_count(stack) == 0


def test_an_oversized_push_gets_413_and_stores_nothing(make_stack: Callable[..., Stack]) -> None:
    stack = make_stack(platforms={"p12345": {}}, settings={"max_body_bytes": 2048})
    order = new_order(stack, push=False, content="很长的内容" * 300)
    response = push(stack, envelope(order, "evt-big"))
    assert response.status_code == 413 and inbox_count(stack) == 0


def test_a_signed_but_malformed_push_is_kept_as_a_visible_failed_row(make_stack: Callable[..., Stack]) -> None:
    stack = make_stack(platforms={"p12345": {}})
    body = b'{"event_type": "order.dispatched", "data": '
    headers = signed_headers(APP_ID, SECRET, body, now=time.time())
    response = httpx.post(f"{stack.url}/inbound/p12345", content=body, headers=headers)
    assert response.status_code == 400 and "malformed" in response.json()["message"]
    with stack.container.sessions() as s:
        row = s.scalars(select(InboxRecord)).one()
    assert row.state == "failed" and row.payload.startswith('{"event_type"')


def test_an_unknown_enum_value_shows_on_the_inbox_row_and_no_ticket_is_made(make_stack: Callable[..., Stack]) -> None:
    stack = make_stack(platforms={"p12345": {}})
    after_first_pull(stack)  # or the start-up pull could fetch the valid order itself
    order = new_order(stack, push=False)
    assert push(stack, envelope({**order, "appealType": "吐槽"}, "evt-enum")).json()["code"] == 0

    def failed_row() -> InboxRecord | None:
        with stack.container.sessions() as s:
            return s.scalars(select(InboxRecord).where(InboxRecord.state == "failed")).first()

    row = wait_for(failed_row)
    assert "appealType" in (row.error or "") and "吐槽" in (row.error or "")
    assert stack.tickets() == []


def test_a_push_that_never_came_is_caught_by_the_pull(make_stack: Callable[..., Stack]) -> None:
    stack = make_stack(platforms={"p12345": {}})
    after_first_pull(stack)
    order = new_order(stack, push=False)
    stack.container.doorbell.poll("p12345")
    wait_for(lambda: stack.ticket_for("p12345", order["orderNo"]), what="the pulled ticket")


def test_the_bureau_path_posts_sign_contact_and_reply_once_each_in_order(make_stack: Callable[..., Stack]) -> None:
    stack = make_stack(platforms={"p12345": {}})
    order = new_order(stack)
    ticket = wait_for(lambda: stack.ticket_for("p12345", order["orderNo"]))
    stack.handle_to_approval(ticket["id"])
    ledger = wait_for(lambda: (lg := stack.ledger("p12345", order_no=order["orderNo"]))["count"] == 3 and lg)
    assert [e["action"] for e in ledger["entries"]] == ["sign", "contact", "reply"]
    assert ledger["entries"][2]["body"]["approvedBy"] == "leader-e2e"
    done = wait_for(lambda: (t := stack.ticket_for("p12345", order["orderNo"])) and t["status"] == "replied" and t)
    assert {o["state"] for o in done["outbound"]} == {"sent"}


def test_the_platform_answering_503_for_a_while_still_gets_exactly_one_reply(
    make_stack: Callable[..., Stack],
) -> None:
    stack = make_stack(platforms={"p12345": {}})
    order = new_order(stack)
    ticket = wait_for(lambda: stack.ticket_for("p12345", order["orderNo"]))
    stack.mock("p12345").post("/_mock/faults", json={"outage_seconds": 3})
    stack.handle_to_approval(ticket["id"])

    def retried() -> bool:
        t = stack.ticket_for("p12345", order["orderNo"]) or {}
        return any(o["state"] == "retry" and "503" in (o["last_error"] or "") for o in t.get("outbound", []))

    wait_for(retried, what="a retry after 503")
    ledger = wait_for(lambda: (lg := stack.ledger("p12345", order_no=order["orderNo"]))["count"] == 3 and lg,
                      timeout=30)
    assert [e["action"] for e in ledger["entries"]] == ["sign", "contact", "reply"]
    assert ledger["duplicates"] == 0


def test_a_dropped_response_is_reconciled_by_read_back_and_posted_once(make_stack: Callable[..., Stack]) -> None:
    stack = make_stack(platforms={"p12345": {}})
    order = new_order(stack)
    ticket = wait_for(lambda: stack.ticket_for("p12345", order["orderNo"]))
    stack.mock("p12345").post("/_mock/faults", json={"drop_next": 1, "drop_mode": "close"})
    assert stack.api("duty").post(f"/api/v1/tickets/{ticket['id']}/sign-off").is_success

    def sent() -> dict[str, Any] | None:
        t = stack.ticket_for("p12345", order["orderNo"]) or {}
        rows = t.get("outbound", [])
        return rows[0] if rows and rows[0]["state"] == "sent" else None

    row = wait_for(sent, what="the sign-off reconciled")
    assert row["attempts"] == 2  # one send whose answer was lost, one read-back that found it applied
    ledger = stack.ledger("p12345", order_no=order["orderNo"])
    assert ledger["count"] == 1 and ledger["duplicates"] == 0


def test_a_reply_without_approval_is_refused_and_nothing_reaches_the_platform(
    make_stack: Callable[..., Stack],
) -> None:
    stack = make_stack(platforms={"p12345": {}})
    order = new_order(stack)
    ticket = wait_for(lambda: stack.ticket_for("p12345", order["orderNo"]))
    tid = ticket["id"]
    assert stack.api("duty").post(f"/api/v1/tickets/{tid}/sign-off").is_success
    from tests.e2e.harness import REPLY

    assert stack.api("unit").post(f"/api/v1/tickets/{tid}/reply", json=REPLY).status_code in (403, 404)
    assert stack.api("duty").post(f"/api/v1/tickets/{tid}/reply", json=REPLY).is_success
    refused = stack.api("duty").post(f"/api/v1/tickets/{tid}/reply/approve")
    assert refused.status_code == 403 and refused.json()["error"]["code"] == "forbidden"
    wait_for(lambda: stack.ledger("p12345", order_no=order["orderNo"])["count"] == 1)  # the sign-off only
    with stack.container.sessions() as s:
        assert list(s.scalars(select(OutboxRecord.action))) == ["sign"]
    assert stack.ledger("p12345", action="reply")["count"] == 0


def test_a_replys_evidence_reaches_12345_as_a_signed_link_the_platform_can_download(
    make_stack: Callable[..., Stack], tmp_path: Path
) -> None:
    """12345 takes attachments as URLs: the file must be downloadable by the platform, and by no one else."""
    stack = make_stack(platforms={"p12345": {}}, settings={"data_dir": str(tmp_path)})
    order = new_order(stack)
    tid = wait_for(lambda: stack.ticket_for("p12345", order["orderNo"]), what="the ticket")["id"]
    duty, unit, leader = stack.api("duty"), stack.api("unit"), stack.api("leader")
    assert duty.post(f"/api/v1/tickets/{tid}/sign-off").is_success
    stack.dispatch(tid)
    assert unit.post(f"/api/v1/tickets/{tid}/response", json={"note": "已电话联系"}).is_success
    photo = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4
    upload = unit.post(f"/api/v1/tickets/{tid}/evidence", files={"file": ("整改后.png", photo, "image/png")})
    assert upload.is_success, upload.text
    assert unit.post(f"/api/v1/tickets/{tid}/reply", json={**REPLY, "evidence_ids": [upload.json()["id"]]}).is_success
    stack.review(tid)
    assert leader.post(f"/api/v1/tickets/{tid}/reply/approve").is_success

    entries = wait_for(lambda: stack.ledger("p12345", action="reply", order_no=order["orderNo"])["entries"] or None,
                       what="the reply in the platform's ledger")
    (attachment,) = entries[0]["body"]["attachments"]
    assert attachment["name"] == "整改后.png" and attachment["size"] == len(photo)
    assert attachment["url"].startswith(f"{stack.url}/files/evidence/{upload.json()['id']}?expires=")
    fetched = httpx.get(attachment["url"], timeout=10)  # what the platform does with the URL
    assert fetched.status_code == 200 and fetched.content == photo
    assert fetched.headers["content-type"] == "image/png"
    forged = httpx.get(attachment["url"].replace(f"/evidence/{upload.json()['id']}?", "/evidence/1?") + "0")
    assert forged.status_code == 403
    with stack.container.sessions() as s:
        audit = s.scalars(select(AuditRecord).where(AuditRecord.action == "evidence_fetched")).all()
    assert [(a.target, a.ip) for a in audit] == [(f"ticket:{tid}", "127.0.0.1")]
