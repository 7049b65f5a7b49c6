"""Workflow tables of the dashboard: the unit directory, approval requests and evidence files."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, Float, ForeignKey, Index, Integer, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from gateway.store.db import utcnow
from gateway.store.tables import Base, BigId
from gateway.store.tables_sla import SlaTimerRecord


class UnitRecord(Base):
    """One handling unit (承办单位) a ticket can be dispatched to."""

    __tablename__ = "units"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    kind: Mapped[str] = mapped_column(String(32), default="")  # 派出所, 大队, 科室…
    phone: Mapped[str] = mapped_column(String(32), default="")  # the unit's duty phone, not a person's
    parent: Mapped[str | None] = mapped_column(String(100))  # the unit it belongs to (所属单位), by name
    # 辖区: districts / streets the unit covers, separated by "、" or ","; suggests it for a ticket's place.
    area: Mapped[str] = mapped_column(String(200), default="", server_default="")
    active: Mapped[bool] = mapped_column(default=True)
    sort: Mapped[int] = mapped_column(Integer, default=0)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class ApprovalRecord(Base):
    """A request waiting for a leader: a duty officer's dispatch or a unit's extension (延期)."""

    __tablename__ = "approvals"
    __table_args__ = (
        Index("ix_approvals_state_kind", "state", "kind", "id"),
        Index("ix_approvals_ticket", "ticket_id"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id"))
    kind: Mapped[str] = mapped_column(String(16))  # dispatch | extension | review | suspension
    state: Mapped[str] = mapped_column(String(16), default="pending")  # pending|approved|rejected|cancelled
    requested_by: Mapped[str] = mapped_column(String(100))
    requested_at: Mapped[datetime]
    detail: Mapped[dict[str, Any]] = mapped_column(default=dict)  # unit; or days, reason, due_at, new_due_at
    decided_by: Mapped[str | None] = mapped_column(String(100))
    decided_at: Mapped[datetime | None]
    note: Mapped[str | None] = mapped_column(String(2000))


class EvidenceRecord(Base):
    """An evidence file (photo, call recording, document) kept under ``data_dir``, checked by content."""

    __tablename__ = "evidence_files"
    __table_args__ = (Index("ix_evidence_files_ticket", "ticket_id", "id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id"))
    name: Mapped[str] = mapped_column(String(200))  # the uploader's file name, cleaned
    kind: Mapped[str] = mapped_column(String(16))  # jpeg, png, pdf… as sniffed
    mime: Mapped[str] = mapped_column(String(64))
    size: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    stored_as: Mapped[str] = mapped_column(String(200))  # path under the evidence directory
    note: Mapped[str] = mapped_column(String(500), default="")
    uploaded_by: Mapped[str] = mapped_column(String(100))
    uploaded_at: Mapped[datetime] = mapped_column(default=utcnow)
    in_reply: Mapped[bool] = mapped_column(default=False)  # attached to the current reply draft



class InterventionRecord(Base):
    """提级介入: a matter raised to the leader in charge, once per ticket and rule (000 提级介入调查制度).

    ``rule``: overdue (久拖不决) | repeat (反复投诉) | impact (影响较大 / 重大、敏感, 001 三(三)) | violation
    (严重违纪违法) | other (其他需要提级介入调查的). The leader's 批示 are timeline entries; this row counts them.
    """

    __tablename__ = "interventions"
    __table_args__ = (
        UniqueConstraint("ticket_id", "rule", name="uq_interventions_ticket_rule"),
        Index("ix_interventions_state", "state", "id"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id"))
    rule: Mapped[str] = mapped_column(String(16))
    state: Mapped[str] = mapped_column(String(16), default="open")  # open | closed
    article: Mapped[str] = mapped_column(String(120))
    basis: Mapped[dict[str, Any]] = mapped_column(default=dict)  # the facts that met the rule (no personal data)
    reason: Mapped[str] = mapped_column(Text, default="")  # a person's reason for a flag; "" when a rule raised it
    raised_by: Mapped[str] = mapped_column(String(100))  # "system" or the person who flagged it
    raised_at: Mapped[datetime]
    alert_id: Mapped[int | None] = mapped_column(BigInteger().with_variant(Integer(), "sqlite"), nullable=True)
    supervising_leader: Mapped[str | None] = mapped_column(String(100))  # 督办领导 the leader named in a 批示
    instruction_count: Mapped[int] = mapped_column(Integer, default=0)
    instructed_by: Mapped[str | None] = mapped_column(String(100))
    instructed_at: Mapped[datetime | None]
    closed_by: Mapped[str | None] = mapped_column(String(100))
    closed_at: Mapped[datetime | None]
    close_note: Mapped[str | None] = mapped_column(Text)


# The dashboard's nearest-deadline lists and its "time left" sort read the open timers by due instant;
# declared here (the SLA tables' module is the SLA engine's) so that the model and migration 0003 agree.
OPEN_TIMERS_BY_DUE = Index(
    "ix_sla_timers_open_due",
    SlaTimerRecord.__table__.c.due_at,
    postgresql_where=text("met_at IS NULL"),
    sqlite_where=text("met_at IS NULL"),
)


class AccountabilityRecord(Base):
    """One 问责 measure on a unit, or on a person of it (000 责任追究制度, 001 四(五)), linked to its tickets.

    Proposed by supervision staff (督察); counts only once a leader other than the proposer approved it
    (``state`` approved), in the ``year`` of the unit's assessment (002 四(二): 纳入部门实绩考核).
    """

    __tablename__ = "accountability"
    __table_args__ = (Index("ix_accountability_unit_year", "unit", "year", "id"),
                      Index("ix_accountability_state", "state", "id"))

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    unit: Mapped[str] = mapped_column(String(100))  # 责任单位
    person: Mapped[str | None] = mapped_column(String(100))  # 责任人 (None: the unit itself)
    person_role: Mapped[str | None] = mapped_column(String(24))  # 具办人, 审核人, 责任领导…
    cause: Mapped[str] = mapped_column(String(24))  # overdue | false_reply | sent_back | screening …
    measures: Mapped[list[Any]] = mapped_column(default=list)  # circular | talk | deduction | education …
    points: Mapped[float] = mapped_column(Float, default=0.0)  # 年度绩效考核扣除的分值
    year: Mapped[int] = mapped_column(Integer)  # the assessment year it counts in
    facts: Mapped[str] = mapped_column(Text)  # 情形/事实, as supervision wrote it
    state: Mapped[str] = mapped_column(String(16), default="proposed")  # proposed | approved | rejected
    proposed_by: Mapped[str] = mapped_column(String(100))
    proposed_at: Mapped[datetime]
    decided_by: Mapped[str | None] = mapped_column(String(100))
    decided_at: Mapped[datetime | None]
    decision_note: Mapped[str | None] = mapped_column(String(2000))


class AccountabilityTicketRecord(Base):
    """A ticket that caused an accountability record (one record, one or more tickets)."""

    __tablename__ = "accountability_tickets"
    __table_args__ = (Index("ix_accountability_tickets_ticket", "ticket_id"),)

    accountability_id: Mapped[int] = mapped_column(ForeignKey("accountability.id"), primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id"), primary_key=True)
