"""Repository functions for alerts: emit exactly once, group into deliveries, settle, acknowledge, list.

``emit`` is INSERT … ON CONFLICT (dedup_key) DO NOTHING RETURNING: only the transaction whose row
lands gets its id back, and only it writes the deliveries. Two engines, a retry after a crash, or a
restart can all try the same alert; exactly one row and one set of deliveries come out of it.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Select, case, func, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from gateway.alerts.messages import SEVERITY_RANK, TITLES, digest_lines, digest_title
from gateway.errors import DomainError, NotFound
from gateway.settings import AlertSettings
from gateway.store.tables import TicketRecord
from gateway.store.tables_sla import AlertDeliveryRecord, AlertRecord

CHUNK = 500
RECENT_DELIVERIES = 500  # the newest deliveries read to count a sink's alerts in the digest window


@dataclass(frozen=True)
class NewAlert:
    """An alert to emit; ``dedup_key`` names the one occasion it may be emitted for."""

    dedup_key: str
    kind: str
    severity: str
    message: str
    fire_at: datetime
    audience: str = "duty"
    state: str = "active"
    ticket_id: int | None = None
    timer_id: int | None = None
    platform: str | None = None
    external_id: str | None = None
    timer_kind: str | None = None
    cycle: int | None = None
    threshold: int | None = None
    due_at: datetime | None = None
    next_repeat_at: datetime | None = None


@dataclass(frozen=True)
class Route:
    """Where alerts go: a sink name, the audiences it serves and the lowest severity it takes."""

    sink: str
    audiences: tuple[str, ...]
    min_severity: str

    def takes(self, alert: NewAlert) -> bool:
        """Whether this sink should hear of ``alert``."""
        return alert.audience in self.audiences and SEVERITY_RANK[alert.severity] >= SEVERITY_RANK[self.min_severity]


def emit(session: Session, alerts: Sequence[NewAlert], *, now: datetime) -> list[tuple[int, NewAlert]]:
    """Insert the alerts not emitted before; returns (id, alert) for those this transaction emitted."""
    dialect: Any = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    table: Any = AlertRecord.__table__
    by_key = {a.dedup_key: a for a in alerts}
    emitted: list[tuple[int, NewAlert]] = []
    keys = list(by_key)
    for start in range(0, len(keys), CHUNK):
        rows = [_row(by_key[k], now) for k in keys[start : start + CHUNK]]
        stmt = dialect.insert(table).values(rows).on_conflict_do_nothing(index_elements=["dedup_key"])
        for alert_id, key in session.execute(stmt.returning(table.c.id, table.c.dedup_key)):
            emitted.append((int(alert_id), by_key[key]))
    emitted.sort(key=lambda pair: pair[0])
    return emitted


def _row(alert: NewAlert, now: datetime) -> dict[str, Any]:
    row = asdict(alert)
    row.update(created_at=now, latency_s=max((now - alert.fire_at).total_seconds(), 0.0), repeat_count=0,
               resolved_at=now if alert.state == "resolved" else None)  # multi-row VALUES: same keys per row
    return row


def options(config: AlertSettings) -> dict[str, Any]:
    """The grouping settings ``enqueue_deliveries`` takes, from the alert settings."""
    return {"group_max": config.group_max_lines, "digest_over": config.digest_threshold,
            "digest_window_s": config.digest_window_s}


def enqueue_deliveries(
    session: Session, emitted: Sequence[tuple[int, NewAlert]], *, routes: Sequence[Route], now: datetime,
    group_max: int, title: str | None = None, digest_over: int | None = None, digest_window_s: float = 60.0,
) -> list[int]:
    """One delivery per sink per group of at most ``group_max`` alerts; returns the delivery ids.

    A flood becomes a digest (issue 13): when a sink would get more than ``digest_over`` alerts within
    ``digest_window_s`` (those delivered to it in the window plus these), these go to it as ONE
    message counting them by kind and unit, without ticket numbers or any text of a ticket; the
    dashboard's 告警 page has the rows, grouped the same way, to acknowledge in bulk.
    """
    live = [(i, a) for i, a in emitted if a.state == "active"]
    rows: list[AlertDeliveryRecord] = []
    recent: Counter[str] = Counter()
    units: dict[int, str | None] = {}
    if digest_over is not None and live and routes:
        recent = _recent_alerts(session, since=now - timedelta(seconds=digest_window_s))
        units = _units(session, [i for i, _ in live])
    for route in routes:
        mine = sorted((p for p in live if route.takes(p[1])), key=lambda p: -SEVERITY_RANK[p[1].severity])
        if mine and digest_over is not None and recent[route.sink] + len(mine) > digest_over:
            counts = Counter((a.kind, a.threshold, units.get(i)) for i, a in mine)
            rows.append(AlertDeliveryRecord(
                alert_id=mine[0][0], alert_ids=[i for i, _ in mine], sink=route.sink, severity=mine[0][1].severity,
                title=digest_title(len(mine), recent[route.sink] + len(mine), digest_window_s),
                lines=digest_lines(counts), state="pending", attempts=0, next_attempt_at=now, rung_at=now,
                created_at=now,
            ))
            continue
        for start in range(0, len(mine), max(group_max, 1)):
            group = mine[start : start + group_max]
            top = group[0][1]
            heading = title or (TITLES.get(top.kind, top.kind) if len(group) == 1 else f"SLA告警 {len(group)} 条")
            rows.append(AlertDeliveryRecord(
                alert_id=group[0][0], alert_ids=[i for i, _ in group], sink=route.sink, severity=top.severity,
                title=heading, lines=[a.message for _, a in group], state="pending", attempts=0,
                next_attempt_at=now, rung_at=now, created_at=now,
            ))
    session.add_all(rows)
    session.flush()
    return [r.id for r in rows]


def _recent_alerts(session: Session, *, since: datetime) -> Counter[str]:
    """Alerts delivered per sink since ``since``, from the newest deliveries (read backwards by id)."""
    newest = session.execute(
        select(AlertDeliveryRecord.sink, AlertDeliveryRecord.alert_ids, AlertDeliveryRecord.created_at)
        .order_by(AlertDeliveryRecord.id.desc()).limit(RECENT_DELIVERIES)
    ).all()
    counts: Counter[str] = Counter()
    for sink, alert_ids, created_at in newest:
        if created_at >= since:
            counts[sink] += len(alert_ids or ())
    return counts


def _units(session: Session, alert_ids: Sequence[int]) -> dict[int, str | None]:
    """The unit in charge of each alert's ticket (None: no ticket, or not dispatched yet)."""
    found: dict[int, str | None] = {}
    for start in range(0, len(alert_ids), CHUNK):
        part = list(alert_ids[start : start + CHUNK])
        stmt = (select(AlertRecord.id, TicketRecord.unit)
                .outerjoin(TicketRecord, TicketRecord.id == AlertRecord.ticket_id).where(AlertRecord.id.in_(part)))
        found.update({int(i): u for i, u in session.execute(stmt)})
    return found


def settle_timer(session: Session, *, timer_id: int, now: datetime) -> None:
    """A timer was met or cancelled: its warnings resolve, its breach stops repeating."""
    session.execute(
        update(AlertRecord)
        .where(AlertRecord.timer_id == timer_id, AlertRecord.state == "active", AlertRecord.kind == "warning")
        .values(state="resolved", resolved_at=now)
        .execution_options(synchronize_session=False)
    )
    session.execute(
        update(AlertRecord)
        .where(AlertRecord.timer_id == timer_id, AlertRecord.next_repeat_at.is_not(None))
        .values(next_repeat_at=None)
        .execution_options(synchronize_session=False)
    )


def supersede_warnings(session: Session, *, timer_ids: Sequence[int], below: int, now: datetime) -> None:
    """Older warnings of these timers resolve once a higher threshold has been emitted (dedup)."""
    if not timer_ids:
        return
    session.execute(
        update(AlertRecord)
        .where(AlertRecord.timer_id.in_(list(timer_ids)), AlertRecord.state == "active",
               AlertRecord.kind == "warning", AlertRecord.threshold < below)
        .values(state="resolved", resolved_at=now)
        .execution_options(synchronize_session=False)
    )


def acknowledge(
    session: Session, *, alert_ids: Sequence[int], by: str, now: datetime, unit: str | None = None,
) -> tuple[list[AlertRecord], list[AlertRecord]]:
    """确认 one alert or many at once: stops their repeats and escalation; returns (acknowledged, skipped).

    Every id must exist (and, with ``unit``, belong to a ticket of that unit), else nothing is done
    (``NotFound``). Alerts someone acknowledged meanwhile are skipped; when none is left, refused.
    """
    ids = sorted(set(alert_ids))
    if not ids:
        raise DomainError("未选择告警", code="invalid_input")
    stmt = select(AlertRecord).where(AlertRecord.id.in_(ids)).order_by(AlertRecord.id).with_for_update()
    if unit is not None:  # a unit's own tickets only; another unit's alert reads as missing
        stmt = stmt.join(TicketRecord, TicketRecord.id == AlertRecord.ticket_id).where(TicketRecord.unit == unit)
    alerts = list(session.scalars(stmt.execution_options(populate_existing=True)))
    missing = set(ids) - {a.id for a in alerts}
    if missing:
        shown = "、".join(str(i) for i in sorted(missing)[:5])
        raise NotFound(f"告警不存在：{shown}")
    done = [a for a in alerts if a.state != "acknowledged"]
    skipped = [a for a in alerts if a.state == "acknowledged"]
    if not done:
        first = skipped[0]
        raise DomainError(f"告警已由{first.acknowledged_by}确认", code="invalid_state")
    for alert in done:
        alert.state, alert.acknowledged_by, alert.acknowledged_at, alert.next_repeat_at = "acknowledged", by, now, None
    return done, skipped


@dataclass(frozen=True)
class AlertGroup:
    """Active alerts of one kind and threshold for one unit (None: no ticket or not dispatched)."""

    kind: str
    threshold: int | None
    unit: str | None
    count: int
    severity: str
    first_at: datetime
    last_at: datetime


def active_groups(session: Session, *, unit: str | None = None) -> list[AlertGroup]:
    """The unacknowledged alerts grouped per kind/threshold and unit, the largest group first."""
    rank = case(*((AlertRecord.severity == name, n) for name, n in SEVERITY_RANK.items()), else_=0)
    stmt = (
        select(AlertRecord.kind, AlertRecord.threshold, TicketRecord.unit, func.count(), func.max(rank),
               func.min(AlertRecord.created_at), func.max(AlertRecord.created_at))
        .outerjoin(TicketRecord, TicketRecord.id == AlertRecord.ticket_id)
        .where(AlertRecord.state == "active")
        .group_by(AlertRecord.kind, AlertRecord.threshold, TicketRecord.unit)
    )
    if unit is not None:
        stmt = stmt.where(TicketRecord.unit == unit)
    by_rank = {n: name for name, n in SEVERITY_RANK.items()}
    groups = [AlertGroup(k, t, u, int(n), by_rank.get(int(r or 0), "info"), first, last)
              for k, t, u, n, r, first, last in session.execute(stmt)]
    return sorted(groups, key=lambda g: (-g.count, g.kind, g.threshold or 0, g.unit or ""))


def group_ids(
    session: Session, *, kind: str, threshold: int | None, unit: str | None, scope: str | None = None,
    limit: int = 5000,
) -> list[int]:
    """The ids of the active alerts in one group (``scope``: the caller's own unit, if limited to one)."""
    if scope is not None and unit != scope:
        return []
    stmt = (select(AlertRecord.id).outerjoin(TicketRecord, TicketRecord.id == AlertRecord.ticket_id)
            .where(AlertRecord.state == "active", AlertRecord.kind == kind))
    stmt = stmt.where(AlertRecord.threshold.is_(None) if threshold is None else AlertRecord.threshold == threshold)
    stmt = stmt.where(TicketRecord.unit.is_(None) if unit is None else TicketRecord.unit == unit)
    return [int(i) for i in session.scalars(stmt.order_by(AlertRecord.id).limit(limit))]


def alert_query(state: str) -> Select[AlertRecord]:
    """Alerts in ``state`` (active, acknowledged, resolved) or all."""
    stmt = select(AlertRecord)
    return stmt if state == "all" else stmt.where(AlertRecord.state == state)


def list_alerts(session: Session, *, state: str, limit: int, before_id: int | None = None) -> list[AlertRecord]:
    """Newest first, keyset paging on id."""
    stmt = alert_query(state)
    if before_id is not None:
        stmt = stmt.where(AlertRecord.id < before_id)
    return list(session.scalars(stmt.order_by(AlertRecord.id.desc()).limit(limit)))
