"""日提醒 (002 二(一): 办公室…落实日提醒、周反馈、月通报、年总结工作措施，确保承办部门在规定时限接收工单):
each unit's tickets whose binding deadline falls today or by the end of the next working day.

A deadline is a timer's binding ``due_at`` (``gateway.sla``): any kind (签收, 派单, 响应, 交办反馈, 方案, 办结,
延期, 督办, 催办) still open — running or already breached — and not paused (a suspended ticket has no clock).
"明日" is the next working day of the official calendar, so a Friday's reminder also covers the weekend and
Monday, and the day before a holiday covers the holiday (docs/dashboard.md "定期通报").

Items name the platform, its ticket number, the step and the time only: never a title, content or citizen
(RULES.md §5: nothing of a ticket may leak to chat tools). Tickets not dispatched yet are the office's (办公室).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from gateway.alerts.messages import PLATFORM_SHORT, TIMER_LABELS
from gateway.calendar import WorkCalendar
from gateway.catalogue import label
from gateway.schema import SHANGHAI
from gateway.store.tables import TicketRecord
from gateway.store.tables_sla import SlaTimerRecord

OFFICE = "办公室（未派单）"
TODAY, NEXT = "today", "next"


@dataclass(frozen=True)
class DueItem:
    """One deadline in a reminder."""

    ticket_id: int
    platform: str
    external_id: str
    timer: str
    due_at: datetime  # +08:00
    when: str  # today | next
    overdue: bool

    def cells(self) -> list[str]:
        """The item as table cells (no title, no citizen)."""
        state = "已超时" if self.overdue else ("今日到期" if self.when == TODAY else "明日到期")
        return [PLATFORM_SHORT.get(self.platform) or label(self.platform), self.external_id, self.timer,
                f"{self.due_at:%m-%d %H:%M}", state]


@dataclass
class UnitReminder:
    """One unit's section."""

    unit: str
    items: list[DueItem] = field(default_factory=list)

    def count(self, when: str) -> int:
        """Deadlines due today or by the next working day."""
        return sum(1 for i in self.items if i.when == when)

    @property
    def overdue(self) -> int:
        """Of them, already past their deadline at generation time."""
        return sum(1 for i in self.items if i.overdue)


@dataclass
class DailyReminder:
    """The day's reminder: a section per unit with deadlines, in the unit directory's order."""

    day: date
    next_day: date
    sections: list[UnitReminder]

    def totals(self) -> tuple[int, int, int]:
        """(today, next working day, already overdue) over every unit."""
        return (sum(s.count(TODAY) for s in self.sections), sum(s.count(NEXT) for s in self.sections),
                sum(s.overdue for s in self.sections))


def next_label(day: date, next_day: date) -> str:
    """明日, or 下一工作日（12月7日） when the next working day is not tomorrow."""
    return "明日" if next_day == day + timedelta(days=1) else f"下一工作日（{next_day.month}月{next_day.day}日）"


def daily_reminder(session: Session, *, day: date, now: datetime, calendar: WorkCalendar,
                   unit_order: list[str] | None = None) -> DailyReminder:
    """Every open deadline due on ``day`` or by the end of the next working day, per unit."""
    next_day = calendar.next_workday_on_or_after(day + timedelta(days=1)).due_date
    lo = datetime.combine(day, time(), tzinfo=SHANGHAI)
    split = lo + timedelta(days=1)
    hi = datetime.combine(next_day + timedelta(days=1), time(), tzinfo=SHANGHAI)
    rows = session.execute(
        select(SlaTimerRecord.kind, SlaTimerRecord.due_at, TicketRecord.id, TicketRecord.platform,
               TicketRecord.external_id, TicketRecord.unit)
        .join(TicketRecord, TicketRecord.id == SlaTimerRecord.ticket_id)
        .where(SlaTimerRecord.state.in_(("running", "breached")), SlaTimerRecord.met_at.is_(None),
               SlaTimerRecord.due_at >= lo, SlaTimerRecord.due_at < hi)
        .order_by(SlaTimerRecord.due_at, TicketRecord.id)
    ).all()
    by_unit: dict[str, UnitReminder] = defaultdict(lambda: UnitReminder(""))
    for kind, due_at, ticket_id, platform, external_id, unit in rows:
        name = unit or OFFICE
        section = by_unit[name]
        section.unit = name
        section.items.append(DueItem(ticket_id, platform, external_id, TIMER_LABELS.get(kind, kind),
                                     due_at.astimezone(SHANGHAI), TODAY if due_at < split else NEXT, due_at < now))
    order = {name: index for index, name in enumerate(unit_order or [])}
    sections = sorted(by_unit.values(), key=lambda s: (s.unit == OFFICE, order.get(s.unit, len(order)), s.unit))
    return DailyReminder(day, next_day, sections)
