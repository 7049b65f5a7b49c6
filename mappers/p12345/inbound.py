"""12345 inbound: push envelopes and pulled orders -> ``TicketDraft`` / ``TicketNotice``.

Every failure is a ``MappingError`` naming the field by its path in the payload (``data.citizen.gender``
for a push, ``citizen.gender`` for a snapshot) and the offending value.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

from gateway.errors import MappingError
from gateway.schema import (
    Attachment,
    Citizen,
    MappedEvent,
    NoticeKind,
    PlatformDeadlines,
    Region,
    Respondent,
    TicketDraft,
    TicketNotice,
)
from mappers.base import load_object, lookup_enum, require
from mappers.p12345.tables import (
    APPEAL_TYPES,
    CHANNELS,
    CONFIDENTIAL_NAME,
    GENDERS,
    KEY,
    MAX_CONTENT,
    NOTICE_KINDS,
    ORDER_EVENTS,
    ORDER_FIELDS,
    RESOLUTIONS,
    SATISFACTIONS,
    SNAPSHOT,
    STATUS_HINTS,
    STATUSES,
    SUPERVISE_LEVELS,
    TIME_UNITS,
    URGENCIES,
)

Data = Mapping[str, Any]


def map_inbound(event_type: str, payload: str) -> MappedEvent:
    """Map one inbox payload of the given event type."""
    document = load_object(payload)
    if event_type == SNAPSHOT:
        return _order(document, "")
    if event_type not in ORDER_EVENTS and event_type not in NOTICE_KINDS:
        raise MappingError("unknown event_type", field="event_type", value=event_type)
    order_no = require(document, "order_no", str)
    occurred_at = _time(document, "occurred_at", "")
    data = require(document, "data", dict)
    if event_type in ORDER_EVENTS:
        draft = _order(data, "data.")
        if draft.external_id != order_no:
            raise MappingError("differs from data.orderNo", field="order_no", value=order_no)
        return draft
    kind = NOTICE_KINDS[event_type]
    return TicketNotice(
        platform=KEY, external_id=order_no, kind=kind, occurred_at=occurred_at, data=_NOTICES[kind](data)
    )


def parse_time(value: str, field: str) -> datetime:
    """An ISO-8601 time with an explicit offset (the platform writes +08:00); a naive one is refused."""
    try:
        moment = datetime.fromisoformat(value)
    except ValueError as exc:
        raise MappingError("not an ISO-8601 time", field=field, value=value) from exc
    if moment.utcoffset() is None:
        raise MappingError("time without a UTC offset", field=field, value=value)
    return moment


def _optional(data: Data, key: str, kind: type | tuple[type, ...], path: str) -> Any:
    """A nullable field: None when absent or null, else of ``kind`` (a bool never passes as a number)."""
    return None if data.get(key) is None else require(data, key, kind, path)


def _time(data: Data, key: str, path: str) -> datetime:
    return parse_time(require(data, key, str, path), f"{path}{key}")


def _time_or_none(data: Data, key: str, path: str) -> datetime | None:
    return None if data.get(key) is None else _time(data, key, path)


def _order(data: Data, path: str) -> TicketDraft:
    content = require(data, "content", str, path)
    if len(content) > MAX_CONTENT:
        raise MappingError(f"longer than {MAX_CONTENT} chars", field=f"{path}content", value=len(content))
    category = require(data, "categoryPath", list, path)
    if not 1 <= len(category) <= 5 or not all(isinstance(c, str) for c in category):
        raise MappingError("must be 1–5 strings", field=f"{path}categoryPath", value=category)
    extra = {k: v for k, v in data.items() if k not in ORDER_FIELDS}
    extra["dispatchId"] = require(data, "dispatchId", str, path)
    respondent = _optional(data, "respondent", dict, path)
    return TicketDraft(
        platform=KEY,
        external_id=require(data, "orderNo", str, path),
        source_version=require(data, "version", int, path),
        platform_status=(status := lookup_enum(STATUSES, require(data, "status", str, path), f"{path}status")),
        status_hint=STATUS_HINTS.get(status),
        appeal_type=lookup_enum(APPEAL_TYPES, require(data, "appealType", str, path), f"{path}appealType"),
        urgency=lookup_enum(URGENCIES, require(data, "urgency", str, path), f"{path}urgency"),
        channel=lookup_enum(CHANNELS, require(data, "channel", str, path), f"{path}channel"),
        category=category,
        title=require(data, "title", str, path),
        content=content,
        citizen=_citizen(require(data, "citizen", dict, path), f"{path}citizen."),
        respondent=None if respondent is None else _respondent(respondent, f"{path}respondent."),
        region=_region(require(data, "region", dict, path), f"{path}region."),
        address=require(data, "address", str, path),
        lng=_coordinate(data, "lng", path),
        lat=_coordinate(data, "lat", path),
        attachments=_attachments(require(data, "attachments", list, path), f"{path}attachments"),
        accepted_at=_time(data, "acceptedAt", path),
        issued_at=_time(data, "dispatchedAt", path),
        deadlines=PlatformDeadlines(
            sign_by=_time_or_none(data, "signDeadline", path),
            due_at=_time(data, "dueAt", path),
            time_limit=require(data, "timeLimit", int, path),
            time_unit=lookup_enum(TIME_UNITS, require(data, "timeUnit", str, path), f"{path}timeUnit"),
        ),
        needs_callback=require(data, "needsCallback", bool, path),
        parent_external_id=_optional(data, "parentOrderNo", str, path),
        extra=extra,
    )


def _citizen(data: Data, path: str) -> Citizen:
    name = _optional(data, "name", str, path)
    gender = require(data, "gender", int, path)
    if gender not in GENDERS:
        raise MappingError("unknown value for gender", field=f"{path}gender", value=gender)
    # "保密" is a placeholder, not a name: keep the flag even if the platform forgot to set it.
    confidential = require(data, "confidential", bool, path) or name == CONFIDENTIAL_NAME
    return Citizen(
        name=None if name == CONFIDENTIAL_NAME else name,
        phone=_optional(data, "phone", str, path),
        gender=GENDERS[gender],
        confidential=confidential,
    )


def _respondent(data: Data, path: str) -> Respondent:
    return Respondent(name=_optional(data, "name", str, path), unit=_optional(data, "unit", str, path))


def _region(data: Data, path: str) -> Region:
    return Region(
        district=_optional(data, "district", str, path),
        subdistrict=_optional(data, "subdistrict", str, path),
        community=_optional(data, "community", str, path),
    )


def _coordinate(data: Data, key: str, path: str) -> float | None:
    value = _optional(data, key, (int, float), path)
    return None if value is None else float(value)


def _attachments(items: list[Any], path: str) -> list[Attachment]:
    result = []
    for index, item in enumerate(items):
        here = f"{path}[{index}]"
        if not isinstance(item, dict):
            raise MappingError("wrong type", field=here, value=item)
        result.append(
            Attachment(
                name=require(item, "name", str, f"{here}."),
                url=_optional(item, "url", str, f"{here}."),
                mime=_optional(item, "mime", str, f"{here}."),
                size=_optional(item, "size", int, f"{here}."),
            )
        )
    return result


# Notice data: the platform's snake_case keys kept, values checked, enums and times converted.


def _urged(data: Data, p: str = "data.") -> dict[str, Any]:
    return {
        "urge_no": require(data, "urge_no", str, p),
        "count": require(data, "count", int, p),
        "note": _optional(data, "note", str, p),
    }


def _supervised(data: Data, p: str = "data.") -> dict[str, Any]:
    return {
        "supervise_no": require(data, "supervise_no", str, p),
        "level": lookup_enum(SUPERVISE_LEVELS, require(data, "level", str, p), f"{p}level"),
        "note": _optional(data, "note", str, p),
        "reply_by": _time_or_none(data, "reply_by", p),
    }


def _reply_rejected(data: Data, p: str = "data.") -> dict[str, Any]:
    return {"reason": require(data, "reason", str, p)}


def _extension_decided(data: Data, p: str = "data.") -> dict[str, Any]:
    approved = require(data, "approved", bool, p)
    # An approval without its new deadline would leave the SLA engine guessing: refuse it.
    new_due_at = _time(data, "new_due_at", p) if approved else _time_or_none(data, "new_due_at", p)
    return {"approved": approved, "new_due_at": new_due_at, "note": _optional(data, "note", str, p)}


def _return_decided(data: Data, p: str = "data.") -> dict[str, Any]:
    return {"approved": require(data, "approved", bool, p), "note": _optional(data, "note", str, p)}


def _callback(data: Data, p: str = "data.") -> dict[str, Any]:
    return {
        "contacted": require(data, "contacted", bool, p),
        "resolved": lookup_enum(RESOLUTIONS, require(data, "resolved", str, p), f"{p}resolved"),
        "satisfaction": lookup_enum(SATISFACTIONS, require(data, "satisfaction", str, p), f"{p}satisfaction"),
        "valid": require(data, "valid", bool, p),
        "comment": _optional(data, "comment", str, p),
        "visited_at": _time(data, "visited_at", p),
    }


def _reopened(data: Data, p: str = "data.") -> dict[str, Any]:
    return {"reason": require(data, "reason", str, p), "new_due_at": _time_or_none(data, "new_due_at", p)}


_NOTICES: dict[NoticeKind, Callable[[Data], dict[str, Any]]] = {
    NoticeKind.urged: _urged,
    NoticeKind.supervised: _supervised,
    NoticeKind.reply_rejected: _reply_rejected,
    NoticeKind.extension_decided: _extension_decided,
    NoticeKind.return_decided: _return_decided,
    NoticeKind.callback: _callback,
    NoticeKind.reopened: _reopened,
}
