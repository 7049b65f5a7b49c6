"""core pipeline tables

Revision ID: 0001_core
Revises: 
Create Date: 2026-11-22 02:18:58.282248
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import gateway.store.db

revision = '0001_core'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Apply."""
    op.create_table('cases',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('citizen_key', sa.String(length=64), nullable=True),
    sa.Column('unit', sa.String(length=100), nullable=True),
    sa.Column('ticket_count', sa.Integer(), nullable=False),
    sa.Column('repeat_count', sa.Integer(), nullable=False),
    sa.Column('created_at', gateway.store.db.UTCDateTime(), nullable=False),
    sa.Column('updated_at', gateway.store.db.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_cases_citizen_key'), ['citizen_key'], unique=False)

    op.create_table('inbox',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('platform', sa.String(length=32), nullable=False),
    sa.Column('event_id', sa.String(length=128), nullable=False),
    sa.Column('source', sa.String(length=8), nullable=False),
    sa.Column('event_type', sa.String(length=40), nullable=False),
    sa.Column('external_id', sa.String(length=64), nullable=True),
    sa.Column('payload', sa.Text(), nullable=False),
    sa.Column('received_at', gateway.store.db.UTCDateTime(), nullable=False),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('error', sa.Text(), nullable=True),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('next_attempt_at', gateway.store.db.UTCDateTime(), nullable=False),
    sa.Column('processed_at', gateway.store.db.UTCDateTime(), nullable=True),
    sa.Column('rung_at', gateway.store.db.UTCDateTime(), nullable=True),
    sa.Column('ticket_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('platform', 'event_id', name='uq_inbox_platform_event')
    )
    with op.batch_alter_table('inbox', schema=None) as batch_op:
        batch_op.create_index('ix_inbox_external', ['platform', 'external_id'], unique=False)
        batch_op.create_index('ix_inbox_state_due', ['state', 'next_attempt_at'], unique=False)

    op.create_table('locks',
    sa.Column('name', sa.String(length=64), nullable=False),
    sa.Column('owner', sa.String(length=64), nullable=False),
    sa.Column('expires_at', gateway.store.db.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('name')
    )
    op.create_table('platform_state',
    sa.Column('platform', sa.String(length=32), nullable=False),
    sa.Column('circuit', sa.String(length=12), nullable=False),
    sa.Column('failures', sa.Integer(), nullable=False),
    sa.Column('opened_until', gateway.store.db.UTCDateTime(), nullable=True),
    sa.Column('last_ok_at', gateway.store.db.UTCDateTime(), nullable=True),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.Column('last_error_at', gateway.store.db.UTCDateTime(), nullable=True),
    sa.Column('window_started_at', gateway.store.db.UTCDateTime(), nullable=False),
    sa.Column('window_ok', sa.Integer(), nullable=False),
    sa.Column('window_err', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('platform')
    )
    op.create_table('poll_cursors',
    sa.Column('platform', sa.String(length=32), nullable=False),
    sa.Column('cursor', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('updated_at', gateway.store.db.UTCDateTime(), nullable=False),
    sa.Column('last_success_at', gateway.store.db.UTCDateTime(), nullable=True),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.Column('last_error_at', gateway.store.db.UTCDateTime(), nullable=True),
    sa.Column('consecutive_errors', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('platform')
    )
    op.create_table('webhook_nonces',
    sa.Column('platform', sa.String(length=32), nullable=False),
    sa.Column('nonce', sa.String(length=64), nullable=False),
    sa.Column('seen_at', gateway.store.db.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('platform', 'nonce')
    )
    with op.batch_alter_table('webhook_nonces', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_webhook_nonces_seen_at'), ['seen_at'], unique=False)

    op.create_table('tickets',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('platform', sa.String(length=32), nullable=False),
    sa.Column('external_id', sa.String(length=64), nullable=False),
    sa.Column('source_version', sa.BigInteger(), nullable=False),
    sa.Column('platform_status', sa.String(length=32), nullable=False),
    sa.Column('status', sa.String(length=32), nullable=False),
    sa.Column('appeal_type', sa.String(length=32), nullable=False),
    sa.Column('urgency', sa.String(length=16), nullable=False),
    sa.Column('level', sa.String(length=16), nullable=True),
    sa.Column('channel', sa.String(length=32), nullable=True),
    sa.Column('category', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('title', sa.String(length=500), nullable=False),
    sa.Column('content', sa.Text(), nullable=False),
    sa.Column('citizen', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('respondent', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=True),
    sa.Column('region', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('address', sa.String(length=500), nullable=True),
    sa.Column('lng', sa.Double(), nullable=True),
    sa.Column('lat', sa.Double(), nullable=True),
    sa.Column('attachments', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('accepted_at', gateway.store.db.UTCDateTime(), nullable=True),
    sa.Column('issued_at', gateway.store.db.UTCDateTime(), nullable=False),
    sa.Column('platform_sign_by', gateway.store.db.UTCDateTime(), nullable=True),
    sa.Column('platform_due_at', gateway.store.db.UTCDateTime(), nullable=True),
    sa.Column('platform_time_limit', sa.Integer(), nullable=True),
    sa.Column('platform_time_unit', sa.String(length=16), nullable=True),
    sa.Column('needs_callback', sa.Boolean(), nullable=False),
    sa.Column('parent_external_id', sa.String(length=64), nullable=True),
    sa.Column('extra', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('supervised', sa.Boolean(), nullable=False),
    sa.Column('case_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('citizen_key', sa.String(length=64), nullable=True),
    sa.Column('urge_count', sa.Integer(), nullable=False),
    sa.Column('reopen_count', sa.Integer(), nullable=False),
    sa.Column('unit', sa.String(length=100), nullable=True),
    sa.Column('signed_at', gateway.store.db.UTCDateTime(), nullable=True),
    sa.Column('signed_by', sa.String(length=100), nullable=True),
    sa.Column('dispatched_at', gateway.store.db.UTCDateTime(), nullable=True),
    sa.Column('responded_at', gateway.store.db.UTCDateTime(), nullable=True),
    sa.Column('reply', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=True),
    sa.Column('reply_drafted_by', sa.String(length=100), nullable=True),
    sa.Column('reply_approved_by', sa.String(length=100), nullable=True),
    sa.Column('reply_approved_at', gateway.store.db.UTCDateTime(), nullable=True),
    sa.Column('replied_at', gateway.store.db.UTCDateTime(), nullable=True),
    sa.Column('callback', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=True),
    sa.Column('created_at', gateway.store.db.UTCDateTime(), nullable=False),
    sa.Column('updated_at', gateway.store.db.UTCDateTime(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('platform', 'external_id', name='uq_tickets_platform_external')
    )
    with op.batch_alter_table('tickets', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_tickets_case_id'), ['case_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_tickets_citizen_key'), ['citizen_key'], unique=False)
        batch_op.create_index('ix_tickets_platform_status', ['platform', 'status'], unique=False)
        batch_op.create_index('ix_tickets_status_issued', ['status', 'issued_at'], unique=False)

    op.create_table('outbox',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('ticket_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('platform', sa.String(length=32), nullable=False),
    sa.Column('external_id', sa.String(length=64), nullable=False),
    sa.Column('action', sa.String(length=16), nullable=False),
    sa.Column('payload', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('request_id', sa.String(length=64), nullable=False),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('next_attempt_at', gateway.store.db.UTCDateTime(), nullable=False),
    sa.Column('lease_until', gateway.store.db.UTCDateTime(), nullable=True),
    sa.Column('lease_owner', sa.String(length=64), nullable=True),
    sa.Column('rung_at', gateway.store.db.UTCDateTime(), nullable=True),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.Column('receipt_id', sa.String(length=128), nullable=True),
    sa.Column('created_by', sa.String(length=100), nullable=False),
    sa.Column('created_at', gateway.store.db.UTCDateTime(), nullable=False),
    sa.Column('updated_at', gateway.store.db.UTCDateTime(), nullable=False),
    sa.Column('sent_at', gateway.store.db.UTCDateTime(), nullable=True),
    sa.ForeignKeyConstraint(['ticket_id'], ['tickets.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('request_id')
    )
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.create_index('ix_outbox_state_due', ['state', 'next_attempt_at'], unique=False)
        batch_op.create_index('ix_outbox_ticket', ['ticket_id', 'id'], unique=False)

    op.create_table('ticket_events',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('ticket_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('at', gateway.store.db.UTCDateTime(), nullable=False),
    sa.Column('actor', sa.String(length=100), nullable=False),
    sa.Column('kind', sa.String(length=40), nullable=False),
    sa.Column('detail', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.ForeignKeyConstraint(['ticket_id'], ['tickets.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('ticket_events', schema=None) as batch_op:
        batch_op.create_index('ix_ticket_events_ticket', ['ticket_id', 'id'], unique=False)



def downgrade() -> None:
    """Revert."""
    with op.batch_alter_table('ticket_events', schema=None) as batch_op:
        batch_op.drop_index('ix_ticket_events_ticket')

    op.drop_table('ticket_events')
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.drop_index('ix_outbox_ticket')
        batch_op.drop_index('ix_outbox_state_due')

    op.drop_table('outbox')
    with op.batch_alter_table('tickets', schema=None) as batch_op:
        batch_op.drop_index('ix_tickets_status_issued')
        batch_op.drop_index('ix_tickets_platform_status')
        batch_op.drop_index(batch_op.f('ix_tickets_citizen_key'))
        batch_op.drop_index(batch_op.f('ix_tickets_case_id'))

    op.drop_table('tickets')
    with op.batch_alter_table('webhook_nonces', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_webhook_nonces_seen_at'))

    op.drop_table('webhook_nonces')
    op.drop_table('poll_cursors')
    op.drop_table('platform_state')
    op.drop_table('locks')
    with op.batch_alter_table('inbox', schema=None) as batch_op:
        batch_op.drop_index('ix_inbox_state_due')
        batch_op.drop_index('ix_inbox_external')

    op.drop_table('inbox')
    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_cases_citizen_key'))

    op.drop_table('cases')
