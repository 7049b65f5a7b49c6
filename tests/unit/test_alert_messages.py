"""Alert wording, severities, routing, and the robots' wire formats (DingTalk signature known vector)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from pydantic import SecretStr

from gateway.alerts import messages
from gateway.alerts.sinks import DingTalkSink, Notification, SinkError, WeComSink, dingtalk_sign, routes
from gateway.alerts.store import NewAlert
from gateway.settings import AlertSettings, EmailSinkSettings, WebhookSinkSettings
from gateway.sla import SHANGHAI

DUE = datetime(2026, 11, 23, 10, 15, tzinfo=SHANGHAI)


def test_a_warning_says_which_ticket_which_timer_and_how_long_is_left() -> None:
    text = messages.timer_message(platform="p12345", external_id="2611221015000123", timer_kind="sign_off", cycle=1,
                                  threshold=90, fire_at=DUE - timedelta(hours=2), due_at=DUE)
    assert text == "【即将超时】12345工单 2611221015000123签收剩余2小时（已过90%，截止11月23日 10:15）"


def test_a_breach_of_a_rework_cycle_says_so_and_marks_a_provisional_deadline() -> None:
    text = messages.timer_message(platform="p12389", external_id="J2026-0042", timer_kind="resolution", cycle=2,
                                  threshold=100, fire_at=DUE, due_at=DUE.astimezone(UTC), provisional=True)
    assert text.startswith("【已超时】12389工单 J2026-0042第1次重办办结已超时（截止11月23日 10:15")
    assert "暂定" in text


@pytest.mark.parametrize(("left", "words"), [
    (timedelta(seconds=30), "不足1分钟"), (timedelta(minutes=45), "45分钟"),
    (timedelta(hours=2, minutes=30), "2小时30分钟"),
    (timedelta(hours=12, minutes=30), "12小时"), (timedelta(days=1, hours=3, minutes=5), "1天3小时"),
])
def test_time_left_reads_naturally(left: timedelta, words: str) -> None:
    assert messages.remaining(left) == words


def test_severity_rises_with_the_threshold() -> None:
    assert [messages.severity_for(p) for p in (50, 75, 90, 100)] == ["info", "warning", "warning", "critical"]


def test_dingtalk_signature_matches_a_vector_computed_with_openssl() -> None:
    # printf '1700000000000\nSECtestsecret' | openssl dgst -sha256 -hmac SECtestsecret -binary | base64
    assert dingtalk_sign("SECtestsecret", 1700000000000) == "7LVwF0dAF3%2F%2BMRRulbpE4y72Ogzykc6bS2nG4I99T4s%3D"


def _sink(kind: str, handler: httpx.MockTransport, **extra: object) -> WeComSink | DingTalkSink:
    config = WebhookSinkSettings(name=kind, kind=kind, url=SecretStr("https://robot.test/send?access_token=T"),
                                 mention_mobiles=["13800000000"], **extra)  # type: ignore[arg-type]
    client = httpx.Client(transport=handler)
    if kind == "wecom":
        return WeComSink(config, client)
    return DingTalkSink(config, client, clock_ms=lambda: 1700000000000)


def test_robot_errcodes_are_sorted_into_retry_and_give_up() -> None:
    answers = iter([{"errcode": 45009, "errmsg": "api freq out of limit"}, {"errcode": 93000, "errmsg": "invalid key"}])
    sink = _sink("wecom", httpx.MockTransport(lambda _: httpx.Response(200, json=next(answers))))
    note = Notification("即将超时", ("x",), "warning")
    with pytest.raises(SinkError) as throttled:
        sink.send(note)
    assert not throttled.value.permanent
    with pytest.raises(SinkError) as refused:
        sink.send(note)
    assert refused.value.permanent


def test_the_dingtalk_url_carries_timestamp_and_sign_when_a_secret_is_set() -> None:
    seen: list[httpx.Request] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json={"errcode": 0, "errmsg": "ok"})

    sink = _sink("dingtalk", httpx.MockTransport(answer), secret=SecretStr("SECtestsecret"))
    sink.send(Notification("已超时", ("【已超时】12345工单 1签收已超时",), "critical"))
    assert str(seen[0].url) == ("https://robot.test/send?access_token=T&timestamp=1700000000000"
                                "&sign=7LVwF0dAF3%2F%2BMRRulbpE4y72Ogzykc6bS2nG4I99T4s%3D")
    body = json.loads(seen[0].content)
    assert body["at"] == {"atMobiles": ["13800000000"], "isAtAll": False}


def test_routes_send_escalations_to_leaders_and_respect_the_lowest_severity() -> None:
    config = AlertSettings(
        webhooks=[WebhookSinkSettings(name="duty", kind="wecom", url=SecretStr("u"), audiences=["duty"],
                                      min_severity="warning")],
        email=EmailSinkSettings(enabled=True, recipients=["duty@example.test"],
                                leader_recipients=["leader@example.test"], min_severity="info"),
    )
    found = {r.sink: r for r in routes(config)}
    now = datetime(2026, 11, 22, tzinfo=UTC)
    info = NewAlert("k1", "warning", "info", "m", now)
    escalation = NewAlert("k2", "escalation", "critical", "m", now, audience="leader")
    assert not found["duty"].takes(info) and found["email"].takes(info)
    assert found["email-leaders"].takes(escalation) and not found["duty"].takes(escalation)
