"""login_throttle: failed logins per account, client address and trusted browser

Revision ID: 0006_login_throttle
Revises: 0005_confidentiality
Create Date: 2026-12-05 02:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import gateway.store.db

revision = "0006_login_throttle"
down_revision = "0005_confidentiality"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Apply."""
    op.create_table(
        "login_throttle",
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("last_failure_at", gateway.store.db.UTCDateTime(), nullable=False),
        sa.Column("blocked_until", gateway.store.db.UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("key"),
    )


def downgrade() -> None:
    """Revert."""
    op.drop_table("login_throttle")
