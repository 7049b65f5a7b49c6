"""``GET /metrics``: Prometheus text format (SLA timers, alerts, latency, deliveries, calendar)."""

from __future__ import annotations

import threading

from fastapi import APIRouter, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from prometheus_client.registry import CollectorRegistry

from gateway.alerts.metrics import registry_for
from gateway.api.deps import ContainerDep
from gateway.container import Container
from gateway.sla.runtime import runtime_for_engine

router = APIRouter(tags=["metrics"])
_GUARD = threading.Lock()


def _registry(container: Container) -> CollectorRegistry:
    with _GUARD:
        registry = container.extras.get("metrics_registry")
        if registry is None:
            registry = container.extras["metrics_registry"] = registry_for(
                container.sessions, runtime_for_engine(container.engine), container.clock
            )
        return registry


@router.get("/metrics", summary="Prometheus metrics", response_class=Response)
def metrics(container: ContainerDep) -> Response:
    """Counts only (no ticket content), so Prometheus may scrape it without a token."""
    return Response(generate_latest(_registry(container)), media_type=CONTENT_TYPE_LATEST)
