"""bulletins: the reports generated on a schedule; alert deliveries may carry a bulletin instead of alerts

Issue 16 point 9: 日提醒、周反馈、月通报 (002 二(一), 004 三, 000 督办 二) and the 12389 quarterly, half-year and
annual analysis (001 三(五)). ``(kind, period)`` is unique, so several schedulers generate each period once;
a delivery row of a bulletin has ``bulletin_id`` and no ``alert_id``.

Revision ID: 0012_bulletins
Revises: 0011_accountability
Create Date: 2026-12-05 17:40:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import gateway.store.db

revision = "0012_bulletins"
down_revision = "0011_accountability"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Apply."""
    json = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")
    op.create_table(
        "bulletins",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("period", sa.String(length=16), nullable=False),
        sa.Column("start", sa.Date(), nullable=False),
        sa.Column("end", sa.Date(), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("audience", sa.String(length=16), nullable=False),
        sa.Column("generated_at", gateway.store.db.UTCDateTime(), nullable=False),
        sa.Column("summary", json, nullable=False),
        sa.Column("document", json, nullable=False),
        sa.Column("xlsx", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("kind", "period", name="uq_bulletins_kind_period"),
    )
    op.create_index("ix_bulletins_generated", "bulletins", ["generated_at"])
    with op.batch_alter_table("alert_deliveries", schema=None) as batch_op:
        batch_op.alter_column("alert_id", existing_type=sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
                              nullable=True)
        batch_op.add_column(sa.Column("bulletin_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
                                      nullable=True))
        batch_op.create_foreign_key("fk_alert_deliveries_bulletin_id_bulletins", "bulletins", ["bulletin_id"], ["id"])
        batch_op.create_index("ix_alert_deliveries_bulletin_id", ["bulletin_id"])


def downgrade() -> None:
    """Revert (bulletin deliveries go with their bulletins)."""
    op.execute("DELETE FROM alert_deliveries WHERE alert_id IS NULL")
    with op.batch_alter_table("alert_deliveries", schema=None) as batch_op:
        batch_op.drop_index("ix_alert_deliveries_bulletin_id")
        batch_op.drop_constraint("fk_alert_deliveries_bulletin_id_bulletins", type_="foreignkey")
        batch_op.drop_column("bulletin_id")
        batch_op.alter_column("alert_id", existing_type=sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
                              nullable=False)
    op.drop_index("ix_bulletins_generated", table_name="bulletins")
    op.drop_table("bulletins")
