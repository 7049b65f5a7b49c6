"""PLATFORMS.md §1 request signing: HMAC-SHA256 over timestamp, nonce and raw body."""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from collections.abc import Mapping

MAX_NONCE_LEN = 32


def signature(secret: str, timestamp: str, nonce: str, body: bytes) -> str:
    """Return the lowercase hex HMAC-SHA256 of `{timestamp}\\n{nonce}\\n{body}`."""
    message = timestamp.encode("utf-8") + b"\n" + nonce.encode("utf-8") + b"\n" + body
    return hmac.new(secret.encode("utf-8"), message, hashlib.sha256).hexdigest()


def signed_headers(
    app_id: str, secret: str, body: bytes = b"", *, timestamp: int | None = None, nonce: str | None = None
) -> dict[str, str]:
    """Return the four auth headers for a request or push with this raw body (empty for GET)."""
    ts = str(int(time.time()) if timestamp is None else timestamp)
    nonce = nonce if nonce is not None else secrets.token_hex(16)
    return {
        "X-App-Id": app_id,
        "X-Timestamp": ts,
        "X-Nonce": nonce,
        "X-Signature": signature(secret, ts, nonce, body),
    }


class SignatureVerifier:
    """Checks the auth headers of incoming API calls and remembers nonces for the window."""

    def __init__(self, app_id: str, secret: str, window_s: int = 300) -> None:
        self.app_id = app_id
        self.secret = secret
        self.window_s = window_s
        self._nonces: dict[str, float] = {}
        self.rejected = 0

    def check(self, headers: Mapping[str, str], body: bytes, now: float) -> str | None:
        """Return None when the call is authentic, else why it is rejected."""
        problem = self._problem(headers, body, now)
        if problem is not None:
            self.rejected += 1
        return problem

    def _problem(self, headers: Mapping[str, str], body: bytes, now: float) -> str | None:
        app_id = headers.get("x-app-id")
        ts = headers.get("x-timestamp")
        nonce = headers.get("x-nonce")
        given = headers.get("x-signature")
        if not app_id or not ts or not nonce or not given:
            return "missing X-App-Id, X-Timestamp, X-Nonce or X-Signature"
        if app_id != self.app_id:
            return "unknown X-App-Id"
        if not ts.isdigit():
            return "X-Timestamp must be unix seconds"
        if abs(now - int(ts)) > self.window_s:
            return f"X-Timestamp is more than {self.window_s} s from the platform clock"
        if len(nonce) > MAX_NONCE_LEN:
            return f"X-Nonce longer than {MAX_NONCE_LEN} characters"
        if not hmac.compare_digest(signature(self.secret, ts, nonce, body), given):
            return "bad X-Signature"
        # Only an authentic call consumes its nonce, so a forged one cannot block a real client.
        self._forget_old(now)
        if nonce in self._nonces:
            return f"X-Nonce already used within the last {self.window_s} s"
        self._nonces[nonce] = now
        return None

    def _forget_old(self, now: float) -> None:
        # Insertion order is arrival order, so the stale nonces are all at the front.
        horizon = now - self.window_s
        while self._nonces:
            oldest = next(iter(self._nonces))
            if self._nonces[oldest] >= horizon:
                break
            del self._nonces[oldest]

    def reset(self) -> None:
        """Forget every nonce seen."""
        self._nonces.clear()
        self.rejected = 0
