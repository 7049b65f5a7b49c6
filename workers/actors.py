"""The actors. Each takes an id, makes one service call, and rings whatever comes next.

Messages are doorbells: the database is the system of record, so a lost message costs latency
(the sweeper rings again), never work. ``ActorBell`` sends them; the container's doorbell
(``gateway.services.ringing.RingQueue``) calls it from a thread of its own, so a stalled broker never
holds a request, and counts a failed send as a dropped ring, left to the sweeper (issue 12 point 2).
A lost database connection (a PostgreSQL restart) is weather, not a crash: each actor runs once more
on a fresh connection and, if the database is still away, logs one line and leaves the row to the
sweeper — never a traceback, never Dramatiq's "unhandled exception".
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING

import dramatiq
from dramatiq.actor import ActorDecorator

from gateway.store.db import DatabaseUnavailable, retry_on_disconnect

if TYPE_CHECKING:
    from gateway.container import Container

log = logging.getLogger(__name__)

QUEUE = "hotline"
# Inbox ids per process_inbox message: a burst of pushes committed together rings once per few
# rows instead of once per row (a Redis round trip each), while a few worker threads still share it.
INBOX_IDS_PER_MESSAGE = 8
ALERT_QUEUE = "alerts"  # sink deliveries apart from platform write-backs: a slow robot never delays a reply


InboxActor = dramatiq.Actor[[list[int] | int], None]  # a bare id: rung by a gateway from before id lists
RowActor = dramatiq.Actor[[int], None]
PollActor = dramatiq.Actor[[str], None]


@dataclass(frozen=True)
class ActorBell:
    """The ``Bell`` (``gateway.ports``) for the actors: sends their messages now, raises if it cannot.

    ``sender`` is the broker the messages are enqueued on: for Redis a client of its own with short
    timeouts (``make_ring_broker``), so a stalled Redis fails a ring quickly instead of holding the ring
    thread; the actors' own broker (workers consuming) keeps its defaults. ``RingQueue`` (the
    ``Doorbell`` the container hands out) calls this from its thread and counts what fails.
    """

    process_inbox: InboxActor
    deliver_outbox: RowActor
    poll_platform: PollActor
    deliver_alert: RowActor
    sender: dramatiq.Broker

    def inbox(self, ids: list[int]) -> None:
        """Ring these inbox rows, a few rows per message."""
        for i in range(0, len(ids), INBOX_IDS_PER_MESSAGE):
            self.sender.enqueue(self.process_inbox.message(ids[i:i + INBOX_IDS_PER_MESSAGE]))

    def outbox(self, ids: list[int]) -> None:
        """One message per outbox row."""
        for row_id in ids:
            self.sender.enqueue(self.deliver_outbox.message(row_id))

    def poll(self, platform: str) -> None:
        """One pull cycle."""
        self.sender.enqueue(self.poll_platform.message(platform))

    def alerts(self, ids: list[int]) -> None:
        """One message per alert delivery."""
        for delivery_id in ids:
            self.sender.enqueue(self.deliver_alert.message(delivery_id))

    def close(self) -> None:
        """Close the sending broker when it is not the actors' own (that one is closed by the container)."""
        if self.sender is not self.process_inbox.broker:
            self.sender.close()


def weathered(what: str, work: Callable[[], object]) -> None:
    """Run ``work``, once more on a fresh connection if the database connection was lost; if the
    database is still unavailable, one log line and the sweeper rings the row again later."""
    try:
        retry_on_disconnect(work, what=what)
    except DatabaseUnavailable as exc:
        log.warning("%s; left to the sweeper", exc)


def declare(broker: dramatiq.Broker, container: Container, *, sender: dramatiq.Broker | None = None) -> ActorBell:
    """Declare the actors on ``broker`` (never at import time) and return the bell that sends to them
    (through ``sender``, the actors' own broker unless given)."""
    from workers import handlers

    def process_inbox(row_ids: list[int] | int) -> None:
        # A bare id is a message rung before ids were sent in lists (rolling upgrade).
        for row_id in [row_ids] if isinstance(row_ids, int) else row_ids:
            try:
                weathered(f"inbox row {row_id}", partial(handlers.handle_inbox, container, row_id))
            except Exception:  # one bad row never holds up the others; the sweeper rings it again
                log.exception("inbox row %s failed; left to the sweeper", row_id)

    def deliver_outbox(row_id: int) -> None:
        # delivery.deliver retries each of its own steps; what still fails here is the database away.
        try:
            handlers.handle_outbox(container, row_id)
        except DatabaseUnavailable as exc:
            log.warning("%s; left to the sweeper", exc)

    def poll_platform(platform: str) -> None:
        weathered(f"poll {platform}", lambda: handlers.handle_poll(container, platform))

    def deliver_alert(delivery_id: int) -> None:
        weathered(f"alert delivery {delivery_id}", lambda: handlers.handle_delivery(container, delivery_id))

    def make(name: str, queue: str = QUEUE) -> ActorDecorator:
        return dramatiq.actor(actor_name=name, broker=broker, queue_name=queue)

    return ActorBell(
        process_inbox=make("process_inbox")(process_inbox),
        deliver_outbox=make("deliver_outbox")(deliver_outbox),
        poll_platform=make("poll_platform")(poll_platform),
        deliver_alert=make("deliver_alert", ALERT_QUEUE)(deliver_alert),
        sender=sender or broker,
    )
