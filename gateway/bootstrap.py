"""The composition root: settings, engine, broker, adapters and actors are built here, once.

Nothing is created at import time anywhere else; tests build their own container with fakes.
"""

from __future__ import annotations

import logging
import os
import socket
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import dramatiq
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from adapters.base import PlatformAdapter, PushVerifier
from gateway.platforms import REGISTRY
from gateway.services.circuit import CircuitPolicy
from gateway.services.group_commit import GroupCommitter
from gateway.services.ratelimit import PlatformPacer
from gateway.settings import Settings
from gateway.store.db import make_engine, make_session_factory, utcnow
from mappers.base import Mapper
from workers.actors import Doorbell, declare
from workers.broker import make_broker

log = logging.getLogger(__name__)


@dataclass
class Container:
    """Everything a process needs, built once and passed in."""

    settings: Settings
    engine: Engine
    sessions: sessionmaker[Session]
    adapters: dict[str, PlatformAdapter]
    mappers: dict[str, Mapper]
    verifiers: dict[str, PushVerifier]
    broker: dramatiq.Broker
    circuits: dict[str, CircuitPolicy] = field(default_factory=dict)
    pacer: PlatformPacer | None = None
    doorbell: Doorbell = field(init=False)
    clock: Callable[[], datetime] = utcnow
    owner: str = field(default_factory=lambda: f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}")
    extras: dict[str, Any] = field(default_factory=dict)
    inbound_committer: GroupCommitter[Any, Any] | None = None  # built on the first push (routers/inbound.py)

    def close_inbound(self) -> None:
        """Commit the pushes still queued and stop the committer (the next push builds a new one)."""
        committer, self.inbound_committer = self.inbound_committer, None
        if committer is not None:
            committer.close()

    def close(self) -> None:
        """Finish queued pushes, then release connections."""
        self.close_inbound()
        for adapter in self.adapters.values():
            adapter.close()
        self.broker.close()
        self.engine.dispose()


def bootstrap(
    settings: Settings,
    *,
    adapters: dict[str, PlatformAdapter] | None = None,
    clock: Callable[[], datetime] = utcnow,
) -> Container:
    """Build the container for this process from settings (adapters may be injected by tests)."""
    engine = make_engine(settings.database_url)
    if adapters is None:
        adapters = {
            key: REGISTRY[key].make_adapter(platform)
            for key, platform in settings.platforms.enabled().items()
            if key in REGISTRY
        }
    verifiers: dict[str, PushVerifier] = {
        key: adapter  # type: ignore[misc]
        for key, adapter in adapters.items()
        if REGISTRY.get(key) is not None and REGISTRY[key].pushes
    }
    container = Container(
        settings=settings,
        engine=engine,
        sessions=make_session_factory(engine),
        adapters=adapters,
        mappers={key: spec.make_mapper() for key, spec in REGISTRY.items()},
        verifiers=verifiers,
        broker=make_broker(settings.broker_url),
        circuits={
            key: CircuitPolicy(p.circuit_failure_threshold, p.circuit_reset_s)
            for key, p in settings.platforms.enabled().items()
        },
        pacer=PlatformPacer(
            {key: p.rate_limit_per_s for key, p in settings.platforms.enabled().items()}, settings.broker_url
        ),
        clock=clock,
    )
    container.doorbell = declare(container.broker, container)
    return container
