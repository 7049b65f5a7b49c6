"""Reports (报表) per handling unit or platform over a period, and the figures of 三率 (002 §4(3)).

Every figure counts the tickets issued in the period (Asia/Shanghai days, both ends included):
- 受理 received: those tickets.
- 按时签收/响应/办结 %: of the timers already decided (met, or late, or open past due), the share met on
  time; a timer still running inside its window or cancelled (returned, closed by the platform) is left out.
  办结 uses the first handling cycle's last deadline (the extension's, when one was granted).
- 超期 overdue: tickets with any deadline missed, in any cycle. 退回: tickets the bureau asked to return.
- 督办件: tickets with a 督办 or 催办 (the platform's or the bureau's); 督办按时率: of those orders already
  decided, the share answered by their deadline.
  重办: tickets reopened at least once. 重复投诉: tickets linked as a repeat of an earlier complaint.
- 响应率: on-time 先行联系 that the citizen's callback does not contradict (``contacted`` false).
- 解决率 / 满意率: weighted callback answers (weights from settings; 基本满意 counts 0.9 by default);
  unrated answers and callbacks the platform marked invalid are left out.
- 综合 = weights × (响应率, 解决率, 满意率), default 0.1 / 0.5 / 0.4; shown only when all three exist.
- 终结办理 (002 四(七)): tickets closed by an approved termination — counted apart: left out of 解决率 and 满意率.
- 诉求不合理 / 三级终审 (002 三(二)): tickets judged 诉求不合理; tickets whose 三级结案终审表 was fully signed.
- 甄别无过错 (000 不满意件甄别 三(二)): unsatisfied tickets screened as class 4 (民警严格执法) — left out of the
  unit's 满意率, since the dissatisfaction is no fault of the unit; classes 1–3 stay in and go into 跟踪.
- 办结通报率 (000 沟通通报 三): of the tickets answered (replied/closed, not terminated), the share with the closing
  notification recorded (a 特殊事项 exemption counts as recorded).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from gateway.catalogue import label
from gateway.schema import SHANGHAI
from gateway.settings import DashboardSettings
from gateway.sla.derive import ORDER_KINDS
from gateway.store.tables import TicketEventRecord, TicketRecord
from gateway.store.tables_sla import SlaTimerRecord

NO_UNIT = "（未派单）"
# The same definitions as the module's docstring, for the people who read the Excel export's 口径说明 sheet:
# Chinese, plain text (issue 13 point 7). Keep the two in step when a figure changes.
DEFINITIONS: tuple[str, ...] = (
    "统计口径：各项数字均按统计期间内下发的工单计算（按北京时间自然日，起止日期均含）。",
    "受理量：统计期间内下发的工单数。",
    "按时签收率、按时响应率、按时办结率：在已有结果的时限中（已按时完成、已超时，或未完成且已过期限），"
    "按时完成的比例；尚在期限内的、已取消的（退回、平台关闭）不计入。办结以首轮办理的最后期限为准（获批延期的按延期后期限）。",
    "超期件：任一轮办理中有任一期限超时的工单。退回件：本单位申请退回的工单。",
    "督办件：有督办或催办（平台或本局发出）的工单；督办按时率：已有结果的督办、催办中，在期限内答复的比例。",
    "重办件：至少重办过一次的工单。重复投诉：被关联为此前投诉之重复件的工单。",
    "响应率：按时先行联系、且回访中诉求人未否认已联系的比例。",
    "解决率、满意率：回访结果按权重计算（权重见系统设置，“基本满意”默认按 0.9 计）；未评价和平台认定无效的回访不计入。",
    "综合得分：响应率、解决率、满意率按权重加权（默认 0.1、0.5、0.4），三项齐全时才显示。",
    "终结办理（002 四(七)）：经批准终结办理的工单，单独统计，不计入解决率和满意率。",
    "诉求不合理、三级终审（002 三(二)）：认定为诉求不合理的工单；三级结案终审表已全部签字的工单。",
    "甄别无过错（000 不满意件甄别 三(二)）：不满意件经甄别属第四类（民警严格执法）的工单，不计入该单位满意率；"
    "第一至三类仍计入，并转入跟踪。",
    "办结通报率（000 沟通通报 三）：已答复（已回复、已办结，不含终结办理）的工单中，已登记办结通报的比例"
    "（特殊事项免予通报视为已登记）。",
)


def ratio(num: float, den: int) -> float | None:
    """num / den, or None when nothing was counted."""
    return num / den if den else None


@dataclass
class ReportRow:
    """The figures of one unit, platform or the whole bureau."""

    key: str
    label: str
    received: int = 0
    sign: list[int] = field(default_factory=lambda: [0, 0])  # [on time, decided]
    response: list[int] = field(default_factory=lambda: [0, 0])
    resolution: list[int] = field(default_factory=lambda: [0, 0])
    overdue: int = 0
    returns: int = 0
    rework: int = 0
    repeat: int = 0
    supervised: int = 0  # 督办件
    orders: list[int] = field(default_factory=lambda: [0, 0])  # 督办/催办 answered on time [on time, decided]
    responded: list[int] = field(default_factory=lambda: [0, 0])  # 响应率
    resolved: list[float] = field(default_factory=lambda: [0.0, 0])  # 解决率 [weighted sum, answers]
    satisfied: list[float] = field(default_factory=lambda: [0.0, 0])  # 满意率
    terminated: int = 0  # 终结办理 (002 四(七))
    unreasonable: int = 0  # 诉求不合理 (002 三(二))
    final_reviewed: int = 0  # 三级结案终审表 fully signed (002 三(二))
    no_fault: int = 0  # 甄别无过错 (000 不满意件甄别)
    notified: list[int] = field(default_factory=lambda: [0, 0])  # 办结通报 [recorded, answered] (000 沟通通报 三)

    def rates(self, weights: dict[str, float]) -> dict[str, float | None]:
        """Every percentage of the row (0..1), and the composite score (0..100)."""
        three = {"response": ratio(*self.responded), "resolution": ratio(self.resolved[0], int(self.resolved[1])),
                 "satisfaction": ratio(self.satisfied[0], int(self.satisfied[1]))}
        present = [v for v in three.values() if v is not None]
        composite = (sum(weights.get(k, 0.0) * v for k, v in three.items() if v is not None) * 100
                     if len(present) == len(three) else None)
        return {"sign": ratio(*self.sign), "response_on_time": ratio(*self.response),
                "resolution_on_time": ratio(*self.resolution), **three, "composite": composite,
                "orders_on_time": ratio(*self.orders)}


@dataclass
class Report:
    """A report: its rows, the bureau total, and how it was computed."""

    start: date
    end: date
    group: str
    rows: list[ReportRow]
    total: ReportRow
    weights: dict[str, float]


def period_bounds(start: date, end: date) -> tuple[datetime, datetime]:
    """The instants from 00:00 of ``start`` to 24:00 of ``end``, Shanghai time."""
    return (datetime.combine(start, time(), tzinfo=SHANGHAI),
            datetime.combine(end + timedelta(days=1), time(), tzinfo=SHANGHAI))


def _outcome(timer: SlaTimerRecord, now: datetime) -> str | None:
    if timer.state == "met" or (timer.met_at is not None and timer.met_at <= timer.due_at):
        return "on_time"
    if timer.state == "breached" or (timer.met_at is not None) or (timer.state == "running" and timer.due_at < now):
        return "late"
    return None  # still inside its window, paused, cancelled or superseded


timer_outcome = _outcome  # on_time | late | None, as the reports count it (also for 问责 suggestions)


def build_report(
    session: Session, *, start: date, end: date, group: str, settings: DashboardSettings, now: datetime,
    unit: str | None = None,
) -> Report:
    """The report for tickets issued from ``start`` to ``end``, grouped by ``unit`` or ``platform``."""
    lo, hi = period_bounds(start, end)
    period = select(TicketRecord.id).where(TicketRecord.issued_at >= lo, TicketRecord.issued_at < hi)
    if unit is not None:
        period = period.where(TicketRecord.unit == unit)
    tickets = session.execute(
        select(TicketRecord.id, TicketRecord.platform, TicketRecord.unit, TicketRecord.callback,
               TicketRecord.reopen_count, TicketRecord.status, TicketRecord.terminated_at, TicketRecord.reasonable,
               TicketRecord.screening, TicketRecord.closing_notice).where(TicketRecord.id.in_(period))
    ).all()
    timers: dict[int, list[SlaTimerRecord]] = defaultdict(list)
    for timer in session.scalars(select(SlaTimerRecord).where(SlaTimerRecord.ticket_id.in_(period))):
        timers[timer.ticket_id].append(timer)
    events: dict[int, list[TicketEventRecord]] = defaultdict(list)
    for event in session.scalars(select(TicketEventRecord).where(
            TicketEventRecord.ticket_id.in_(period),
            TicketEventRecord.kind.in_(("return_requested", "repeat_complaint", "final_review_completed")))):
        events[event.ticket_id].append(event)
    rows: dict[str, ReportRow] = {}
    total = ReportRow("total", "合计")
    for t in tickets:
        key = (t.unit or NO_UNIT) if group == "unit" else t.platform
        row = rows.setdefault(key, ReportRow(key, key if group == "unit" else label(key)))
        facts = _ticket_facts(t.id, t.callback or {}, t.reopen_count, timers[t.id], events[t.id], now, settings)
        facts |= _closing_facts(t, events[t.id])
        for target in (row, total):
            _add(target, facts)
    ordered = sorted(rows.values(), key=lambda r: (r.key == NO_UNIT, -r.received, r.key))
    return Report(start, end, group, ordered, total, settings.composite_weights)


def _ticket_facts(ticket_id: int, callback: dict[str, Any], reopen_count: int, timers: list[SlaTimerRecord],
                  events: list[TicketEventRecord], now: datetime, settings: DashboardSettings) -> dict[str, Any]:
    def first(kind: str) -> str | None:
        found = [t for t in timers if t.kind == kind and t.cycle == 1]
        return _outcome(found[0], now) if found else None

    cycle_one = sorted((t for t in timers if t.kind in ("resolution", "extension") and t.cycle == 1),
                       key=lambda t: t.seq)
    orders = [_outcome(t, now) for t in timers if t.kind in ORDER_KINDS]
    valid = callback.get("valid") is not False
    satisfaction, resolved = callback.get("satisfaction"), callback.get("resolved")
    return {
        "sign": first("sign_off"),
        "response": first("response"),
        "resolution": _outcome(cycle_one[-1], now) if cycle_one else None,
        "overdue": any(_outcome(t, now) == "late" for t in timers),
        "returns": any(e.kind == "return_requested" for e in events),
        "rework": reopen_count > 0,
        "repeat": any(e.kind == "repeat_complaint" and int(e.detail.get("with_ticket") or 0) < ticket_id
                      for e in events),
        "contact_denied": callback.get("contacted") is False,
        "supervised": bool(orders),
        "orders": [o for o in orders if o is not None],
        "satisfaction": settings.satisfaction_weights.get(str(satisfaction)) if valid and satisfaction else None,
        "resolved": settings.resolution_weights.get(str(resolved)) if valid and resolved else None,
    }


def _closing_facts(t: Any, events: list[TicketEventRecord]) -> dict[str, Any]:
    """Issue 16's figures of one ticket: 终结办理, 诉求不合理, 三级终审, 甄别无过错, 办结通报."""
    terminated = t.terminated_at is not None
    no_fault = bool((t.screening or {}).get("no_fault"))
    answered = t.status in ("replied", "closed") and not terminated
    return {"terminated": terminated, "unreasonable": t.reasonable == "unreasonable",
            "final_reviewed": any(e.kind == "final_review_completed" for e in events), "no_fault": no_fault,
            "answered": answered, "notified": answered and bool(t.closing_notice),
            "left_out": terminated, "satisfaction_left_out": terminated or no_fault}


def _add(row: ReportRow, facts: dict[str, Any]) -> None:
    row.received += 1
    for name in ("sign", "response", "resolution"):
        if facts[name] is not None:
            counter: list[int] = getattr(row, name)
            counter[1] += 1
            counter[0] += facts[name] == "on_time"
    if facts["response"] is not None:
        row.responded[1] += 1
        row.responded[0] += facts["response"] == "on_time" and not facts["contact_denied"]
    for name in ("overdue", "returns", "rework", "repeat", "supervised"):
        setattr(row, name, getattr(row, name) + bool(facts[name]))
    row.orders[1] += len(facts["orders"])
    row.orders[0] += sum(1 for o in facts["orders"] if o == "on_time")
    for name in ("terminated", "unreasonable", "final_reviewed", "no_fault"):
        setattr(row, name, getattr(row, name) + bool(facts.get(name)))
    if facts.get("answered"):
        row.notified[1] += 1
        row.notified[0] += bool(facts["notified"])
    if facts["satisfaction"] is not None and not facts.get("satisfaction_left_out"):
        row.satisfied[0] += facts["satisfaction"]
        row.satisfied[1] += 1
    if facts["resolved"] is not None and not facts.get("left_out"):
        row.resolved[0] += facts["resolved"]
        row.resolved[1] += 1
