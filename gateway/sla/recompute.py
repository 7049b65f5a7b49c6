"""Load a calendar year at run time, or change the deadline policy, and recompute every open deadline.

One transaction: the new version token (which, on PostgreSQL, waits for transactions still computing
deadlines with the old calendar), the year row, the recomputation and the audit entry. Due dates are
computed in Python (memoised: tickets share issue days) and written set-based: COPY into a temporary
table and one UPDATE … FROM on PostgreSQL, executemany on SQLite.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select, text, update
from sqlalchemy.orm import Session

from gateway.alerts.store import settle_timer
from gateway.calendar import CalendarYear, WorkCalendar
from gateway.sla.calendar_store import audit, build_calendar, bump_version, save_year, stored_years
from gateway.sla.deadlines import to_shanghai
from gateway.sla.derive import DISPATCH, EXTENSION, FEEDBACK, PLAN, RESOLUTION, RESPONSE, SIGN_OFF
from gateway.sla.limits import PLATFORM, Binding, LimitSpec, TimerInputs, compute, fixed
from gateway.sla.policy import DeadlinePolicy
from gateway.sla.profiles import PROFILE_LABELS
from gateway.sla.runtime import SlaRuntime
from gateway.sla.thresholds import next_alert
from gateway.store.tables_sla import OPEN_STATES, SlaCounterRecord, SlaTimerEventRecord, SlaTimerRecord

T = SlaTimerRecord
COLUMNS = (T.id, T.ticket_id, T.kind, T.platform, T.rule_key, T.started_at, T.platform_due_at, T.paused_total_s,
           T.due_at, T.provisional, T.last_threshold, T.state, T.ext_days, T.ext_from, T.limits, T.rule, T.source,
           T.label)
CALENDAR_KINDS = (DISPATCH, FEEDBACK, PLAN, RESOLUTION, EXTENSION)  # deadlines counted in days
POLICY_KINDS = (SIGN_OFF, RESPONSE, *CALENDAR_KINDS)  # 督办/催办 deadlines are set by people, not the policy
POLICY_COUNTER = "policy"
DAY_KINDS = frozenset(CALENDAR_KINDS)


@dataclass(frozen=True)
class RecomputeReport:
    """How many open timers were looked at, and how many deadlines moved (or were cancelled)."""

    scanned: int
    changed: int


def load_year(
    session: Session, *, year: CalendarYear, runtime: SlaRuntime, actor: str, now: datetime, replace: bool = False
) -> RecomputeReport:
    """Store ``year``, recompute every open deadline with the new calendar, and audit both."""
    token = bump_version(session, now=now)
    replaced = save_year(session, year=year, actor=actor, now=now, replace=replace)
    calendar = build_calendar(stored_years(session))
    why = f"导入{year.year}年节假日安排（{year.notice.document_number}）"
    report = recompute_open(session, calendar=calendar, runtime=runtime, now=now, actor=actor, why=why)
    audit(session, actor=actor, action="calendar_loaded", now=now, year=year.year, replaced=replaced,
          document_number=year.notice.document_number, version=token,
          scanned=report.scanned, changed=report.changed)
    return report


def recompute_open(
    session: Session, *, calendar: WorkCalendar, runtime: SlaRuntime, now: datetime, actor: str, why: str,
    kinds: tuple[str, ...] = CALENDAR_KINDS, policy: DeadlinePolicy | None = None,
) -> RecomputeReport:
    """Recompute the due of every open timer of ``kinds`` (default: those counted on the calendar)."""
    policy = policy or runtime.sla
    stmt = (select(*COLUMNS).where(T.state.in_(OPEN_STATES), T.kind.in_(kinds))
            .execution_options(yield_per=20_000))
    memo: dict[tuple[Any, ...], Binding | None] = {}
    changes: list[tuple[Any, ...]] = []
    scanned = 0
    for row in session.execute(stmt):
        scanned += 1
        binding = _due(row, calendar, policy, memo)
        if binding is None:  # the rule is gone (a new profile has no such timer) and nothing else binds
            changes.append((row.id, row.ticket_id, row.due_at, row.provisional, None, None, "cancelled", row.due_at,
                            row.rule, row.source, row.label))
            continue
        new_due = binding.due_at.astimezone(UTC)
        if row.paused_total_s:
            new_due += timedelta(seconds=row.paused_total_s)
        same_basis = (binding.rule, binding.source, binding.label) == (row.rule, row.source, row.label)
        if new_due == row.due_at and binding.provisional == row.provisional and same_basis:
            continue
        state = "running" if row.state == "breached" and new_due > now else row.state
        nxt = None if state == "paused" else next_alert(row.started_at, new_due, runtime.thresholds,
                                                        row.last_threshold)
        changes.append((row.id, row.ticket_id, new_due, binding.provisional, nxt.threshold if nxt else None,
                        nxt.at if nxt else None, state, row.due_at, binding.rule, binding.source, binding.label))
    if changes:
        writer = _write_postgres if session.get_bind().dialect.name == "postgresql" else _write_portable
        writer(session, changes, now=now, actor=actor, why=why)
        for change in changes:
            if change[6] == "cancelled":
                settle_timer(session, timer_id=change[0], now=now)
    return RecomputeReport(scanned, len(changes))


def policy_fingerprint(policy: DeadlinePolicy) -> str:
    """A short hash of the deadline rules in force (engine settings left out)."""
    return hashlib.sha256(policy.rules().model_dump_json().encode()).hexdigest()[:32]


def apply_policy(
    session: Session, *, runtime: SlaRuntime, now: datetime, actor: str = "system"
) -> RecomputeReport | None:
    """After a change of the deadline policy (profile or override): recompute every open deadline, audited.

    The fingerprint of the rules last applied is kept in the ``policy`` counter; None when unchanged.
    """
    fingerprint = policy_fingerprint(runtime.sla)
    row = session.get(SlaCounterRecord, POLICY_COUNTER, with_for_update=True)
    if row is not None and row.token == fingerprint:
        return None
    previous = row.token if row is not None else None
    policy = runtime.sla
    why = f"期限规则变更：{PROFILE_LABELS.get(policy.profile, policy.profile)}"
    report = recompute_open(session, calendar=runtime.calendar(session), runtime=runtime, now=now, actor=actor,
                            why=why, kinds=POLICY_KINDS)
    record_policy(session, policy=policy, now=now)
    audit(session, actor=actor, action="policy_changed", now=now, profile=policy.profile, fingerprint=fingerprint,
          previous=previous, scanned=report.scanned, changed=report.changed)
    return report


def record_policy(session: Session, *, policy: DeadlinePolicy, now: datetime) -> None:
    """Note that the open timers follow ``policy`` (after a recompute, or when they were made with it)."""
    fingerprint = policy_fingerprint(policy)
    row = session.get(SlaCounterRecord, POLICY_COUNTER, with_for_update=True)
    if row is None:
        session.add(SlaCounterRecord(name=POLICY_COUNTER, value=1, token=fingerprint, updated_at=now))
    else:
        row.value, row.token, row.updated_at = row.value + 1, fingerprint, now
    session.flush()


def _limits(row: Any, policy: DeadlinePolicy) -> list[LimitSpec]:
    if row.limits is not None:
        return list(row.limits)
    if row.platform_due_at is None:  # a timer from before limits were stored: its platform due, if any
        return []
    label = "平台签收截止时间" if row.kind == SIGN_OFF else "平台办理截止时间"
    return [fixed(row.platform_due_at, source=PLATFORM, rule=policy.platform_article, label=label)]


def _due(row: Any, calendar: WorkCalendar, policy: DeadlinePolicy,
         memo: dict[tuple[Any, ...], Binding | None]) -> Binding | None:
    limits = _limits(row, policy)
    # Day-counted deadlines depend on the start's date only: tickets of one day share one computation.
    start = to_shanghai(row.started_at)
    key = (row.kind, row.platform, row.rule_key, start.date() if row.kind in DAY_KINDS else start,
           repr(limits), row.ext_days, row.ext_from)
    if key not in memo:
        inputs = TimerInputs(row.kind, row.platform, row.rule_key, row.started_at, limits, row.ext_days, row.ext_from)
        memo[key] = compute(inputs, calendar, policy)
    return memo[key]


def _write_portable(session: Session, changes: Iterable[tuple[Any, ...]], *, now: datetime, actor: str,
                    why: str) -> None:
    rows = list(changes)
    session.execute(update(T).execution_options(synchronize_session=False), [
        {"id": c[0], "due_at": c[2], "provisional": c[3], "next_threshold": c[4], "next_alert_at": c[5],
         "state": c[6], "updated_at": now, "rule": c[8], "source": c[9], "label": c[10]} for c in rows
    ])
    session.execute(SlaTimerEventRecord.__table__.insert(), [  # type: ignore[attr-defined]
        {"timer_id": c[0], "ticket_id": c[1], "at": now, "kind": "cancelled" if c[6] == "cancelled" else "recomputed",
         "actor": actor, "reason": why, "detail": {"old_due": c[7].isoformat(), "new_due": c[2].isoformat()}}
        for c in rows
    ])


def _naive(moment: datetime | None) -> datetime | None:
    return None if moment is None else moment.astimezone(UTC).replace(tzinfo=None)


def _write_postgres(session: Session, changes: Iterable[tuple[Any, ...]], *, now: datetime, actor: str,
                    why: str) -> None:
    session.execute(text(
        "CREATE TEMP TABLE sla_recompute (id bigint PRIMARY KEY, ticket_id bigint, due_at timestamp,"
        " provisional boolean, next_threshold integer, next_alert_at timestamp, state varchar(16),"
        " old_due timestamp, rule varchar(64), source varchar(16), label varchar(120)) ON COMMIT DROP"
    ))
    raw: Any = session.connection().connection.driver_connection
    with raw.cursor() as cursor, cursor.copy("COPY sla_recompute FROM STDIN") as copy:
        for c in changes:
            copy.write_row((c[0], c[1], _naive(c[2]), c[3], c[4], _naive(c[5]), c[6], _naive(c[7]), c[8], c[9],
                            c[10]))
    params = {"now": _naive(now), "actor": actor, "why": why}
    session.execute(text(
        "UPDATE sla_timers t SET due_at = r.due_at, provisional = r.provisional, next_threshold = r.next_threshold,"
        " next_alert_at = r.next_alert_at, state = r.state, updated_at = :now, rule = r.rule, source = r.source,"
        " label = r.label FROM sla_recompute r WHERE t.id = r.id"
    ), params)
    session.execute(text(
        "INSERT INTO sla_timer_events (timer_id, ticket_id, at, kind, actor, reason, detail)"
        " SELECT r.id, r.ticket_id, :now, CASE WHEN r.state = 'cancelled' THEN 'cancelled' ELSE 'recomputed' END,"
        " :actor, :why,"
        " jsonb_build_object('old_due', to_char(r.old_due, :iso), 'new_due', to_char(r.due_at, :iso))"
        " FROM sla_recompute r"
    ), {**params, "iso": 'YYYY-MM-DD"T"HH24:MI:SS"+00:00"'})
    session.execute(text("DROP TABLE sla_recompute"))
