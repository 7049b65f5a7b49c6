"""Warning and breach thresholds of a timer's window, as whole percents (50, 75, 90, 100).

A threshold ``p`` of a window that started at ``s`` and is due at ``d`` falls at ``s + p/100·(d − s)``;
100 is the breach. Percents, not fractions, so an alert's dedup key is exact and readable.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import NamedTuple

BREACH = 100


class NextAlert(NamedTuple):
    """The next threshold a timer will cross, and when."""

    threshold: int
    at: datetime


def percents(fractions: Sequence[float]) -> tuple[int, ...]:
    """Configured warning fractions as sorted whole percents, with the breach (100) last."""
    warnings = sorted({round(f * 100) for f in fractions if 0 < f < 1})
    return (*[p for p in warnings if 0 < p < BREACH], BREACH)


def fire_at(started_at: datetime, due_at: datetime, threshold: int) -> datetime:
    """The instant ``threshold`` percent of the window has elapsed (the due instant itself for 100)."""
    if threshold >= BREACH or due_at <= started_at:
        return due_at
    return started_at + (due_at - started_at) * threshold / BREACH


def next_alert(
    started_at: datetime, due_at: datetime, thresholds: Sequence[int], after: int
) -> NextAlert | None:
    """The first threshold above ``after`` (the highest already alerted), or None when all are done."""
    for threshold in thresholds:
        if threshold > after:
            return NextAlert(threshold, fire_at(started_at, due_at, threshold))
    return None


def crossed(
    started_at: datetime, due_at: datetime, thresholds: Sequence[int], after: int, now: datetime
) -> list[int]:
    """Thresholds above ``after`` whose instant is at or before ``now``, ascending."""
    return [t for t in thresholds if t > after and fire_at(started_at, due_at, t) <= now]
