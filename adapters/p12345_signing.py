"""12345 request signing (PLATFORMS.md §1), the same in both directions.

``X-Signature`` = lowercase hex HMAC-SHA256(app_secret, ``{X-Timestamp}\\n{X-Nonce}\\n{raw body}``),
with an empty body for GET. Pure functions: the adapter signs outbound requests with them and the
inbound webhook verifies pushes with them. The nonce replay check needs the database, so it is the
caller's; ``verify_headers`` returns the nonce for it.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Mapping

from gateway.errors import SignatureError

MAX_NONCE_LEN = 32
MAX_TIMESTAMP_DIGITS = 12  # unix seconds until the year 33658; a longer "number" is refused before int()
HEADER_APP_ID = "X-App-Id"
HEADER_TIMESTAMP = "X-Timestamp"
HEADER_NONCE = "X-Nonce"
HEADER_SIGNATURE = "X-Signature"


def signature(secret: str, timestamp: str, nonce: str, body: bytes) -> str:
    """The lowercase hex HMAC-SHA256 of ``{timestamp}\\n{nonce}\\n{body}`` under ``secret``."""
    message = f"{timestamp}\n{nonce}\n".encode() + body
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def new_nonce() -> str:
    """A random nonce of exactly the platform's maximum length (32 hex chars)."""
    return secrets.token_hex(MAX_NONCE_LEN // 2)


def signed_headers(app_id: str, secret: str, body: bytes, *, now: float, nonce: str | None = None) -> dict[str, str]:
    """The four signature headers for one request sent at ``now`` (unix seconds)."""
    timestamp = str(int(now))
    nonce = nonce if nonce is not None else new_nonce()
    return {
        HEADER_APP_ID: app_id,
        HEADER_TIMESTAMP: timestamp,
        HEADER_NONCE: nonce,
        HEADER_SIGNATURE: signature(secret, timestamp, nonce, body),
    }


def verify_headers(
    headers: Mapping[str, str],
    body: bytes,
    *,
    app_id: str,
    secret: str,
    now: float,
    window_s: float,
) -> str:
    """Check app id, timestamp window, nonce shape and signature; return the nonce.

    Raises ``SignatureError`` saying which check failed (never echoing the secret or the expected
    signature). Header names are matched case-insensitively.
    """
    lowered = {name.lower(): value for name, value in headers.items()}

    def header(name: str) -> str:
        value = lowered.get(name.lower())
        if value is None or not value.strip():
            raise SignatureError(f"missing header {name}")
        return value.strip()

    sender = header(HEADER_APP_ID)
    timestamp = header(HEADER_TIMESTAMP)
    nonce = header(HEADER_NONCE)
    given = header(HEADER_SIGNATURE)
    if not hmac.compare_digest(sender.encode(), app_id.encode()):
        raise SignatureError(f"unknown {HEADER_APP_ID} {sender!r}")
    if not timestamp.isascii() or not timestamp.isdigit() or len(timestamp) > MAX_TIMESTAMP_DIGITS:
        raise SignatureError(f"{HEADER_TIMESTAMP} is not unix seconds: {timestamp[:20]!r}")
    skew = int(timestamp) - now
    if abs(skew) > window_s:
        raise SignatureError(f"{HEADER_TIMESTAMP} is {skew:+.0f} s from our clock (window ±{window_s:g} s)")
    if len(nonce) > MAX_NONCE_LEN:
        raise SignatureError(f"{HEADER_NONCE} longer than {MAX_NONCE_LEN} chars")
    expected = signature(secret, timestamp, nonce, body)
    # compare_digest on bytes: a non-ASCII header must fail the check, not raise TypeError.
    if not hmac.compare_digest(given.lower().encode(), expected.encode()):
        raise SignatureError(f"bad {HEADER_SIGNATURE}")
    return nonce
