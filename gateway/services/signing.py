"""The gateway's own signing key: session cookies, login forms and evidence links are MACed with it.

``GATEWAY_DASHBOARD__SESSION_SECRET`` when set; otherwise a key generated once and kept in the
database, so every process of a deployment (API, workers) signs and checks with the same key.
"""

from __future__ import annotations

import hashlib
import hmac
from datetime import timedelta
from typing import TYPE_CHECKING

from gateway.services.evidence import EvidenceLinks
from gateway.settings import Mode
from gateway.store.db import transaction
from gateway.store.users import shared_key

if TYPE_CHECKING:
    from gateway.container import Container


def signing_key(container: Container) -> bytes:
    """The configured session secret, or the key generated once and kept in the database."""
    cached = container.extras.get("dashboard_key")
    if isinstance(cached, bytes):
        return cached
    configured = container.settings.dashboard.session_secret
    if configured is not None:
        key = configured.get_secret_value().encode()
    else:
        with transaction(container.sessions) as session:
            key = shared_key(session, name="dashboard", now=container.clock()).encode()
    container.extras["dashboard_key"] = key
    return key


def derived_key(container: Container, purpose: str) -> bytes:
    """A key for one purpose only, so a MAC made for one use is never valid for another."""
    return hmac.new(signing_key(container), f"hotline-gateway/{purpose}".encode(), hashlib.sha256).digest()


def evidence_links(container: Container) -> EvidenceLinks | None:
    """Links for platforms to fetch evidence, or None when the gateway has no address they can reach.

    ``GATEWAY_PUBLIC_URL``; outside production, the API's own address (the demo's mocks run here).
    """
    settings = container.settings
    base = settings.public_url or ("" if settings.mode is Mode.production else f"http://{settings.host}:{settings.port}")
    if not base:
        return None
    return EvidenceLinks(base_url=base, key=derived_key(container, "evidence-link"),
                         ttl=timedelta(days=settings.dashboard.evidence_link_days))
