"""What a process holds, once built: the core's collaborators behind its ports.

The ``Container`` is built by the composition root (``app.bootstrap``) and passed in; it names only
the core's own types and ports (``gateway.ports``), never an adapter, mapper or worker class. Tests
build their own with fakes.
"""

from __future__ import annotations

import os
import socket
import uuid
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import dramatiq
from prometheus_client import CollectorRegistry
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from gateway.alerts.delivery import SinkBreaker
from gateway.alerts.sinks import AlertSink
from gateway.ports import Doorbell, Mapper, PlatformAdapter, PushVerifier
from gateway.services.circuit import CircuitPolicy
from gateway.services.group_commit import GroupCommitter
from gateway.services.ratelimit import PlatformPacer
from gateway.services.ringing import RingQueue
from gateway.settings import Settings
from gateway.store.db import transaction, utcnow


class Rings:
    """The doorbells a transaction asks for; they ring only once it has committed."""

    def __init__(self) -> None:
        self.asked: list[tuple[str, list[int]]] = []

    def outbox(self, ids: Iterable[int]) -> None:
        """Ring these outbox rows after the commit."""
        self.asked.append(("outbox", list(ids)))

    def inbox(self, ids: Iterable[int]) -> None:
        """Ring these inbox rows after the commit."""
        self.asked.append(("inbox", list(ids)))

    def alerts(self, ids: Iterable[int]) -> None:
        """Ring these alert deliveries after the commit."""
        self.asked.append(("alerts", list(ids)))


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
    rings: RingQueue | None = None  # the doorbell's queue when it has one (bootstrap): /metrics, close()
    clock: Callable[[], datetime] = utcnow
    owner: str = field(default_factory=lambda: f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}")
    # Built once per process, on first use (tests may set their own):
    signing_key: bytes | None = None  # gateway.services.signing: sessions, forms, evidence links
    metrics_registry: CollectorRegistry | None = None  # /metrics
    alert_sinks: dict[str, AlertSink] | None = None  # workers.handlers: where alerts go
    alert_breaker: SinkBreaker | None = None  # this process's sink circuit breaker
    units_seeded: bool = False  # the unit directory was seeded from its file (dashboard)
    inbound_committer: GroupCommitter[Any, Any] | None = None  # built on the first push (routers/inbound.py)

    @contextmanager
    def commit_then_ring(self) -> Iterator[tuple[Session, Rings]]:
        """One transaction; the rows it asked to ring are rung after it commits, never for a rollback.

        ``with container.commit_then_ring() as (session, ring): ring.outbox(use_case(session, ...))``
        """
        rings = Rings()
        with transaction(self.sessions) as session:
            yield session, rings
        bells = {"outbox": self.doorbell.outbox, "inbox": self.doorbell.inbox, "alerts": self.doorbell.alerts}
        for kind, ids in rings.asked:
            bells[kind](ids)

    def close_inbound(self) -> None:
        """Commit the pushes still queued and stop the committer (the next push builds a new one)."""
        committer, self.inbound_committer = self.inbound_committer, None
        if committer is not None:
            committer.close()

    def close(self) -> None:
        """Finish queued pushes and rings, then release connections."""
        self.close_inbound()
        if self.rings is not None:  # rings still queued go out (or are dropped) before the broker closes
            self.rings.close(self.settings.doorbell.close_timeout_s)
        for adapter in self.adapters.values():
            adapter.close()
        self.broker.close()
        self.engine.dispose()
