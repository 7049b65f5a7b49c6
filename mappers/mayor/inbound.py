"""Mayor's hotline inbound: pulled rows -> ``TicketDraft`` (snapshot) or ``TicketNotice`` (callback).

The payload of both event types is one row of ``list.do``/``detail.do`` exactly as received (decoded
from GBK by the adapter). Every failure is a ``MappingError`` naming the row field and its value.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from gateway.errors import MappingError
from gateway.schema import SHANGHAI, Citizen, MappedEvent, NoticeKind, PlatformDeadlines, TicketDraft, TicketNotice
from mappers.base import lookup_enum, require
from mappers.mayor.tables import (
    APPEAL_TYPES,
    CALLBACK,
    CHANNEL,
    KEY,
    ROW_FIELDS,
    SATISFACTIONS,
    SNAPSHOT,
    STATUS_HINTS,
    STATUSES,
    TIME_FORMAT,
    TITLE_CHARS,
    URGENCIES,
)

Data = Mapping[str, Any]


def map_inbound(event_type: str, payload: str) -> MappedEvent:
    """Map one inbox payload (a row) of the given event type."""
    if event_type not in (SNAPSHOT, CALLBACK):
        raise MappingError("unknown event_type", field="event_type", value=event_type)
    row = _load(payload)
    if event_type == CALLBACK:
        return _callback(row)
    return _row(row)


def parse_time(value: object, field: str) -> datetime:
    """A naive ``yyyy-MM-dd HH:mm:ss`` local time, made aware in Asia/Shanghai; any other form is refused."""
    if not isinstance(value, str):
        raise MappingError("wrong type", field=field, value=value)
    try:
        moment = datetime.strptime(value, TIME_FORMAT)
    except ValueError as exc:
        raise MappingError("not a yyyy-MM-dd HH:mm:ss time", field=field, value=value) from exc
    return moment.replace(tzinfo=SHANGHAI)


def source_version(updated_at: datetime, zt: str) -> int:
    """A version that grows with every change: ``gxsj`` in epoch seconds, then ``zt`` within the second.

    The platform has no version and writes ``gxsj`` to the second, so a sign and a feedback landing
    in the same second would otherwise look like one version and the later one would be dropped.
    """
    return int(updated_at.timestamp()) * 100 + int(zt)


def _load(payload: str) -> dict[str, Any]:
    try:
        document = json.loads(payload)
    except (json.JSONDecodeError, TypeError) as exc:
        raise MappingError("payload is not JSON", field="payload", value=str(payload)[:80]) from exc
    if not isinstance(document, dict):
        raise MappingError("payload is not a JSON object", field="payload", value=type(document).__name__)
    return document


def _text_or_none(data: Data, key: str) -> str | None:
    """An optional text field; the legacy JSON writes "" for "not given", which becomes None."""
    value = data.get(key)
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise MappingError("wrong type", field=key, value=value)
    return value


def _urgency_code(data: Data) -> str:
    value = require(data, "jjcd", (str, int), "")
    return str(value)


def _status_code(data: Data) -> str:
    code = require(data, "zt", str, "")
    lookup_enum(STATUSES, code, "zt")
    return str(code)


def _title(content: str) -> str:
    first_line = content.strip().splitlines()[0] if content.strip() else ""
    return first_line if len(first_line) <= TITLE_CHARS else first_line[:TITLE_CHARS] + "…"


def _row(row: Data) -> TicketDraft:
    lsh = require(row, "lsh", str, "")
    if not lsh.strip():
        raise MappingError("must not be empty", field="lsh", value=lsh)
    content = require(row, "ldnr", str, "")
    zt = _status_code(row)
    updated_at = parse_time(require(row, "gxsj", str, ""), "gxsj")
    limit = require(row, "blsx", int, "")
    if limit < 0:
        raise MappingError("must not be negative", field="blsx", value=limit)
    name, phone = _text_or_none(row, "ldrxm"), _text_or_none(row, "lxdh")
    extra = {k: v for k, v in row.items() if k not in ROW_FIELDS}
    extra.update(zt=zt, gxsj=row["gxsj"])
    return TicketDraft(
        platform=KEY,
        external_id=lsh,
        source_version=source_version(updated_at, zt),
        platform_status=STATUSES[zt],
        status_hint=STATUS_HINTS.get(zt),
        appeal_type=lookup_enum(APPEAL_TYPES, require(row, "sqlb", str, ""), "sqlb"),
        urgency=lookup_enum(URGENCIES, _urgency_code(row), "jjcd"),
        channel=CHANNEL,
        title=_title(content),
        content=content,
        citizen=Citizen(name=name, phone=phone, anonymous=name is None and phone is None),
        address=_text_or_none(row, "sfdz"),
        accepted_at=parse_time(require(row, "ldsj", str, ""), "ldsj"),
        issued_at=parse_time(require(row, "pdsj", str, ""), "pdsj"),
        deadlines=PlatformDeadlines(time_limit=limit, time_unit="working_days"),
        extra=extra,
    )


def _callback(row: Data) -> TicketNotice:
    lsh = require(row, "lsh", str, "")
    result = require(row, "hfjg", dict, "")
    visited_at = parse_time(require(result, "hfsj", str, "hfjg."), "hfjg.hfsj")
    comment = result.get("hfyj")
    if comment is not None and not isinstance(comment, str):
        raise MappingError("wrong type", field="hfjg.hfyj", value=comment)
    return TicketNotice(
        platform=KEY,
        external_id=lsh,
        kind=NoticeKind.callback,
        occurred_at=visited_at,
        data={
            "satisfaction": lookup_enum(SATISFACTIONS, require(result, "myd", str, "hfjg."), "hfjg.myd"),
            "visited_at": visited_at,
            "comment": comment or None,
        },
    )
