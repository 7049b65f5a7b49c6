"""Alert sinks over real wire formats: WeCom and DingTalk (respx), SMTP (aiosmtpd), and a slow robot
that must not hold up the others (a local HTTP server that answers late, through the real worker)."""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Callable, Iterator
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import dramatiq
import pytest
import respx
from aiosmtpd.controller import Controller
from sqlalchemy import select

from app.bootstrap import Container, bootstrap
from gateway.sla.engine import Rings, SlaEngine
from gateway.sla.runtime import runtime_for_engine
from gateway.store.tables_sla import AlertDeliveryRecord
from tests.sla_support import new_ticket, sh

NOW = sh(2026, 11, 20, 21, 0, 1)  # just past 50 % of a sign-off issued at 09:00


class Inbox:
    """aiosmtpd handler keeping every message."""

    def __init__(self) -> None:
        self.messages: list[bytes] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.messages.append(envelope.content)
        return "250 OK"


@pytest.fixture
def smtp() -> Iterator[tuple[Inbox, int]]:
    inbox = Inbox()
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = int(probe.getsockname()[1])
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    yield inbox, port
    controller.stop()


class Robot(BaseHTTPRequestHandler):
    """A robot endpoint answering after ``delay`` seconds."""

    delay = 0.0
    seen: list[dict[str, Any]]

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        self.seen.append(json.loads(body))
        time.sleep(self.delay)
        payload = b'{"errcode": 0, "errmsg": "ok"}'
        try:
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)
        except OSError:
            pass  # the client gave up (timeout): fine

    def log_message(self, *args: Any) -> None:
        pass


def robot(delay: float) -> tuple[ThreadingHTTPServer, list[dict[str, Any]]]:
    seen: list[dict[str, Any]] = []
    handler = type("R", (Robot,), {"delay": delay, "seen": seen})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, seen


def make_container(db_url: str, make_settings: Callable[..., Any], alerts: dict[str, Any]) -> Container:
    return bootstrap(make_settings(database_url=db_url, alerts=alerts), adapters={}, clock=lambda: NOW)


def emit_one(container: Container) -> list[int]:
    new_ticket(container.sessions, issued_at=sh(2026, 11, 20, 9))
    rung: list[int] = []
    SlaEngine(container.sessions, runtime=runtime_for_engine(container.engine), clock=lambda: NOW,
              rings=Rings(deliveries=rung.extend, outbox=lambda _: None)).fire_due(NOW)
    container.doorbell.alerts(rung)
    return rung


def deliveries(container: Container) -> dict[str, AlertDeliveryRecord]:
    with container.sessions() as s:
        return {d.sink: d for d in s.scalars(select(AlertDeliveryRecord))}


def wait_for(predicate: Callable[[], Any], timeout: float = 15.0) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if result := predicate():
            return result
        time.sleep(0.02)
    raise AssertionError("timed out")


def test_a_slow_robot_does_not_hold_up_the_other_sinks(
    db_url: str, make_settings: Callable[..., Any], smtp: tuple[Inbox, int],
) -> None:
    slow, _ = robot(delay=5.0)
    fast, fast_seen = robot(delay=0.0)
    inbox, port = smtp
    container = make_container(db_url, make_settings, {
        "webhooks": [
            {"name": "slow", "kind": "wecom", "url": f"http://127.0.0.1:{slow.server_port}/send?key=K", "timeout_s": 2},
            {"name": "fast", "kind": "dingtalk", "url": f"http://127.0.0.1:{fast.server_port}/robot/send?access_token=T"},
        ],
        "email": {"enabled": True, "host": "127.0.0.1", "port": port, "recipients": ["duty@example.test"],
                  "min_severity": "info"},
    })
    worker = dramatiq.Worker(container.broker, worker_threads=4, worker_timeout=50)
    worker.start()
    try:
        emit_one(container)
        # The fast robot and the mailbox are done while the slow robot is still being waited for.
        wait_for(lambda: all(deliveries(container)[n].state == "sent" for n in ("fast", "email")))
        assert deliveries(container)["slow"].state == "in_flight"
        assert len(fast_seen) == 1 and "【即将超时】" in fast_seen[0]["text"]["content"]
        assert len(inbox.messages) == 1 and b"Subject:" in inbox.messages[0]
        # …and the slow one times out on its own row, to be retried later.
        slow_row = wait_for(lambda: (d := deliveries(container)["slow"]).state == "retry" and d)
        assert "Timeout" in (slow_row.last_error or "") and slow_row.attempts == 1
    finally:
        worker.stop(timeout=10_000)
        slow.shutdown()
        fast.shutdown()
        container.close()


def test_wecom_and_dingtalk_bodies_and_the_signed_url_on_the_wire(
    db_url: str, make_settings: Callable[..., Any],
) -> None:
    container = make_container(db_url, make_settings, {"webhooks": [
        {"name": "wecom", "kind": "wecom", "url": "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=K"},
        {"name": "ding", "kind": "dingtalk", "url": "https://oapi.dingtalk.com/robot/send?access_token=T",
         "secret": "SECtestsecret"},
    ]})
    from workers.handlers import handle_delivery

    with respx.mock(assert_all_called=True) as mock:
        wecom = mock.post("https://qyapi.weixin.qq.com/cgi-bin/webhook/send", params={"key": "K"}).respond(
            json={"errcode": 0, "errmsg": "ok"})
        ding = mock.post(url__regex=r"^https://oapi\.dingtalk\.com/robot/send\?access_token=T&timestamp=\d{13}&sign=")
        ding.respond(json={"errcode": 0, "errmsg": "ok"})
        for delivery_id in emit_one(container):
            assert handle_delivery(container, delivery_id).state == "sent"
    body = json.loads(wecom.calls.last.request.content)
    assert body["msgtype"] == "text" and body["text"]["content"].startswith("[提示] 即将超时\n【即将超时】12345工单")
    assert "mentioned_mobile_list" not in body["text"]  # only critical alerts @ anyone
    dbody = json.loads(ding.calls.last.request.content)
    assert dbody["msgtype"] == "text" and dbody["at"] == {"atMobiles": [], "isAtAll": False}
    container.close()


def test_a_refusing_sink_is_given_up_with_the_reason_and_a_down_one_is_retried(
    db_url: str, make_settings: Callable[..., Any],
) -> None:
    container = make_container(db_url, make_settings, {"webhooks": [
        {"name": "bad-key", "kind": "wecom", "url": "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=BAD"},
        {"name": "down", "kind": "wecom", "url": "https://robot.invalid/send?key=K"},
    ]})
    from workers.handlers import handle_delivery

    with respx.mock() as mock:
        mock.post(url__startswith="https://qyapi").respond(json={"errcode": 93000, "errmsg": "invalid webhook url"})
        mock.post(url__startswith="https://robot.invalid").respond(503)
        outcomes = {o.delivery_id: o for o in (handle_delivery(container, i) for i in emit_one(container))}
    rows = deliveries(container)
    assert rows["bad-key"].state == "dead" and "93000" in (rows["bad-key"].last_error or "")
    assert rows["down"].state == "retry" and rows["down"].next_attempt_at > NOW
    assert {o.state for o in outcomes.values()} == {"dead", "retry"}
    container.close()


def test_a_sink_that_keeps_failing_is_paused_and_probed_once_per_period_while_the_others_go_on(
    db_url: str, make_settings: Callable[..., Any],
) -> None:
    container = make_container(db_url, make_settings, {
        "sink_failure_threshold": 2, "sink_reset_s": 60,
        "webhooks": [{"name": "down", "kind": "wecom", "url": "https://robot.invalid/send?key=K"},
                     {"name": "up", "kind": "wecom", "url": "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=K"}]})
    from workers.handlers import handle_delivery

    def sink_of(delivery_id: int) -> str:
        with container.sessions() as s:
            return s.get_one(AlertDeliveryRecord, delivery_id).sink

    with respx.mock() as mock:
        down = mock.post(url__startswith="https://robot.invalid").respond(503)
        up = mock.post(url__startswith="https://qyapi").respond(json={"errcode": 0, "errmsg": "ok"})
        outcomes = [(sink_of(i), handle_delivery(container, i)) for _ in range(4) for i in emit_one(container)]
        assert down.call_count == 2  # two failures open the breaker: the next two rows were not sent
        assert [o.state for s, o in outcomes if s == "up"] == ["sent"] * 4 and up.call_count == 4
        paused = [o for s, o in outcomes if s == "down"][2:]
        assert all(o.state == "retry" and "熔断" in (o.error or "") for o in paused)
        with container.sessions() as s:
            rows = s.scalars(select(AlertDeliveryRecord).where(AlertDeliveryRecord.sink == "down")).all()
        assert sorted(r.attempts for r in rows) == [0, 0, 1, 1]  # a paused row used none of its attempts
        assert {r.next_attempt_at for r in rows if r.attempts == 0} == {NOW + timedelta(seconds=60)}

        container.clock = lambda: NOW + timedelta(seconds=61)  # the period is over and the robot is back
        down.respond(json={"errcode": 0, "errmsg": "ok"})
        ids = [r.id for r in rows if r.attempts == 0]
        assert [handle_delivery(container, i).state for i in ids] == ["sent", "sent"]  # probe, then closed
    container.close()
