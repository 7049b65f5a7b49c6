"""12389 举报投诉 analysis for a quarter, half-year or year (001 三(五) 定期研判分析机制: 警务督察部门每季度、半年、
年度对举报投诉事项核查工作进行分析…及时向本级公安机关领导和上级警务督察部门上报分析报告).

Counts only, of the 12389 cases issued in the period: by 事项类别 and 案件等级, by 核查结论 (the approved reply's
是否属实), by 被举报单位 and by 举报方式, with the period before for comparison. It never reads the reporter
(``citizen``), the complaint (``content``, ``title``) or the officer complained about: the reporter is seen
by supervision staff only (001 五, ``gateway.privacy``), and an analysis has no use for anyone's identity.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from gateway.privacy import SUPERVISION_ONLY_PLATFORMS
from gateway.schema import APPEAL_TYPE_LABELS, AppealType
from gateway.services.reports import period_bounds
from gateway.store.tables import TicketEventRecord, TicketRecord
from gateway.store.tables_sla import SlaTimerRecord

ANSWERED = ("replied", "closed")
VERDICT_ORDER = ("属实", "部分属实", "不属实", "无法核实", "在办", "已退回")
FOUND = ("属实", "部分属实")  # 查实: founded wholly or in part


@dataclass
class Analysis12389:
    """The figures of one period."""

    start: date
    end: date
    received: int
    previous: int  # cases of the period before (the quarter, half-year or year before)
    answered: int
    found: int
    overdue: int
    repeat: int
    by_type: list[tuple[str, int, int]]  # (label, cases, 查实)
    by_level: list[tuple[str, int, int]]
    by_verdict: list[tuple[str, int]]
    by_unit: list[tuple[str, int, int, int]]  # (被举报单位, cases, 查实, 办结)
    by_channel: list[tuple[str, int]]


def _verdict(status: str, reply: dict[str, Any] | None) -> str:
    if status == "returned":
        return "已退回"
    if status in ANSWERED and reply and reply.get("is_true") in VERDICT_ORDER:
        return str(reply["is_true"])
    return "在办"


def _type_label(value: str) -> str:
    try:
        return APPEAL_TYPE_LABELS[AppealType(value)]
    except (ValueError, KeyError):
        return value


def analyse(session: Session, *, start: date, end: date, previous_start: date) -> Analysis12389:
    """Count the 12389 cases issued from ``start`` to ``end`` (no identity is read: see the module docstring);
    ``previous_start`` is the first day of the period before, counted up to ``start``."""
    lo, hi = period_bounds(start, end)
    platforms = sorted(SUPERVISION_ONLY_PLATFORMS)
    cases = session.execute(
        select(TicketRecord.id, TicketRecord.status, TicketRecord.appeal_type, TicketRecord.level,
               TicketRecord.channel, TicketRecord.respondent, TicketRecord.reply)
        .where(TicketRecord.platform.in_(platforms), TicketRecord.issued_at >= lo, TicketRecord.issued_at < hi)
    ).all()
    ids = [c.id for c in cases]
    before_lo, _ = period_bounds(previous_start, start)
    previous = session.scalar(select(func.count()).select_from(TicketRecord).where(
        TicketRecord.platform.in_(platforms), TicketRecord.issued_at >= before_lo, TicketRecord.issued_at < lo)) or 0
    overdue = set(session.scalars(select(SlaTimerRecord.ticket_id).where(
        SlaTimerRecord.ticket_id.in_(ids), SlaTimerRecord.state == "breached"))) if ids else set()
    late_met = set(session.scalars(select(SlaTimerRecord.ticket_id).where(
        SlaTimerRecord.ticket_id.in_(ids), SlaTimerRecord.met_at > SlaTimerRecord.due_at))) if ids else set()
    repeat = set(session.scalars(select(TicketEventRecord.ticket_id).where(
        TicketEventRecord.ticket_id.in_(ids), TicketEventRecord.kind == "repeat_complaint"))) if ids else set()
    types: Counter[str] = Counter()
    types_found: Counter[str] = Counter()
    levels: Counter[str] = Counter()
    levels_found: Counter[str] = Counter()
    verdicts: Counter[str] = Counter()
    units: Counter[str] = Counter()
    units_found: Counter[str] = Counter()
    units_answered: Counter[str] = Counter()
    channels: Counter[str] = Counter()
    for case in cases:
        verdict = _verdict(case.status, case.reply)
        found = verdict in FOUND
        kind, level = _type_label(case.appeal_type), case.level or "未分级"
        unit = ((case.respondent or {}).get("unit") or "未注明").strip() or "未注明"
        types[kind] += 1
        levels[level] += 1
        verdicts[verdict] += 1
        units[unit] += 1
        channels[case.channel or "未注明"] += 1
        types_found[kind] += found
        levels_found[level] += found
        units_found[unit] += found
        units_answered[unit] += case.status in ANSWERED
    return Analysis12389(
        start=start, end=end, received=len(cases), previous=int(previous),
        answered=sum(1 for c in cases if c.status in ANSWERED), found=sum(verdicts[v] for v in FOUND),
        overdue=len(overdue | late_met), repeat=len(repeat),
        by_type=[(k, n, types_found[k]) for k, n in types.most_common()],
        by_level=[(k, levels[k], levels_found[k]) for k in sorted(levels, key=lambda k: (-levels[k], k))],
        by_verdict=[(v, verdicts[v]) for v in VERDICT_ORDER if verdicts[v]],
        by_unit=[(u, n, units_found[u], units_answered[u]) for u, n in
                 sorted(units.items(), key=lambda p: (-p[1], p[0]))],
        by_channel=sorted(channels.items(), key=lambda p: (-p[1], p[0])),
    )
