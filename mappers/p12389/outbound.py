"""12389 outbound: internal write-back payloads (``gateway.schema``) -> the §2 request elements.

The adapter turns the returned dict into ``<request>`` (in this order) and adds ``wbbh`` to a report.
Times go out as §2's local ``yyyy-MM-ddTHH:mm:ss`` (Asia/Shanghai, no offset).

What each outbox action means on 12389:

- ``sign`` → 签收 ``receipt``: ``qsr`` operator, ``qssj`` signed time;
- ``extension`` → 延期 ``extension``: ``yqts`` days, ``yqly`` reason;
- ``reply`` (and ``report``, the same thing under its own name) → 核查报告 ``report``: the approved
  reply's four parts plus approver, and ``zrrd`` 责任认定 / ``zgqk`` 整改情况 exactly as the person wrote
  them (``responsibility`` / ``rectification``). A report without them is refused (``MappingError``),
  never sent with a text nobody wrote (001 四(四); 000 责任追究 五 on false replies);
- ``contact``, ``progress``, ``return``, ``transfer``: 12389 has no such write-back → ``MappingError``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

from gateway.errors import MappingError
from gateway.schema import SHANGHAI, ExtensionPayload, ReplyPayload, SignPayload
from mappers.base import parse_payload
from mappers.p12389.tables import VERDICTS

LOCAL_FORMAT = "%Y-%m-%dT%H:%M:%S"
NOT_ON_12389 = {
    "contact": "先行联系",
    "progress": "阶段反馈",
    "return": "退回",
    "transfer": "转办",
}


def map_outbound(action: str, payload: Mapping[str, Any]) -> dict[str, Any]:
    """The §2 elements for ``action``; ``MappingError`` for a write-back 12389 does not have."""
    build = _BUILDERS.get(action)
    if build is None:
        label = NOT_ON_12389.get(action, action)
        raise MappingError(f"12389 has no {label} write-back (only 签收, 延期, 核查报告)", field="action", value=action)
    return build(payload)


def render_local(moment: datetime, field: str) -> str:
    """§2's local time without an offset; a naive time is refused (its zone is unknown)."""
    if moment.utcoffset() is None:
        raise MappingError("time without a UTC offset", field=field, value=moment.isoformat())
    return moment.astimezone(SHANGHAI).strftime(LOCAL_FORMAT)


def _written(value: str | None, field: str) -> str:
    """A part of the report a person wrote; ``MappingError`` when there is none (never a default)."""
    if value is None or not value.strip():
        raise MappingError("the approved report lacks this part", field=field, value=value)
    return value.strip()


def _receipt(payload: Mapping[str, Any]) -> dict[str, Any]:
    p = parse_payload(SignPayload, payload)
    return {"qsr": p.operator, "qssj": render_local(p.signed_at, "signed_at")}


def _extension(payload: Mapping[str, Any]) -> dict[str, Any]:
    p = parse_payload(ExtensionPayload, payload)
    return {"yqts": p.days, "yqly": p.reason}


def _report(payload: Mapping[str, Any]) -> dict[str, Any]:
    p = parse_payload(ReplyPayload, payload)
    return {
        "hcjl": VERDICTS[p.is_true],
        "hcqk": p.investigation,
        "zrrd": _written(p.responsibility, "responsibility"),
        "clqk": p.disposition,
        "zgqk": _written(p.rectification, "rectification"),
        "fkqk": p.citizen_opinion,
        "spr": p.approved_by,
    }


_BUILDERS: dict[str, Callable[[Mapping[str, Any]], dict[str, Any]]] = {
    "sign": _receipt,
    "extension": _extension,
    "reply": _report,
    "report": _report,
}
