"""The embedded default: the same actors and scheduler, in this process, on the in-process broker."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

import dramatiq
from dramatiq.brokers.stub import StubBroker

from workers.scheduler import Scheduler

if TYPE_CHECKING:
    from gateway.container import Container

log = logging.getLogger(__name__)


class Embedded:
    """Runs a Dramatiq worker (threads) and the scheduler beside the API."""

    def __init__(self, container: Container, *, worker: bool = True, scheduler: bool = True) -> None:
        self.container = container
        self.worker: dramatiq.Worker | None = None
        self.scheduler = Scheduler(container) if scheduler else None
        self._want_worker = worker

    @property
    def in_process_broker(self) -> bool:
        """True for memory:// (StubBroker): nobody else will consume its queue."""
        return isinstance(self.container.broker, StubBroker)

    def start(self) -> None:
        """Start the worker threads and the scheduler thread."""
        if self._want_worker:
            self.worker = dramatiq.Worker(
                self.container.broker, worker_threads=self.container.settings.worker_threads, worker_timeout=100
            )
            self.worker.start()
        if self.scheduler:
            self.scheduler.start()
        log.info("embedded worker=%s scheduler=%s", bool(self.worker), bool(self.scheduler))

    def stop(self) -> None:
        """Stop the scheduler, then the worker (it finishes the messages in hand)."""
        if self.scheduler:
            self.scheduler.stop()
        if self.worker:
            self.worker.stop(timeout=10_000)
