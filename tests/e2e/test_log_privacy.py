"""No personal data in any log line: an end-to-end run with faults, every log line scanned.

The gateway runs with the production logging set-up (``gateway.redaction.configure_logging``) at
DEBUG on PostgreSQL, against the 12345 mock with injected 5xx answers, and is fed: orders with fake
citizens, a phone sent as a number (mapping error), a NUL in a title and a version past 64 bits
(the database refuses them while processing), an over-long order number (refused at the edge), a
malformed body full of personal data, and a reply through approval to a failing platform. Then
every captured line, tracebacks included, is searched for phone and ID card patterns and for the
names, titles and complaint texts of every order the mock holds.
"""

from __future__ import annotations

import io
import json
import logging
import re
import time
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from adapters.p12345_signing import signed_headers
from gateway.redaction import configure_logging
from gateway.store.tables import InboxRecord
from tests.e2e.harness import CREDENTIALS, Stack, wait_for

SECRET, APP_ID = CREDENTIALS["p12345"]["app_secret"], CREDENTIALS["p12345"]["app_id"]
PHONE_OR_ID = re.compile(r"(?<!\d)1[3-9]\d{9}(?!\d)|(?<![0-9A-Za-z])\d{17}[\dXx](?![0-9A-Za-z])|"
                         r"(?<!\d)0\d{2,3}-\d{7,8}(?!\d)")
CITIZENS = [("柳岸明", "13912345678"), ("欧阳晓梅", "13907914826"), ("司马青衫", "18600001111"),
            ("上官婉清", "15011112222"), ("诸葛秋实", "17722223333")]
ID_NUMBER = "99010119900307002X"


@pytest.fixture
def log_text() -> Iterator[io.StringIO]:
    buffer = io.StringIO()
    root = logging.getLogger()
    tuned = [logging.getLogger(n) for n in ("httpx", "alembic")]  # configure_logging sets their levels
    levels, handlers = [(lg, lg.level) for lg in (root, *tuned)], list(root.handlers)
    handler = configure_logging("DEBUG", stream=buffer)  # exactly what `hotline-gateway serve` installs
    uvicorn = [logging.getLogger(n) for n in ("uvicorn", "uvicorn.error", "uvicorn.access")]
    for logger in uvicorn:
        logger.addHandler(handler)
    yield buffer
    for logger in [root, *uvicorn]:
        logger.removeHandler(handler)
    for logger, level in levels:
        logger.setLevel(level)
    assert root.handlers == handlers


def push(stack: Stack, body: bytes) -> httpx.Response:
    headers = signed_headers(APP_ID, SECRET, body, now=time.time()) | {"Content-Type": "application/json"}
    return httpx.post(f"{stack.url}/inbound/p12345", content=body, headers=headers, timeout=10)


def envelope(order: dict[str, Any], event_id: str, **data: Any) -> bytes:
    return json.dumps({"event_id": event_id, "event_type": "order.dispatched", "occurred_at": order["dispatchedAt"],
                       "order_no": order["orderNo"], "data": {**order, **data}}, ensure_ascii=False).encode()


def new_order(stack: Stack, *, push_it: bool, name: str, phone: str) -> dict[str, Any]:
    answer = stack.mock("p12345").post("/_mock/orders", json={
        "push": push_it, "citizen": {"name": name, "phone": phone, "gender": 1, "confidential": False},
        "content": f"本人{name}，身份证号{ID_NUMBER}，手机{phone}，反映小区门口夜间噪声扰民，请尽快处理。"})
    assert answer.is_success, answer.text
    return dict(answer.json())


def failed_rows(stack: Stack) -> list[InboxRecord]:
    with stack.container.sessions() as s:
        return list(s.scalars(select(InboxRecord).where(InboxRecord.state == "failed")))


def test_an_end_to_end_run_with_faults_logs_no_personal_data(
    make_stack: Callable[..., Stack], pg_url: str, log_text: io.StringIO
) -> None:
    stack = make_stack(platforms={"p12345": {}}, database_url=pg_url)
    orders = [new_order(stack, push_it=True, name=n, phone=p) for n, p in CITIZENS[:2]]
    spare = [new_order(stack, push_it=False, name=n, phone=p) for n, p in CITIZENS[2:]]
    # Faults: a phone as a number, a NUL in the title, a version past 64 bits, an over-long order
    # number, a body that is not JSON, and the platform answering 5xx to half of the write-backs.
    assert push(stack, envelope(spare[0], "evt-phone-number", citizen={**spare[0]["citizen"],
                                                                        "phone": int(CITIZENS[2][1])})).is_success
    assert push(stack, envelope(spare[1], "evt-nul-title", title=spare[1]["title"] + "\x00")).is_success
    assert push(stack, envelope(spare[2], "evt-huge-version", version=2**70)).is_success
    assert push(stack, envelope({**spare[0], "orderNo": spare[0]["orderNo"] * 5}, "evt-long-no")).is_success
    assert push(stack, f'{{"citizen": {{"name": "{CITIZENS[3][0]}", "phone": "{CITIZENS[3][1]}"'.encode()
                ).status_code == 400
    wait_for(lambda: len(failed_rows(stack)) >= 5, timeout=30, what="five failed inbox rows")
    stack.mock("p12345").post("/_mock/faults", json={"error_rate": 0.5, "error_status": "mixed"})
    ticket = wait_for(lambda: stack.ticket_for("p12345", orders[0]["orderNo"]), what="the ticket")
    stack.handle_to_approval(ticket["id"])
    wait_for(lambda: stack.ledger("p12345", action="reply", order_no=orders[0]["orderNo"])["count"] == 1,
             timeout=40, what="the reply through the faults")
    assert stack.mock("p12345").get("/_mock/faults").json()["counters"]["errors_injected"] > 0

    text = log_text.getvalue()
    assert "inbox row" in text and "failed" in text  # the faults were logged, the personal data was not
    held = stack.mock("p12345").get("/_mock/orders").json()
    everything = [*orders, *spare, *(held.get("orders") or held.get("items") or [])]
    secrets = {ID_NUMBER, *(n for n, _ in CITIZENS), *(p for _, p in CITIZENS)}
    for order in everything:
        secrets |= {order["citizen"]["name"], order["citizen"]["phone"], order["title"], order["content"][:12],
                    order["address"]}
    leaks = sorted(s for s in secrets if s and s != "保密" and s in text)
    assert not leaks, leaks
    assert not PHONE_OR_ID.findall(text), PHONE_OR_ID.findall(text)[:5]
