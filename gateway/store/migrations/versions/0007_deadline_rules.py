"""sla_timers: the binding deadline's rule, source and external limits; tickets: 复杂 (complex) flag

Revision ID: 0007_deadline_rules
Revises: 0006_login_throttle
Create Date: 2026-11-23 09:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0007_deadline_rules"
down_revision = "0006_login_throttle"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Apply."""
    json = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")
    with op.batch_alter_table("sla_timers", schema=None) as batch_op:
        batch_op.add_column(sa.Column("rule", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("source", sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column("label", sa.String(length=120), nullable=True))
        batch_op.add_column(sa.Column("limits", json, nullable=True))
    with op.batch_alter_table("tickets", schema=None) as batch_op:
        batch_op.add_column(sa.Column("complex", sa.Boolean(), nullable=False, server_default=sa.false()))


def downgrade() -> None:
    """Revert."""
    with op.batch_alter_table("tickets", schema=None) as batch_op:
        batch_op.drop_column("complex")
    with op.batch_alter_table("sla_timers", schema=None) as batch_op:
        batch_op.drop_column("limits")
        batch_op.drop_column("label")
        batch_op.drop_column("source")
        batch_op.drop_column("rule")
