"""Transport to the 12345 work-order platform (PLATFORMS.md §1): signed JSON, push and pull.

Pull cursor (JSON, saved with the inbox rows of each page)::

    {"since": ISO-8601, "page_token": str | None, "cycle_started": ISO-8601}

``since`` is the ``updatedSince`` of the running cycle, ``cycle_started`` our clock when it began.
A non-null ``page_token`` continues the cycle; a null one means the cycle finished, so the next
call starts a new cycle at ``cycle_started - poll_overlap_s``. Orders carry no update time, so
the window is driven by our clock; the overlap absorbs skew between the clocks.

Write-backs are idempotent on ``requestId`` at the platform, so a re-send with the same id is safe;
``lookup`` reads ``/actions`` back after an ``OutcomeUnknown``.
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import quote

import httpx

from adapters.http import NOT_SENT, ClientOwner, quick_retry, retry_after, status_error
from adapters.p12345_signing import signed_headers, verify_headers
from gateway.errors import (
    MappingError,
    OutcomeUnknown,
    PermanentError,
    TransientError,
)
from gateway.ports import Lookup, PollPage, RawItem, SendResult
from gateway.schema import SHANGHAI
from gateway.settings import P12345Settings

log = logging.getLogger(__name__)

SNAPSHOT = "order.snapshot"
ACTIONS = frozenset({"sign", "contact", "return", "extension", "progress", "reply"})
MAX_PAGE_SIZE = 100
MAX_REQUEST_ID = 64


class P12345Adapter(ClientOwner):
    """PlatformAdapter and PushVerifier for ``p12345``."""

    key = "p12345"

    def __init__(
        self,
        settings: P12345Settings,
        *,
        client: httpx.Client | None = None,
        clock: Callable[[], float] = time.time,
        initial_lookback_s: float = 86_400.0,
    ) -> None:
        self._settings = settings
        self._use_client(client, base_url=settings.base_url, timeout_s=settings.timeout_s)
        self._clock = clock
        self._initial_lookback_s = initial_lookback_s

    # -- inbound push -------------------------------------------------------------------------

    def verify(self, headers: Mapping[str, str], body: bytes, *, now: float) -> str:
        """Check a push's signature headers and timestamp; return its nonce for the replay check."""
        return verify_headers(
            headers,
            body,
            app_id=self._settings.app_id,
            secret=self._settings.app_secret.get_secret_value(),
            now=now,
            window_s=self._settings.signature_window_s,
        )

    def parse(self, body: bytes) -> RawItem:
        """Split a verified push envelope into a ``RawItem``."""
        try:
            text = body.decode("utf-8")
            envelope = json.loads(text)
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise MappingError("push body is not UTF-8 JSON", field="body", value=body[:80]) from exc
        if not isinstance(envelope, dict):
            raise MappingError("push body is not a JSON object", field="body", value=type(envelope).__name__)
        for name in ("event_id", "event_type"):
            if not isinstance(envelope.get(name), str) or not envelope[name]:
                raise MappingError("missing or not a string", field=name, value=envelope.get(name))
        order_no = envelope.get("order_no")
        return RawItem(
            event_id=envelope["event_id"],
            event_type=envelope["event_type"],
            external_id=order_no if isinstance(order_no, str) else None,
            payload=text,
        )

    # -- pull ---------------------------------------------------------------------------------

    def poll(self, cursor: Mapping[str, Any] | None) -> PollPage:
        """Fetch one page of ``GET /api/v1/orders``; see the module docstring for the cursor."""
        if cursor and all(isinstance(cursor.get(k), str) for k in ("page_token", "since", "cycle_started")):
            since, started, token = cursor["since"], cursor["cycle_started"], cursor["page_token"]
        else:
            now = self._clock()
            previous = _cycle_start(cursor)
            if previous is not None:
                start = previous - timedelta(seconds=self._settings.poll_overlap_s)
            else:
                start = datetime.fromtimestamp(now - self._initial_lookback_s, tz=SHANGHAI)
            since, started, token = _iso(start), _iso(datetime.fromtimestamp(now, tz=SHANGHAI)), None
        params: dict[str, str | int] = {
            "updatedSince": since,
            "pageSize": min(self._settings.page_size, MAX_PAGE_SIZE),
        }
        if token:
            params["pageToken"] = token
        data = self._get("/api/v1/orders", params=params)
        if not isinstance(data, dict) or not isinstance(data.get("items"), list):
            raise TransientError("p12345 order list: 'data.items' is not a list")
        next_token = data.get("nextPageToken")
        if next_token is not None and not isinstance(next_token, str):
            raise TransientError("p12345 order list: 'nextPageToken' is not a string")
        items = [_snapshot(order) for order in data["items"]]
        return PollPage(
            items=items,
            cursor={"since": since, "page_token": next_token or None, "cycle_started": started},
            done=not next_token,
        )

    def fetch_order(self, external_id: str) -> RawItem:
        """Fetch one order as a snapshot ``RawItem`` (for reconciliation)."""
        order = self._get(f"/api/v1/orders/{_seg(external_id)}")
        if not isinstance(order, dict):
            raise TransientError(f"p12345 order {external_id}: 'data' is not an object")
        return _snapshot(order)

    # -- write-back ---------------------------------------------------------------------------

    def send(self, action: str, external_id: str, body: Mapping[str, Any], request_id: str) -> SendResult:
        """POST one write-back with ``requestId``; the platform answers a repeat with the first receipt."""
        if action not in ACTIONS:
            raise PermanentError(f"p12345 has no {action!r} write-back")
        if not request_id or len(request_id) > MAX_REQUEST_ID:
            raise PermanentError(f"requestId must be 1–{MAX_REQUEST_ID} chars", code="request_id")
        try:
            payload = json.dumps({**body, "requestId": request_id}, ensure_ascii=False, separators=(",", ":"))
        except (TypeError, ValueError) as exc:
            raise PermanentError(f"p12345 {action} body is not JSON: {exc}") from exc
        path = f"/api/v1/orders/{_seg(external_id)}/{action}"
        try:
            response = self._request("POST", path, content=payload.encode())
        except NOT_SENT as exc:
            raise TransientError(f"p12345 unreachable for {action} {external_id}: {exc!r}") from exc
        except httpx.RequestError as exc:
            # The request left us (or may have): only a read-back can tell whether it was applied.
            raise OutcomeUnknown(f"p12345 {action} {external_id}: no answer ({exc!r})") from exc
        data = _unwrap(response, f"{action} {external_id}")
        receipt = data.get("receiptId") if isinstance(data, dict) else None
        if not isinstance(receipt, str):
            raise TransientError(f"p12345 {action} {external_id}: answer without 'data.receiptId'")
        log.info("p12345 %s %s accepted, receipt %s", action, external_id, receipt)
        return SendResult(receipt_id=receipt, detail=dict(data))

    def lookup(self, action: str, external_id: str, body: Mapping[str, Any], request_id: str) -> Lookup:
        """Look for our ``requestId`` (and action) in the order's accepted write-backs."""
        data = self._get(f"/api/v1/orders/{_seg(external_id)}/actions")
        if not isinstance(data, list):
            raise TransientError(f"p12345 actions of {external_id}: 'data' is not a list")
        for entry in data:
            if not isinstance(entry, dict) or entry.get("requestId") != request_id:
                continue
            if entry.get("action") != action:
                # Same id on another action: ours was not applied, and re-sending would be refused.
                raise PermanentError(f"requestId {request_id} was used for {entry.get('action')!r}, not {action!r}")
            receipt = entry.get("receiptId")
            receipt_id = receipt if isinstance(receipt, str) else None
            return Lookup(applied=True, receipt_id=receipt_id, detail=entry)
        return Lookup(applied=False)


    # -- plumbing -----------------------------------------------------------------------------

    def _get(self, path: str, params: Mapping[str, str | int] | None = None) -> Any:
        """GET and unwrap ``data``; a failed read is always retryable, never an unknown outcome."""
        try:
            response = self._request("GET", path, params=params)
        except httpx.RequestError as exc:
            raise TransientError(f"p12345 GET {path} failed: {exc!r}") from exc
        return _unwrap(response, f"GET {path}")

    def _request(
        self, method: str, path: str, *, content: bytes = b"", params: Mapping[str, str | int] | None = None
    ) -> httpx.Response:
        """Send signed, retrying quickly only while the request cannot have reached the platform."""
        retrying = quick_retry()
        return retrying(self._send_once, method, path, content, params)

    def _send_once(
        self, method: str, path: str, content: bytes, params: Mapping[str, str | int] | None
    ) -> httpx.Response:
        # Signed per attempt: a fresh timestamp and nonce for each try.
        secret = self._settings.app_secret.get_secret_value()
        headers = signed_headers(self._settings.app_id, secret, content, now=self._clock())
        if content:
            headers["Content-Type"] = "application/json; charset=utf-8"
        return self._client.request(method, path, content=content, params=params, headers=headers)


def _snapshot(order: Any) -> RawItem:
    """One pulled order as a ``RawItem``; a malformed one still gets a stable id so the mapper flags it."""
    text = json.dumps(order, ensure_ascii=False)
    order_no = order.get("orderNo") if isinstance(order, dict) else None
    version = order.get("version") if isinstance(order, dict) else None
    if isinstance(order_no, str) and isinstance(version, int) and not isinstance(version, bool):
        event_id = f"pull:{order_no}:{version}"
    else:
        event_id = f"pull:malformed:{hashlib.sha256(text.encode()).hexdigest()[:24]}"
    return RawItem(
        event_id=event_id,
        event_type=SNAPSHOT,
        external_id=order_no if isinstance(order_no, str) else None,
        payload=text,
    )


def _seg(value: str) -> str:
    """An order number as one path segment (never a path of its own)."""
    return quote(value, safe="")


def _iso(moment: datetime) -> str:
    return moment.astimezone(SHANGHAI).isoformat(timespec="seconds")


def _cycle_start(cursor: Mapping[str, Any] | None) -> datetime | None:
    """When the previous cycle began, or None for a first (or unreadable) cursor."""
    value = cursor.get("cycle_started") if cursor else None
    try:
        moment = datetime.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        log.warning("p12345 cursor has an unreadable cycle_started %r; starting afresh", value)
        return None
    return moment.replace(tzinfo=moment.tzinfo or UTC) if moment else None


def _unwrap(response: httpx.Response, what: str) -> Any:
    """The ``data`` of a ``{"code": 0}`` answer, or the error the status and code call for."""
    try:
        body = response.json()
    except ValueError:
        body = None
    if not isinstance(body, dict):
        body = None
    status = response.status_code
    if response.is_success and body is not None and body.get("code") == 0:
        return body.get("data")
    code = str(body["code"]) if body is not None and "code" in body else None
    message = str(body.get("message")) if body is not None and body.get("message") else response.text[:200]
    text = f"p12345 {what}: HTTP {status}, code {code}: {message}"
    if response.is_success:
        # A 200 that is not our JSON (proxy page, truncated body) or an error code inside a 200.
        if code is None or not code.isdigit() or len(code) != 5:
            raise TransientError(f"p12345 {what}: HTTP {status} without the expected JSON: {message}")
        status = int(code) // 100
    # 400/40001 names the invalid field in its message; 404/40400 unknown order; 409/40901 state.
    raise status_error(status, text, code=code, retry_after_s=retry_after(response.headers.get("Retry-After")))
