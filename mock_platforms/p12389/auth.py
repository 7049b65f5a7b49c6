"""The mock's OAuth2 client-credentials endpoint and its bearer tokens (§2 "Auth")."""

from __future__ import annotations

import hmac
import secrets
import time
from dataclasses import dataclass, field


@dataclass
class TokenIssuer:
    """Issues tokens that expire after ``ttl_s``; ``revoke_all`` makes every issued token invalid."""

    client_id: str
    client_secret: str
    ttl_s: float
    _tokens: dict[str, float] = field(default_factory=dict)  # token -> expiry (unix seconds)
    issued: int = 0
    refused_clients: int = 0
    refused_tokens: int = 0

    def credentials_ok(self, client_id: str, client_secret: str) -> bool:
        """Whether the form's client credentials are ours (constant-time comparison)."""
        same_id = hmac.compare_digest(client_id.encode(), self.client_id.encode())
        same_secret = hmac.compare_digest(client_secret.encode(), self.client_secret.encode())
        if not (same_id and same_secret):
            self.refused_clients += 1
        return same_id and same_secret

    def issue(self) -> tuple[str, float]:
        """A new token and its lifetime in seconds."""
        token = secrets.token_urlsafe(24)
        now = time.time()
        self._tokens = {t: exp for t, exp in self._tokens.items() if exp > now}  # forget expired ones
        self._tokens[token] = now + self.ttl_s
        self.issued += 1
        return token, self.ttl_s

    def valid(self, authorization: str | None) -> bool:
        """Whether an ``Authorization: Bearer …`` header carries a live token."""
        scheme, _, token = (authorization or "").partition(" ")
        expiry = self._tokens.get(token.strip()) if scheme.lower() == "bearer" else None
        if expiry is None or expiry <= time.time():
            self.refused_tokens += 1
            return False
        return True

    def revoke_all(self) -> int:
        """Invalidate every token issued so far; returns how many were live."""
        now = time.time()
        live = sum(1 for exp in self._tokens.values() if exp > now)
        self._tokens.clear()
        return live

    def reset(self) -> None:
        """Forget tokens and counters."""
        self._tokens.clear()
        self.issued = self.refused_clients = self.refused_tokens = 0
