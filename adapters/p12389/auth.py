"""12389 OAuth2 client credentials (PLATFORMS.md §2 "Auth"): one cached bearer token per adapter.

``POST /oauth/token`` (form: grant_type, client_id, client_secret) answers JSON
``{"access_token", "token_type": "Bearer", "expires_in": 7200}``. The token is kept until shortly
before it expires and fetched again on demand. Workers are threads: one lock makes sure that when
the token lapses (or the platform revokes it) one thread fetches and the others wait for that
token, instead of every thread fetching its own. Neither the secret nor a token is ever logged.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass

import httpx

from adapters.http import retry_after as seconds
from adapters.p12389.xml import XmlRefused, read_limited
from gateway.errors import AuthenticationError, RateLimited, TransientError

log = logging.getLogger(__name__)

TOKEN_PATH = "/oauth/token"
MAX_EARLY_S = 60.0  # renew at most this long before expiry, and at most 10 % of the lifetime early


@dataclass(frozen=True)
class Token:
    """A bearer token and the clock time after which we no longer use it."""

    value: str
    renew_at: float


class TokenSource:
    """Fetches, caches and renews the bearer token; thread-safe."""

    def __init__(
        self,
        client: httpx.Client,
        *,
        client_id: str,
        client_secret: Callable[[], str],
        clock: Callable[[], float],
    ) -> None:
        self._client = client
        self._client_id = client_id
        self._client_secret = client_secret  # read on use, so the SecretStr stays wrapped at rest
        self._clock = clock
        self._lock = threading.Lock()
        self._token: Token | None = None
        self.fetches = 0  # how many tokens this source has fetched (health, tests)

    def get(self) -> str:
        """A token valid now: the cached one, or a fresh one (one fetch at a time)."""
        token = self._token
        if token is not None and self._clock() < token.renew_at:
            return token.value
        with self._lock:
            token = self._token  # another thread may have fetched while we waited for the lock
            if token is None or self._clock() >= token.renew_at:
                token = self._fetch()
                self._token = token
            return token.value

    def invalidate(self, value: str) -> None:
        """Forget ``value`` after the platform refused it; a newer token fetched meanwhile is kept."""
        with self._lock:
            if self._token is not None and self._token.value == value:
                self._token = None

    def _fetch(self) -> Token:
        form = {
            "grant_type": "client_credentials",
            "client_id": self._client_id,
            "client_secret": self._client_secret(),
        }
        started = self._clock()
        try:
            with self._client.stream("POST", TOKEN_PATH, data=form, headers={"Accept": "application/json"}) as r:
                body = read_limited(r, limit=64 * 1024)
                status, retry_after = r.status_code, r.headers.get("Retry-After", "")
        except httpx.RequestError as exc:
            raise TransientError(f"p12389 token endpoint unreachable: {type(exc).__name__}") from exc
        except XmlRefused as exc:
            raise TransientError(f"p12389 token endpoint: {exc}") from exc
        answer = _json(body)
        if status == 429:
            raise RateLimited("p12389 token endpoint: HTTP 429", retry_after=seconds(retry_after))
        if status in (400, 401, 403):
            # RFC 6749 §5.2: invalid_client / unauthorized_client: the configuration must be fixed.
            error = str(answer.get("error", "")) if answer else ""
            raise AuthenticationError(
                f"p12389 refused our client credentials: HTTP {status} {error}".rstrip(), status=status, code=error
            )
        if status != 200 or answer is None:
            raise TransientError(f"p12389 token endpoint: HTTP {status}", retry_after=seconds(retry_after))
        value, kind, lifetime = answer.get("access_token"), answer.get("token_type"), answer.get("expires_in")
        if not isinstance(value, str) or not value or str(kind).lower() != "bearer":
            raise TransientError("p12389 token endpoint: answer without a bearer access_token")
        if isinstance(lifetime, bool) or not isinstance(lifetime, int | float) or lifetime <= 0:
            raise TransientError("p12389 token endpoint: answer without a positive expires_in")
        self.fetches += 1
        early = min(MAX_EARLY_S, lifetime / 10)
        log.info("p12389 token fetched, valid for %.0f s", lifetime)
        return Token(value=value, renew_at=started + lifetime - early)


def _json(body: bytes) -> dict[str, object] | None:
    try:
        answer = json.loads(body)
    except ValueError:
        return None
    return answer if isinstance(answer, dict) else None
