"""``GET /metrics``: Prometheus text format (SLA timers, alerts, latency, deliveries, calendar, doorbell)."""

from __future__ import annotations

import threading
from collections.abc import Iterator

from fastapi import APIRouter, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector, CollectorRegistry

from gateway.alerts.metrics import registry_for
from gateway.api.deps import ContainerDep
from gateway.container import Container
from gateway.services.ringing import RingQueue
from gateway.sla.runtime import runtime_for_engine

router = APIRouter(tags=["metrics"])
_GUARD = threading.Lock()


class RingCollector(Collector):
    """This process's doorbell (issue 12 point 2): rings sent, dropped to the sweeper, and queued now.

    ``hotline_doorbell_rings_total``, ``hotline_doorbell_dropped_total{reason}`` (``full``: the queue was
    full; ``broker``: the broker refused or did not answer in time; ``closed``: still queued at shutdown)
    and ``hotline_doorbell_queue_depth``. Counted in memory: per process, from its start.
    """

    def __init__(self, rings: RingQueue) -> None:
        self.rings = rings

    def collect(self) -> Iterator[Metric]:
        """Read the counts now (no cache: they are in memory)."""
        counts = self.rings.counts()
        yield CounterMetricFamily("hotline_doorbell_rings", "Rings sent to the broker by this process",
                                  value=counts.sent)
        dropped = CounterMetricFamily(
            "hotline_doorbell_dropped", "Rings dropped by this process (the sweeper rings their rows again)",
            labels=["reason"])
        for reason, value in counts.dropped.items():
            dropped.add_metric([reason], value)
        yield dropped
        yield GaugeMetricFamily("hotline_doorbell_queue_depth", "Rings waiting for the broker in this process",
                                value=counts.queued)


def _registry(container: Container) -> CollectorRegistry:
    with _GUARD:
        if container.metrics_registry is None:
            container.metrics_registry = registry_for(
                container.sessions, runtime_for_engine(container.engine), container.clock
            )
            if container.rings is not None:
                container.metrics_registry.register(RingCollector(container.rings))
        return container.metrics_registry


@router.get("/metrics", summary="Prometheus metrics", response_class=Response)
def metrics(container: ContainerDep) -> Response:
    """Counts only (no ticket content), so Prometheus may scrape it without a token."""
    return Response(generate_latest(_registry(container)), media_type=CONTENT_TYPE_LATEST)
