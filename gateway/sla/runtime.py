"""Per-process SLA state for one database: settings, the cached working calendar, wake-ups.

The lifecycle hook only gets a session, so the SLA configuration is found through the session's
engine: ``bind`` attaches a container's settings to its engine (done once, in the composition root).
An engine nobody bound is an error (``SlaNotBound``), never silently the default rules: a process that
forgot to bind would otherwise count deadlines under another bureau's profile (issue 14).
The calendar is cached per engine and rebuilt when the ``calendar`` counter's token changes, so a
year loaded by another process is used here from the next transaction on.
"""

from __future__ import annotations

import logging
import threading
import weakref
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, event
from sqlalchemy.orm import Session

from gateway.calendar import WorkCalendar
from gateway.settings import AlertSettings, SlaSettings
from gateway.sla.calendar_store import build_calendar, calendar_token, stored_years
from gateway.sla.thresholds import percents

log = logging.getLogger(__name__)

Hint = tuple[datetime, int]  # (next alert instant, timer id)
Listener = Callable[[Sequence[Hint]], None]


class SlaRuntime:
    """Settings, calendar cache and in-process wake-up listeners for one database."""

    def __init__(self, sla: SlaSettings | None = None, alerts: AlertSettings | None = None) -> None:
        self.sla = sla or SlaSettings()
        self.alerts = alerts or AlertSettings()
        self.thresholds = percents(self.sla.thresholds)
        self._lock = threading.Lock()
        self._calendar: tuple[str | None, WorkCalendar] | None = None
        self._listeners: list[Listener] = []

    def calendar(self, session: Session, *, share: bool = False) -> WorkCalendar:
        """The working calendar as of this transaction (bundled + run-time years)."""
        token = calendar_token(session, share=share)
        cached = self._calendar
        if cached is not None and cached[0] == token:
            return cached[1]
        calendar = build_calendar(stored_years(session)) if token is not None else WorkCalendar.bundled()
        with self._lock:
            self._calendar = (token, calendar)
        return calendar

    def forget_calendar(self) -> None:
        """Drop the cached calendar (tests, and after a load in this process)."""
        with self._lock:
            self._calendar = None

    def listen(self, listener: Listener) -> Callable[[], None]:
        """Call ``listener`` with (instant, timer id) hints after commits that changed timers here."""
        with self._lock:
            self._listeners.append(listener)

        def remove() -> None:
            with self._lock:
                if listener in self._listeners:
                    self._listeners.remove(listener)

        return remove

    def hint_after_commit(self, session: Session, hints: Sequence[Hint]) -> None:
        """Queue hints on the session; they reach the listeners only if its transaction commits."""
        if not hints or not self._listeners:
            return
        pending: list[Hint] | None = session.info.get("sla_hints")
        if pending is None:
            pending = session.info["sla_hints"] = []
            event.listen(session, "after_commit", self._after_commit)
            event.listen(session, "after_soft_rollback", _clear_hints)
        pending.extend(hints)

    def _after_commit(self, session: Session) -> None:
        hints: list[Hint] = session.info.pop("sla_hints", None) or []
        session.info["sla_hints"] = []
        if not hints:
            return
        for listener in list(self._listeners):
            try:
                listener(hints)
            except Exception:  # a listener must never break the committing caller
                log.exception("SLA wake-up listener failed")


def _clear_hints(session: Session, _previous: Any) -> None:
    session.info["sla_hints"] = []


_RUNTIMES: weakref.WeakKeyDictionary[Engine, SlaRuntime] = weakref.WeakKeyDictionary()
_GUARD = threading.Lock()


def bind(engine: Engine, sla: SlaSettings, alerts: AlertSettings) -> SlaRuntime:
    """Attach this deployment's SLA settings to ``engine`` (once per container)."""
    with _GUARD:
        runtime = SlaRuntime(sla, alerts)
        _RUNTIMES[engine] = runtime
        return runtime


class SlaNotBound(RuntimeError):
    """Deadline rules were asked of an engine that no composition root bound (a wiring bug)."""


def runtime_for_engine(engine: Engine) -> SlaRuntime:
    """The runtime bound to ``engine``; an unbound engine raises ``SlaNotBound``."""
    with _GUARD:
        runtime = _RUNTIMES.get(engine)
    if runtime is None:
        raise SlaNotBound(
            f"no SLA settings bound to engine {engine.url.render_as_string(hide_password=True)}: "
            "call gateway.sla.runtime.bind(engine, settings.sla, settings.alerts) where the engine is built"
        )
    return runtime


def runtime_for(session: Session) -> SlaRuntime:
    """The runtime of the engine this session talks to."""
    bind_ = session.get_bind()
    engine = bind_ if isinstance(bind_, Engine) else bind_.engine
    return runtime_for_engine(engine)
