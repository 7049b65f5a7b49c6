"""No complainant's phone, ID number, name or complaint text in a log line or an error message.

Two layers. Errors about foreign payloads (``MappingError``) show a value only where it cannot be
personal: never for a field that holds a person or free text (by its name on any platform, e.g.
``citizen.phone``, ``ldrxm``, ``jbr/xm``, ``content``), never a whole object, and strings at most 40
characters. And every log record passes ``RedactingFilter`` on its way out, which masks mobile and
landline numbers and ID card numbers wherever they appear, tracebacks included: a safety net for
messages that quote something foreign (a platform's error text, a database's DETAIL line; the
engine itself never puts statement parameters into an error: ``hide_parameters``).
"""

from __future__ import annotations

import logging
import re
import sys
from datetime import datetime
from typing import IO, Any

from gateway.schema import SHANGHAI

MOBILE = re.compile(r"(?<!\d)1[3-9]\d{9}(?!\d)")
LANDLINE = re.compile(r"(?<!\d)0\d{2,3}-\d{7,8}(?!\d)")
ID_NUMBER = re.compile(r"(?<![0-9A-Za-z])(?:\d{17}[\dXx]|\d{15})(?![0-9A-Za-z])")
PG_DETAIL = re.compile(r"^DETAIL:.*$", re.MULTILINE)
# Field names (any segment of a path) that hold a person or free text, on any of the four platforms.
PERSONAL_WORDS = ("name", "phone", "mobile", "tel", "idcard", "id_card", "idno", "email", "address", "addr",
                  "content", "title", "body", "text", "comment", "note", "reason", "opinion", "reply",
                  "citizen", "respondent", "reporter", "contact", "payload")
PERSONAL_KEYS = frozenset({"xm", "ldrxm", "lxdh", "sjhm", "sfzh", "sfzhm", "dz", "sfdz", "fsdd", "ldnr", "jbnr",
                           "nr", "bt", "hfyj", "fkxx", "yj", "cxm", "jbr", "bjbr", "zjhm", "dh"})
MAX_SHOWN = 40


def scrub(text: str) -> str:
    """``text`` with every mobile, landline and ID card number masked, and PostgreSQL's DETAIL lines
    (which quote the values of the failing row or key) dropped."""
    text = PG_DETAIL.sub("DETAIL: <已隐去>", text)
    text = ID_NUMBER.sub("<证件号已隐去>", text)
    text = MOBILE.sub(lambda m: m.group()[:3] + "****" + m.group()[-4:], text)
    return LANDLINE.sub("<电话已隐去>", text)


def is_personal(field: str | None) -> bool:
    """True when a payload field (a path like ``data.citizen.phone`` or ``jbr/xm``) may hold personal data."""
    if not field:
        return False
    for segment in re.split(r"[./@\[\]]+", field.lower()):
        if segment in PERSONAL_KEYS or any(word in segment for word in PERSONAL_WORDS):
            return True
    return False


def shown_value(field: str | None, value: Any) -> str:
    """How an error may show the value of ``field``: the value itself only when it cannot be personal."""
    if isinstance(value, dict | list | tuple | set):
        return f"<{type(value).__name__} of {len(value)}>"
    if is_personal(field):
        return f"<redacted {type(value).__name__}>"
    if isinstance(value, bytes):
        return f"<{len(value)} bytes>"
    shown = repr(value)
    if isinstance(value, str) and len(value) > MAX_SHOWN:
        shown = repr(value[:MAX_SHOWN]) + f"…({len(value)} chars)"
    return scrub(shown)


class RedactingFilter(logging.Filter):
    """Masks phone and ID numbers in a record's message and traceback (install on every handler)."""

    def filter(self, record: logging.LogRecord) -> bool:
        """Rewrite the record in place; never drops it."""
        message = record.getMessage()
        cleaned = scrub(message)
        if cleaned != message or record.args:
            record.msg, record.args = cleaned, None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = scrub(record.exc_text)
        if record.stack_info:
            record.stack_info = scrub(record.stack_info)
        return True


FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


class ShanghaiFormatter(logging.Formatter):
    """Log times in +08:00 (``gateway.schema.SHANGHAI``), the zone the dashboard, the API and the platforms
    show, whatever the host's zone: a staff member matches a log line to a ticket's time without sums
    (issue 13 point 10). ``2026-12-05 09:30:00.123+08:00``."""

    def formatTime(self, record: logging.LogRecord, datefmt: str | None = None) -> str:
        moment = datetime.fromtimestamp(record.created, SHANGHAI)
        return moment.strftime(datefmt) if datefmt else moment.isoformat(sep=" ", timespec="milliseconds")


def configure_logging(level: str | int = "INFO", stream: IO[str] | None = None) -> logging.Handler:
    """The process's logging: one handler on the root logger, every record through ``RedactingFilter``."""
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(ShanghaiFormatter(FORMAT))
    handler.addFilter(RedactingFilter())
    root = logging.getLogger()
    root.addHandler(handler)
    root.setLevel(level.upper() if isinstance(level, str) else level)
    logging.getLogger("alembic").setLevel(logging.WARNING)
    # httpx logs full URLs at INFO; the mayor platform puts its token in the query string.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    return handler


def uvicorn_log_config(level: str) -> dict[str, Any]:
    """uvicorn's own loggers (server errors) through the same filter, into the root handler."""
    return {"version": 1, "disable_existing_loggers": False,
            "loggers": {name: {"level": level.upper(), "handlers": [], "propagate": True}
                        for name in ("uvicorn", "uvicorn.error", "uvicorn.access")}}
