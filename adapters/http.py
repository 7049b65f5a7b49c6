"""HTTP pieces every adapter shares: the quick transport retry, Retry-After, and status → error.

Each platform still reads its own answer shape; what a status *means* for the caller is the same
everywhere (``gateway/errors.py``): 429 wait, 401/403 fix credentials, other 4xx give up, else retry.
"""

from __future__ import annotations

import math

import httpx
from tenacity import Retrying, retry_if_exception_type, stop_after_attempt, wait_random

from gateway.errors import AuthenticationError, GatewayError, PermanentError, RateLimited, TransientError

# Failures before a single byte reached the platform: safe to retry at once, even for a POST.
NOT_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout, httpx.ProxyError)


def quick_retry() -> Retrying:
    """Two quick, jittered tries on failures where nothing was sent; the outbox does the long retries."""
    return Retrying(
        stop=stop_after_attempt(2),
        wait=wait_random(0.05, 0.25),
        retry=retry_if_exception_type(NOT_SENT),
        reraise=True,
    )


def retry_after(header: str | None) -> float | None:
    """A ``Retry-After`` in seconds; None when absent or an HTTP-date (no platform spec uses dates)."""
    try:
        seconds = float((header or "").strip())
    except ValueError:
        return None
    return max(0.0, seconds) if math.isfinite(seconds) else None


def status_error(
    status: int, text: str, *, code: str | None = None, retry_after_s: float | None = None
) -> GatewayError:
    """The error a failing HTTP status calls for."""
    if status == 429:
        return RateLimited(text, retry_after=retry_after_s)
    if status in (401, 403):
        return AuthenticationError(text, status=status, code=code)
    if 400 <= status < 500:
        return PermanentError(text, status=status, code=code)
    return TransientError(text, retry_after=retry_after_s)


class ClientOwner:
    """An adapter's HTTP client: the one given (tests, respx), or one built from its settings and closed with it."""

    _client: httpx.Client
    _owns_client: bool

    def _use_client(self, client: httpx.Client | None, *, base_url: str, timeout_s: float) -> None:
        self._owns_client = client is None
        self._client = client or httpx.Client(base_url=base_url, timeout=timeout_s)

    def close(self) -> None:
        """Close the HTTP client if this adapter built it."""
        if self._owns_client:
            self._client.close()

