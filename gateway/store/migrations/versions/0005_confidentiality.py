"""tickets: unit head's review of a reply, address known to be the citizen's; units: parent unit

Revision ID: 0005_confidentiality
Revises: 0004_suspension
Create Date: 2026-11-23 09:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import gateway.store.db

revision = "0005_confidentiality"
down_revision = "0004_suspension"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Apply."""
    with op.batch_alter_table("tickets", schema=None) as batch_op:
        batch_op.add_column(sa.Column("reply_reviewed_by", sa.String(length=100), nullable=True))
        batch_op.add_column(sa.Column("reply_reviewed_at", gateway.store.db.UTCDateTime(), nullable=True))
        batch_op.add_column(
            sa.Column("address_personal", sa.Boolean(), nullable=False, server_default=sa.false())
        )
    with op.batch_alter_table("units", schema=None) as batch_op:
        batch_op.add_column(sa.Column("parent", sa.String(length=100), nullable=True))


def downgrade() -> None:
    """Revert."""
    with op.batch_alter_table("units", schema=None) as batch_op:
        batch_op.drop_column("parent")
    with op.batch_alter_table("tickets", schema=None) as batch_op:
        batch_op.drop_column("address_personal")
        batch_op.drop_column("reply_reviewed_at")
        batch_op.drop_column("reply_reviewed_by")
