"""Broker construction from ``GATEWAY_BROKER_URL``: in-process, Redis or RabbitMQ."""

from __future__ import annotations

import dramatiq
from dramatiq.brokers.stub import StubBroker
from dramatiq.middleware import AgeLimit, Callbacks, Pipelines, ShutdownNotifications, TimeLimit


def make_broker(url: str) -> dramatiq.Broker:
    """memory:// → an in-process broker (the embedded default); redis://… ; amqp://…."""
    # No Retries middleware: the database schedules retries (outbox), so a message is only a doorbell.
    middleware = [AgeLimit(), TimeLimit(time_limit=300_000), ShutdownNotifications(), Callbacks(), Pipelines()]
    if url.startswith("memory://"):
        broker: dramatiq.Broker = StubBroker(middleware=middleware)
        broker.emit_after("process_boot")
        return broker
    if url.startswith(("redis://", "rediss://", "unix://")):
        from dramatiq.brokers.redis import RedisBroker

        return RedisBroker(url=url, middleware=middleware)  # type: ignore[no-untyped-call]
    if url.startswith(("amqp://", "amqps://")):
        from dramatiq.brokers.rabbitmq import RabbitmqBroker

        return RabbitmqBroker(url=url, middleware=middleware)
    raise SystemExit(f"GATEWAY_BROKER_URL: unsupported scheme in {url!r} (memory://, redis://, amqp://)")
