"""What production start-up calls a weak secret: too short, too little variety, a repeated pattern.

A signing secret or API token is guessed offline as fast as HMACs can be computed, so it must carry
at least ~128 bits: 32 characters of a random alphabet. ``secrets.token_urlsafe(32)`` (43 chars) or
``openssl rand -hex 32`` (64 chars) are what the README recommends.
"""

from __future__ import annotations

import re

MIN_LENGTH = 32
MIN_DISTINCT = 8  # a random 32-char hex string has ~14 distinct characters; fewer than 8: not random
PLACEHOLDER_MARKERS = ("change-me", "changeme", "placeholder", "demo-")
# "xxx" as a word of its own ("xxx", "token-xxxx"), not three x inside a random string (1 in ~800 has).
PLACEHOLDER_X = re.compile(r"(?<![a-z0-9])x{3,}(?![a-z0-9])", re.IGNORECASE)


def is_placeholder(value: str) -> bool:
    """Empty, or one of the example values shipped in the docs and the demo."""
    return not value or any(marker in value.lower() for marker in PLACEHOLDER_MARKERS) or bool(
        PLACEHOLDER_X.search(value))


def weakness(value: str) -> str | None:
    """Why ``value`` is not good enough as a secret, in a few words; None when it is."""
    if is_placeholder(value):
        return "missing or a placeholder"
    if len(value) < MIN_LENGTH:
        return f"shorter than {MIN_LENGTH} characters"
    if len(set(value)) < MIN_DISTINCT:
        return f"too little variety ({len(set(value))} distinct characters)"
    for period in range(1, len(value) // 2 + 1):
        if value == (value[:period] * (len(value) // period + 1))[: len(value)]:
            return f"a repeated pattern of {period} characters"
    return None
