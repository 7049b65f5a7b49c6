"""Epoch milliseconds (PLATFORMS.md §4) <-> aware Asia/Shanghai datetimes, in integer arithmetic."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from gateway.errors import MappingError
from gateway.schema import SHANGHAI

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
ONE_MS = timedelta(milliseconds=1)
# Below this an integer is epoch *seconds* (any date after 1973-03 has more than 11 digits in ms),
# the classic mistake of a sender that forgot the unit: refuse it rather than date a letter 1970.
MIN_MS = 100_000_000_000
MAX_MS = 32_503_680_000_000  # year 3000: anything later is garbage, not a time


def from_epoch_ms(value: object, field: str) -> datetime:
    """An aware Asia/Shanghai datetime from epoch ms; ``MappingError`` for seconds, floats or text."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise MappingError("not an integer of epoch milliseconds", field=field, value=value)
    if value < MIN_MS:
        raise MappingError("too small for epoch milliseconds (seconds?)", field=field, value=value)
    if value > MAX_MS:
        raise MappingError("too large for epoch milliseconds", field=field, value=value)
    # Integer timedelta, not value / 1000: a float would round some milliseconds away.
    return (EPOCH + value * ONE_MS).astimezone(SHANGHAI)


def to_epoch_ms(moment: datetime, field: str) -> int:
    """Epoch ms of an aware datetime; a naive one is refused (its zone is unknown)."""
    if moment.utcoffset() is None:
        raise MappingError("time without a UTC offset", field=field, value=moment.isoformat())
    return (moment - EPOCH) // ONE_MS
