"""What the ``deliver_alert`` actor does, with the container's sinks (built once per process, lazily)."""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING

from gateway.alerts.delivery import DeliveryOutcome, SinkBreaker, deliver
from gateway.alerts.sinks import AlertSink, build_sinks

if TYPE_CHECKING:
    from gateway.bootstrap import Container

_GUARD = threading.Lock()
SINKS_KEY = "alert_sinks"
BREAKER_KEY = "alert_sink_breaker"


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
    """Deliver one alert notification to its sink."""
    return deliver(
        container.sessions,
        delivery_id=delivery_id,
        sinks=sinks_of(container),
        config=container.settings.alerts,
        owner=container.owner,
        clock=container.clock,
        breaker=breaker_of(container),
    )
