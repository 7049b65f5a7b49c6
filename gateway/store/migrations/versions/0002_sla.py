"""SLA timers and their event log, alerts and deliveries, run-time calendar years, counters, audit

Revision ID: 0002_sla
Revises: 0001_core
Create Date: 2026-11-22 02:14:44.321371
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import gateway.store.db

revision = '0002_sla'
down_revision = '0001_core'
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Apply."""
    op.create_table('alerts',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('dedup_key', sa.String(length=160), nullable=False),
    sa.Column('kind', sa.String(length=24), nullable=False),
    sa.Column('severity', sa.String(length=16), nullable=False),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('audience', sa.String(length=16), nullable=False),
    sa.Column('ticket_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('timer_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('platform', sa.String(length=32), nullable=True),
    sa.Column('external_id', sa.String(length=64), nullable=True),
    sa.Column('timer_kind', sa.String(length=16), nullable=True),
    sa.Column('cycle', sa.Integer(), nullable=True),
    sa.Column('threshold', sa.Integer(), nullable=True),
    sa.Column('message', sa.Text(), nullable=False),
    sa.Column('due_at', gateway.store.db.UTCDateTime(), nullable=True),
    sa.Column('fire_at', gateway.store.db.UTCDateTime(), nullable=False),
    sa.Column('created_at', gateway.store.db.UTCDateTime(), nullable=False),
    sa.Column('latency_s', sa.Float(), nullable=True),
    sa.Column('acknowledged_by', sa.String(length=100), nullable=True),
    sa.Column('acknowledged_at', gateway.store.db.UTCDateTime(), nullable=True),
    sa.Column('resolved_at', gateway.store.db.UTCDateTime(), nullable=True),
    sa.Column('repeat_count', sa.Integer(), nullable=False),
    sa.Column('next_repeat_at', gateway.store.db.UTCDateTime(), nullable=True),
    sa.Column('escalated_at', gateway.store.db.UTCDateTime(), nullable=True),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('dedup_key', name='uq_alerts_dedup_key')
    )
    with op.batch_alter_table('alerts', schema=None) as batch_op:
        batch_op.create_index('ix_alerts_repeat', ['kind', 'state', 'next_repeat_at'], unique=False)
        batch_op.create_index('ix_alerts_state', ['state', 'id'], unique=False)
        batch_op.create_index('ix_alerts_timer', ['timer_id'], unique=False)

    op.create_table('calendar_years',
    sa.Column('year', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('data', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('document_number', sa.String(length=64), nullable=False),
    sa.Column('loaded_at', gateway.store.db.UTCDateTime(), nullable=False),
    sa.Column('loaded_by', sa.String(length=100), nullable=False),
    sa.PrimaryKeyConstraint('year')
    )
    op.create_table('sla_audit',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('at', gateway.store.db.UTCDateTime(), nullable=False),
    sa.Column('actor', sa.String(length=100), nullable=False),
    sa.Column('action', sa.String(length=40), nullable=False),
    sa.Column('detail', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_table('sla_counters',
    sa.Column('name', sa.String(length=32), nullable=False),
    sa.Column('value', sa.BigInteger(), nullable=False),
    sa.Column('token', sa.String(length=32), nullable=False),
    sa.Column('updated_at', gateway.store.db.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('name')
    )
    op.create_table('alert_deliveries',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('alert_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('alert_ids', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('sink', sa.String(length=64), nullable=False),
    sa.Column('severity', sa.String(length=16), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('lines', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('next_attempt_at', gateway.store.db.UTCDateTime(), nullable=False),
    sa.Column('lease_owner', sa.String(length=64), nullable=True),
    sa.Column('lease_until', gateway.store.db.UTCDateTime(), nullable=True),
    sa.Column('rung_at', gateway.store.db.UTCDateTime(), nullable=True),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.Column('created_at', gateway.store.db.UTCDateTime(), nullable=False),
    sa.Column('sent_at', gateway.store.db.UTCDateTime(), nullable=True),
    sa.ForeignKeyConstraint(['alert_id'], ['alerts.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('alert_deliveries', schema=None) as batch_op:
        batch_op.create_index('ix_alert_deliveries_state_due', ['state', 'next_attempt_at'], unique=False)

    op.create_table('sla_timers',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('ticket_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('platform', sa.String(length=32), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('cycle', sa.Integer(), nullable=False),
    sa.Column('seq', sa.Integer(), nullable=False),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('started_at', gateway.store.db.UTCDateTime(), nullable=False),
    sa.Column('due_at', gateway.store.db.UTCDateTime(), nullable=False),
    sa.Column('met_at', gateway.store.db.UTCDateTime(), nullable=True),
    sa.Column('provisional', sa.Boolean(), nullable=False),
    sa.Column('paused_at', gateway.store.db.UTCDateTime(), nullable=True),
    sa.Column('paused_total_s', sa.Float(), nullable=False),
    sa.Column('rule_key', sa.String(length=32), nullable=True),
    sa.Column('platform_due_at', gateway.store.db.UTCDateTime(), nullable=True),
    sa.Column('ext_days', sa.Integer(), nullable=True),
    sa.Column('ext_from', gateway.store.db.UTCDateTime(), nullable=True),
    sa.Column('last_threshold', sa.Integer(), nullable=False),
    sa.Column('next_threshold', sa.Integer(), nullable=True),
    sa.Column('next_alert_at', gateway.store.db.UTCDateTime(), nullable=True),
    sa.Column('updated_at', gateway.store.db.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['ticket_id'], ['tickets.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('ticket_id', 'kind', 'cycle', 'seq', name='uq_sla_timers_ticket_kind_cycle_seq')
    )
    with op.batch_alter_table('sla_timers', schema=None) as batch_op:
        batch_op.create_index('ix_sla_timers_next_alert', ['next_alert_at'], unique=False, postgresql_where=sa.text('next_alert_at IS NOT NULL'), sqlite_where=sa.text('next_alert_at IS NOT NULL'))
        batch_op.create_index('ix_sla_timers_state', ['state', 'kind', 'platform'], unique=False)
        batch_op.create_index('ix_sla_timers_ticket', ['ticket_id'], unique=False)

    op.create_table('sla_timer_events',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('timer_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('ticket_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('at', gateway.store.db.UTCDateTime(), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('actor', sa.String(length=100), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('detail', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.ForeignKeyConstraint(['timer_id'], ['sla_timers.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('sla_timer_events', schema=None) as batch_op:
        batch_op.create_index('ix_sla_timer_events_timer', ['timer_id', 'id'], unique=False)


def downgrade() -> None:
    """Revert."""
    with op.batch_alter_table('sla_timer_events', schema=None) as batch_op:
        batch_op.drop_index('ix_sla_timer_events_timer')

    op.drop_table('sla_timer_events')
    with op.batch_alter_table('sla_timers', schema=None) as batch_op:
        batch_op.drop_index('ix_sla_timers_ticket')
        batch_op.drop_index('ix_sla_timers_state')
        batch_op.drop_index('ix_sla_timers_next_alert', postgresql_where=sa.text('next_alert_at IS NOT NULL'), sqlite_where=sa.text('next_alert_at IS NOT NULL'))

    op.drop_table('sla_timers')
    with op.batch_alter_table('alert_deliveries', schema=None) as batch_op:
        batch_op.drop_index('ix_alert_deliveries_state_due')

    op.drop_table('alert_deliveries')
    op.drop_table('sla_counters')
    op.drop_table('sla_audit')
    op.drop_table('calendar_years')
    with op.batch_alter_table('alerts', schema=None) as batch_op:
        batch_op.drop_index('ix_alerts_timer')
        batch_op.drop_index('ix_alerts_state')
        batch_op.drop_index('ix_alerts_repeat')

    op.drop_table('alerts')
