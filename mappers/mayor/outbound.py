"""Mayor's hotline outbound: internal write-back payloads -> the §3 form fields (text values).

The platform takes GBK forms, so every value is checked here for characters GBK cannot encode:
such a reply would be garbled or refused by the platform, and it must be rewritten by a person.
``lsh`` and the token are not part of the body: the adapter adds them.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from gateway.errors import MappingError
from gateway.schema import ExtensionPayload, ReplyPayload, ReturnPayload, SignPayload
from mappers.base import parse_payload
from mappers.mayor.tables import REPLY_TRUTHFULNESS

PLATFORM_CHARSET = "gbk"

# Which internal action goes to which endpoint (the adapter owns the paths; this is for readers):
#   sign -> sign.do, reply -> feedback.do (办结反馈), return -> back.do, extension -> delay.do.
# contact (先行联系) and progress (阶段反馈) have no endpoint on this platform.


def map_outbound(action: str, payload: Mapping[str, Any]) -> dict[str, Any]:
    """The §3 form fields for ``action``; ``MappingError`` for a write-back the platform does not have."""
    build = _BUILDERS.get(action)
    if build is None:
        raise MappingError("the mayor's hotline has no such write-back", field="action", value=action)
    fields = build(payload)
    for name, value in fields.items():
        unencodable = _not_in_charset(value)
        if unencodable:
            raise MappingError(f"characters the platform's GBK cannot carry in {name}", field=name, value=unencodable)
    return fields


def _not_in_charset(text: str) -> str:
    """The characters of ``text`` GBK cannot encode (empty when it all fits), each listed once."""
    bad: list[str] = []
    for char in text:
        if char not in bad:
            try:
                char.encode(PLATFORM_CHARSET)
            except UnicodeEncodeError:
                bad.append(char)
    return "".join(bad)


def _sign(payload: Mapping[str, Any]) -> dict[str, Any]:
    p = parse_payload(SignPayload, payload)
    return {"qsr": p.operator}  # the platform stamps its own sign time: there is no field for ours


def _reply(payload: Mapping[str, Any]) -> dict[str, Any]:
    p = parse_payload(ReplyPayload, payload)
    sfss = REPLY_TRUTHFULNESS.get(p.is_true)
    if sfss is None:
        message = "the mayor's hotline accepts only 属实/部分属实/不属实"
        raise MappingError(message, field="is_true", value=p.is_true.value)
    if not p.public_reply.strip():
        # bljg is the text the caller hears: the approved public reply, never one made up here.
        raise MappingError("no approved text for the caller (public_reply)", field="public_reply", value="")
    return {
        "sfss": sfss,
        "dcqk": p.investigation,
        "czjg": p.disposition,
        "ldryj": p.citizen_opinion,
        "bljg": p.public_reply,
        "shr": p.approved_by,
    }


def _return(payload: Mapping[str, Any]) -> dict[str, Any]:
    p = parse_payload(ReturnPayload, payload)
    return {"thyy": p.reason}  # back.do has no target: the platform re-dispatches itself


def _extension(payload: Mapping[str, Any]) -> dict[str, Any]:
    p = parse_payload(ExtensionPayload, payload)
    return {"yqts": str(p.days), "yqly": p.reason}


_BUILDERS: dict[str, Callable[[Mapping[str, Any]], dict[str, Any]]] = {
    "sign": _sign,
    "reply": _reply,
    "return": _return,
    "extension": _extension,
}
