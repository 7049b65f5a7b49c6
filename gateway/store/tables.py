"""SQLAlchemy 2 tables. Rows are ``…Record``; repository functions live in ``repo_*`` modules."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, ForeignKey, Index, Integer, String, Text, UniqueConstraint, false
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from gateway.store.db import UTCDateTime, utcnow

JSONType = JSON().with_variant(JSONB(), "postgresql")
# None stored as SQL NULL (not JSON null), so "IS NULL" finds a cleared value.
NullableJSON = JSON(none_as_null=True).with_variant(JSONB(none_as_null=True), "postgresql")
BigId = BigInteger().with_variant(Integer(), "sqlite")  # SQLite autoincrements INTEGER PRIMARY KEY only


class Base(DeclarativeBase):
    """Declarative base with aware UTC datetimes."""

    type_annotation_map = {datetime: UTCDateTime, dict[str, Any]: JSONType, list[Any]: JSONType}


class TicketRecord(Base):
    """One ticket from one platform; (platform, external_id) is unique."""

    __tablename__ = "tickets"
    __table_args__ = (
        UniqueConstraint("platform", "external_id", name="uq_tickets_platform_external"),
        Index("ix_tickets_status_issued", "status", "issued_at"),
        Index("ix_tickets_platform_status", "platform", "status"),
        Index("ix_tickets_issued_at", "issued_at"),  # today's intake, report periods
        Index("ix_tickets_unit_status", "unit", "status"),  # a unit's own queue
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    platform: Mapped[str] = mapped_column(String(32))
    external_id: Mapped[str] = mapped_column(String(64))
    source_version: Mapped[int] = mapped_column(BigInteger, default=0)  # mailbox versions are epoch ms
    platform_status: Mapped[str] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(32), default="received")
    appeal_type: Mapped[str] = mapped_column(String(32))
    urgency: Mapped[str] = mapped_column(String(16), default="normal")
    level: Mapped[str | None] = mapped_column(String(16))
    channel: Mapped[str | None] = mapped_column(String(32))
    category: Mapped[list[Any]] = mapped_column(default=list)
    title: Mapped[str] = mapped_column(String(500))
    content: Mapped[str] = mapped_column(Text)
    citizen: Mapped[dict[str, Any]] = mapped_column(default=dict)  # personal data: masked on output
    respondent: Mapped[dict[str, Any] | None] = mapped_column(JSONType, nullable=True)
    region: Mapped[dict[str, Any]] = mapped_column(default=dict)
    address: Mapped[str | None] = mapped_column(String(500))
    # The mapper knows the address is the citizen's own (e.g. a 12389 reporter's): masked like personal data.
    address_personal: Mapped[bool] = mapped_column(default=False, server_default=false())
    lng: Mapped[float | None]
    lat: Mapped[float | None]
    attachments: Mapped[list[Any]] = mapped_column(default=list)
    accepted_at: Mapped[datetime | None]
    issued_at: Mapped[datetime]
    platform_sign_by: Mapped[datetime | None]
    platform_due_at: Mapped[datetime | None]
    platform_time_limit: Mapped[int | None]
    platform_time_unit: Mapped[str | None] = mapped_column(String(16))
    needs_callback: Mapped[bool] = mapped_column(default=False)
    parent_external_id: Mapped[str | None] = mapped_column(String(64))
    extra: Mapped[dict[str, Any]] = mapped_column(default=dict)
    supervised: Mapped[bool] = mapped_column(default=False)
    complex: Mapped[bool] = mapped_column(default=False)  # 复杂问题 as the bureau judged it (000 限时办结 一, 137)
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id"), index=True)
    citizen_key: Mapped[str | None] = mapped_column(String(64), index=True)  # keyed hash of the phone
    urge_count: Mapped[int] = mapped_column(Integer, default=0)
    reopen_count: Mapped[int] = mapped_column(Integer, default=0)
    unit: Mapped[str | None] = mapped_column(String(100))
    signed_at: Mapped[datetime | None]
    signed_by: Mapped[str | None] = mapped_column(String(100))
    dispatched_at: Mapped[datetime | None]
    responded_at: Mapped[datetime | None]
    reply: Mapped[dict[str, Any] | None] = mapped_column(JSONType, nullable=True)
    reply_drafted_by: Mapped[str | None] = mapped_column(String(100))
    reply_reviewed_by: Mapped[str | None] = mapped_column(String(100))  # 部门负责人审核 (002 三(二))
    reply_reviewed_at: Mapped[datetime | None]
    reply_approved_by: Mapped[str | None] = mapped_column(String(100))
    reply_approved_at: Mapped[datetime | None]
    replied_at: Mapped[datetime | None]
    callback: Mapped[dict[str, Any] | None] = mapped_column(JSONType, nullable=True)
    suspended_at: Mapped[datetime | None]  # 延期挂单 (002 §4(6)): the resolution clock stops
    suspension: Mapped[dict[str, Any] | None] = mapped_column(JSONType, nullable=True)
    # 被退回: who sent the last reply draft back, when and why (cleared by the next draft).
    sent_back: Mapped[dict[str, Any] | None] = mapped_column(NullableJSON, nullable=True)
    # Issue 16 (migration 0010): what the closing processes leave on the ticket.
    reasonable: Mapped[str | None] = mapped_column(String(16))  # 诉求合理/不合理 (002 三(二)): reasonable|unreasonable
    closing_notice: Mapped[dict[str, Any] | None] = mapped_column(JSONType, nullable=True)  # 000 沟通通报 三
    terminated_at: Mapped[datetime | None]  # 终结办理 approved (002 四(七))
    screening: Mapped[dict[str, Any] | None] = mapped_column(JSONType, nullable=True)  # 不满意件甄别 outcome (000)
    archived_at: Mapped[datetime | None]  # 年归档 (000 统一派单 六): in a sealed yearly archive
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    version: Mapped[int] = mapped_column(Integer, default=1)

    __mapper_args__ = {"version_id_col": version}


class CaseRecord(Base):
    """One matter (一事): tickets filed about it through several platforms, with one handling unit."""

    __tablename__ = "cases"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    citizen_key: Mapped[str | None] = mapped_column(String(64), index=True)
    unit: Mapped[str | None] = mapped_column(String(100))
    ticket_count: Mapped[int] = mapped_column(Integer, default=1)
    repeat_count: Mapped[int] = mapped_column(Integer, default=0)  # 重复投诉: filed again after a reply
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class TicketEventRecord(Base):
    """Append-only timeline: who did what, when."""

    __tablename__ = "ticket_events"
    __table_args__ = (Index("ix_ticket_events_ticket", "ticket_id", "id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id"))
    at: Mapped[datetime] = mapped_column(default=utcnow)
    actor: Mapped[str] = mapped_column(String(100))
    kind: Mapped[str] = mapped_column(String(40))
    detail: Mapped[dict[str, Any]] = mapped_column(default=dict)


class InboxRecord(Base):
    """A raw inbound event or pulled item, stored before anything else happens to it."""

    __tablename__ = "inbox"
    __table_args__ = (
        UniqueConstraint("platform", "event_id", name="uq_inbox_platform_event"),
        Index("ix_inbox_state_due", "state", "next_attempt_at"),
        Index("ix_inbox_external", "platform", "external_id"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    platform: Mapped[str] = mapped_column(String(32))
    event_id: Mapped[str] = mapped_column(String(128))
    source: Mapped[str] = mapped_column(String(8))  # push | pull
    event_type: Mapped[str] = mapped_column(String(40))
    external_id: Mapped[str | None] = mapped_column(String(64))
    payload: Mapped[str] = mapped_column(Text)  # raw text, exactly as received
    received_at: Mapped[datetime] = mapped_column(default=utcnow)
    state: Mapped[str] = mapped_column(String(16), default="pending")  # pending|done|stale|failed|waiting
    error: Mapped[str | None] = mapped_column(Text)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(default=utcnow)
    processed_at: Mapped[datetime | None]
    rung_at: Mapped[datetime | None]
    ticket_id: Mapped[int | None] = mapped_column(BigId, nullable=True)


class OutboxRecord(Base):
    """One write-back to a platform, written in the same transaction as the change causing it."""

    __tablename__ = "outbox"
    __table_args__ = (
        Index("ix_outbox_state_due", "state", "next_attempt_at"),
        Index("ix_outbox_ticket", "ticket_id", "id"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id"))
    platform: Mapped[str] = mapped_column(String(32))
    external_id: Mapped[str] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(16))
    payload: Mapped[dict[str, Any]] = mapped_column(default=dict)
    request_id: Mapped[str] = mapped_column(String(64), unique=True)
    state: Mapped[str] = mapped_column(String(16), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(default=utcnow)
    lease_until: Mapped[datetime | None]
    lease_owner: Mapped[str | None] = mapped_column(String(64))
    rung_at: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(Text)
    receipt_id: Mapped[str | None] = mapped_column(String(128))
    created_by: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    sent_at: Mapped[datetime | None]


class PollCursorRecord(Base):
    """Where a platform's pull left off; saved in the same transaction as the inbox rows it produced."""

    __tablename__ = "poll_cursors"

    platform: Mapped[str] = mapped_column(String(32), primary_key=True)
    cursor: Mapped[dict[str, Any]] = mapped_column(default=dict)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    last_success_at: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(Text)
    last_error_at: Mapped[datetime | None]
    consecutive_errors: Mapped[int] = mapped_column(Integer, default=0)


class PlatformStateRecord(Base):
    """Delivery health per platform: the circuit breaker and an hourly window of outcomes."""

    __tablename__ = "platform_state"

    platform: Mapped[str] = mapped_column(String(32), primary_key=True)
    circuit: Mapped[str] = mapped_column(String(12), default="closed")  # closed | open | half_open
    failures: Mapped[int] = mapped_column(Integer, default=0)  # consecutive transient failures
    opened_until: Mapped[datetime | None]
    last_ok_at: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(Text)
    last_error_at: Mapped[datetime | None]
    window_started_at: Mapped[datetime] = mapped_column(default=utcnow)
    window_ok: Mapped[int] = mapped_column(Integer, default=0)
    window_err: Mapped[int] = mapped_column(Integer, default=0)


class NonceRecord(Base):
    """Webhook nonces seen in the replay window; the primary key makes a replay fail to insert."""

    __tablename__ = "webhook_nonces"

    platform: Mapped[str] = mapped_column(String(32), primary_key=True)
    nonce: Mapped[str] = mapped_column(String(64), primary_key=True)
    seen_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)


class LockRecord(Base):
    """Named leases (e.g. one scheduler leader) that work on SQLite and PostgreSQL alike."""

    __tablename__ = "locks"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    owner: Mapped[str] = mapped_column(String(64))
    expires_at: Mapped[datetime]


class WorkerHeartbeatRecord(Base):
    """A delivering process's sign of life: a lease whose owner stopped beating is known dead in seconds."""

    __tablename__ = "worker_heartbeats"

    owner: Mapped[str] = mapped_column(String(64), primary_key=True)  # Container.owner, as in outbox.lease_owner
    beat_at: Mapped[datetime]
    expires_at: Mapped[datetime] = mapped_column(index=True)


class ArchiveBatchRecord(Base):
    """One sealed archive (000 统一派单 六 日清月结年归档): a period's tickets as a JSON export with its SHA-256.

    Never updated: ``content`` is the export, ``sha256`` its checksum, ``manifest`` each ticket's own checksum.
    """

    __tablename__ = "archive_batches"
    __table_args__ = (UniqueConstraint("period", "key", name="uq_archive_batches_period_key"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    period: Mapped[str] = mapped_column(String(8))  # month | year
    key: Mapped[str] = mapped_column(String(16))  # 2026-11 | 2026
    created_by: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime]
    ticket_count: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    manifest: Mapped[dict[str, Any]] = mapped_column(default=dict)
    content: Mapped[str] = mapped_column(Text)
