"""tickets: the last send-back of a reply (被退回 with the reason); units: the area they cover (辖区)

Revision ID: 0009_day_work
Revises: 0008_worker_liveness
Create Date: 2026-12-05 08:10:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0009_day_work"
down_revision = "0008_worker_liveness"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Apply."""
    json = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")
    with op.batch_alter_table("tickets", schema=None) as batch_op:
        batch_op.add_column(sa.Column("sent_back", json, nullable=True))
    with op.batch_alter_table("units", schema=None) as batch_op:
        batch_op.add_column(sa.Column("area", sa.String(length=200), nullable=False, server_default=""))


def downgrade() -> None:
    """Revert."""
    with op.batch_alter_table("units", schema=None) as batch_op:
        batch_op.drop_column("area")
    with op.batch_alter_table("tickets", schema=None) as batch_op:
        batch_op.drop_column("sent_back")
