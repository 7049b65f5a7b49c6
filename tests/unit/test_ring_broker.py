"""The broker rings are sent on, and the actors' Bell (issue 12 point 2; issue 14: the doorbell is typed)."""

from __future__ import annotations

from typing import Any

from dramatiq.brokers.stub import StubBroker

from workers.actors import INBOX_IDS_PER_MESSAGE, declare
from workers.broker import make_broker, make_ring_broker


def test_rings_to_redis_go_on_a_client_of_their_own_with_short_timeouts_and_no_retries() -> None:
    broker = make_broker("redis://127.0.0.1:6379/10")  # nothing is sent: no Redis needed
    ring = make_ring_broker("redis://127.0.0.1:6379/10", broker, socket_timeout_s=0.3, connect_timeout_s=0.2)
    assert ring is not broker
    kwargs = ring.client.connection_pool.connection_kwargs  # type: ignore[attr-defined]
    assert (kwargs["socket_timeout"], kwargs["socket_connect_timeout"]) == (0.3, 0.2)
    assert kwargs["retry"].get_retries() == 0
    # The workers consume on the actors' own broker, whose client keeps redis-py's defaults.
    assert broker.client.connection_pool.connection_kwargs.get("socket_timeout") is None  # type: ignore[attr-defined]
    ring.close()


def test_the_in_process_broker_is_rung_as_it_is() -> None:
    broker = make_broker("memory://")
    assert make_ring_broker("memory://", broker, socket_timeout_s=0.5, connect_timeout_s=0.5) is broker


def test_the_bell_sends_through_its_sender_a_few_inbox_rows_per_message() -> None:
    actors_broker, sender = StubBroker(), StubBroker()
    sender.declare_queue("hotline")
    sender.declare_queue("alerts")
    container: Any = None  # the actors are only declared here, never run
    bell = declare(actors_broker, container, sender=sender)
    bell.inbox(list(range(20)))
    bell.outbox([7, 8])
    bell.poll("p12345")
    bell.alerts([3])
    sent = [(m.actor_name, m.args) for m in _messages(sender, "hotline")]
    assert sent == [("process_inbox", (list(range(INBOX_IDS_PER_MESSAGE)),)),
                    ("process_inbox", (list(range(8, 16)),)), ("process_inbox", (list(range(16, 20)),)),
                    ("deliver_outbox", (7,)), ("deliver_outbox", (8,)), ("poll_platform", ("p12345",))]
    assert [(m.actor_name, m.args) for m in _messages(sender, "alerts")] == [("deliver_alert", (3,))]
    assert actors_broker.queues["hotline"].qsize() == 0  # nothing went through the actors' own broker
    bell.close()  # the sender is not the actors' broker: closed with the bell


def _messages(broker: StubBroker, queue: str) -> list[Any]:
    from dramatiq import Message

    q = broker.queues[queue]
    return [Message.decode(q.get_nowait()) for _ in range(q.qsize())]
