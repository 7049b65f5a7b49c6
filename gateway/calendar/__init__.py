"""The official Chinese working-day calendar (State Council arrangements) as explicit, dated data."""

from gateway.calendar.model import HOLIDAYS, CalendarDay, CalendarYear, Notice, statutory_days_off
from gateway.calendar.workdays import WorkCalendar, WorkdayResult

__all__ = [
    "HOLIDAYS",
    "CalendarDay",
    "CalendarYear",
    "Notice",
    "WorkCalendar",
    "WorkdayResult",
    "statutory_days_off",
]
