"""Dashboard: users, login sessions, audit log, unit directory, approvals, evidence files, queue indexes

Revision ID: 0003_dashboard
Revises: 0002_sla
Create Date: 2026-11-22 02:22:32.286586
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import gateway.store.db

revision = '0003_dashboard'
down_revision = '0002_sla'
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Apply."""
    op.create_table('audit_log',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('at', gateway.store.db.UTCDateTime(), nullable=False),
    sa.Column('actor', sa.String(length=100), nullable=False),
    sa.Column('action', sa.String(length=40), nullable=False),
    sa.Column('target', sa.String(length=200), nullable=True),
    sa.Column('ip', sa.String(length=64), nullable=True),
    sa.Column('detail', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index('ix_audit_log_actor', 'audit_log', ['actor', 'id'], unique=False)
    op.create_index('ix_audit_log_at', 'audit_log', ['at'], unique=False)

    op.create_table('dashboard_keys',
    sa.Column('name', sa.String(length=32), nullable=False),
    sa.Column('value', sa.Text(), nullable=False),
    sa.Column('created_at', gateway.store.db.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('name')
    )
    op.create_table('units',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.Column('phone', sa.String(length=32), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('sort', sa.Integer(), nullable=False),
    sa.Column('updated_at', gateway.store.db.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('name')
    )
    op.create_table('users',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('username', sa.String(length=64), nullable=False),
    sa.Column('display_name', sa.String(length=100), nullable=False),
    sa.Column('password_hash', sa.String(length=255), nullable=False),
    sa.Column('roles', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('unit', sa.String(length=100), nullable=True),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('failed_logins', sa.Integer(), nullable=False),
    sa.Column('locked_until', gateway.store.db.UTCDateTime(), nullable=True),
    sa.Column('last_login_at', gateway.store.db.UTCDateTime(), nullable=True),
    sa.Column('password_changed_at', gateway.store.db.UTCDateTime(), nullable=True),
    sa.Column('created_at', gateway.store.db.UTCDateTime(), nullable=False),
    sa.Column('updated_at', gateway.store.db.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('display_name'),
    sa.UniqueConstraint('username')
    )
    op.create_table('login_sessions',
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('user_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('csrf_token', sa.String(length=64), nullable=False),
    sa.Column('created_at', gateway.store.db.UTCDateTime(), nullable=False),
    sa.Column('expires_at', gateway.store.db.UTCDateTime(), nullable=False),
    sa.Column('last_seen_at', gateway.store.db.UTCDateTime(), nullable=False),
    sa.Column('ip', sa.String(length=64), nullable=True),
    sa.Column('user_agent', sa.String(length=300), nullable=True),
    sa.Column('flash', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=True),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('token_hash')
    )
    op.create_index('ix_login_sessions_user', 'login_sessions', ['user_id'], unique=False)

    op.create_table('approvals',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('ticket_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('requested_by', sa.String(length=100), nullable=False),
    sa.Column('requested_at', gateway.store.db.UTCDateTime(), nullable=False),
    sa.Column('detail', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('decided_by', sa.String(length=100), nullable=True),
    sa.Column('decided_at', gateway.store.db.UTCDateTime(), nullable=True),
    sa.Column('note', sa.String(length=2000), nullable=True),
    sa.ForeignKeyConstraint(['ticket_id'], ['tickets.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index('ix_approvals_state_kind', 'approvals', ['state', 'kind', 'id'], unique=False)
    op.create_index('ix_approvals_ticket', 'approvals', ['ticket_id'], unique=False)

    op.create_table('evidence_files',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('ticket_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('mime', sa.String(length=64), nullable=False),
    sa.Column('size', sa.Integer(), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('stored_as', sa.String(length=200), nullable=False),
    sa.Column('note', sa.String(length=500), nullable=False),
    sa.Column('uploaded_by', sa.String(length=100), nullable=False),
    sa.Column('uploaded_at', gateway.store.db.UTCDateTime(), nullable=False),
    sa.Column('in_reply', sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(['ticket_id'], ['tickets.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index('ix_evidence_files_ticket', 'evidence_files', ['ticket_id', 'id'], unique=False)

    op.create_index('ix_tickets_issued_at', 'tickets', ['issued_at'], unique=False)
    op.create_index('ix_tickets_unit_status', 'tickets', ['unit', 'status'], unique=False)
    op.create_index('ix_sla_timers_open_due', 'sla_timers', ['due_at'], unique=False,
                    postgresql_where=sa.text('met_at IS NULL'), sqlite_where=sa.text('met_at IS NULL'))



def downgrade() -> None:
    """Revert."""
    op.drop_index('ix_sla_timers_open_due', table_name='sla_timers')
    op.drop_index('ix_tickets_unit_status', table_name='tickets')
    op.drop_index('ix_tickets_issued_at', table_name='tickets')

    op.drop_index('ix_evidence_files_ticket', table_name='evidence_files')

    op.drop_table('evidence_files')
    op.drop_index('ix_approvals_ticket', table_name='approvals')
    op.drop_index('ix_approvals_state_kind', table_name='approvals')

    op.drop_table('approvals')
    op.drop_index('ix_login_sessions_user', table_name='login_sessions')

    op.drop_table('login_sessions')
    op.drop_table('users')
    op.drop_table('units')
    op.drop_table('dashboard_keys')
    op.drop_index('ix_audit_log_at', table_name='audit_log')
    op.drop_index('ix_audit_log_actor', table_name='audit_log')

    op.drop_table('audit_log')
