"""The interfaces the core needs from its edges, and the values that cross them.

``adapters/`` (transport to a platform) and ``mappers/`` (translation of its payloads) implement
these protocols; the composition root (``app/``) builds them and hands them to the core. The core
itself never imports an adapter, a mapper, a worker or the app (``tests/unit/test_import_contract.py``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from gateway.schema import MappedEvent


@dataclass(frozen=True)
class RawItem:
    """One foreign payload as received, with what the inbox needs to dedupe and route it."""

    event_id: str  # unique per platform: the platform's event id, or "pull:{id}:{version}"
    event_type: str  # e.g. "order.dispatched"; pulled snapshots use "order.snapshot"
    external_id: str | None
    payload: str  # the raw text, exactly as received (decoded to str)


@dataclass(frozen=True)
class PollPage:
    """One page of a pull: the items and the cursor to save with them, in one transaction."""

    items: list[RawItem]
    cursor: dict[str, Any]  # opaque to the gateway; JSON-serialisable
    done: bool  # True when this cycle reached the end of the feed


@dataclass(frozen=True)
class SendResult:
    """The platform accepted a write-back."""

    receipt_id: str | None
    detail: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Lookup:
    """The answer of a read-back after an unknown outcome."""

    applied: bool  # the platform has our write-back already
    receipt_id: str | None = None
    detail: dict[str, Any] = field(default_factory=dict)


class PlatformAdapter(Protocol):
    """Transport to one platform. Every method is synchronous (workers are threads).

    Adapters do I/O only: sign, page, retry quick transport failures (tenacity), and translate every
    httpx failure into ``gateway.errors`` at their edge. They hand back raw payloads; mappers translate.

    Errors: ``TransientError``/``RateLimited`` (retry later), ``OutcomeUnknown`` (the request may have
    been applied), ``PermanentError``/``AuthenticationError`` (do not retry). Nothing else escapes.
    """

    key: str

    def poll(self, cursor: Mapping[str, Any] | None) -> PollPage:
        """Fetch the next page after ``cursor`` (None: start a new cycle). Safe to repeat."""
        ...

    def send(self, action: str, external_id: str, body: Mapping[str, Any], request_id: str) -> SendResult:
        """Post one write-back. Idempotent only as far as the platform is (see its module)."""
        ...

    def lookup(self, action: str, external_id: str, body: Mapping[str, Any], request_id: str) -> Lookup:
        """Read back whether a write-back was applied; used after ``OutcomeUnknown`` and before re-sending."""
        ...

    def close(self) -> None:
        """Release HTTP connections."""
        ...


class PushVerifier(Protocol):
    """Inbound webhook verification for platforms that push (raises ``SignatureError``)."""

    def verify(self, headers: Mapping[str, str], body: bytes, *, now: float) -> str:
        """Check signature and timestamp; return the nonce for the caller's replay check."""
        ...

    def parse(self, body: bytes) -> RawItem:
        """Split a verified push body into a ``RawItem``; raises ``MappingError`` if it is not one."""
        ...


class Mapper(Protocol):
    """Translation for one platform. Pure: the same input always gives the same output.

    ``inbound`` raises ``MappingError`` (naming the field and value) for a malformed payload or an
    unknown enum value; it never raises anything else and never returns a partial ticket.
    ``outbound`` builds the platform's request body for one write-back from our internal payload.
    """

    key: str

    def inbound(self, event_type: str, payload: str) -> MappedEvent:
        """Map one raw inbox payload (exactly as received) to a ticket snapshot or a notice."""
        ...

    def outbound(self, action: str, payload: Mapping[str, Any]) -> dict[str, Any]:
        """Map an internal write-back payload to the platform's body (without the request id)."""
        ...


class Doorbell(Protocol):
    """Rings workers after a commit (a message carries ids only; the database holds the work).

    Never raises and never blocks the caller (issue 12 point 2): a ring is best-effort. The row is
    committed before it is rung, so a lost ring costs latency and the scheduler's sweeper rings again.
    """

    def inbox(self, ids: Iterable[int]) -> None:
        """Ask workers to process these inbox rows."""
        ...

    def outbox(self, ids: Iterable[int]) -> None:
        """Ask a worker to deliver these outbox rows."""
        ...

    def poll(self, platform: str) -> None:
        """Ask a worker to run one pull cycle."""
        ...

    def alerts(self, ids: Iterable[int]) -> None:
        """Ask a worker to deliver these alert notifications to their sinks."""
        ...


class Bell(Protocol):
    """The broker side of a doorbell: sends a ring now, in the caller's thread.

    Unlike ``Doorbell`` it may block (up to the broker connection's timeouts) and raises when the
    broker cannot take the message; ``gateway.services.ringing.RingQueue`` calls it from its own thread
    and turns a failure into a counted drop. Empty id lists are never passed.
    """

    def inbox(self, ids: list[int]) -> None:
        """Send the messages that ring these inbox rows."""
        ...

    def outbox(self, ids: list[int]) -> None:
        """Send one message per outbox row."""
        ...

    def poll(self, platform: str) -> None:
        """Send one pull-cycle message."""
        ...

    def alerts(self, ids: list[int]) -> None:
        """Send one message per alert delivery."""
        ...

    def close(self) -> None:
        """Release the connection it sends on (the broker itself is closed by its owner)."""
        ...
