"""Repository functions for alerts: emit exactly once, group into deliveries, settle, acknowledge, list.

``emit`` is INSERT … ON CONFLICT (dedup_key) DO NOTHING RETURNING: only the transaction whose row
lands gets its id back, and only it writes the deliveries. Two engines, a retry after a crash, or a
restart can all try the same alert; exactly one row and one set of deliveries come out of it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Select, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from gateway.alerts.messages import SEVERITY_RANK, TITLES
from gateway.errors import DomainError, NotFound
from gateway.store.tables_sla import AlertDeliveryRecord, AlertRecord

CHUNK = 500


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


def enqueue_deliveries(
    session: Session, emitted: Sequence[tuple[int, NewAlert]], *, routes: Sequence[Route], now: datetime,
    group_max: int, title: str | None = None,
) -> list[int]:
    """One delivery per sink per group of at most ``group_max`` alerts; returns the delivery ids."""
    live = [(i, a) for i, a in emitted if a.state == "active"]
    rows: list[AlertDeliveryRecord] = []
    for route in routes:
        mine = sorted((p for p in live if route.takes(p[1])), key=lambda p: -SEVERITY_RANK[p[1].severity])
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


def acknowledge(session: Session, *, alert_id: int, by: str, now: datetime) -> AlertRecord:
    """确认: stops repeats and escalation of this alert; acknowledging twice is refused."""
    alert = session.get(AlertRecord, alert_id, with_for_update=True)
    if alert is None:
        raise NotFound("告警不存在")
    if alert.state == "acknowledged":
        raise DomainError(f"告警已由{alert.acknowledged_by}确认", code="invalid_state")
    alert.state, alert.acknowledged_by, alert.acknowledged_at, alert.next_repeat_at = "acknowledged", by, now, None
    return alert


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
