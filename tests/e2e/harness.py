"""End-to-end harness: the gateway on a real port, mock platforms on real ports, real HTTP between.

``make_stack`` (a fixture in ``tests/e2e/conftest.py``) starts the mocks first (pushing to the
gateway's port, chosen up front), then the gateway API with, by default, the in-process worker and
scheduler. Settings are tuned for tests: fast sweeps, short backoff and leases.
"""

from __future__ import annotations

import socket
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx

from app.bootstrap import Container, bootstrap
from app.embedded import Embedded
from app.web import create_app
from gateway.settings import Settings
from mock_platforms.cli import build_app
from mock_platforms.common.runner import MockOptions, ServerHandle, serve_in_thread

TOKENS = {
    "duty": "e2e-duty-token-0123456789",
    "unit": "e2e-unit-token-0123456789",
    "unit_head": "e2e-unit-head-token-0123456789",
    "leader": "e2e-leader-token-0123456789",
    "supervisor": "e2e-supervisor-token-0123456789",
    "admin": "e2e-admin-token-0123456789",
}
UNIT = "城关派出所"
# Credentials shared by the gateway's settings and each mock (the mock's app_id/app_secret options).
CREDENTIALS: dict[str, dict[str, str]] = {
    "p12345": {"app_id": "gw-e2e", "app_secret": "e2e-secret-p12345"},
    "p12389": {"client_id": "gw-e2e", "client_secret": "e2e-secret-p12389"},
    "mayor": {"token": "e2e-token-mayor"},
    "mailbox": {"api_key": "e2e-key-mailbox"},
}
REPLY = {
    "is_true": "属实",
    "investigation": "经民警现场核查，反映情况属实。",
    "disposition": "已责令相关单位整改并加强巡查",
    "citizen_opinion": "诉求人表示认可",
    "resolved": "已解决",
    "public_reply": "您反映的问题已核实并处理，感谢监督。",
    # A 12389 核查报告's own parts (001 四(四)); other platforms' drafts do not keep them.
    "responsibility": "经核查，当班民警对接处警不及时负直接责任",
    "rectification": "已对当班民警批评教育，所在单位开展接处警规范整改",
}


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_for(predicate: Callable[[], Any], timeout: float = 20.0, interval: float = 0.05, what: str = "") -> Any:
    """Poll ``predicate`` until it returns something truthy; fail after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    last: Any = None
    while time.monotonic() < deadline:
        last = predicate()
        if last:
            return last
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout}s waiting for {what or predicate} (last: {last!r})")


def mock_options(key: str, gateway_port: int, **overrides: Any) -> MockOptions:
    """Mock options matching the gateway's test credentials for ``key``."""
    creds = CREDENTIALS[key]
    options = MockOptions(
        port=0,
        push_url=f"http://127.0.0.1:{gateway_port}/inbound/{key}",
        app_id=creds.get("app_id") or creds.get("client_id"),
        app_secret=creds.get("app_secret") or creds.get("client_secret") or creds.get("token") or creds.get("api_key"),
        push_retry_schedule=[0.5, 1, 2, 5],
    )
    for name, value in overrides.items():
        setattr(options, name, value)
    return options


@dataclass
class Stack:
    """A running gateway and its mocks."""

    url: str
    container: Container
    mocks: dict[str, ServerHandle]
    server: ServerHandle
    embedded: Embedded | None
    clients: list[httpx.Client] = field(default_factory=list)

    def api(self, role: str = "duty") -> httpx.Client:
        """An HTTP client of the gateway API acting with ``role``'s token."""
        client = httpx.Client(base_url=self.url, headers={"Authorization": f"Bearer {TOKENS[role]}"}, timeout=30)
        self.clients.append(client)
        return client

    def mock(self, key: str) -> httpx.Client:
        """An HTTP client of a mock platform (its /_mock control API is unsigned)."""
        client = httpx.Client(base_url=self.mocks[key].url, timeout=30)
        self.clients.append(client)
        return client

    def ledger(self, key: str, action: str | None = None, order_no: str | None = None) -> dict[str, Any]:
        """The mock's ledger of accepted write-backs (``entries``, ``count``, ``duplicates``)."""
        params = {k: v for k, v in {"action": action, "order_no": order_no}.items() if v}
        return dict(self.mock(key).get("/_mock/ledger", params=params).json())

    def tickets(self, **params: Any) -> list[dict[str, Any]]:
        """The gateway's queue as the duty role sees it."""
        return list(self.api().get("/api/v1/tickets", params={"limit": 200, **params}).json()["items"])

    def ticket_for(self, platform: str, external_id: str) -> dict[str, Any] | None:
        """The gateway's ticket for a platform's id, in full, or None."""
        for item in self.tickets(platform=platform, q=external_id):
            if item["external_id"] == external_id:
                return dict(self.api().get(f"/api/v1/tickets/{item['id']}").json())
        return None

    def act(self, role: str, ticket_id: int, path: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
        """One operator action through the API as ``role``; it must succeed."""
        response = self.api(role).post(f"/api/v1/tickets/{ticket_id}/{path}", json=body)
        assert response.is_success, (path, response.status_code, response.text)
        return dict(response.json())

    def dispatch(self, ticket_id: int, unit: str = UNIT) -> dict[str, Any]:
        """派单 as the bureau does it by default: the duty officer proposes, the leader approves (000 二)."""
        self.act("duty", ticket_id, "dispatch", {"unit": unit})
        return self.act("leader", ticket_id, "dispatch/approve", {})

    def review(self, ticket_id: int) -> dict[str, Any]:
        """The unit head reviews the unit's draft before the leader (002 三(二))."""
        return self.act("unit_head", ticket_id, "reply/review", {"note": "同意报领导审批"})

    def handle_to_approval(self, ticket_id: int) -> dict[str, Any]:
        """Sign, dispatch, respond, draft, review and approve: the whole bureau path up to the reply."""
        duty, unit, head, leader = self.api("duty"), self.api("unit"), self.api("unit_head"), self.api("leader")
        for client, path, body in (
            (duty, "sign-off", None),
            (duty, "dispatch", {"unit": UNIT}),
            (leader, "dispatch/approve", {}),
            (unit, "response", {"note": "已电话联系诉求人", "contact_phone": "0558-0000000"}),
            (unit, "reply", REPLY),
            (head, "reply/review", {}),
            (leader, "reply/approve", None),
        ):
            response = client.post(f"/api/v1/tickets/{ticket_id}/{path}", json=body)
            assert response.is_success, (path, response.status_code, response.text)
        return dict(response.json())

    def stop(self) -> None:
        """Stop everything this stack started."""
        for client in self.clients:
            client.close()
        self.server.stop()
        if self.embedded:
            self.embedded.stop()
        for handle in self.mocks.values():
            handle.stop(timeout=3)
        self.container.close()


def _merge(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    """Deep-merge test overrides into the harness defaults (e.g. one platform's page_size)."""
    out = dict(base)
    for key, value in override.items():
        out[key] = _merge(out[key], value) if isinstance(value, dict) and isinstance(out.get(key), dict) else value
    return out


def start_stack(
    *,
    database_url: str,
    platforms: dict[str, dict[str, Any]],
    broker_url: str = "memory://",
    worker: bool = True,
    scheduler: bool = True,
    settings: dict[str, Any] | None = None,
) -> Stack:
    """Start mocks for ``platforms`` (key -> MockOptions overrides), then the gateway against them."""
    port = free_port()
    mocks = {key: serve_in_thread(build_app(key, mock_options(key, port, **opts))) for key, opts in platforms.items()}
    platform_settings = {
        key: {"enabled": True, "base_url": mocks[key].url, "poll_interval_s": 3600, "timeout_s": 5,
              "circuit_reset_s": 1, **CREDENTIALS[key]}
        for key in platforms
    }
    values: dict[str, Any] = {
        "database_url": database_url,
        "broker_url": broker_url,
        "port": port,
        "api_tokens": [
            {"name": f"{role}-e2e", "token": token, "roles": [role],
             "unit": UNIT if role in ("unit", "unit_head") else None}
            for role, token in TOKENS.items()
        ],
        "platforms": platform_settings,
        "outbox": {"backoff_base_s": 0.2, "backoff_max_s": 1.0, "lease_s": 5, "ring_again_after_s": 0.5},
        "scheduler": {"sweep_interval_s": 0.1},
        "worker_threads": 4,
    }
    values = _merge(values, settings or {})
    container = bootstrap(Settings(_env_file=None, **values))  # type: ignore[call-arg]
    embedded = Embedded(container, worker=worker, scheduler=scheduler) if (worker or scheduler) else None
    if embedded:
        embedded.start()
    server = serve_in_thread(create_app(container), port=port)
    return Stack(url=server.url, container=container, mocks=mocks, server=server, embedded=embedded)
