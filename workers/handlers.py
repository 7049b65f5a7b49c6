"""What the actors do, one service call each, with the container's collaborators."""

from __future__ import annotations

import logging
import threading
from typing import TYPE_CHECKING

from gateway.alerts.delivery import DeliveryOutcome, SinkBreaker, deliver
from gateway.alerts.sinks import AlertSink, build_sinks
from gateway.services import delivery, polling, processing
from gateway.services.linking import LinkingPolicy
from gateway.services.signing import evidence_links

if TYPE_CHECKING:
    from gateway.container import Container

log = logging.getLogger(__name__)

_GUARD = threading.Lock()
SINKS_KEY = "alert_sinks"
BREAKER_KEY = "alert_sink_breaker"


def handle_inbox(container: Container, row_id: int) -> None:
    """Map and apply one inbox row; ring rows that were waiting for the ticket it created."""
    released = processing.process_inbox(
        container.sessions, row_id=row_id, mappers=container.mappers, now=container.clock(),
        linking=LinkingPolicy(**container.settings.linking.model_dump()),
    )
    container.doorbell.inbox(released)


def handle_outbox(container: Container, row_id: int) -> None:
    """Deliver one outbox row; ring the ticket's next row once this one is sent."""
    report = delivery.deliver(
        container.sessions,
        row_id=row_id,
        adapters=container.adapters,
        mappers=container.mappers,
        policy=container.settings.outbox,
        owner=container.owner,
        clock=container.clock,
        circuits=container.circuits,
        pacer=container.pacer,
        links=evidence_links(container),
    )
    if report.ring_next is not None:
        container.doorbell.outbox([report.ring_next])


def handle_poll(container: Container, platform: str) -> None:
    """Run one pull cycle and ring the new inbox rows."""
    adapter = container.adapters.get(platform)
    if adapter is None:
        log.warning("poll for %s ignored: platform not enabled", platform)
        return
    new_ids = polling.poll_platform(container.sessions, adapter=adapter, owner=container.owner, clock=container.clock)
    container.doorbell.inbox(new_ids)


def sinks_of(container: Container) -> dict[str, AlertSink]:
    """The sinks configured for this container; tests may put their own under ``extras["alert_sinks"]``."""
    with _GUARD:
        sinks = container.extras.get(SINKS_KEY)
        if sinks is None:
            sinks = container.extras[SINKS_KEY] = build_sinks(container.settings.alerts)
        return dict(sinks)


def breaker_of(container: Container) -> SinkBreaker:
    """This process's sink circuit breaker."""
    with _GUARD:
        breaker = container.extras.get(BREAKER_KEY)
        if breaker is None:
            config = container.settings.alerts
            breaker = container.extras[BREAKER_KEY] = SinkBreaker(config.sink_failure_threshold, config.sink_reset_s)
        return breaker


def handle_delivery(container: Container, delivery_id: int) -> DeliveryOutcome:
    """Deliver one alert notification to its sink (the sinks are built once per process, lazily)."""
    return deliver(
        container.sessions,
        delivery_id=delivery_id,
        sinks=sinks_of(container),
        config=container.settings.alerts,
        owner=container.owner,
        clock=container.clock,
        breaker=breaker_of(container),
    )
