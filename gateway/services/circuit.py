"""Per-platform circuit breaker and delivery health, kept in the database so every worker shares it.

A platform that keeps failing (transient errors, unknown outcomes) is paused, never dropped: rows
due while the circuit is open are rescheduled to when it half-opens; one probe then decides.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from gateway.store.sql import insert_ignore
from gateway.store.tables import PlatformStateRecord

WINDOW = timedelta(hours=1)


@dataclass(frozen=True)
class CircuitPolicy:
    """When to open and how long to stay open."""

    failure_threshold: int = 5
    reset_s: float = 30.0


def _state(session: Session, platform: str, now: datetime) -> PlatformStateRecord:
    state = session.get(PlatformStateRecord, platform, with_for_update=True)
    if state is None:
        # Several workers may meet a new platform at once: insert-or-ignore, then lock the one row.
        insert_ignore(
            session,
            PlatformStateRecord.__table__,  # type: ignore[arg-type]
            {"platform": platform, "circuit": "closed", "failures": 0, "window_started_at": now,
             "window_ok": 0, "window_err": 0},
            conflict=["platform"],
            returning="platform",
        )
        state = session.get_one(PlatformStateRecord, platform, with_for_update=True, populate_existing=True)
    if now - state.window_started_at > WINDOW:
        state.window_started_at, state.window_ok, state.window_err = now, 0, 0
    return state


def admit(session: Session, *, platform: str, policy: CircuitPolicy, now: datetime) -> datetime | None:
    """None when a request may go now; otherwise when to try again (the circuit is open)."""
    state = _state(session, platform, now)
    if state.circuit == "closed":
        return None
    if state.opened_until is not None and now < state.opened_until:
        return state.opened_until
    # Open long enough: let exactly this request through as the probe; others wait another period.
    state.circuit, state.opened_until = "half_open", now + timedelta(seconds=policy.reset_s)
    return None


def record(
    session: Session, *, platform: str, ok: bool, policy: CircuitPolicy, now: datetime, error: str | None = None
) -> bool:
    """Count an outcome; a success closes the circuit, enough failures (or a failed probe) open it.

    True when this outcome closed a circuit that was open or half-open (the rows it held may go now).
    """
    state = _state(session, platform, now)
    if ok:
        closed_now = state.circuit != "closed"
        state.circuit, state.failures, state.opened_until, state.last_ok_at = "closed", 0, None, now
        state.window_ok += 1
        return closed_now
    state.failures += 1
    state.window_err += 1
    state.last_error, state.last_error_at = (error or "")[:2000], now
    if state.circuit == "half_open" or state.failures >= policy.failure_threshold:
        state.circuit, state.opened_until = "open", now + timedelta(seconds=policy.reset_s)
    return False
