"""A worker process killed mid-delivery on PostgreSQL + Redis: the reply still reaches the platform once."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy import select

from app.embedded import Embedded
from gateway.store.tables import OutboxRecord
from tests.e2e.harness import CREDENTIALS, Stack, wait_for

pytestmark = [pytest.mark.postgres, pytest.mark.redis]
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def worker_process(pg_url: str, redis_url: str) -> Iterator[Callable[[Stack], subprocess.Popen[bytes]]]:
    procs: list[subprocess.Popen[bytes]] = []

    def start(stack: Stack) -> subprocess.Popen[bytes]:
        env = os.environ | {
            "GATEWAY_DATABASE_URL": pg_url,
            "GATEWAY_BROKER_URL": redis_url,
            "GATEWAY_PLATFORMS__P12345__ENABLED": "true",
            "GATEWAY_PLATFORMS__P12345__BASE_URL": stack.mocks["p12345"].url,
            "GATEWAY_PLATFORMS__P12345__APP_ID": CREDENTIALS["p12345"]["app_id"],
            "GATEWAY_PLATFORMS__P12345__APP_SECRET": CREDENTIALS["p12345"]["app_secret"],
            "GATEWAY_PLATFORMS__P12345__TIMEOUT_S": "120",
            "GATEWAY_OUTBOX__LEASE_S": "3",
            "GATEWAY_WORKER_THREADS": "2",
        }
        proc = subprocess.Popen([sys.executable, "-m", "app.cli", "worker"], cwd=ROOT, env=env,
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        procs.append(proc)
        return proc

    yield start
    for proc in procs:
        if proc.poll() is None:
            proc.kill()
        proc.wait(timeout=10)


def reply_row(stack: Stack) -> OutboxRecord | None:
    with stack.container.sessions() as s:
        return s.scalars(select(OutboxRecord).where(OutboxRecord.action == "reply")).first()


def test_a_worker_killed_after_the_platform_applied_a_reply_leaves_exactly_one_reply(
    make_stack: Callable[..., Stack],
    worker_process: Callable[[Stack], subprocess.Popen[bytes]],
    pg_url: str,
    redis_url: str,
) -> None:
    stack = make_stack(database_url=pg_url, broker_url=redis_url, worker=False, scheduler=False,
                       platforms={"p12345": {}}, settings={"outbox": {"lease_s": 3}})
    worker = worker_process(stack)
    order = stack.mock("p12345").post("/_mock/orders", json={"push": True}).json()
    ticket = wait_for(lambda: stack.ticket_for("p12345", order["orderNo"]), timeout=30, what="ticket via worker")

    # Everything up to the reply goes through normally…
    tid, duty, unit = ticket["id"], stack.api("duty"), stack.api("unit")
    assert duty.post(f"/api/v1/tickets/{tid}/sign-off").is_success
    stack.dispatch(tid, "城关派出所")
    assert unit.post(f"/api/v1/tickets/{tid}/response", json={"note": "已联系"}).is_success
    from tests.e2e.harness import REPLY

    assert unit.post(f"/api/v1/tickets/{tid}/reply", json=REPLY).is_success
    stack.review(tid)
    wait_for(lambda: stack.ledger("p12345", order_no=order["orderNo"])["count"] == 2, what="sign and contact")

    # …then the platform applies the reply and holds the answer; the worker dies waiting for it.
    stack.mock("p12345").post("/_mock/faults", json={"drop_next": 1, "drop_mode": "hang", "drop_hang_s": 60})
    assert stack.api("leader").post(f"/api/v1/tickets/{tid}/reply/approve").is_success
    wait_for(lambda: stack.ledger("p12345", action="reply")["count"] == 1, what="the reply applied")
    assert (row := reply_row(stack)) is not None and row.state == "in_flight"
    worker.send_signal(signal.SIGKILL)
    worker.wait(timeout=10)

    # A new worker and the scheduler take over once the dead worker's lease expires.
    takeover = Embedded(stack.container, worker=True, scheduler=True)
    takeover.start()
    try:
        wait_for(lambda: (r := reply_row(stack)) is not None and r.state == "sent", timeout=30, what="reply sent")
    finally:
        takeover.stop()
    ledger = stack.ledger("p12345", action="reply")
    assert ledger["count"] == 1 and ledger["duplicates"] == 0  # read back, never re-posted
    row = reply_row(stack)
    assert row is not None and row.receipt_id == ledger["entries"][0]["receipt_id"]
