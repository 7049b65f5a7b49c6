"""Prometheus metrics read from the database at scrape time, so every API process reports the same
numbers whichever process emitted the alerts (and they survive restarts).

Metrics: ``hotline_sla_open_timers{platform,timer,state}``, ``hotline_sla_alerts_total{platform,timer,kind}``
(warnings and breaches), ``hotline_sla_alert_latency_seconds`` (histogram, due instant → emitted),
``hotline_alert_deliveries{sink,state}`` and ``hotline_calendar_missing_years``.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from datetime import datetime

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily, Metric
from prometheus_client.registry import Collector, CollectorRegistry
from sqlalchemy import case, func, select
from sqlalchemy.orm import Session, sessionmaker

from gateway.services.health import platform_health
from gateway.sla.deadlines import to_shanghai
from gateway.sla.runtime import SlaRuntime
from gateway.store.tables_sla import OPEN_STATES, AlertDeliveryRecord, AlertRecord, SlaTimerRecord

LATENCY_BUCKETS = (0.5, 1.0, 2.0, 5.0, 10.0, 30.0, 60.0, 300.0)


class SlaCollector(Collector):
    """Collects SLA gauges and counters with a few GROUP BY queries; cached for ``cache_s`` seconds."""

    def __init__(self, sessions: sessionmaker[Session], runtime: SlaRuntime, clock: Callable[[], datetime],
                 cache_s: float = 5.0) -> None:
        self.sessions, self.runtime, self.clock, self.cache_s = sessions, runtime, clock, cache_s
        self._cached: tuple[float, list[Metric]] | None = None
        self._lock = threading.Lock()

    def collect(self) -> Iterator[Metric]:
        """The metric families (from cache when fresh)."""
        with self._lock:
            if self._cached is None or time.monotonic() - self._cached[0] > self.cache_s:
                self._cached = (time.monotonic(), self._read())
            yield from self._cached[1]

    def _read(self) -> list[Metric]:
        with self.sessions() as session:
            return [self._timers(session), self._alerts(session), self._latency(session),
                    self._deliveries(session), self._calendar(session), *self._platforms(session)]

    def _platforms(self, session: Session) -> list[Metric]:
        """Platform health (issue 4): polling, the delivery circuit, outbox backlog."""
        now = self.clock()
        families = {
            "outbox_backlog": GaugeMetricFamily(
                "hotline_platform_outbox_backlog", "Write-backs waiting per platform", labels=["platform"]),
            "outbox_oldest_age_s": GaugeMetricFamily(
                "hotline_platform_outbox_oldest_age_seconds", "Age of the oldest waiting write-back",
                labels=["platform"]),
            "outbox_dead": GaugeMetricFamily(
                "hotline_platform_outbox_dead", "Dead write-backs waiting for a person", labels=["platform"]),
            "inbox_failed": GaugeMetricFamily(
                "hotline_platform_inbox_failed", "Inbound events the mapper could not read", labels=["platform"]),
            "circuit_open": GaugeMetricFamily(
                "hotline_platform_circuit_open", "1 while delivery to the platform is paused", labels=["platform"]),
            "delivery_error_rate": GaugeMetricFamily(
                "hotline_platform_delivery_error_ratio", "Failed share of deliveries this hour", labels=["platform"]),
            "poll_age": GaugeMetricFamily(
                "hotline_platform_last_poll_age_seconds", "Seconds since the last successful pull",
                labels=["platform"]),
        }
        for item in platform_health(session, now=now):
            if not item["enabled"]:
                continue
            key = [item["platform"]]
            families["outbox_backlog"].add_metric(key, item["outbox_backlog"])
            families["outbox_oldest_age_s"].add_metric(key, item["outbox_oldest_age_s"] or 0)
            families["outbox_dead"].add_metric(key, item["outbox_dead"])
            families["inbox_failed"].add_metric(key, item["inbox_failed"])
            families["circuit_open"].add_metric(key, 0 if item["circuit"] == "closed" else 1)
            families["delivery_error_rate"].add_metric(key, item["delivery_error_rate"])
            last = item["last_poll_ok_at"]
            if last is not None:
                families["poll_age"].add_metric(key, (now - last).total_seconds())
        return list(families.values())

    def _timers(self, session: Session) -> Metric:
        gauge = GaugeMetricFamily("hotline_sla_open_timers", "Open SLA timers by platform, timer and state",
                                  labels=["platform", "timer", "state"])
        t = SlaTimerRecord
        rows = session.execute(select(t.platform, t.kind, t.state, func.count()).where(t.state.in_(OPEN_STATES))
                               .group_by(t.platform, t.kind, t.state))
        for platform, kind, state, count in rows:
            gauge.add_metric([platform, kind, state], count)
        return gauge

    def _alerts(self, session: Session) -> Metric:
        counter = CounterMetricFamily("hotline_sla_alerts", "SLA warnings and breaches emitted",
                                      labels=["platform", "timer", "kind"])
        a = AlertRecord
        rows = session.execute(select(a.platform, a.timer_kind, a.kind, func.count())
                               .where(a.kind.in_(("warning", "breach")))
                               .group_by(a.platform, a.timer_kind, a.kind))
        for platform, timer, kind, count in rows:
            counter.add_metric([platform or "", timer or "", kind], count)
        return counter

    def _latency(self, session: Session) -> Metric:
        a = AlertRecord
        columns = [func.sum(case((a.latency_s <= b, 1), else_=0)) for b in LATENCY_BUCKETS]
        row = session.execute(
            select(func.count(), func.coalesce(func.sum(a.latency_s), 0.0), *columns)
            .where(a.kind.in_(("warning", "breach")))
        ).one()
        total, seconds = int(row[0] or 0), float(row[1] or 0.0)
        buckets = [(str(b), int(n or 0)) for b, n in zip(LATENCY_BUCKETS, row[2:], strict=True)]
        buckets.append(("+Inf", total))
        return HistogramMetricFamily("hotline_sla_alert_latency_seconds",
                                     "Seconds from a threshold's instant to the alert's emission",
                                     buckets=buckets, sum_value=seconds)

    def _deliveries(self, session: Session) -> Metric:
        gauge = GaugeMetricFamily("hotline_alert_deliveries", "Alert sink deliveries by sink and state",
                                  labels=["sink", "state"])
        d = AlertDeliveryRecord
        for sink, state, count in session.execute(select(d.sink, d.state, func.count()).group_by(d.sink, d.state)):
            gauge.add_metric([sink, state], count)
        return gauge

    def _calendar(self, session: Session) -> Metric:
        missing = self.runtime.calendar(session).missing_years(to_shanghai(self.clock()).date())
        gauge = GaugeMetricFamily("hotline_calendar_missing_years",
                                  "Years a deadline may fall in that have no State Council arrangement loaded")
        gauge.add_metric([], len(missing))
        return gauge


def registry_for(
    sessions: sessionmaker[Session], runtime: SlaRuntime, clock: Callable[[], datetime]
) -> CollectorRegistry:
    """A registry with the SLA collector only (no process metrics: they differ per API process)."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(SlaCollector(sessions, runtime, clock))
    return registry
