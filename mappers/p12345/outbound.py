"""12345 outbound: internal write-back payloads (``gateway.schema``) -> the §1 request bodies.

Times are rendered ISO-8601 at +08:00, the platform's own zone, whatever zone they were stored in.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

from gateway.errors import MappingError
from gateway.schema import (
    SHANGHAI,
    Attachment,
    ContactPayload,
    ExtensionPayload,
    ProgressPayload,
    ReplyPayload,
    ReturnPayload,
    SignPayload,
)
from mappers.base import parse_payload
from mappers.p12345.tables import REPLY_TRUTHFULNESS


def map_outbound(action: str, payload: Mapping[str, Any]) -> dict[str, Any]:
    """The §1 body for ``action``; ``MappingError`` for a write-back 12345 does not have."""
    build = _BUILDERS.get(action)
    if build is None:
        raise MappingError("p12345 has no such write-back", field="action", value=action)
    return build(payload)


def render_time(moment: datetime, field: str) -> str:
    """ISO-8601 at +08:00, to the second; a naive time is refused (its zone is unknown)."""
    if moment.utcoffset() is None:
        raise MappingError("time without a UTC offset", field=field, value=moment.isoformat())
    return moment.astimezone(SHANGHAI).isoformat(timespec="seconds")


def _attachment(item: Attachment) -> dict[str, Any]:
    return {"name": item.name, "url": item.url, "mime": item.mime, "size": item.size}


def _sign(payload: Mapping[str, Any]) -> dict[str, Any]:
    p = parse_payload(SignPayload, payload)
    return {"operator": p.operator, "signedAt": render_time(p.signed_at, "signed_at")}


def _contact(payload: Mapping[str, Any]) -> dict[str, Any]:
    p = parse_payload(ContactPayload, payload)
    return {
        "contactedAt": render_time(p.contacted_at, "contacted_at"),
        "contactPhone": p.contact_phone,
        "note": p.note,
    }


def _return(payload: Mapping[str, Any]) -> dict[str, Any]:
    p = parse_payload(ReturnPayload, payload)
    return {"reason": p.reason, "attachments": [_attachment(a) for a in p.attachments]}


def _extension(payload: Mapping[str, Any]) -> dict[str, Any]:
    p = parse_payload(ExtensionPayload, payload)
    return {"days": p.days, "reason": p.reason}


def _progress(payload: Mapping[str, Any]) -> dict[str, Any]:
    p = parse_payload(ProgressPayload, payload)
    return {"note": p.note}


def _reply(payload: Mapping[str, Any]) -> dict[str, Any]:
    p = parse_payload(ReplyPayload, payload)
    is_true = REPLY_TRUTHFULNESS.get(p.is_true)
    if is_true is None:
        raise MappingError("12345 accepts only 属实/部分属实/不属实", field="is_true", value=p.is_true.value)
    # Every statement goes out as the leader approved it: a part the draft lacks is refused, never filled.
    if p.resolved is None:
        raise MappingError("no approved 办理结果", field="resolved", value=None)
    if p.contacted is None:
        raise MappingError("no approved answer to whether the citizen was contacted", field="contacted", value=None)
    if not p.public_reply.strip():
        raise MappingError("no approved text for the citizen (public_reply)", field="public_reply", value="")
    return {
        "isTrue": is_true,
        "investigation": p.investigation,
        "disposition": p.disposition,
        "citizenOpinion": p.citizen_opinion,
        "resolved": p.resolved.value,
        "contacted": p.contacted,
        "contactedAt": None if p.contacted_at is None else render_time(p.contacted_at, "contacted_at"),
        "publicReply": p.public_reply,
        "approvedBy": p.approved_by,
        "attachments": [_attachment(a) for a in p.attachments],
    }


_BUILDERS: dict[str, Callable[[Mapping[str, Any]], dict[str, Any]]] = {
    "sign": _sign,
    "contact": _contact,
    "return": _return,
    "extension": _extension,
    "progress": _progress,
    "reply": _reply,
}
