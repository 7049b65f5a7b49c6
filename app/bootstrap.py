"""The composition root: settings, engine, broker, adapters, mappers and actors are built here, once.

Nothing is created at import time anywhere else; tests build their own container with fakes.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime

from app.registry import REGISTRY
from gateway.catalogue import CATALOGUE
from gateway.container import Container
from gateway.ports import PlatformAdapter, PushVerifier
from gateway.services.circuit import CircuitPolicy
from gateway.services.ratelimit import PlatformPacer
from gateway.services.ringing import RingQueue
from gateway.settings import Settings
from gateway.sla import runtime as sla_runtime
from gateway.store.db import make_engine, make_session_factory, utcnow
from workers.actors import declare
from workers.broker import make_broker, make_ring_broker

__all__ = ["Container", "bootstrap"]

log = logging.getLogger(__name__)


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
        if CATALOGUE.get(key) is not None and CATALOGUE[key].pushes
    }
    container = Container(
        settings=settings,
        engine=engine,
        sessions=make_session_factory(engine),
        adapters=adapters,
        mappers={key: wiring.make_mapper() for key, wiring in REGISTRY.items()},
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
    sla_runtime.bind(engine, settings.sla, settings.alerts)  # this deployment's deadline rules, on its engine
    # Rings never wait for the broker (issue 12 point 2): queued, sent by one thread on a connection with
    # short timeouts, dropped to the sweeper when it fails. The in-process broker never blocks: inline.
    bell = declare(container.broker, container, sender=make_ring_broker(
        settings.broker_url, container.broker, socket_timeout_s=settings.doorbell.socket_timeout_s,
        connect_timeout_s=settings.doorbell.connect_timeout_s))
    container.rings = RingQueue(bell, capacity=settings.doorbell.queue_size,
                                inline=settings.broker_url.startswith("memory://"))
    container.doorbell = container.rings
    return container
