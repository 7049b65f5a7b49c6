"""Alembic environment: runs against the connection or URL handed in by ``gateway.store.migrate``."""

from __future__ import annotations

from alembic import context
from sqlalchemy import engine_from_config, pool

import gateway.store.tables_auth  # registers the dashboard's tables on Base.metadata
import gateway.store.tables_dashboard  # noqa: F401
from gateway.store import tables_sla  # noqa: F401  (registers the SLA tables on Base.metadata)
from gateway.store.tables import Base

config = context.config
target_metadata = Base.metadata


def run_migrations_offline() -> None:
    """Emit SQL without a database."""
    context.configure(url=config.get_main_option("sqlalchemy.url"), target_metadata=target_metadata,
                      literal_binds=True, render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    """Run against a live database (batch mode so ALTERs work on SQLite too)."""
    connection = config.attributes.get("connection")
    if connection is None:
        engine = engine_from_config(config.get_section(config.config_ini_section) or {},
                                    prefix="sqlalchemy.", poolclass=pool.NullPool)
        with engine.connect() as conn:
            context.configure(connection=conn, target_metadata=target_metadata, render_as_batch=True)
            with context.begin_transaction():
                context.run_migrations()
        return
    context.configure(connection=connection, target_metadata=target_metadata, render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
