"""tickets: 诉求合理/不合理, closing notification, termination, screening outcome; archive batches

Issue 16 points 1, 2, 3, 10 and 8: 终结办理 (002 四(七)), 三级结案终审表 (002 三(二)), 不满意件甄别 (000),
办结通报 (000 沟通通报 三) and 日清月结年归档 (000 统一派单 六). The requests and signatures of the first three
are ``approvals`` rows (kinds ``termination``, ``final_review``, ``screening``); what they leave on the ticket
is here.

Revision ID: 0010_regulation_processes_a
Revises: 0009_day_work
Create Date: 2026-12-05 08:20:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import gateway.store.db

revision = "0010_regulation_processes_a"
down_revision = "0009_day_work"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Apply."""
    json = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")
    with op.batch_alter_table("tickets", schema=None) as batch_op:
        batch_op.add_column(sa.Column("reasonable", sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column("closing_notice", json, nullable=True))
        batch_op.add_column(sa.Column("terminated_at", gateway.store.db.UTCDateTime(), nullable=True))
        batch_op.add_column(sa.Column("screening", json, nullable=True))
        batch_op.add_column(sa.Column("archived_at", gateway.store.db.UTCDateTime(), nullable=True))
    op.create_table(
        "archive_batches",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column("period", sa.String(length=8), nullable=False),
        sa.Column("key", sa.String(length=16), nullable=False),
        sa.Column("created_by", sa.String(length=100), nullable=False),
        sa.Column("created_at", gateway.store.db.UTCDateTime(), nullable=False),
        sa.Column("ticket_count", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("manifest", json, nullable=False),
        sa.Column("content", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("period", "key", name="uq_archive_batches_period_key"),
    )


def downgrade() -> None:
    """Revert."""
    op.drop_table("archive_batches")
    with op.batch_alter_table("tickets", schema=None) as batch_op:
        batch_op.drop_column("archived_at")
        batch_op.drop_column("screening")
        batch_op.drop_column("terminated_at")
        batch_op.drop_column("closing_notice")
        batch_op.drop_column("reasonable")
