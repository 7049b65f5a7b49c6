"""局长信箱 outbound: internal write-back payloads (``gateway.schema``) -> the §4 request bodies.

| action              | endpoint                          | body                                       |
|---------------------|-----------------------------------|--------------------------------------------|
| sign                | PUT  /v2/letters/{no}/acceptance  | accepted_by, accepted_at (epoch ms)        |
| reply               | PUT  /v2/letters/{no}/answer      | text, dept, publish, approved_by           |
| return (transfer)   | POST /v2/letters/{no}/transfer    | reason, to (信访 | 其他单位)                |

Anything else (contact, extension, progress, report) does not exist on the mailbox: ``MappingError``,
so the outbox row goes dead with that reason instead of being retried for ever.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from gateway.errors import MappingError
from gateway.schema import ReplyPayload, ReturnPayload, SignPayload
from mappers.base import parse_payload
from mappers.mailbox.tables import TRANSFER_TARGETS
from mappers.mailbox.times import to_epoch_ms


def map_outbound(action: str, payload: Mapping[str, Any]) -> dict[str, Any]:
    """The §4 body for ``action``; ``MappingError`` for a write-back the mailbox does not have."""
    build = _BUILDERS.get(action)
    if build is None:
        raise MappingError("局长信箱 has no such write-back (only sign, reply, return)", field="action", value=action)
    return build(payload)


def _acceptance(payload: Mapping[str, Any]) -> dict[str, Any]:
    p = parse_payload(SignPayload, payload)
    return {"accepted_by": p.operator, "accepted_at": to_epoch_ms(p.signed_at, "signed_at")}


def _answer(payload: Mapping[str, Any]) -> dict[str, Any]:
    p = parse_payload(ReplyPayload, payload)
    if not p.public_reply.strip():
        # Never composed here: an answer goes out only as the leader approved it.
        raise MappingError("no approved answer text (public_reply)", field="public_reply", value="")
    return {
        "text": p.public_reply,
        # None when the ticket was never dispatched to a unit: the adapter answers as the bureau.
        "dept": p.unit,
        # Publishing puts the letter on the public site; only an explicit True from the payload
        # does that, never a default (the writer's wants_public is not in the reply payload).
        "publish": payload.get("publish") is True,
        "approved_by": p.approved_by,
    }


def _transfer(payload: Mapping[str, Any]) -> dict[str, Any]:
    p = parse_payload(ReturnPayload, payload)
    target = p.target.strip() if p.target else None
    if target not in TRANSFER_TARGETS:
        raise MappingError("transfer target must be 信访 or 其他单位", field="target", value=p.target)
    return {"reason": p.reason, "to": TRANSFER_TARGETS[target]}


_BUILDERS: dict[str, Callable[[Mapping[str, Any]], dict[str, Any]]] = {
    "sign": _acceptance,
    "reply": _answer,
    "return": _transfer,
    "transfer": _transfer,  # the outbox name of the same 转办
}
