"""The mayor's hotline wire format (PLATFORMS.md §3): GBK forms and answers, HTML pages, local times,
and keeping the query-string token out of every log line and error message.

Answers are HTTP 200 even on failure: ``{"result": "1"|"0", "msg": ...}`` in GBK JSON, or, during
maintenance, an HTML page. ``read_answer`` turns each into data or the error that says what to do.
"""

from __future__ import annotations

import json
import logging
import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import urlencode

import httpx

from adapters.http import retry_after, status_error
from gateway.errors import AuthenticationError, OutcomeUnknown, PermanentError, TransientError
from gateway.schema import SHANGHAI

TIME_FORMAT = "%Y-%m-%d %H:%M:%S"  # the platform's naive local times
CHARSET = "gbk"
# GB18030 is a superset of GBK: it decodes every GBK answer identically, and also the odd rare
# character a legacy server writes in GB18030 while still declaring GBK.
GBK_FAMILY = frozenset({"gbk", "gb2312", "gb18030", "cp936", "x-gbk"})
FORM_CONTENT_TYPE = "application/x-www-form-urlencoded; charset=GBK"
TOKEN_REFUSED = "token无效"
TOKEN_IN_TEXT = re.compile(r"(token=)[^&\s\"'#]*", re.IGNORECASE)
HIDDEN = "***"


@dataclass(frozen=True)
class Answer:
    """A JSON answer of the platform: ``ok`` for result "1", else ``msg`` says why."""

    ok: bool
    msg: str
    body: dict[str, Any]


class RedactTokens(logging.Filter):
    """Rewrites ``token=…`` in a record to ``token=***`` (httpx logs every request URL at INFO)."""

    def filter(self, record: logging.LogRecord) -> bool:
        """Redact, never drop."""
        message = record.getMessage()
        if "token=" in message.lower():
            record.msg, record.args = TOKEN_IN_TEXT.sub(rf"\g<1>{HIDDEN}", message), None
        return True


def install_log_redaction() -> None:
    """Attach ``RedactTokens`` to the httpx logger, once per process."""
    logger = logging.getLogger("httpx")
    if not any(isinstance(f, RedactTokens) for f in logger.filters):
        logger.addFilter(RedactTokens())


def redact(text: str, secret: str) -> str:
    """``text`` without the token: neither as ``token=…`` nor as the bare value."""
    if secret:
        text = text.replace(secret, HIDDEN)
    return TOKEN_IN_TEXT.sub(rf"\g<1>{HIDDEN}", text)


def encode_form(fields: dict[str, str], what: str) -> bytes:
    """The form body in GBK; a character GBK cannot carry is a ``PermanentError`` naming the field."""
    pairs: list[tuple[bytes, bytes]] = []
    for name, value in fields.items():
        try:
            pairs.append((name.encode(CHARSET), value.encode(CHARSET)))
        except UnicodeEncodeError as exc:
            bad = value[exc.start : exc.end]
            raise PermanentError(
                f"mayor {what}: field {name} has characters GBK cannot encode: {bad!r}", code="charset"
            ) from exc
    return urlencode(pairs).encode("ascii")


def local_text(moment: datetime) -> str:
    """A time as the platform writes it: naive ``yyyy-MM-dd HH:mm:ss`` in Asia/Shanghai."""
    return moment.astimezone(SHANGHAI).strftime(TIME_FORMAT)


def parse_local(value: object) -> datetime | None:
    """A platform time made aware (Asia/Shanghai), or None when it is not one."""
    if not isinstance(value, str):
        return None
    try:
        return datetime.strptime(value, TIME_FORMAT).replace(tzinfo=SHANGHAI)
    except ValueError:
        return None


def read_answer(response: httpx.Response, what: str, *, sent: bool, secret: str) -> Answer:
    """The platform's JSON answer, or the error its status, page or body calls for.

    ``sent`` marks a write-back: an answer we cannot read after the platform took the request
    (a truncated body, say) is an unknown outcome, where for a read it is merely transient.
    """
    status = response.status_code
    if not 200 <= status < 300:
        raise status_error(status, f"mayor {what}: HTTP {status}",
                           retry_after_s=retry_after(response.headers.get("Retry-After")))
    text = _decode(response)
    if text is not None and text.lstrip().startswith("<"):
        # 系统维护中: nightly maintenance and random outages answer 200 with a page, never data.
        kind = "maintenance page (系统维护中)" if "维护" in text else "an HTML page"
        raise TransientError(f"mayor {what}: HTTP 200 with {kind} instead of data")
    body = _json_object(text)
    result = None if body is None else str(body.get("result"))
    if body is None or result not in ("0", "1"):
        excerpt = redact((text or repr(response.content[:80]))[:120], secret)
        problem = f"mayor {what}: HTTP 200 without the expected GBK JSON answer: {excerpt!r}"
        raise OutcomeUnknown(problem) if sent else TransientError(problem)
    msg = redact(str(body.get("msg") or ""), secret)
    if result == "0" and TOKEN_REFUSED in msg:
        raise AuthenticationError(f"mayor {what}: {msg}", code="token")
    return Answer(ok=result == "1", msg=msg, body=body)


def _decode(response: httpx.Response) -> str | None:
    declared = (response.charset_encoding or CHARSET).lower()
    codec = "gb18030" if declared in GBK_FAMILY else declared
    try:
        return response.content.decode(codec)
    except (UnicodeDecodeError, LookupError):
        return None


def _json_object(text: str | None) -> dict[str, Any] | None:
    if text is None:
        return None
    try:
        body = json.loads(text)
    except ValueError:
        return None
    return body if isinstance(body, dict) else None

