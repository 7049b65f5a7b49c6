"""accountability: 问责 records per unit and person with the tickets that caused them (issue 16 point 7)

000 责任追究制度, 001 四(五); counted in the unit's yearly assessment (002 四(二): 纳入部门实绩考核).

Revision ID: 0011_accountability
Revises: 0010_regulation_processes_a
Create Date: 2026-12-05 17:20:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import gateway.store.db

revision = "0011_accountability"
down_revision = "0010_regulation_processes_a"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Apply."""
    json = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")
    op.create_table(
        "accountability",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column("unit", sa.String(length=100), nullable=False),
        sa.Column("person", sa.String(length=100), nullable=True),
        sa.Column("person_role", sa.String(length=24), nullable=True),
        sa.Column("cause", sa.String(length=24), nullable=False),
        sa.Column("measures", json, nullable=False),
        sa.Column("points", sa.Float(), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("facts", sa.Text(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("proposed_by", sa.String(length=100), nullable=False),
        sa.Column("proposed_at", gateway.store.db.UTCDateTime(), nullable=False),
        sa.Column("decided_by", sa.String(length=100), nullable=True),
        sa.Column("decided_at", gateway.store.db.UTCDateTime(), nullable=True),
        sa.Column("decision_note", sa.String(length=2000), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_accountability_unit_year", "accountability", ["unit", "year", "id"], unique=False)
    op.create_index("ix_accountability_state", "accountability", ["state", "id"], unique=False)
    op.create_table(
        "accountability_tickets",
        sa.Column("accountability_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("ticket_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.ForeignKeyConstraint(["accountability_id"], ["accountability.id"]),
        sa.ForeignKeyConstraint(["ticket_id"], ["tickets.id"]),
        sa.PrimaryKeyConstraint("accountability_id", "ticket_id"),
    )
    op.create_index("ix_accountability_tickets_ticket", "accountability_tickets", ["ticket_id"], unique=False)


def downgrade() -> None:
    """Revert."""
    op.drop_index("ix_accountability_tickets_ticket", table_name="accountability_tickets")
    op.drop_table("accountability_tickets")
    op.drop_index("ix_accountability_state", table_name="accountability")
    op.drop_index("ix_accountability_unit_year", table_name="accountability")
    op.drop_table("accountability")
