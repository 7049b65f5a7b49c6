"""Reports on a known data set, every figure computed by hand; the Excel export; the bulletins.

Data set (November 2026; now = 5 December). Units A = 城关派出所, B = 东城派出所:
    T1 p12345 A  sign ok, response ok, resolution ok; callback 满意, 已解决, contacted
    T2 p12345 A  sign LATE, response ok, resolution LATE; callback 基本满意, 未解决; reopened once
    T3 mailbox A sign ok, response LATE, resolution still running; a repeat of T1
    T4 p12345 B  sign ok, response ok (callback: not contacted), resolution ok; callback 不满意, 部分解决
    T5 mayor  -  returned: sign ok, response and resolution cancelled
    T6 p12345 B  sign still open, past due (late)
    T8 p12345 A  sign ok; callback 满意 but marked invalid (left out)
    T7 p12345 A  issued in October: outside the period
"""

from __future__ import annotations

import io
import re
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook

from app.bootstrap import Container
from gateway.services.reports import build_report
from gateway.settings import DashboardSettings
from gateway.store.db import transaction
from gateway.store.tables import TicketEventRecord, TicketRecord
from gateway.store.tables_sla import SlaTimerRecord
from tests.integration.dashboard_support import Browser, build_container
from tests.integration.dashboard_support import cheap_hashes as cheap_hashes

A, B = "城关派出所", "东城派出所"
NOW = datetime(2026, 12, 5, 2, 0, tzinfo=UTC)
ON, LATE, OPEN, LATE_OPEN, CANCELLED = "on", "late", "open", "late_open", "cancelled"


def _timer(ticket: TicketRecord, kind: str, how: str) -> SlaTimerRecord:
    due = ticket.issued_at + timedelta(days=1)
    met = {ON: due - timedelta(hours=1), LATE: due + timedelta(hours=1)}.get(how)
    state = {ON: "met", LATE: "breached", OPEN: "running", LATE_OPEN: "breached", CANCELLED: "cancelled"}[how]
    if how == OPEN:
        due = NOW + timedelta(days=5)
    return SlaTimerRecord(ticket_id=ticket.id, platform=ticket.platform, kind=kind, cycle=1, seq=0, state=state,
                          started_at=ticket.issued_at, due_at=due, met_at=met, provisional=False, paused_total_s=0.0,
                          last_threshold=0, updated_at=NOW)


DATA: list[dict[str, Any]] = [
    {"id": "T1", "platform": "p12345", "unit": A, "day": 3, "timers": (ON, ON, ON),
     "callback": {"satisfaction": "satisfied", "resolved": "已解决", "contacted": True}},
    {"id": "T2", "platform": "p12345", "unit": A, "day": 5, "timers": (LATE, ON, LATE), "reopen": 1,
     "callback": {"satisfaction": "basically_satisfied", "resolved": "未解决"}},
    {"id": "T3", "platform": "mailbox", "unit": A, "day": 10, "timers": (ON, LATE, OPEN), "repeat_of": "T1"},
    {"id": "T4", "platform": "p12345", "unit": B, "day": 12, "timers": (ON, ON, ON),
     "callback": {"satisfaction": "dissatisfied", "resolved": "部分解决", "contacted": False}},
    {"id": "T5", "platform": "mayor", "unit": None, "day": 15, "timers": (ON, CANCELLED, CANCELLED),
     "returned": True},
    {"id": "T6", "platform": "p12345", "unit": B, "day": 20, "timers": (LATE_OPEN, None, None)},
    {"id": "T8", "platform": "p12345", "unit": A, "day": 25, "timers": (ON, None, None),
     "callback": {"satisfaction": "satisfied", "resolved": "已解决", "valid": False}},
    {"id": "T7", "platform": "p12345", "unit": A, "day": -3, "timers": (LATE, LATE, LATE)},
]


def load(container: Container) -> None:
    ids: dict[str, int] = {}
    with transaction(container.sessions) as s:
        for row in DATA:
            issued = datetime(2026, 11, 1, 1, 0, tzinfo=UTC) + timedelta(days=row["day"] - 1)
            t = TicketRecord(platform=row["platform"], external_id=row["id"], platform_status="x", status="replied",
                             appeal_type="complaint", title=row["id"], content="-", issued_at=issued, unit=row["unit"],
                             callback=row.get("callback"), reopen_count=row.get("reopen", 0), citizen={}, region={},
                             category=[], attachments=[], extra={}, created_at=issued, updated_at=issued)
            s.add(t)
            s.flush()
            ids[row["id"]] = t.id
            for kind, how in zip(("sign_off", "response", "resolution"), row["timers"], strict=True):
                if how is not None:
                    s.add(_timer(t, kind, how))
            if row.get("returned"):
                s.add(TicketEventRecord(ticket_id=t.id, at=issued, actor="duty", kind="return_requested", detail={}))
            if row.get("repeat_of"):
                s.add(TicketEventRecord(ticket_id=t.id, at=issued, actor="system", kind="repeat_complaint",
                                        detail={"with_ticket": ids[row["repeat_of"]]}))


@pytest.fixture
def container(db_url: str, make_settings: Callable[..., Any], tmp_path: Path) -> Iterator[Container]:
    for c in build_container(db_url, make_settings, tmp_path):
        c.clock = lambda: NOW
        load(c)
        yield c


def figures(container: Container, group: str) -> dict[str, dict[str, Any]]:
    with container.sessions() as s:
        report = build_report(s, start=date(2026, 11, 1), end=date(2026, 11, 30), group=group,
                              settings=DashboardSettings(), now=NOW)
    out = {}
    for row in [*report.rows, report.total]:
        rates = row.rates(report.weights)
        out[row.key] = {"received": row.received, "overdue": row.overdue, "returns": row.returns,
                        "rework": row.rework, "repeat": row.repeat,
                        **{k: None if v is None else round(v, 4) for k, v in rates.items()}}
    return out


def test_the_report_per_unit_matches_the_hand_computed_figures(container: Container) -> None:
    got = figures(container, "unit")
    assert got[A] == {"received": 4, "overdue": 2, "returns": 0, "rework": 1, "repeat": 1, "sign": 0.75,
                      "response_on_time": 0.6667, "resolution_on_time": 0.5, "response": 0.6667,
                      "resolution": 0.5, "satisfaction": 0.95, "composite": 69.6667, "orders_on_time": None}
    assert got[B] == {"received": 2, "overdue": 1, "returns": 0, "rework": 0, "repeat": 0, "sign": 0.5,
                      "response_on_time": 1.0, "resolution_on_time": 1.0, "response": 0.0, "resolution": 0.0,
                      "satisfaction": 0.0, "composite": 0.0, "orders_on_time": None}
    assert got["（未派单）"]["returns"] == 1 and got["（未派单）"]["response_on_time"] is None
    assert got["total"] == {"received": 7, "overdue": 3, "returns": 1, "rework": 1, "repeat": 1,
                            "sign": round(5 / 7, 4), "response_on_time": 0.75, "resolution_on_time": 0.6667,
                            "response": 0.5, "resolution": 0.3333, "satisfaction": 0.6333, "composite": 47.0,
                            "orders_on_time": None}


def test_the_report_per_platform_counts_each_platforms_tickets(container: Container) -> None:
    got = figures(container, "platform")
    assert {k: v["received"] for k, v in got.items()} == {"p12345": 5, "mailbox": 1, "mayor": 1, "total": 7}
    assert got["mailbox"]["composite"] is None  # no callback yet: no 三率, no composite


def test_the_excel_export_opens_and_holds_every_row(container: Container) -> None:
    browser = Browser(container)
    browser.login("leader")
    response = browser.get("/dashboard/reports/export.xlsx?start=2026-11-01&end=2026-11-30")
    assert response.status_code == 200 and response.headers["content-type"].startswith(
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    book = load_workbook(io.BytesIO(response.content))
    assert book.sheetnames == ["按承办单位", "按平台", "口径说明"]
    rows = {r[0]: r for r in book["按承办单位"].iter_rows(min_row=4, values_only=True)}
    assert rows[A][1:5] == (4, 0.75, pytest.approx(2 / 3), 0.5) and rows[A][12] == pytest.approx(69.67)
    assert rows["合计"][1] == 7
    platforms = [r[0] for r in book["按平台"].iter_rows(min_row=4, values_only=True)]
    assert platforms[-1] == "合计" and len(platforms) == 4
    notes = [r[0] for r in book["口径说明"].iter_rows(values_only=True)]  # issue 13 point 7: Chinese, plain text
    assert notes[0].startswith("统计口径") and any(n.startswith("综合得分权重") for n in notes)
    assert not [n for n in notes if re.search(r"[A-Za-z`_*]{2,}", n)], notes


def test_a_unit_user_sees_only_its_own_row_in_the_report(container: Container) -> None:
    browser = Browser(container)
    browser.login("unit")
    page = browser.get("/dashboard/reports?start=2026-11-01&end=2026-11-30").text
    assert A in page and B not in page


def test_the_monthly_bulletin_ranks_units_and_exports(container: Container) -> None:
    browser = Browser(container)
    browser.login("leader")
    page = browser.get("/dashboard/bulletin?kind=month&day=2026-11-15").text
    assert "2026年11月诉求办理情况通报" in page
    assert page.index(A) < page.index(B, page.index("综合得分排名"))
    book = load_workbook(io.BytesIO(browser.get("/dashboard/bulletin/export.xlsx?kind=month&day=2026-11-15").content))
    ranking = list(book["综合排名"].iter_rows(min_row=2, values_only=True))
    assert [(r[0], r[1]) for r in ranking] == [(1, A), (2, B)]
    assert [r[1] for r in book["当前超期工单"].iter_rows(min_row=2, values_only=True)] == ["T6"]


def test_the_weekly_bulletin_defaults_to_the_last_complete_week(container: Container) -> None:
    browser = Browser(container)
    browser.login("duty")
    assert "2026年11月23日至11月29日诉求办理周反馈" in browser.get("/dashboard/bulletin?kind=week").text
