"""Broker construction from ``GATEWAY_BROKER_URL``: in-process, Redis or RabbitMQ; and the one rings are sent on."""

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


def make_ring_broker(url: str, broker: dramatiq.Broker, *, socket_timeout_s: float,
                     connect_timeout_s: float) -> dramatiq.Broker:
    """The broker the doorbell enqueues on (issue 12 point 2).

    For Redis, a client of its own with short timeouts and no retries: during a Redis stall
    (``CLIENT PAUSE``, a failover) a ring fails in ``socket_timeout_s`` and is left to the sweeper,
    instead of holding the ring thread for as long as the stall. Enqueueing only (no middleware, it
    consumes nothing); the workers keep consuming on ``broker`` with the client's defaults. Any other
    broker (in-process, RabbitMQ) is used as it is.
    """
    if not url.startswith(("redis://", "rediss://", "unix://")):
        return broker
    import redis
    from dramatiq.brokers.redis import RedisBroker
    from redis.backoff import NoBackoff
    from redis.retry import Retry

    pool = redis.ConnectionPool.from_url(url, socket_timeout=socket_timeout_s,
                                         socket_connect_timeout=connect_timeout_s, retry=Retry(NoBackoff(), 0))

    class RingBroker(RedisBroker):
        def close(self) -> None:
            pool.disconnect()  # the pool was passed in, so the client would leave it open

    return RingBroker(client=redis.Redis(connection_pool=pool), middleware=[])  # type: ignore[no-untyped-call]
