"""The gateway's error tree: each class says what the caller should do.

    GatewayError                      root; never raised bare
    ├── TransientError                retry later (5xx, 429, connection refused, platform outage)
    │   └── RateLimited               retry after the platform's Retry-After
    ├── OutcomeUnknown                the request may have been applied: read back before any re-send
    ├── PermanentError                give up and record why (4xx, wrong state); replayable by a person
    │   └── AuthenticationError       credentials or signature refused; fix configuration
    ├── MappingError                  a foreign payload does not fit the internal schema; kept on the inbox row
    ├── SignatureError                an inbound request failed verification (401 to the sender)
    └── DomainError                   an operator action is not allowed now (409/422 to the caller)
        └── NotFound

Adapters translate httpx errors into these at their edge (``raise ... from exc``); services and
actors decide on these classes only, never on httpx types.
"""

from __future__ import annotations


class GatewayError(Exception):
    """Root of every error the gateway raises on purpose."""


class TransientError(GatewayError):
    """The other side failed in a way that may pass: retry later with backoff."""

    def __init__(self, message: str, *, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class RateLimited(TransientError):
    """The platform answered 429: wait at least ``retry_after`` seconds."""


class OutcomeUnknown(GatewayError):
    """The request left us but no answer came back: reconcile by read-back before re-sending."""


class PermanentError(GatewayError):
    """The platform refused the request for good (4xx): record the reason, do not retry."""

    def __init__(self, message: str, *, status: int | None = None, code: str | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.code = code


class AuthenticationError(PermanentError):
    """The platform refused our credentials or signature."""


class MappingError(GatewayError):
    """A foreign payload cannot be mapped: names the field and the offending value."""

    def __init__(self, message: str, *, field: str | None = None, value: object = None) -> None:
        super().__init__(message)
        self.field = field
        self.value = value

    def __str__(self) -> str:
        # This text goes to the inbox row and to the log: a personal value never shows (gateway/redaction.py).
        from gateway.redaction import shown_value

        base = super().__str__()
        if not self.field:
            return base
        value = "" if self.value is None else f", value={shown_value(self.field, self.value)}"
        return f"{base} (field={self.field!r}{value})"


class SignatureError(GatewayError):
    """An inbound webhook failed signature, timestamp or nonce checks."""


class DomainError(GatewayError):
    """An operator action is not allowed in the ticket's current state."""

    def __init__(self, message: str, *, code: str = "conflict", status: int = 409) -> None:
        super().__init__(message)
        self.code = code
        self.status = status


class NotFound(DomainError):
    """The thing asked for does not exist."""

    def __init__(self, message: str) -> None:
        super().__init__(message, code="not_found", status=404)


class Forbidden(DomainError):
    """The caller's role does not allow this action."""

    def __init__(self, message: str) -> None:
        super().__init__(message, code="forbidden", status=403)
