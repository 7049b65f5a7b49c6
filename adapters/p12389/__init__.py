"""Transport to the 12389 police complaint platform (PLATFORMS.md §2): OAuth2, XML, pull only.

Pull: see ``adapters.p12389.cursor`` for the cursor and the bounded list-then-recheck cycle. Each
case read becomes a ``case.snapshot`` item ``pull:{jbbh}:{content digest}`` (an unchanged case
read again is deduplicated by the inbox; a changed one is a new row with a higher version stamp);
a case with the reporter's evaluation (``fkpj``) also gives a ``case.rated`` item, once per value.

Write-backs: sign → ``receipt``, extension → ``extension``, reply (and its alias report) →
``report`` (核查报告). 12389 has no idempotency key, so:

- a report carries our request id as ``wbbh``, and every report send first reads the case back and
  does not post when a ``bgs/bg`` with our ``wbbh`` is there: a report is never posted twice, even
  when the outbox retries without calling ``lookup`` first;
- a receipt answered 409 (已签收) is a success when the read-back shows ``qszt`` = 1;
- an extension leaves no trace to read back, so after an unknown outcome ``lookup`` refuses to
  guess: the row goes dead with the reason, and a person checks the platform;
- an answer that does not come (timeout, dropped connection, a proxy's 5xx page) is
  ``OutcomeUnknown``; the platform's own XML error is a refusal (nothing was applied).

A 401 ``invalid_token`` renews the token and retries the call once (the refused call was not applied).
"""

from __future__ import annotations

import logging
import time
import xml.etree.ElementTree as ET
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any
from urllib.parse import quote

import httpx

from adapters.http import ClientOwner
from adapters.p12389.auth import TokenSource
from adapters.p12389.cursor import Cursor, first_cycle
from adapters.p12389.http import Transport, error_for
from adapters.p12389.xml import (
    XmlRefused,
    cases_of,
    envelope,
    fingerprint,
    rating_envelope,
    report_refs,
    request_body,
    single_case,
    text_of,
)
from gateway.errors import GatewayError, OutcomeUnknown, PermanentError, TransientError
from gateway.ports import Lookup, PollPage, RawItem, SendResult
from gateway.schema import SHANGHAI
from gateway.settings import P12389Settings

log = logging.getLogger(__name__)

SNAPSHOT, RATED = "case.snapshot", "case.rated"
ENDPOINTS = {"sign": "receipt", "extension": "extension", "reply": "report", "report": "report"}
MAX_PAGE_SIZE = 50  # §2: L ≤ 50
MIN_PAGE_SIZE = 2  # each list request re-reads one anchor case; one more is needed to make progress
MAX_WBBH = 40


class P12389Adapter(ClientOwner):
    """PlatformAdapter for ``p12389``."""

    key = "p12389"

    def __init__(
        self,
        settings: P12389Settings,
        *,
        client: httpx.Client | None = None,
        clock: Callable[[], float] = time.time,
        initial_lookback_s: float = 30 * 86_400.0,
    ) -> None:
        self._settings = settings
        self._use_client(client, base_url=settings.base_url, timeout_s=settings.timeout_s)
        self._clock = clock
        self._initial_lookback_s = initial_lookback_s
        self._limit = max(MIN_PAGE_SIZE, min(settings.page_size, MAX_PAGE_SIZE))
        self.tokens = TokenSource(
            self._client,
            client_id=settings.client_id,
            client_secret=settings.client_secret.get_secret_value,
            clock=clock,
        )
        self._http = Transport(self._client, self.tokens)

    # -- pull ---------------------------------------------------------------------------------

    def poll(self, cursor: Mapping[str, Any] | None) -> PollPage:
        """One list page or one page of re-reads; see ``adapters.p12389.cursor``."""
        now = datetime.fromtimestamp(self._clock(), tz=SHANGHAI)
        state = Cursor.load(cursor)
        if state is None:
            if cursor:
                log.warning("p12389 cursor unreadable; starting a new cycle with the initial look-back")
            state = first_cycle(now, self._initial_lookback_s)
        elif state.phase == "done":
            state = state.next_cycle(now, self._settings.poll_overlap_s)
        items = self._list_page(state) if state.phase == "list" else self._recheck_page(state)
        dropped = state.trim()
        if dropped:
            log.warning("p12389 watch list full: %d cases no longer re-read (oldest first)", len(dropped))
        return PollPage(items=items, cursor=state.dump(), done=state.phase == "done")

    def _list_page(self, state: Cursor) -> list[RawItem]:
        params: dict[str, str | int] = {"since": state.since, "offset": state.list_offset(), "limit": self._limit}
        root = self._http.read("/api/cases", params)
        try:
            cases, total = cases_of(root)
        except XmlRefused as exc:
            raise TransientError(f"p12389 case list: {exc}") from exc
        # A case without a jbbh is still passed on (the mapper marks it failed, visibly), under its digest.
        keys = [_jbbh(case) or f"?{fingerprint(case)}" for case in cases]
        by_jbbh = dict(zip(keys, cases, strict=True))
        fresh = state.take_list_page(keys, total, self._limit)
        items: list[RawItem] = []
        for jbbh in fresh:
            items += self._items(by_jbbh[jbbh], state)
        return items

    def _recheck_page(self, state: Cursor) -> list[RawItem]:
        items: list[RawItem] = []
        for jbbh in state.due_rechecks(self._limit):
            try:
                case = self._case(jbbh)
            except GatewayError as exc:
                if isinstance(exc, PermanentError) and exc.status == 404:
                    log.warning("p12389 case %s is gone from the platform (404); no longer re-read", jbbh)
                    state.forget(jbbh)
                    continue
                if not items:
                    raise
                return items  # keep what was read; the next call resumes with the rest (phase stays)
            items += self._items(case, state)
        state.phase = "done"
        return items

    def _items(self, case: ET.Element, state: Cursor) -> list[RawItem]:
        jbbh = _jbbh(case)
        now = self._clock()
        fkpj = text_of(case, "fkpj") or None
        version = int(now)
        if jbbh:
            version = state.observe(jbbh, zt=text_of(case, "zt"), rated=fkpj is not None, now_s=int(now))
        observed = datetime.fromtimestamp(now, tz=SHANGHAI)
        items = [
            RawItem(
                event_id=f"pull:{jbbh}:{fingerprint(case)}",
                event_type=SNAPSHOT,
                external_id=jbbh or None,
                payload=envelope(case, observed=observed, version=version),
            )
        ]
        if jbbh and fkpj is not None:
            items.append(
                RawItem(
                    event_id=f"rated:{jbbh}:{fkpj}",
                    event_type=RATED,
                    external_id=jbbh,
                    payload=rating_envelope(jbbh, fkpj, observed=observed, version=version),
                )
            )
        return items

    # -- write-back ---------------------------------------------------------------------------

    def send(self, action: str, external_id: str, body: Mapping[str, Any], request_id: str) -> SendResult:
        """POST one write-back; a report is posted only after a read-back shows it is not there yet."""
        endpoint = _endpoint(action)
        fields: dict[str, Any] = dict(body)
        if endpoint == "report":
            if not request_id or len(request_id) > MAX_WBBH:
                raise PermanentError(f"wbbh must be 1–{MAX_WBBH} chars (request id {request_id!r})", code="wbbh")
            earlier = self._report(external_id, request_id)
            if earlier is not None:
                log.info("p12389 report %s of case %s already there; not posted again", request_id, external_id)
                return SendResult(receipt_id=request_id, detail={"reconciled": True, "report_sj": earlier})
            fields = {"wbbh": request_id, **{k: v for k, v in fields.items() if k != "wbbh"}}
        try:
            content = request_body(fields)
        except ValueError as exc:
            raise PermanentError(f"p12389 {action} body cannot be sent: {exc}") from exc
        answer = self._http.call("POST", f"/api/cases/{_seg(external_id)}/{endpoint}", content=content, write=True)
        what = f"{endpoint} {external_id}"
        if answer.ok:
            log.info("p12389 %s accepted", what)
            return SendResult(receipt_id=request_id if endpoint == "report" else None)
        if not answer.platforms and (answer.status >= 500 or 200 <= answer.status < 300):
            # Not the platform's answer (a proxy's error page, a cut body): it may have been applied.
            raise OutcomeUnknown(f"p12389 {what}: HTTP {answer.status} without the platform's XML answer")
        if answer.effective_status == 409:
            found = self._already_applied(endpoint, external_id, request_id)
            if found is not None:
                log.info("p12389 %s answered 409 and the read-back shows it applied", what)
                return found
        raise error_for(answer, what)

    def lookup(self, action: str, external_id: str, body: Mapping[str, Any], request_id: str) -> Lookup:
        """Read the case back: ``qszt`` for a receipt, ``bgs/bg@wbbh`` for a report (exact)."""
        endpoint = _endpoint(action)
        if endpoint == "extension":
            raise PermanentError(
                f"p12389 keeps no record of extension requests, so whether the unanswered one for case "
                f"{external_id} arrived cannot be read back: check the case on the platform and file a "
                f"new extension request only if it is missing",
                code="unverifiable",
            )
        found = self._already_applied(endpoint, external_id, request_id)
        if found is None:
            return Lookup(applied=False)
        return Lookup(applied=True, receipt_id=found.receipt_id, detail=found.detail)


    # -- read-backs ---------------------------------------------------------------------------

    def _already_applied(self, endpoint: str, jbbh: str, request_id: str) -> SendResult | None:
        if endpoint == "receipt":
            qszt = text_of(self._case(jbbh), "qszt")
            return SendResult(receipt_id=None, detail={"already_signed": True}) if qszt == "1" else None
        if endpoint == "report":
            sj = self._report(jbbh, request_id)
            return None if sj is None else SendResult(receipt_id=request_id, detail={"reconciled": True,
                                                                                     "report_sj": sj})
        return None

    def _report(self, jbbh: str, wbbh: str) -> str | None:
        """The time (``sj``) of the case's report carrying our ``wbbh``, '' if it has none, None if absent."""
        for ref, sj in report_refs(self._case(jbbh)):
            if ref == wbbh:
                return sj or ""
        return None

    def _case(self, jbbh: str) -> ET.Element:
        root = self._http.read(f"/api/cases/{_seg(jbbh)}")
        try:
            return single_case(root)
        except XmlRefused as exc:
            raise TransientError(f"p12389 case {jbbh}: {exc}") from exc


def _endpoint(action: str) -> str:
    endpoint = ENDPOINTS.get(action)
    if endpoint is None:
        raise PermanentError(f"p12389 has no {action!r} write-back (only receipt, extension, report)")
    return endpoint


def _jbbh(case: ET.Element) -> str:
    return text_of(case, "jbbh") or ""


def _seg(value: str) -> str:
    """A case number as one path segment (never a path of its own)."""
    return quote(value, safe="")
