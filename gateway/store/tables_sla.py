"""SLA tables: timers per ticket and their event log, alerts and their deliveries, loaded calendar years,
and the bulletins generated on a schedule (delivered through the same delivery rows as alerts).

Timers are derived from ticket state (``gateway.sla.timers``); ``next_alert_at`` is the instant of a
timer's next warning or breach threshold, so the engine finds what is due with one index range scan.
Alerts are unique on ``dedup_key``: inserting one is the exactly-once gate for every process.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Date,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from gateway.store.db import utcnow
from gateway.store.tables import Base, BigId, JSONType

OPEN_STATES = ("running", "paused", "breached")  # met_at is NULL in these states


class SlaTimerRecord(Base):
    """One deadline of one ticket: sign_off, response, resolution or extension, per handling cycle."""

    __tablename__ = "sla_timers"
    __table_args__ = (
        UniqueConstraint("ticket_id", "kind", "cycle", "seq", name="uq_sla_timers_ticket_kind_cycle_seq"),
        Index(
            "ix_sla_timers_next_alert",
            "next_alert_at",
            postgresql_where=text("next_alert_at IS NOT NULL"),
            sqlite_where=text("next_alert_at IS NOT NULL"),
        ),
        Index("ix_sla_timers_state", "state", "kind", "platform"),
        Index("ix_sla_timers_ticket", "ticket_id"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id"))
    platform: Mapped[str] = mapped_column(String(32))
    # sign_off | dispatch | response | first_feedback | plan | resolution | extension | supervision | urge
    kind: Mapped[str] = mapped_column(String(16))
    cycle: Mapped[int] = mapped_column(Integer, default=1)  # 重办 opens the next cycle
    seq: Mapped[int] = mapped_column(Integer, default=0)  # extension number within the cycle
    state: Mapped[str] = mapped_column(String(16), default="running")  # + met|paused|breached|cancelled|superseded
    started_at: Mapped[datetime]
    due_at: Mapped[datetime]
    met_at: Mapped[datetime | None]
    provisional: Mapped[bool] = mapped_column(default=False)
    paused_at: Mapped[datetime | None]
    paused_total_s: Mapped[float] = mapped_column(Float, default=0.0)
    rule_key: Mapped[str | None] = mapped_column(String(32))  # policy key (投诉, 一般…); None: no calendar rule
    platform_due_at: Mapped[datetime | None]  # the external limit that binds (platform, 督办), if one does
    rule: Mapped[str | None] = mapped_column(String(64))  # article of the binding deadline (000 限时办结 一)
    source: Mapped[str | None] = mapped_column(String(16))  # policy | platform | bureau
    label: Mapped[str | None] = mapped_column(String(120))  # what the binding limit is, in Chinese
    limits: Mapped[list[Any] | None] = mapped_column(JSONType, nullable=True)  # external limits (gateway.sla.limits)
    ext_days: Mapped[int | None] = mapped_column(Integer)  # policy extension: working days added…
    ext_from: Mapped[datetime | None]  # …to this deadline
    last_threshold: Mapped[int] = mapped_column(Integer, default=0)  # highest percent alerted so far
    next_threshold: Mapped[int | None] = mapped_column(Integer)
    next_alert_at: Mapped[datetime | None]
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class SlaTimerEventRecord(Base):
    """Append-only log of a timer: started, paused, resumed, extended, met, breached, recomputed…"""

    __tablename__ = "sla_timer_events"
    __table_args__ = (Index("ix_sla_timer_events_timer", "timer_id", "id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    timer_id: Mapped[int] = mapped_column(ForeignKey("sla_timers.id"))
    ticket_id: Mapped[int] = mapped_column(BigId)
    at: Mapped[datetime] = mapped_column(default=utcnow)
    kind: Mapped[str] = mapped_column(String(16))
    actor: Mapped[str] = mapped_column(String(100))
    reason: Mapped[str] = mapped_column(Text, default="")
    detail: Mapped[dict[str, Any]] = mapped_column(default=dict)


class AlertRecord(Base):
    """One alert, emitted exactly once per ``dedup_key`` (e.g. timer 7 at 90 %)."""

    __tablename__ = "alerts"
    __table_args__ = (
        UniqueConstraint("dedup_key", name="uq_alerts_dedup_key"),
        Index("ix_alerts_state", "state", "id"),
        Index("ix_alerts_timer", "timer_id"),
        Index("ix_alerts_repeat", "kind", "state", "next_repeat_at"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    dedup_key: Mapped[str] = mapped_column(String(160))
    kind: Mapped[str] = mapped_column(String(24))  # warning|breach|escalation|calendar_missing|auto_signed
    severity: Mapped[str] = mapped_column(String(16))  # info | warning | critical
    state: Mapped[str] = mapped_column(String(16), default="active")  # active | acknowledged | resolved
    audience: Mapped[str] = mapped_column(String(16), default="duty")  # duty | leader
    ticket_id: Mapped[int | None] = mapped_column(BigId, nullable=True)
    timer_id: Mapped[int | None] = mapped_column(BigId, nullable=True)
    platform: Mapped[str | None] = mapped_column(String(32))
    external_id: Mapped[str | None] = mapped_column(String(64))
    timer_kind: Mapped[str | None] = mapped_column(String(16))
    cycle: Mapped[int | None] = mapped_column(Integer)
    threshold: Mapped[int | None] = mapped_column(Integer)  # percent of the window; 100 = breach
    message: Mapped[str] = mapped_column(Text)
    due_at: Mapped[datetime | None]
    fire_at: Mapped[datetime]  # the instant the alert was due
    created_at: Mapped[datetime] = mapped_column(default=utcnow)  # the instant it was emitted
    latency_s: Mapped[float | None] = mapped_column(Float)
    acknowledged_by: Mapped[str | None] = mapped_column(String(100))
    acknowledged_at: Mapped[datetime | None]
    resolved_at: Mapped[datetime | None]
    repeat_count: Mapped[int] = mapped_column(Integer, default=0)
    next_repeat_at: Mapped[datetime | None]
    escalated_at: Mapped[datetime | None]


class BulletinRecord(Base):
    """A bulletin generated on a schedule (002 二(一) 日提醒、周反馈、月通报; 001 三(五) 12389 分析): kept as sent.

    ``(kind, period)`` is unique: inserting the row is the exactly-once gate for every scheduler process.
    ``document`` is what the page shows (title, paragraphs, tables), ``xlsx`` the workbook the email carried.
    Never updated.
    """

    __tablename__ = "bulletins"
    __table_args__ = (
        UniqueConstraint("kind", "period", name="uq_bulletins_kind_period"),
        Index("ix_bulletins_generated", "generated_at"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    kind: Mapped[str] = mapped_column(String(16))  # daily | week | month | quarter | half | year
    period: Mapped[str] = mapped_column(String(16))  # 2026-11-20 | 2026-W47 | 2026-11 | 2026-Q4 | 2026-H2 | 2026
    start: Mapped[date] = mapped_column(Date)
    end: Mapped[date] = mapped_column(Date)
    title: Mapped[str] = mapped_column(String(200))
    audience: Mapped[str] = mapped_column(String(16))  # all | supervision (12389: supervisor and leader only)
    generated_at: Mapped[datetime]
    summary: Mapped[list[Any]] = mapped_column(default=list)  # the robot's lines: counts only
    document: Mapped[dict[str, Any]] = mapped_column(default=dict)
    xlsx: Mapped[bytes] = mapped_column(LargeBinary)


class AlertDeliveryRecord(Base):
    """One notification to one sink (a group of alerts, or a bulletin), delivered durably like an outbox row."""

    __tablename__ = "alert_deliveries"
    __table_args__ = (Index("ix_alert_deliveries_state_due", "state", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    alert_id: Mapped[int | None] = mapped_column(ForeignKey("alerts.id"), nullable=True)  # None: a bulletin
    bulletin_id: Mapped[int | None] = mapped_column(ForeignKey("bulletins.id"), nullable=True, index=True)
    alert_ids: Mapped[list[Any]] = mapped_column(default=list)
    sink: Mapped[str] = mapped_column(String(64))
    severity: Mapped[str] = mapped_column(String(16))
    title: Mapped[str] = mapped_column(String(200))
    lines: Mapped[list[Any]] = mapped_column(default=list)
    state: Mapped[str] = mapped_column(String(16), default="pending")  # pending|in_flight|retry|sent|dead
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(default=utcnow)
    lease_owner: Mapped[str | None] = mapped_column(String(64))
    lease_until: Mapped[datetime | None]
    rung_at: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    sent_at: Mapped[datetime | None]


class CalendarYearRecord(Base):
    """A calendar year loaded at run time (``calendar load`` or the admin API); overrides a bundled one."""

    __tablename__ = "calendar_years"

    year: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    data: Mapped[dict[str, Any]] = mapped_column(default=dict)  # the year file, as validated
    document_number: Mapped[str] = mapped_column(String(64))
    loaded_at: Mapped[datetime] = mapped_column(default=utcnow)
    loaded_by: Mapped[str] = mapped_column(String(100))


class SlaCounterRecord(Base):
    """A named version counter (``calendar``); a new token on every bump invalidates process caches."""

    __tablename__ = "sla_counters"

    name: Mapped[str] = mapped_column(String(32), primary_key=True)
    value: Mapped[int] = mapped_column(BigInteger, default=0)
    token: Mapped[str] = mapped_column(String(32))
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class SlaAuditRecord(Base):
    """Audit trail of SLA-wide changes: calendar loads and the recomputations they caused."""

    __tablename__ = "sla_audit"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(default=utcnow)
    actor: Mapped[str] = mapped_column(String(100))
    action: Mapped[str] = mapped_column(String(40))
    detail: Mapped[dict[str, Any]] = mapped_column(default=dict)
