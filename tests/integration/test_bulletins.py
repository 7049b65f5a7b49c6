"""Bulletins on a schedule (issue 16 point 9): 002 二(一) 日提醒、周反馈、月通报, 004 三 每周小结、每月通报,
000 督办 二 (每周…报各位分管局领导), 001 三(五) 12389 每季度、半年、年度分析.

Generated once per period by the scheduler even with two of them, kept, delivered through the alert sinks
(robots: counts and a link; email: the text and the workbook), and listed on the reports page.
"""

from __future__ import annotations

import email
import email.policy
import io
import json
import socket
import threading
import zipfile
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from typing import Any

import pytest
import respx
from aiosmtpd.controller import Controller
from sqlalchemy import func, select

from app.bootstrap import Container, bootstrap
from gateway.services import bulletins
from gateway.store.db import transaction
from gateway.store.tables import OutboxRecord, TicketRecord
from gateway.store.tables_sla import AlertDeliveryRecord, BulletinRecord, SlaTimerRecord
from tests.integration.dashboard_support import Browser, build_container
from tests.integration.dashboard_support import cheap_hashes as cheap_hashes
from tests.sla_support import sh
from workers.handlers import handle_delivery
from workers.scheduler import Scheduler

A, B = "城关派出所", "东城派出所"
FRIDAY = sh(2026, 11, 20, 8, 30)  # a working day; the next one is Monday 23 November
ROBOT = "https://qyapi.weixin.qq.com/cgi-bin/webhook/send"
UNIT_ROBOT = "https://oapi.dingtalk.com/robot/send"
# A 12389 reporter, a complaint and an officer complained about: none of it may reach an analysis.
REPORTER = {"name": "李虚构", "phone": "13800001111", "id_number": "110101199001011234", "address": "虚构路9号"}
SECRET_WORDS = ["李虚构", "13800001111", "110101199001011234", "虚构路9号", "举报内容ZQX", "王虚构民警", "警号778899"]


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


def sinks(port: int = 25) -> dict[str, Any]:
    return {
        "dashboard_url": "https://gw.example.test",
        "webhooks": [
            {"name": "duty-robot", "kind": "wecom", "url": f"{ROBOT}?key=K", "audiences": ["duty"]},
            {"name": "leader-robot", "kind": "wecom", "url": f"{ROBOT}?key=L", "audiences": ["leader"]},
            {"name": "a-robot", "kind": "dingtalk", "url": f"{UNIT_ROBOT}?access_token=A", "unit": A},
        ],
        "email": {"enabled": True, "host": "127.0.0.1", "port": port, "recipients": ["duty@example.test"],
                  "leader_recipients": ["leader@example.test"], "unit_recipients": {B: ["b@example.test"]}},
    }


def make(db_url: str, make_settings: Callable[..., Any], now: datetime, port: int = 25) -> Container:
    return bootstrap(make_settings(database_url=db_url, alerts=sinks(port)), adapters={}, clock=lambda: now)


def ticket(c: Container, ext: str, unit: str | None, *, platform: str = "p12345",
           timers: list[tuple[str, datetime, str]] = (), **fields: Any) -> int:  # type: ignore[assignment]
    """A ticket with the given (kind, due, state) timers, written directly."""
    issued = fields.pop("issued_at", FRIDAY - timedelta(days=2))
    with transaction(c.sessions) as s:
        t = TicketRecord(platform=platform, external_id=ext, platform_status="x",
                         status=fields.pop("status", "dispatched"), appeal_type=fields.pop("appeal_type", "complaint"),
                         title=f"标题{ext}", content=fields.pop("content", "虚构内容"),
                         issued_at=issued, unit=unit, citizen=fields.pop("citizen", {}), region={}, category=[],
                         attachments=[], extra={}, created_at=issued, updated_at=issued, **fields)
        s.add(t)
        s.flush()
        for n, (kind, due, state) in enumerate(timers):
            s.add(SlaTimerRecord(ticket_id=t.id, platform=platform, kind=kind, cycle=1, seq=n, state=state,
                                 started_at=issued, due_at=due, met_at=due if state == "met" else None,
                                 provisional=False, paused_total_s=0.0, last_threshold=0, updated_at=issued))
        return t.id


def reminder_data(c: Container) -> None:
    ticket(c, "A-TODAY", A, timers=[("resolution", sh(2026, 11, 20, 17), "running")])
    ticket(c, "A-LATE", A, timers=[("response", sh(2026, 11, 20, 8), "breached")])
    ticket(c, "A-SAT", A, timers=[("sign_off", sh(2026, 11, 21, 10), "running")])  # weekend: before Monday
    ticket(c, "A-MON", A, timers=[("resolution", sh(2026, 11, 23, 17), "running")])
    ticket(c, "A-TUE", A, timers=[("resolution", sh(2026, 11, 24, 9), "running")])  # after the next working day
    ticket(c, "A-MET", A, timers=[("resolution", sh(2026, 11, 20, 12), "met")])
    ticket(c, "A-PAUSED", A, timers=[("resolution", sh(2026, 11, 20, 12), "paused")])  # 挂单: no clock
    ticket(c, "A-YESTERDAY", A, timers=[("resolution", sh(2026, 11, 19, 17), "breached")])
    ticket(c, "B-TODAY", B, timers=[("supervision", sh(2026, 11, 20, 18), "running")])
    ticket(c, "OFFICE-MON", None, timers=[("dispatch", sh(2026, 11, 23, 9), "running")], status="signed")


def rows(c: Container) -> list[AlertDeliveryRecord]:
    with c.sessions() as s:
        return list(s.scalars(select(AlertDeliveryRecord).order_by(AlertDeliveryRecord.id)))


def stored(c: Container) -> list[BulletinRecord]:
    with c.sessions() as s:
        return list(s.scalars(select(BulletinRecord).order_by(BulletinRecord.id)))


def test_the_daily_reminder_lists_each_units_deadlines_today_and_the_next_working_day(
    db_url: str, make_settings: Callable[..., Any],
) -> None:
    # 002 二(一) 日提醒: due today and "tomorrow" = the next working day (Friday: through Monday).
    c = make(db_url, make_settings, FRIDAY)
    reminder_data(c)
    made = bulletins.generate_due(c.sessions, settings=c.settings, now=FRIDAY, done=set(), ring=lambda _: None)
    [daily] = [b for b in stored(c) if b.kind == "daily"]
    assert daily.id in made and daily.period == "2026-11-20" and daily.title == "2026年11月20日诉求办理日提醒"
    sections = {s["unit"]: s for s in daily.document["sections"] if s["unit"]}
    assert [r[1] for r in sections[A]["rows"]] == ["A-LATE", "A-TODAY", "A-SAT", "A-MON"]
    assert [r[-1] for r in sections[A]["rows"]] == ["已超时", "今日到期", "明日到期", "明日到期"]
    assert [r[1] for r in sections[B]["rows"]] == ["B-TODAY"]
    assert [r[1] for r in sections["办公室（未派单）"]["rows"]] == ["OFFICE-MON"]
    counts = {row[0]: row[1:] for row in daily.document["sections"][0]["rows"]}
    assert counts == {A: [2, 2, 1], B: [1, 0, 0], "办公室（未派单）": [0, 1, 0]}  # 今日, 下一工作日, 已超时
    assert "下一工作日（11月23日）" in daily.document["paragraphs"][0]
    text = json.dumps(daily.document, ensure_ascii=False)
    assert "标题A-TODAY" not in text and "虚构内容" not in text  # no title, no content (RULES.md §5)

    by_sink = {r.sink: r for r in rows(c) if r.bulletin_id == daily.id}
    # Duty: every unit, in sections (robot: counts; email: the items). Unit A's robot and B's addresses: their own.
    assert set(by_sink) == {"duty-robot", "email", "a-robot", f"email:{B}"}
    assert any(line.startswith(f"{A}：今日 2 件") for line in by_sink["duty-robot"].lines)
    assert not any("A-TODAY" in line for line in by_sink["duty-robot"].lines)  # the robot: counts only
    assert by_sink["duty-robot"].lines[-1] == f"查看：https://gw.example.test/dashboard/bulletins/{daily.id}"
    assert any("A-TODAY" in line for line in by_sink["email"].lines)
    assert any("B-TODAY" in line for line in by_sink["email"].lines)
    mine, theirs = " ".join(by_sink["a-robot"].lines), " ".join(by_sink[f"email:{B}"].lines)
    assert "A-TODAY" in mine and "B-TODAY" not in mine and "OFFICE-MON" not in mine
    assert "B-TODAY" in theirs and "A-TODAY" not in theirs
    with c.sessions() as s:  # internal only: nothing for a platform, nothing to a citizen
        assert s.scalar(select(func.count()).select_from(OutboxRecord)) == 0
    c.close()


def test_no_reminder_on_a_holiday_and_one_on_a_make_up_working_day(
    db_url: str, make_settings: Callable[..., Any],
) -> None:
    # 002 二(一) 日提醒 on working days of the official calendar: 国庆节 1 Oct 2026 none; the make-up
    # Saturday 10 Oct (调休上班) one.
    holiday = sh(2026, 10, 1, 9)
    c = make(db_url, make_settings, holiday)
    bulletins.generate_due(c.sessions, settings=c.settings, now=holiday, done=set(), ring=lambda _: None)
    assert not [b for b in stored(c) if b.kind == "daily"]
    makeup = sh(2026, 10, 10, 9)
    bulletins.generate_due(c.sessions, settings=c.settings, now=makeup, done=set(), ring=lambda _: None)
    assert [b.period for b in stored(c) if b.kind == "daily"] == ["2026-10-10"]
    c.close()


@pytest.mark.postgres
def test_two_schedulers_at_once_make_each_bulletin_once(pg_url: str, make_settings: Callable[..., Any]) -> None:
    # The (kind, period) key is the gate: two scheduler processes racing on the same instant make one bulletin
    # of each period and one set of deliveries (002 二(一), 001 三(五)).
    now = sh(2026, 10, 8, 9)
    first, second = make(pg_url, make_settings, now), make(pg_url, make_settings, now)
    reminder_data(first)
    schedulers = [Scheduler(first), Scheduler(second)]
    start = threading.Barrier(2)
    made: list[int] = []

    def run(scheduler: Scheduler) -> None:
        start.wait()
        made.append(scheduler.bulletins(now))

    threads = [threading.Thread(target=run, args=(s,)) for s in schedulers]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    kinds = sorted((b.kind, b.period) for b in stored(first))
    assert kinds == [("daily", "2026-10-08"), ("half", "2026-H1"), ("month", "2026-09"), ("quarter", "2026-Q3"),
                     ("week", "2026-W40"), ("year", "2025")]
    assert sum(made) == 6
    deliveries = [(r.bulletin_id, r.sink) for r in rows(first)]
    assert len(deliveries) == len(set(deliveries))
    # Later ticks, and a fresh scheduler that knows nothing, make nothing more.
    assert Scheduler(second).bulletins(now + timedelta(minutes=5)) == 0
    assert schedulers[0].bulletins(now + timedelta(minutes=5)) == 0
    assert len(stored(first)) == 6 and len(rows(first)) == len(deliveries)
    first.close()
    second.close()


def test_the_12389_analysis_counts_by_category_outcome_and_unit_and_never_names_anyone(
    db_url: str, make_settings: Callable[..., Any],
) -> None:
    # 001 三(五) 定期研判分析: counts only; the reporter is for supervision staff only (001 五), never in a report.
    now = sh(2026, 10, 8, 9)
    c = make(db_url, make_settings, now)
    officer = {"name": "王虚构民警", "badge_no": "警号778899", "unit": B}
    common = {"citizen": REPORTER, "respondent": officer, "issued_at": sh(2026, 8, 3, 10), "content": "举报内容ZQX",
              "channel": "电话", "level": "一般"}
    verdicts = [("属实", "replied"), ("不属实", "closed"), ("部分属实", "replied"), (None, "dispatched")]
    for n, (verdict, status) in enumerate(verdicts):
        reply = {"is_true": verdict, "investigation": "举报内容ZQX"} if verdict else None
        ticket(c, f"JB{n}", "督察支队", platform="p12389", appeal_type="report" if n < 3 else "appeal",
               status=status, reply=reply, **common)
    ticket(c, "JB-Q2", "督察支队", platform="p12389", issued_at=sh(2026, 5, 3, 10), appeal_type="report")
    ticket(c, "P12345-AUG", A, issued_at=sh(2026, 8, 3, 10))  # not 12389: not counted
    bulletins.generate_due(c.sessions, settings=c.settings, now=now, done=set(), ring=lambda _: None)
    [q3] = [b for b in stored(c) if b.kind == "quarter"]
    assert q3.title == "2026年第3季度12389举报投诉分析" and q3.audience == "supervision"
    sections = {s["heading"]: s["rows"] for s in q3.document["sections"]}
    assert sections["一、按事项类别"] == [["举报", 3, 2], ["申诉", 1, 0]]
    assert sections["三、按核查结论"] == [["属实", 1], ["部分属实", 1], ["不属实", 1], ["在办", 1]]
    assert sections["四、按被举报单位"] == [[B, 4, 2, 3]]
    assert "受理12389举报投诉 4 件（上期 1 件），已办结 3 件，查实（含部分属实） 2 件，查实率 66.7%" in \
        q3.document["paragraphs"][0]
    with zipfile.ZipFile(io.BytesIO(q3.xlsx)) as book:
        workbook_text = " ".join(book.read(n).decode("utf-8") for n in book.namelist() if n.endswith(".xml"))
    everything = [json.dumps(q3.document, ensure_ascii=False), json.dumps(q3.summary, ensure_ascii=False),
                  workbook_text, *(" ".join(r.lines) for r in rows(c) if r.bulletin_id == q3.id)]
    for word in SECRET_WORDS:
        assert not any(word in text for text in everything), word
    assert "举报" in workbook_text
    # Reported to the leaders (001 三(五) 向本级公安机关领导…上报), not to the duty channels.
    assert {r.sink for r in rows(c) if r.bulletin_id == q3.id} == {"leader-robot", "email-leaders"}
    c.close()


def test_deliveries_go_through_the_sinks_email_with_the_workbook_robot_with_a_summary(
    db_url: str, make_settings: Callable[..., Any], smtp: tuple[Inbox, int],
) -> None:
    # 002 二(一) 月通报 / 000 督办 二: the duty and the leaders get it; the duty email carries the workbook.
    inbox, port = smtp
    now = sh(2026, 12, 1, 9)
    c = make(db_url, make_settings, now, port)
    ticket(c, "NOV-1", A, issued_at=sh(2026, 11, 10, 9), timers=[("resolution", sh(2026, 11, 12, 9), "breached")])
    reminder_data(c)
    for moment in (FRIDAY, now):
        bulletins.generate_due(c.sessions, settings=c.settings, now=moment, done=set(), ring=lambda _: None)
    [month] = [b for b in stored(c) if b.kind == "month" and b.period == "2026-11"]
    [daily] = [b for b in stored(c) if b.kind == "daily" and b.period == "2026-11-20"]
    assert month.title == "2026年11月诉求办理情况通报"
    mine = {r.sink: r.id for r in rows(c) if r.bulletin_id == month.id}
    assert set(mine) == {"duty-robot", "leader-robot", "email", "email-leaders"}
    with respx.mock(assert_all_called=True) as mock:
        robot = mock.post(ROBOT).respond(json={"errcode": 0, "errmsg": "ok"})
        for delivery_id in mine.values():
            assert handle_delivery(c, delivery_id).state == "sent"
    bodies = [json.loads(call.request.content)["text"]["content"] for call in robot.calls]
    heading = "【2026年11月诉求办理情况通报】\n受理 11 件（上期 0 件）"
    assert len(bodies) == 2 and all(b.startswith(heading) for b in bodies)
    assert all(f"/dashboard/bulletins/{month.id}" in b and "NOV-1" not in b for b in bodies)
    assert len(inbox.messages) == 2
    for raw in inbox.messages:
        message = email.message_from_bytes(raw, policy=email.policy.default)
        parts = {p.get_filename(): p for p in message.walk() if p.get_filename()}
        assert list(parts) == ["2026年11月诉求办理情况通报.xlsx"]
        assert parts["2026年11月诉求办理情况通报.xlsx"].get_payload(decode=True) == month.xlsx
    # A unit's own email gets its reminder section, never the workbook that holds every unit.
    unit_row = next(r for r in rows(c) if r.bulletin_id == daily.id and r.sink == f"email:{B}")
    assert handle_delivery(c, unit_row.id).state == "sent"
    message = email.message_from_bytes(inbox.messages[-1], policy=email.policy.default)
    assert not [p for p in message.walk() if p.get_filename()]
    body = next(p for p in message.walk() if p.get_content_type() == "text/plain").get_content()  # type: ignore[attr-defined]
    assert "B-TODAY" in body and "A-TODAY" not in body and "内部通报" in body
    c.close()


@pytest.fixture
def dashboard(sqlite_url: str, make_settings: Callable[..., Any], tmp_path: Any) -> Iterator[Container]:
    yield from build_container(sqlite_url, make_settings, tmp_path)


def test_the_reports_page_lists_the_bulletins_and_opens_prints_and_downloads_them(dashboard: Container) -> None:
    # 002 二(一): the bulletins are kept (报表 → 定期通报); 12389 analyses for supervision and leaders (001 三(五)).
    c = dashboard
    reminder_data(c)
    bulletins.generate_due(c.sessions, settings=c.settings, now=FRIDAY, done=set(), ring=lambda _: None)
    by_kind = {b.kind: b for b in stored(c)}
    duty = Browser(c)
    duty.login("duty")
    page = duty.get("/dashboard/reports").text
    assert "定期通报" in page and by_kind["month"].title in page and by_kind["daily"].title in page
    assert by_kind["quarter"].title not in page  # 12389 analysis: not the duty officer's
    opened = duty.get(f"/dashboard/bulletins/{by_kind['month'].id}")
    assert opened.status_code == 200 and "2026年10月诉求办理情况通报" in opened.text and "bulletin-xlsx" in opened.text
    download = duty.get(f"/dashboard/bulletins/{by_kind['month'].id}/export.xlsx")
    assert download.status_code == 200 and download.content == by_kind["month"].xlsx
    assert duty.get(f"/dashboard/bulletins/{by_kind['quarter'].id}").status_code == 403
    supervisor = Browser(c)
    supervisor.login("supervisor")
    assert by_kind["quarter"].title in supervisor.get("/dashboard/reports").text
    assert supervisor.get(f"/dashboard/bulletins/{by_kind['quarter'].id}").status_code == 200
    # A unit: the daily reminders only, its own section only, no workbook (it holds every unit's tickets).
    unit = Browser(c)
    unit.login("unit")
    listing = unit.get("/dashboard/reports").text
    assert by_kind["daily"].title in listing and by_kind["month"].title not in listing
    mine = unit.get(f"/dashboard/bulletins/{by_kind['daily'].id}").text
    assert "A-TODAY" in mine and "B-TODAY" not in mine and "OFFICE-MON" not in mine and "bulletin-xlsx" not in mine
    assert unit.get(f"/dashboard/bulletins/{by_kind['daily'].id}/export.xlsx").status_code == 403
    assert unit.get(f"/dashboard/bulletins/{by_kind['month'].id}").status_code == 403
