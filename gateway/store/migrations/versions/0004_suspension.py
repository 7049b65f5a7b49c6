"""tickets: 延期挂单 (long suspension) columns

Revision ID: 0004_suspension
Revises: 0003_dashboard
Create Date: 2026-11-22 03:40:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import gateway.store.db

revision = "0004_suspension"
down_revision = "0003_dashboard"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Apply."""
    with op.batch_alter_table("tickets", schema=None) as batch_op:
        batch_op.add_column(sa.Column("suspended_at", gateway.store.db.UTCDateTime(), nullable=True))
        batch_op.add_column(
            sa.Column("suspension", sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
                      nullable=True)
        )


def downgrade() -> None:
    """Revert."""
    with op.batch_alter_table("tickets", schema=None) as batch_op:
        batch_op.drop_column("suspension")
        batch_op.drop_column("suspended_at")
