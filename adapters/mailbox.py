"""Transport to the 局长信箱 director's mailbox (PLATFORMS.md §4): Bearer REST, epoch ms, change feed.

Pull cursor (JSON, saved with the inbox rows of each page)::

    {"cursor": str | None}

The platform's ``next_cursor`` as it was handed out: the feed is stable, so the cursor is simply
stored and sent back (``None``: the feed's beginning). A page that returns ``next_cursor: null``
(nothing after us) keeps the cursor we sent, so the next cycle asks from the same place.
A letter reappears whenever it changes: its item is ``pull:{letter_no}:{updated_at}`` (a re-read
unchanged letter dedupes in the inbox). A letter carrying a rating is also handed in as
``letter.rated`` under ``rating:{letter_no}:{rated_at}``, so the rating reaches the ticket as the
callback result exactly once, although it changes nothing else of the letter.

Write-backs and how a retry is made safe:
- ``sign`` -> ``PUT …/acceptance`` and ``reply`` -> ``PUT …/answer`` are idempotent (the same body
  twice leaves one acceptance / answer). ``lookup`` still reads the letter back (status past
  ``pending_review``; the answer's text, dept and publish equal to ours), so an applied write is not
  sent again, and one that did not land is re-PUT safely.
- ``return`` (and ``transfer``) -> ``POST …/transfer`` is not idempotent: a second one answers 409
  ``already_transferred``. ``lookup`` reads the letter (``status == transferred``) before any
  re-send, and a 409 ``already_transferred`` on a send counts as applied only when that read-back
  shows the letter transferred.
A read-back that fails (5xx, 429, timeout) raises ``OutcomeUnknown``: the write may still have landed,
so the next attempt must read back again rather than re-send blindly.
An answer without a department (ticket never dispatched) is given as the bureau, ``operator_name``.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Mapping
from typing import Any
from urllib.parse import quote

import httpx

from adapters.http import NOT_SENT, ClientOwner, quick_retry, retry_after, status_error
from adapters.mailbox_pacing import Pacer
from gateway.errors import (
    OutcomeUnknown,
    PermanentError,
    TransientError,
)
from gateway.ports import Lookup, PollPage, RawItem, SendResult
from gateway.settings import MailboxSettings

log = logging.getLogger(__name__)

SNAPSHOT = "letter.snapshot"
RATED = "letter.rated"
MAX_PAGE_SIZE = 100
MAX_RATE_PER_S = 4.5  # §4 allows 5 requests/s; whatever the settings say, stay below it
# action -> (method, endpoint under /v2/letters/{letter_no}/)
ENDPOINTS: dict[str, tuple[str, str]] = {
    "sign": ("PUT", "acceptance"),
    "reply": ("PUT", "answer"),
    "return": ("POST", "transfer"),
    "transfer": ("POST", "transfer"),
}
ACCEPTED_STATUSES = frozenset({"accepted", "answered"})


class MailboxAdapter(ClientOwner):
    """PlatformAdapter for ``mailbox``."""

    key = "mailbox"

    def __init__(
        self,
        settings: MailboxSettings,
        *,
        client: httpx.Client | None = None,
        pacer: Pacer | None = None,
    ) -> None:
        self._settings = settings
        self._use_client(client, base_url=settings.base_url, timeout_s=settings.timeout_s)
        self.pacer = pacer or Pacer(min(settings.rate_limit_per_s, MAX_RATE_PER_S))

    # -- pull ---------------------------------------------------------------------------------

    def poll(self, cursor: Mapping[str, Any] | None) -> PollPage:
        """Fetch one page of ``GET /v2/letters``; see the module docstring for the cursor."""
        sent = cursor.get("cursor") if cursor else None
        if sent is not None and not isinstance(sent, str):
            log.warning("mailbox cursor %r is not a string; reading the feed from its beginning", sent)
            sent = None
        params: dict[str, str | int] = {"limit": min(self._settings.page_size, MAX_PAGE_SIZE)}
        if sent:
            params["cursor"] = sent
        data = self._get("/v2/letters", params=params)
        letters, next_cursor, has_more = data.get("letters"), data.get("next_cursor"), data.get("has_more")
        if not isinstance(letters, list) or not isinstance(has_more, bool):
            raise TransientError("mailbox letter feed: 'letters' or 'has_more' missing or of the wrong type")
        if next_cursor is not None and not isinstance(next_cursor, str):
            raise TransientError("mailbox letter feed: 'next_cursor' is not a string")
        if has_more and not next_cursor:
            # Asking again from the same cursor would return the same page for ever.
            raise TransientError("mailbox letter feed: has_more without a next_cursor")
        items = [item for letter in letters for item in _items(letter)]
        return PollPage(items=items, cursor={"cursor": next_cursor or sent}, done=not has_more)

    def read_letter(self, letter_no: str) -> dict[str, Any]:
        """``GET /v2/letters/{letter_no}``: the letter as the platform has it now."""
        return self._get(f"/v2/letters/{_seg(letter_no)}")

    # -- write-back ---------------------------------------------------------------------------

    def send(self, action: str, external_id: str, body: Mapping[str, Any], request_id: str) -> SendResult:
        """PUT acceptance / answer or POST transfer; the platform has no idempotency key (see module)."""
        method, endpoint = _endpoint(action)
        payload = self._wire_body(action, body)
        try:
            content = json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode()
        except (TypeError, ValueError) as exc:
            raise PermanentError(f"mailbox {action} body is not JSON: {exc}") from exc
        path = f"/v2/letters/{_seg(external_id)}/{endpoint}"
        try:
            response = self._request(method, path, content=content)
        except NOT_SENT as exc:
            raise TransientError(f"mailbox unreachable for {action} {external_id}: {exc!r}") from exc
        except httpx.RequestError as exc:
            # The request left us (or may have): only a read-back can tell whether it was applied.
            raise OutcomeUnknown(f"mailbox {action} {external_id}: no answer ({exc!r})") from exc
        try:
            letter = _unwrap(response, f"{endpoint} {external_id}")
        except PermanentError as exc:
            if endpoint != "transfer" or exc.code != "already_transferred":
                raise
            # Not idempotent: a 409 on a re-send is ours only if the letter really is transferred.
            found = self.lookup(action, external_id, body, request_id)
            if not found.applied:
                raise
            log.info("mailbox transfer %s was already applied (409 already_transferred)", external_id)
            return SendResult(receipt_id=found.receipt_id, detail={**found.detail, "already_transferred": True})
        log.info("mailbox %s %s accepted (%s)", endpoint, external_id, letter.get("status"))
        return SendResult(receipt_id=_receipt(letter, external_id), detail=_detail(letter))

    def lookup(self, action: str, external_id: str, body: Mapping[str, Any], request_id: str) -> Lookup:
        """Read the letter back and tell whether this write-back's effect is there (see module)."""
        _, endpoint = _endpoint(action)
        try:
            letter = self.read_letter(external_id)
        except TransientError as exc:
            # Still unknown, not "retry": a plain retry would re-send without reading back first.
            raise OutcomeUnknown(f"mailbox read-back of {action} {external_id} failed: {exc}") from exc
        status = letter.get("status")
        if endpoint == "acceptance":
            applied = status in ACCEPTED_STATUSES
        elif endpoint == "answer":
            wanted = self._wire_body(action, body)
            answer = letter.get("answer")
            applied = isinstance(answer, dict) and status == "answered" and (
                answer.get("text"), answer.get("dept"), answer.get("published")
            ) == (wanted.get("text"), wanted.get("dept"), wanted.get("publish"))
        else:
            applied = status == "transferred"
        if not applied:
            return Lookup(applied=False, detail=_detail(letter))
        return Lookup(applied=True, receipt_id=_receipt(letter, external_id), detail=_detail(letter))


    # -- plumbing -----------------------------------------------------------------------------

    def _wire_body(self, action: str, body: Mapping[str, Any]) -> dict[str, Any]:
        payload = dict(body)
        if ENDPOINTS.get(action, ("", ""))[1] == "answer" and not payload.get("dept"):
            payload["dept"] = self._settings.operator_name
        return payload

    def _get(self, path: str, params: Mapping[str, str | int] | None = None) -> dict[str, Any]:
        """GET a JSON object; a failed read is always retryable, never an unknown outcome."""
        try:
            response = self._request("GET", path, params=params)
        except httpx.RequestError as exc:
            raise TransientError(f"mailbox GET {path} failed: {exc!r}") from exc
        return _unwrap(response, f"GET {path}")

    def _request(
        self, method: str, path: str, *, content: bytes = b"", params: Mapping[str, str | int] | None = None
    ) -> httpx.Response:
        """Send paced, retrying quickly only while the request cannot have reached the platform."""
        retrying = quick_retry()
        response = retrying(self._send_once, method, path, content, params)
        if response.status_code == 429:
            # Everyone in this process waits out the platform's Retry-After, not only this caller.
            self.pacer.pause(retry_after(response.headers.get("Retry-After")) or 1.0)
        return response

    def _send_once(
        self, method: str, path: str, content: bytes, params: Mapping[str, str | int] | None
    ) -> httpx.Response:
        self.pacer.acquire()  # per attempt: a quick retry is a request too
        headers = {"Authorization": f"Bearer {self._settings.api_key.get_secret_value()}"}
        if content:
            headers["Content-Type"] = "application/json; charset=utf-8"
        return self._client.request(method, path, content=content or None, params=params, headers=headers)


def _endpoint(action: str) -> tuple[str, str]:
    found = ENDPOINTS.get(action)
    if found is None:
        raise PermanentError(f"局长信箱 has no {action!r} write-back")
    return found


def _items(letter: Any) -> list[RawItem]:
    """One feed letter as a snapshot item, plus a rating item when it carries a rating."""
    text = json.dumps(letter, ensure_ascii=False)
    letter_no = letter.get("letter_no") if isinstance(letter, dict) else None
    updated_at = letter.get("updated_at") if isinstance(letter, dict) else None
    if not isinstance(letter_no, str) or not _is_int(updated_at):
        # A malformed letter still gets a stable id, so the mapper flags it once on its inbox row.
        digest = hashlib.sha256(text.encode()).hexdigest()[:24]
        return [RawItem(event_id=f"pull:malformed:{digest}", event_type=SNAPSHOT, external_id=None, payload=text)]
    items = [RawItem(event_id=f"pull:{letter_no}:{updated_at}", event_type=SNAPSHOT, external_id=letter_no,
                     payload=text)]
    rating = letter.get("rating")
    if isinstance(rating, dict):
        # Keyed on rated_at: re-reading the letter later (any other change) adds no second rating.
        rated_at = rating.get("rated_at")
        key = rated_at if _is_int(rated_at) else hashlib.sha256(text.encode()).hexdigest()[:24]
        items.append(RawItem(event_id=f"rating:{letter_no}:{key}", event_type=RATED, external_id=letter_no,
                             payload=text))
    return items


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _receipt(letter: Mapping[str, Any], letter_no: str) -> str:
    """The platform gives no receipt: the letter version our write produced stands in for one."""
    return f"{letter_no}@{letter.get('updated_at')}"


def _detail(letter: Mapping[str, Any]) -> dict[str, Any]:
    # Only the status: the letter also holds the writer's personal data, which must not reach a log.
    return {"letter_status": letter.get("status")}


def _seg(value: str) -> str:
    """A letter number as one path segment (never a path of its own)."""
    return quote(value, safe="")


def _unwrap(response: httpx.Response, what: str) -> dict[str, Any]:
    """The JSON object of a 2xx answer, or the error its status and ``error.code`` call for."""
    try:
        body = response.json()
    except ValueError:
        body = None
    status = response.status_code
    if response.is_success:
        if not isinstance(body, dict):
            # A 200 that is not our JSON (proxy page, truncated body): try again later.
            raise TransientError(f"mailbox {what}: HTTP {status} without a JSON object")
        return body
    error = body.get("error") if isinstance(body, dict) else None
    code = str(error["code"]) if isinstance(error, dict) and error.get("code") else None
    message = str(error.get("message")) if isinstance(error, dict) and error.get("message") else ""
    text = f"mailbox {what}: HTTP {status}, {code or 'no error code'}: {message or response.text[:200]}"
    # 400 invalid_argument, 404 not_found, 409 conflict / already_transferred.
    raise status_error(status, text, code=code, retry_after_s=retry_after(response.headers.get("Retry-After")))
