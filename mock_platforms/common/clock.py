"""Asia/Shanghai time helpers shared by the mocks."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

# China has kept UTC+8 without daylight saving since 1991, so a fixed offset is exact and
# spares the mocks a dependency on the system tz database.
SHANGHAI = timezone(timedelta(hours=8), "Asia/Shanghai")


def now_cn() -> datetime:
    """Return the current time in Asia/Shanghai, truncated to whole seconds."""
    return datetime.now(SHANGHAI).replace(microsecond=0)


def iso_cn(moment: datetime) -> str:
    """Format a time as ISO-8601 with the +08:00 offset."""
    return moment.astimezone(SHANGHAI).replace(microsecond=0).isoformat()


def parse_iso(text: str, *, naive_as_local: bool = True) -> datetime:
    """Parse an ISO-8601 time; a naive value is read as Asia/Shanghai local time.

    Raises ValueError when the text is not ISO-8601, or is naive and naive_as_local is False.
    """
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        # An unencoded "+08:00" in a query string arrives as " 08:00"; accept it rather than
        # make every client discover the encoding rule the hard way.
        moment = datetime.fromisoformat(text.replace(" ", "+"))
    if moment.tzinfo is None:
        if not naive_as_local:
            raise ValueError("time has no UTC offset")
        moment = moment.replace(tzinfo=SHANGHAI)
    return moment


def end_of_day(day: date) -> datetime:
    """Return 23:59:59 of the day in Asia/Shanghai."""
    return datetime(day.year, day.month, day.day, 23, 59, 59, tzinfo=SHANGHAI)


def add_weekdays(start: date, days: int) -> date:
    """Return the date `days` weekdays after `start` (weekends only, no holiday calendar).

    The mocks only need plausible platform deadlines; the gateway computes the real ones on the
    official working-day calendar and must not trust these.
    """
    current = start
    left = days
    while left > 0:
        current += timedelta(days=1)
        if current.weekday() < 5:
            left -= 1
    return current
