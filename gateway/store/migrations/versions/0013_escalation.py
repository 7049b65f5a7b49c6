"""interventions: 提级介入, one row per ticket and rule

Issue 16 point 5: a matter raised to the leader in charge by a rule — 久拖不决, 反复投诉, 影响较大
(000 提级介入调查制度 一), 重大、敏感 (001 三(三)) — or flagged by a person with a reason. Unique on
(ticket_id, rule): two scheduler ticks, or two schedulers, raise it once.

Revision ID: 0013_escalation
Revises: 0012_bulletins
Create Date: 2026-12-05 17:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import gateway.store.db

revision = "0013_escalation"
down_revision = "0012_bulletins"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Apply."""
    json = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")
    big = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
    op.create_table(
        "interventions",
        sa.Column("id", big, autoincrement=True, nullable=False),
        sa.Column("ticket_id", big, nullable=False),
        sa.Column("rule", sa.String(length=16), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("article", sa.String(length=120), nullable=False),
        sa.Column("basis", json, nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("raised_by", sa.String(length=100), nullable=False),
        sa.Column("raised_at", gateway.store.db.UTCDateTime(), nullable=False),
        sa.Column("alert_id", big, nullable=True),
        sa.Column("supervising_leader", sa.String(length=100), nullable=True),
        sa.Column("instruction_count", sa.Integer(), nullable=False),
        sa.Column("instructed_by", sa.String(length=100), nullable=True),
        sa.Column("instructed_at", gateway.store.db.UTCDateTime(), nullable=True),
        sa.Column("closed_by", sa.String(length=100), nullable=True),
        sa.Column("closed_at", gateway.store.db.UTCDateTime(), nullable=True),
        sa.Column("close_note", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(["ticket_id"], ["tickets.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("ticket_id", "rule", name="uq_interventions_ticket_rule"),
    )
    op.create_index("ix_interventions_state", "interventions", ["state", "id"], unique=False)


def downgrade() -> None:
    """Revert."""
    op.drop_index("ix_interventions_state", table_name="interventions")
    op.drop_table("interventions")
