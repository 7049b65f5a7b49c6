"""worker_heartbeats: delivering processes beat, so leases of a dead owner are reclaimed in seconds

Revision ID: 0008_worker_liveness
Revises: 0007_deadline_rules
Create Date: 2026-12-05 08:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import gateway.store.db

revision = "0008_worker_liveness"
down_revision = "0007_deadline_rules"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Apply."""
    op.create_table(
        "worker_heartbeats",
        sa.Column("owner", sa.String(length=64), nullable=False),
        sa.Column("beat_at", gateway.store.db.UTCDateTime(), nullable=False),
        sa.Column("expires_at", gateway.store.db.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("owner"),
    )
    op.create_index("ix_worker_heartbeats_expires_at", "worker_heartbeats", ["expires_at"], unique=False)


def downgrade() -> None:
    """Revert."""
    op.drop_index("ix_worker_heartbeats_expires_at", table_name="worker_heartbeats")
    op.drop_table("worker_heartbeats")
