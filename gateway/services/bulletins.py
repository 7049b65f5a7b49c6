"""Bulletins on a schedule: generate each period's once, keep it, deliver it through the alert sinks.

- 日提醒 (002 二(一)): each unit's deadlines today and the next working day (``gateway.services.reminders``).
- 周反馈 (002 二(一), 004 三 每周小结, 000 督办 二 每周…报各位分管局领导) and 月通报 (002 二(一), 004 三 每月通报):
  the bulletin of ``gateway.services.bulletin`` for the period just closed.
- 12389 季度/半年/年度分析 (001 三(五)): ``gateway.services.analysis12389``, counts only.

Exactly once: the ``bulletins`` row is inserted with ON CONFLICT (kind, period) DO NOTHING, and only the
transaction whose row lands writes the delivery rows, so two schedulers (or a retry after a crash) make one
bulletin and one set of deliveries. Deliveries are ``alert_deliveries`` rows with ``bulletin_id``: the same
claim, lease, retry, backoff and circuit breaker per sink as alerts (``gateway.alerts.delivery``).

Who gets what (docs/dashboard.md "定期通报"): the duty sinks get the daily reminder of every unit, in sections;
a unit with its own robot (``GATEWAY_ALERTS__WEBHOOKS`` entry with ``unit``) or addresses
(``GATEWAY_ALERTS__EMAIL__UNIT_RECIPIENTS``) also gets its own section there, and never another unit's. Weekly
and monthly go to the duty and the leaders' sinks; the 12389 analysis to the leaders' only (001 三(五) 向本级
公安机关领导…上报). Robots get a short summary with counts and a link, email the text with the workbook.
Nothing names a citizen, quotes a ticket or goes to a platform: bulletins are internal (RULES.md §5).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from gateway.alerts.messages import PLATFORM_SHORT
from gateway.alerts.sinks import BulletinRoute, bulletin_routes, unit_routes
from gateway.calendar import WorkCalendar
from gateway.catalogue import label
from gateway.dashboard.export import HEADERS, bulletin_workbook, cell_texts, document_workbook, row_values
from gateway.schema import SHANGHAI
from gateway.services.analysis12389 import Analysis12389, analyse
from gateway.services.bulletin import build_bulletin
from gateway.services.bulletin_periods import (
    ANALYSIS_12389,
    ARTICLES,
    DAILY,
    HALF,
    KIND_LABELS,
    QUARTER,
    Period,
    due_periods,
    span_of,
)
from gateway.services.reminders import NEXT, TODAY, DailyReminder, UnitReminder, daily_reminder, next_label
from gateway.settings import Settings
from gateway.sla.runtime import runtime_for
from gateway.store.db import transaction
from gateway.store.sql import insert_ignore
from gateway.store.tables_sla import AlertDeliveryRecord, BulletinRecord
from gateway.store.units import list_units

INTERNAL = "内部通报，仅供本局内部工作使用，不得对外发送或公开。"
SUPERVISION = "supervision"  # 12389 analyses: supervisor and leader only


def pct(num: int, den: int) -> str:
    """A share as 85.0%, or — when nothing was counted."""
    return f"{num / den * 100:.1f}%" if den else "—"


def _section(heading: str, headers: list[str], rows: list[list[Any]], *, unit: str | None = None,
             links: list[int | None] | None = None, empty: str = "无") -> dict[str, Any]:
    return {"heading": heading, "headers": headers, "rows": rows, "unit": unit, "links": links or [], "empty": empty}


# -- content per kind --------------------------------------------------------------------------------------
class Content:
    """What one bulletin holds: the page's document, the workbook, the robots' summary, each unit's own part."""

    def __init__(self, title: str, document: dict[str, Any], xlsx: bytes, summary: list[str],
                 email: list[str] | None = None, units: dict[str, list[str]] | None = None) -> None:
        self.title, self.document, self.xlsx, self.summary = title, document, xlsx, summary
        self.email = email if email is not None else summary
        self.units = units or {}


def _item_line(item: Any) -> str:
    platform = PLATFORM_SHORT.get(item.platform) or label(item.platform)
    late = "，已超时" if item.overdue else ""
    return f"{platform}工单 {item.external_id} {item.timer} 截止{item.due_at:%m-%d %H:%M}{late}"


def _unit_lines(section: UnitReminder, next_words: str, limit: int | None) -> list[str]:
    head = (f"{section.unit}：今日到期 {section.count(TODAY)} 件，{next_words}到期 {section.count(NEXT)} 件"
            + (f"（已超时 {section.overdue} 件）" if section.overdue else ""))
    items = [_item_line(i) for i in section.items]
    if limit is not None and len(items) > limit:
        items = [*items[:limit], f"……等共 {len(section.items)} 件，详见通报页面"]
    return [head, *items]


def daily_content(reminder: DailyReminder, *, now: datetime, robot_max_lines: int) -> Content:
    """日提醒: the document, every unit's counts for the duty robots, every unit's items for the duty email,
    and each unit's own part."""
    day, words = reminder.day, next_label(reminder.day, reminder.next_day)
    title = f"{day:%Y年%m月%d日}诉求办理日提醒"
    today, upcoming, overdue = reminder.totals()
    opening = (f"截至{now.astimezone(SHANGHAI):%H:%M}，今日到期 {today} 件，{words}到期 {upcoming} 件"
               + (f"，其中已超时 {overdue} 件" if overdue else "") + "；请各单位在期限内办结反馈。")
    counts = [[s.unit, s.count(TODAY), s.count(NEXT), s.overdue] for s in reminder.sections]
    sections = [_section("各单位到期工单数", ["承办单位", "今日到期", f"{words}到期", "已超时"], counts,
                         empty="今日及下一工作日无到期工单")]
    for s in reminder.sections:
        sections.append(_section(s.unit, ["平台", "平台单号", "环节", "期限", "状态"], [i.cells() for i in s.items],
                                 unit=s.unit, links=[i.ticket_id for i in s.items]))
    document = {"title": title, "sheet": "日提醒", "paragraphs": [opening], "sections": sections,
                "notes": [f"依据：{ARTICLES[DAILY]} 日提醒。", "期限为各环节有约束力的期限（含平台期限、督办期限）。",
                          f"“{words}”按国务院办公厅节假日安排计算的下一工作日（含其间的休息日）。", INTERNAL]}
    summary = [opening.removesuffix("；请各单位在期限内办结反馈。") + "。"]
    summary += [f"{s.unit}：今日 {s.count(TODAY)} 件，{words} {s.count(NEXT)} 件"
                + (f"，已超时 {s.overdue} 件" if s.overdue else "") for s in reminder.sections]
    if len(summary) > robot_max_lines:
        summary = [*summary[:robot_max_lines], f"……等共 {len(reminder.sections)} 个单位，详见通报页面"]
    email = [opening, ""]
    for s in reminder.sections:
        email += [*_unit_lines(s, words, None), ""]
    units = {s.unit: _unit_lines(s, words, robot_max_lines) for s in reminder.sections}
    return Content(title, document, document_workbook(document), summary, email, units)


def report_content(session: Session, period: Period, *, settings: Settings, now: datetime) -> Content:
    """周反馈 / 月通报 of the closed period: the figures of the dashboard's bulletin, without ticket titles."""
    b = build_bulletin(session, kind=period.kind, day=period.start, settings=settings.dashboard, now=now)
    weights = b.by_unit.weights
    cur, prev = b.by_unit.total.rates(weights), b.previous.rates(weights)
    total = b.by_unit.total

    def rate(value: float | None) -> str:
        return "—" if value is None else f"{value * 100:.1f}%"

    opening = (f"{b.by_unit.start} 至 {b.by_unit.end}，共受理各平台诉求 {total.received} 件"
               f"（上期 {b.previous.received} 件）；按时签收率 {rate(cur['sign'])}，"
               f"按时办结率 {rate(cur['resolution_on_time'])}"
               f"（上期 {rate(prev['resolution_on_time'])}）；响应率 {rate(cur['response'])}、解决率 "
               f"{rate(cur['resolution'])}、满意率 {rate(cur['satisfaction'])}（上期 {rate(prev['satisfaction'])}）。"
               f"超期 {total.overdue} 件，重办 {total.rework} 件，重复投诉 {total.repeat} 件。")
    tables = [[*cell_texts(row_values(r, weights))] for r in [*b.by_unit.rows, total]]
    platforms = [[*cell_texts(row_values(r, weights))] for r in [*b.by_platform.rows, b.by_platform.total]]
    ranking = [[n, r.label, round(score, 2), r.received, r.overdue, r.rework, r.repeat]
               for n, (r, score) in enumerate(b.ranking, start=1)]
    late = [[PLATFORM_SHORT.get(o["platform"]) or label(o["platform"]), o["external_id"], o["unit"] or "未派单",
             o["timer"], f"{o['due_at']:%Y-%m-%d %H:%M}", o["hours_over"]] for o in b.overdue_now]
    sections = [
        _section("一、各承办单位办理情况", HEADERS, tables),
        _section("二、各平台办理情况", HEADERS, platforms),
        _section("三、综合得分排名", ["名次", "承办单位", "综合得分", "受理", "超期", "重办", "重复投诉"], ranking,
                 empty="本期尚无完整的三率数据"),
        _section("四、当前超期未办结工单（责任追究事项）",
                 ["平台", "平台单号", "承办单位", "环节", "期限", "已超时（小时）"], late,
                 links=[o["ticket_id"] for o in b.overdue_now]),
    ]
    document = {"title": b.title, "sheet": KIND_LABELS[period.kind], "paragraphs": [opening], "sections": sections,
                "notes": [f"依据：{ARTICLES[period.kind]}。", "统计口径同“报表”（按工单下发时间）。", INTERNAL]}
    top = "、".join(f"{r.label} {score:.1f}" for r, score in b.ranking[:3])
    summary = [f"受理 {total.received} 件（上期 {b.previous.received} 件），"
               f"按时办结率 {rate(cur['resolution_on_time'])}，满意率 {rate(cur['satisfaction'])}",
               f"超期 {total.overdue} 件，重办 {total.rework} 件，重复投诉 {total.repeat} 件",
               *([f"综合得分前三：{top}"] if top else []),
               f"当前超期未办结 {len(b.overdue_now)} 件"]
    return Content(b.title, document, bulletin_workbook(b, titles=False), summary, [opening, "详见附件。"])


def analysis_title(period: Period) -> str:
    """2026年第4季度 / 2026年下半年 / 2026年度 12389举报投诉分析."""
    if period.kind == QUARTER:
        when = f"{period.start.year}年第{(period.start.month - 1) // 3 + 1}季度"
    elif period.kind == HALF:
        when = f"{period.start.year}年{'上' if period.start.month == 1 else '下'}半年"
    else:
        when = f"{period.start.year}年度"
    return f"{when}12389举报投诉分析"


def analysis_content(result: Analysis12389, period: Period) -> Content:
    """12389 analysis: counts by category, level, verdict, unit complained about and channel; no identity."""
    title = analysis_title(period)
    opening = (f"{result.start} 至 {result.end}，受理12389举报投诉 {result.received} 件（上期 {result.previous} 件），"
               f"已办结 {result.answered} 件，查实（含部分属实） {result.found} 件，查实率 "
               f"{pct(result.found, result.answered)}；超期 {result.overdue} 件，重复举报投诉 {result.repeat} 件。")
    sections = [
        _section("一、按事项类别", ["事项类别", "件数", "查实"], [list(r) for r in result.by_type]),
        _section("二、按案件等级", ["案件等级", "件数", "查实"], [list(r) for r in result.by_level]),
        _section("三、按核查结论", ["核查结论", "件数"], [list(r) for r in result.by_verdict]),
        _section("四、按被举报单位", ["被举报单位", "件数", "查实", "已办结"], [list(r) for r in result.by_unit]),
        _section("五、按举报方式", ["举报方式", "件数"], [list(r) for r in result.by_channel]),
    ]
    document = {"title": title, "sheet": "12389分析", "paragraphs": [opening], "sections": sections,
                "notes": [f"依据：{ARTICLES[period.kind]} 定期研判分析机制。", "按举报投诉下发时间统计；只计件数，"
                          "不含举报人信息、举报内容及被举报民警个人信息。", INTERNAL]}
    kinds = "、".join(f"{k} {n}" for k, n, _ in result.by_type) or "无"
    verdicts = "、".join(f"{k} {n}" for k, n in result.by_verdict) or "无"
    summary = [f"受理 {result.received} 件（上期 {result.previous} 件），已办结 {result.answered} 件，"
               f"查实率 {pct(result.found, result.answered)}，超期 {result.overdue} 件，"
               f"重复举报投诉 {result.repeat} 件",
               f"按事项类别：{kinds}", f"按核查结论：{verdicts}"]
    return Content(title, document, document_workbook(document), summary, [opening, "详见附件。"])


def build_content(session: Session, period: Period, *, settings: Settings, now: datetime,
                  calendar: WorkCalendar) -> Content:
    """The content of ``period``'s bulletin, as of ``now``."""
    if period.kind == DAILY:
        order = [u.name for u in list_units(session)]
        reminder = daily_reminder(session, day=period.start, now=now, calendar=calendar, unit_order=order)
        return daily_content(reminder, now=now, robot_max_lines=settings.bulletins.robot_max_lines)
    if period.kind in ANALYSIS_12389:
        previous_start, _ = span_of(period.kind, period.start - timedelta(days=1))
        return analysis_content(analyse(session, start=period.start, end=period.end, previous_start=previous_start),
                                period)
    return report_content(session, period, settings=settings, now=now)


# -- generation and delivery ---------------------------------------------------------------------------------
def _link(settings: Settings, bulletin_id: int) -> str:
    base = (settings.alerts.dashboard_url or settings.public_url).rstrip("/")
    where = f"{base}/dashboard/bulletins/{bulletin_id}" if base else "值班平台 → 报表 → 定期通报"
    return f"查看：{where}"


def _rows(bulletin_id: int, title: str, routes: list[BulletinRoute], *, robot: list[str], email: list[str],
          now: datetime) -> list[AlertDeliveryRecord]:
    return [AlertDeliveryRecord(
        alert_id=None, bulletin_id=bulletin_id, alert_ids=[], sink=r.sink, severity="info", title=title[:200],
        lines=email if r.email else robot, state="pending", attempts=0, next_attempt_at=now, rung_at=now,
        created_at=now) for r in routes]


def generate(session: Session, period: Period, *, settings: Settings, now: datetime,
             calendar: WorkCalendar) -> tuple[int | None, list[int]]:
    """Generate, store and enqueue ``period``'s bulletin; (bulletin id, delivery ids), or (None, []) when
    another process has made it (the caller's transaction then writes nothing)."""
    content = build_content(session, period, settings=settings, now=now, calendar=calendar)
    values = {"kind": period.kind, "period": period.key, "start": period.start, "end": period.end,
              "title": content.title[:200], "audience": SUPERVISION if period.kind in ANALYSIS_12389 else "all",
              "generated_at": now, "summary": content.summary, "document": content.document, "xlsx": content.xlsx}
    table: Any = BulletinRecord.__table__
    bulletin_id = insert_ignore(session, table, values, conflict=["kind", "period"])
    if bulletin_id is None:
        return None, []
    link = _link(settings, int(bulletin_id))
    config = settings.alerts
    audiences = ("leader",) if period.kind in ANALYSIS_12389 else ("duty",) if period.kind == DAILY else (
        "duty", "leader")
    rows = _rows(bulletin_id, content.title, bulletin_routes(config, audiences), robot=[*content.summary, link],
                 email=[*content.email, link], now=now)
    if period.kind == DAILY:
        for unit, routes in unit_routes(config).items():
            part = content.units.get(unit)
            if part is not None:  # a unit with nothing due hears nothing
                rows += _rows(bulletin_id, f"{content.title}（{unit}）", routes, robot=[*part, link],
                              email=[*part, link], now=now)
    session.add_all(rows)
    session.flush()
    return int(bulletin_id), [r.id for r in rows]


def generate_due(sessions: sessionmaker[Session], *, settings: Settings, now: datetime, done: set[str],
                 ring: Callable[[list[int]], None]) -> list[int]:
    """Generate every bulletin due at ``now`` that no process has made yet; each in its own transaction, its
    deliveries rung after it commits. ``done`` holds the keys this process already knows are made (so a
    scheduler asks the database once per period). Returns the new bulletins' ids."""
    with sessions() as session:
        calendar = runtime_for(session).calendar(session)
        periods = [p for p in due_periods(now, calendar, settings.bulletins) if f"{p.kind}:{p.key}" not in done]
        made = {(k, p) for k, p in session.execute(select(BulletinRecord.kind, BulletinRecord.period).where(
            BulletinRecord.kind.in_([p.kind for p in periods]),
            BulletinRecord.period.in_([p.key for p in periods])))} if periods else set()
    created = []
    for p in periods:
        if (p.kind, p.key) not in made:
            with transaction(sessions) as session:
                bulletin_id, deliveries = generate(session, p, settings=settings, now=now, calendar=calendar)
            ring(deliveries)
            if bulletin_id is not None:
                created.append(bulletin_id)
        done.add(f"{p.kind}:{p.key}")
    return created
