"""Transport to the mayor's hotline (PLATFORMS.md §3): GBK JSON, token in the query, pull only.

Pull cursor (JSON, saved with the inbox rows of each page)::

    {"since": "yyyy-MM-dd HH:mm:ss" | None, "begin": str | None, "end": str | None, "page": int}

``list.do`` is a change feed by time (``gxsj`` between ``begin`` and ``end``, both inclusive,
ascending, ``pageNo`` from 1). ``since`` is the newest ``gxsj`` seen so far; a new cycle asks
for ``[since - poll_overlap_s, now - 1 s]`` (the current second is not over: see ``SETTLE_S``).
Within a cycle each page re-anchors ``begin`` on the newest ``gxsj`` of the previous page
(``page`` back to 1), so a row that changes while we page cannot shift an unseen row past us;
only a run of equal ``gxsj`` longer than a page is walked by ``pageNo``. Re-read rows dedupe
on ``event_id`` = ``pull:{lsh}:{gxsj}:{zt}``.

Write-backs have no idempotency key. A repeat answers ``result "0"`` 该工单已签收 / 已反馈 (and,
our reading, 已退回 / 已申请延期), so ``send`` reads ``detail.do`` back and reports success only
when the platform shows ours: ``zt`` past 01 for a sign, ``zt`` 05 for a return, our ``bljg`` in
``fkxx`` for a feedback. ``lookup`` does the same read-back after an unknown outcome. ``delay.do``
leaves nothing to read back: a repeat answered 已申请延期 counts as applied (a request is pending).
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from typing import Any

import httpx

from adapters.http import NOT_SENT, ClientOwner, quick_retry
from adapters.mayor_wire import (
    FORM_CONTENT_TYPE,
    Answer,
    encode_form,
    install_log_redaction,
    local_text,
    parse_local,
    read_answer,
    redact,
)
from gateway.errors import OutcomeUnknown, PermanentError, TransientError
from gateway.ports import Lookup, PollPage, RawItem, SendResult
from gateway.schema import SHANGHAI
from gateway.settings import MayorSettings

log = logging.getLogger(__name__)

SNAPSHOT = "order.snapshot"
CALLBACK = "order.callback"
MAX_PAGE_SIZE = 50
# gxsj has whole seconds: a row read during its update second could change again within it and
# keep the same gxsj (no new version). A cycle therefore ends at the last finished second.
SETTLE_S = 1
ENDPOINTS = {"sign": "sign.do", "reply": "feedback.do", "return": "back.do", "extension": "delay.do"}
# The phrase of the platform's "already done" answer per action; only a read-back tells whose it was.
ALREADY = {"sign": "已签收", "reply": "已反馈", "return": "已退回", "extension": "已申请延期"}
SIGNED = frozenset({"02", "03", "04", "05"})  # zt at or past 办理中: a sign-off happened
RETURNED = "05"


class MayorAdapter(ClientOwner):
    """PlatformAdapter for ``mayor``."""

    key = "mayor"

    def __init__(
        self,
        settings: MayorSettings,
        *,
        client: httpx.Client | None = None,
        clock: Callable[[], float] = time.time,
        initial_lookback_s: float = 86_400.0,
    ) -> None:
        self._settings = settings
        self._use_client(client, base_url=settings.base_url, timeout_s=settings.timeout_s)
        self._clock = clock
        self._initial_lookback_s = initial_lookback_s
        install_log_redaction()  # httpx logs each URL, token included, at INFO

    # -- pull ---------------------------------------------------------------------------------

    def poll(self, cursor: Mapping[str, Any] | None) -> PollPage:
        """Fetch one page of ``list.do``; see the module docstring for the cursor."""
        cursor = cursor or {}
        since = parse_local(cursor.get("since"))
        begin, end = parse_local(cursor.get("begin")), parse_local(cursor.get("end"))
        page = cursor.get("page")
        if begin is None or end is None or not isinstance(page, int) or isinstance(page, bool) or page < 1:
            end = datetime.fromtimestamp(int(self._clock()) - SETTLE_S, tz=SHANGHAI)
            start = since - timedelta(seconds=self._settings.poll_overlap_s) if since else None
            begin = min(start or end - timedelta(seconds=self._initial_lookback_s), end)
            page = 1
        size = max(1, min(self._settings.page_size, MAX_PAGE_SIZE))
        params: dict[str, str | int] = {"begin": local_text(begin), "end": local_text(end)}
        params |= {"pageNo": page, "pageSize": size}
        body = self._get("/hotline/list.do", params, "list")
        rows, total = body.get("rows"), body.get("total")
        if not isinstance(rows, list):
            raise TransientError("mayor list: 'rows' is not a list")
        items: list[RawItem] = []
        newest: datetime | None = None
        for row in rows:
            items += _items(row)
            changed = parse_local(row.get("gxsj")) if isinstance(row, dict) else None
            if changed is not None and (newest is None or changed > newest):
                newest = changed
        if newest is not None and (since is None or newest > since):
            since = newest
        seen = (page - 1) * size + len(rows)
        done = len(rows) < size or (isinstance(total, int) and seen >= total)
        if done:
            next_cursor: dict[str, Any] = {"since": _text(since), "begin": None, "end": None, "page": 1}
        else:
            if newest is not None and newest > begin:
                begin, page = newest, 1  # re-anchor: rows at ``newest`` are re-read and deduped
            else:
                page += 1  # a run of equal gxsj longer than a page: walk it by page number
            next_cursor = {"since": _text(since), "begin": local_text(begin), "end": local_text(end), "page": page}
        return PollPage(items=items, cursor=next_cursor, done=done)

    def fetch_row(self, lsh: str) -> RawItem:
        """Read one row through ``detail.do`` as a snapshot ``RawItem`` (for reconciliation)."""
        return _items(self._detail(lsh))[0]

    # -- write-back ---------------------------------------------------------------------------

    def send(self, action: str, external_id: str, body: Mapping[str, Any], request_id: str) -> SendResult:
        """POST one GBK form; an "already done" answer is settled by reading the row back."""
        endpoint = ENDPOINTS.get(action)
        if endpoint is None:
            raise PermanentError(f"the mayor's hotline has no {action!r} write-back")
        what = f"{action} {external_id}"
        fields = {"lsh": external_id, **{k: "" if v is None else str(v) for k, v in body.items() if k != "lsh"}}
        content = encode_form(fields, what)
        try:
            response = self._request("POST", f"/hotline/{endpoint}", content=content)
        except NOT_SENT as exc:
            raise TransientError(f"mayor unreachable for {what}: {self._hide(exc)}") from exc
        except httpx.RequestError as exc:
            # The form left us (or may have): only a read-back can tell whether it was applied.
            raise OutcomeUnknown(f"mayor {what}: no answer ({self._hide(exc)})") from exc
        answer = self._read(response, what, sent=True)
        if answer.ok:
            log.info("mayor %s accepted", what)
            return SendResult(receipt_id=None, detail={"msg": answer.msg})
        if ALREADY[action] in answer.msg and action == "extension":
            # delay.do has no read-back: a request is pending on the platform, ours or a colleague's.
            log.info("mayor %s: %s (no read-back exists; taken as applied)", what, answer.msg)
            return SendResult(receipt_id=None, detail={"msg": answer.msg, "unverified": True})
        if ALREADY[action] in answer.msg:
            found = self.lookup(action, external_id, body, request_id)
            if found.applied:
                log.info("mayor %s: %s, and the read-back shows ours", what, answer.msg)
                return SendResult(receipt_id=None, detail={"reconciled": True, "msg": answer.msg, **found.detail})
            raise PermanentError(f"mayor {what}: {answer.msg}, but the read-back does not show ours ({found.detail})")
        raise PermanentError(f"mayor {what}: {answer.msg or 'refused without a message'}", code="result_0")

    def lookup(self, action: str, external_id: str, body: Mapping[str, Any], request_id: str) -> Lookup:
        """Read ``detail.do`` back: ``zt`` for sign and return, ``fkxx.bljg`` for the feedback."""
        if action not in ENDPOINTS:
            raise PermanentError(f"the mayor's hotline has no {action!r} write-back")
        if action == "extension":
            # detail.do shows no extension request: nothing to read, so the re-send decides.
            return Lookup(applied=False, detail={"read_back": "none for delay.do"})
        row = self._detail(external_id)
        zt = row.get("zt")
        if action == "sign":
            return Lookup(applied=zt in SIGNED, detail={"zt": zt})
        if action == "return":
            return Lookup(applied=zt == RETURNED, detail={"zt": zt})
        feedback = row.get("fkxx")
        if feedback is None:
            return Lookup(applied=False, detail={"zt": zt})
        if not isinstance(feedback, dict) or not isinstance(feedback.get("bljg"), str):
            raise TransientError(f"mayor detail {external_id}: 'fkxx' is not a feedback object")
        if _same_text(feedback["bljg"], str(body.get("bljg", ""))):
            return Lookup(applied=True, detail={"zt": zt, "fksj": feedback.get("fksj")})
        raise PermanentError(
            f"mayor reply {external_id}: someone else's feedback is already on the platform "
            f"(fksj {feedback.get('fksj')}); ours was not applied and a re-send would be refused",
            code="other_feedback",
        )


    # -- plumbing -----------------------------------------------------------------------------

    def _detail(self, lsh: str) -> dict[str, Any]:
        body = self._get("/hotline/detail.do", {"lsh": lsh}, f"detail {lsh}")
        row = body.get("data")
        if not isinstance(row, dict):
            raise TransientError(f"mayor detail {lsh}: 'data' is not an object")
        return row

    def _get(self, path: str, params: Mapping[str, str | int], what: str) -> dict[str, Any]:
        """GET an answer with result "1"; a failed read is always retryable, never an unknown outcome."""
        try:
            response = self._request("GET", path, params=params)
        except httpx.RequestError as exc:
            raise TransientError(f"mayor {what} failed: {self._hide(exc)}") from exc
        answer = self._read(response, what, sent=False)
        if not answer.ok:
            raise PermanentError(f"mayor {what}: {answer.msg or 'refused without a message'}", code="result_0")
        return answer.body

    def _read(self, response: httpx.Response, what: str, *, sent: bool) -> Answer:
        return read_answer(response, what, sent=sent, secret=self._token())

    def _request(
        self, method: str, path: str, *, content: bytes = b"", params: Mapping[str, str | int] | None = None
    ) -> httpx.Response:
        """Send with the token, retrying quickly only while the request cannot have reached the platform."""
        retrying = quick_retry()
        query = {**(params or {}), "token": self._token()}
        headers = {"Content-Type": FORM_CONTENT_TYPE} if content else {}
        return retrying(self._client.request, method, path, content=content or None, params=query, headers=headers)

    def _token(self) -> str:
        return self._settings.token.get_secret_value()

    def _hide(self, exc: BaseException) -> str:
        return redact(repr(exc), self._token())


def _items(row: Any) -> list[RawItem]:
    """A row as a snapshot ``RawItem``, plus a callback one once it carries 回访结果 ``hfjg``.

    A malformed row still gets a stable id, so the mapper flags it instead of it vanishing here.
    """
    text = json.dumps(row, ensure_ascii=False)
    digest = hashlib.sha256(text.encode()).hexdigest()[:24]
    data = row if isinstance(row, dict) else {}
    lsh, zt, changed = data.get("lsh"), data.get("zt"), parse_local(data.get("gxsj"))
    external_id = lsh if isinstance(lsh, str) and lsh else None
    if external_id and isinstance(zt, str) and changed is not None:
        event_id = f"pull:{external_id}:{changed:%Y%m%d%H%M%S}:{zt}"
    else:
        event_id = f"pull:malformed:{digest}"
    items = [RawItem(event_id=event_id, event_type=SNAPSHOT, external_id=external_id, payload=text)]
    result = data.get("hfjg")
    if external_id and result is not None:
        visited = parse_local(result.get("hfsj")) if isinstance(result, dict) else None
        callback_id = f"callback:{external_id}:{visited:%Y%m%d%H%M%S}" if visited else f"callback:malformed:{digest}"
        items.append(RawItem(event_id=callback_id, event_type=CALLBACK, external_id=external_id, payload=text))
    return items


def _text(moment: datetime | None) -> str | None:
    return None if moment is None else local_text(moment)


def _same_text(ours: str, theirs: str) -> bool:
    """Feedback text as stored vs as sent: legacy forms turn line breaks into CRLF and trim."""
    return ours.replace("\r\n", "\n").strip() == theirs.replace("\r\n", "\n").strip()
