"""Shared fixtures: databases (SQLite and a throw-away PostgreSQL database), Redis, containers.

Tests that need PostgreSQL or Redis skip when the server is unreachable on a developer's machine,
and FAIL under ``CI=true`` (the CI machine must have them; a skip there would hide a regression).
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from gateway.store.db import make_engine
from gateway.store.migrate import upgrade
from gateway.store.tables import Base

PG_ADMIN_URL = os.environ.get("TEST_PG_ADMIN_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/13")
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


def _unavailable(what: str, exc: BaseException) -> None:
    message = f"{what} unreachable: {type(exc).__name__}: {exc}"
    if IN_CI:
        pytest.fail(f"{message} (CI=true: tests needing it must fail, not skip)")
    pytest.skip(message)


@pytest.fixture(scope="session")
def pg_database() -> Iterator[str]:
    """A fresh PostgreSQL database for this test session, migrated to head, dropped afterwards."""
    name = f"hg_test_{uuid.uuid4().hex[:10]}"
    try:
        admin = make_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT", pool_size=1)
        with admin.connect() as conn:
            conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    except Exception as exc:
        _unavailable("PostgreSQL", exc)
    url = PG_ADMIN_URL.rsplit("/", 1)[0] + "/" + name
    engine = make_engine(url)
    upgrade(engine)
    engine.dispose()
    yield url
    with admin.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def _truncate(url: str) -> None:
    engine = make_engine(url)
    with engine.begin() as conn:
        if url.startswith("postgresql"):
            names = ", ".join(f'"{t.name}"' for t in Base.metadata.sorted_tables)
            conn.execute(sa.text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
        else:
            for table in reversed(Base.metadata.sorted_tables):
                conn.execute(table.delete())
    engine.dispose()


@pytest.fixture
def pg_url(pg_database: str) -> Iterator[str]:
    """The session's PostgreSQL database, emptied for this test."""
    _truncate(pg_database)
    yield pg_database


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    """A fresh SQLite file, migrated to head."""
    url = f"sqlite:///{tmp_path / 'gateway.sqlite3'}"
    engine = make_engine(url)
    upgrade(engine)
    engine.dispose()
    return url


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest) -> str:
    """Run the test once on SQLite and once on PostgreSQL."""
    if request.param == "sqlite":
        return str(request.getfixturevalue("sqlite_url"))
    return str(request.getfixturevalue("pg_url"))


@pytest.fixture
def redis_url() -> Iterator[str]:
    """A Redis database number of our own, flushed before and after."""
    import redis

    client = redis.Redis.from_url(REDIS_URL)
    try:
        client.ping()
    except Exception as exc:
        _unavailable("Redis", exc)
    client.flushdb()
    yield REDIS_URL
    client.flushdb()
    client.close()


@pytest.fixture
def make_settings() -> Callable[..., Any]:
    """Settings for tests: no .env file, explicit values only."""
    from gateway.settings import Settings

    def build(**overrides: Any) -> Settings:
        values: dict[str, Any] = {"database_url": "sqlite://", "broker_url": "memory://"} | overrides
        return Settings(_env_file=None, **values)  # type: ignore[call-arg]

    return build
