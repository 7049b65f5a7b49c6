"""The actors. Each takes an id, makes one service call, and rings whatever comes next.

Messages are doorbells: the database is the system of record, so a lost message costs latency
(the sweeper rings again), never work. A failed ``send`` is logged and left to the sweeper.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import dramatiq

if TYPE_CHECKING:
    from gateway.container import Container

log = logging.getLogger(__name__)

QUEUE = "hotline"
# Inbox ids per process_inbox message: a burst of pushes committed together rings once per few
# rows instead of once per row (a Redis round trip each), while a few worker threads still share it.
INBOX_IDS_PER_MESSAGE = 8
ALERT_QUEUE = "alerts"  # sink deliveries apart from platform write-backs: a slow robot never delays a reply


@dataclass
class Doorbell:
    """Rings actors after a commit. Never raises: the sweeper is the safety net."""

    process_inbox: Any
    deliver_outbox: Any
    poll_platform: Any
    deliver_alert: Any = None

    def inbox(self, ids: Iterable[int]) -> None:
        """Ask workers to process these inbox rows, a few rows per message."""
        ids = list(ids)
        chunks = [ids[i:i + INBOX_IDS_PER_MESSAGE] for i in range(0, len(ids), INBOX_IDS_PER_MESSAGE)]
        self._ring(self.process_inbox, chunks)

    def outbox(self, ids: Iterable[int]) -> None:
        """Ask a worker to deliver these outbox rows."""
        self._ring(self.deliver_outbox, ids)

    def poll(self, platform: str) -> None:
        """Ask a worker to run one pull cycle."""
        self._ring(self.poll_platform, [platform])

    def alerts(self, ids: Iterable[int]) -> None:
        """Ask a worker to deliver these alert notifications to their sinks."""
        if self.deliver_alert is not None:
            self._ring(self.deliver_alert, ids)

    @staticmethod
    def _ring(actor: Any, args: Iterable[Any]) -> None:
        for arg in args:
            try:
                actor.send(arg)
            except Exception as exc:  # broker down: the row is safe in the DB; the sweeper re-rings
                log.warning("could not ring %s(%s): %s", actor.actor_name, arg, exc)


def declare(broker: dramatiq.Broker, container: Container) -> Doorbell:
    """Declare the actors on ``broker`` (never at import time) and return the doorbell for them."""
    from workers import handlers

    def process_inbox(row_ids: list[int] | int) -> None:
        # A bare id is a message rung before ids were sent in lists (rolling upgrade).
        for row_id in [row_ids] if isinstance(row_ids, int) else row_ids:
            try:
                handlers.handle_inbox(container, row_id)
            except Exception:  # one bad row never holds up the others; the sweeper rings it again
                log.exception("inbox row %s failed; left to the sweeper", row_id)

    def deliver_outbox(row_id: int) -> None:
        handlers.handle_outbox(container, row_id)

    def poll_platform(platform: str) -> None:
        handlers.handle_poll(container, platform)

    def deliver_alert(delivery_id: int) -> None:
        handlers.handle_delivery(container, delivery_id)

    def make(name: str, queue: str = QUEUE) -> Any:
        return dramatiq.actor(actor_name=name, broker=broker, queue_name=queue)

    return Doorbell(
        process_inbox=make("process_inbox")(process_inbox),
        deliver_outbox=make("deliver_outbox")(deliver_outbox),
        poll_platform=make("poll_platform")(poll_platform),
        deliver_alert=make("deliver_alert", ALERT_QUEUE)(deliver_alert),
    )
