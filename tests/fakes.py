"""Fakes for the seams (adapter, mapper), for tests that must control every outcome."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from gateway.errors import MappingError
from gateway.ports import Lookup, PollPage, RawItem, SendResult
from gateway.schema import (
    AppealType,
    Citizen,
    MappedEvent,
    NoticeKind,
    Region,
    Respondent,
    TicketDraft,
    TicketNotice,
)

Outcome = Callable[[str, str, Mapping[str, Any], str], SendResult]


@dataclass
class FakeAdapter:
    """Records every send; ``script`` decides each outcome (raise to simulate a failure)."""

    key: str = "fake"
    script: list[Outcome | Exception] = field(default_factory=list)
    applied: dict[str, str] = field(default_factory=dict)  # request_id -> receipt (the platform's truth)
    sends: list[tuple[str, str, dict[str, Any], str]] = field(default_factory=list)
    lookups: list[str] = field(default_factory=list)
    pages: list[PollPage] = field(default_factory=list)

    def poll(self, cursor: Mapping[str, Any] | None) -> PollPage:
        return self.pages.pop(0) if self.pages else PollPage(items=[], cursor=dict(cursor or {}), done=True)

    def send(self, action: str, external_id: str, body: Mapping[str, Any], request_id: str) -> SendResult:
        self.sends.append((action, external_id, dict(body), request_id))
        step = self.script.pop(0) if self.script else None
        if isinstance(step, Exception):
            raise step
        if step is not None:
            return step(action, external_id, body, request_id)
        receipt = self.applied.setdefault(request_id, f"R{len(self.applied) + 1}")
        return SendResult(receipt_id=receipt)

    def apply_silently(self, request_id: str) -> None:
        """The platform applied a request whose answer never came back."""
        self.applied.setdefault(request_id, f"R{len(self.applied) + 1}")

    def lookup(self, action: str, external_id: str, body: Mapping[str, Any], request_id: str) -> Lookup:
        self.lookups.append(request_id)
        receipt = self.applied.get(request_id)
        return Lookup(applied=receipt is not None, receipt_id=receipt)

    def close(self) -> None:
        pass


class FakeMapper:
    """JSON payloads {"id", "version", "type"?}; notices are {"notice": kind}."""

    key = "fake"

    def inbound(self, event_type: str, payload: str) -> MappedEvent:
        try:
            data = json.loads(payload)
        except ValueError as exc:
            raise MappingError("malformed JSON") from exc
        if "notice" in data:
            return TicketNotice(platform="fake", external_id=data["id"], kind=NoticeKind(data["notice"]),
                                occurred_at=datetime.fromisoformat("2026-11-20T10:00:00+08:00"), data={})
        appeal = {"咨询": AppealType.consultation, "投诉": AppealType.complaint}.get(data.get("type", "投诉"))
        if appeal is None:
            raise MappingError("unknown value for appealType", field="appealType", value=data.get("type"))
        respondent = Respondent(unit=data["respondent_unit"]) if data.get("respondent_unit") else None
        citizen = Citizen(name=data.get("name", "张三"), phone=data.get("phone"), id_number=data.get("id_number"),
                          address=data.get("home"), confidential=bool(data.get("confidential")))
        return TicketDraft(
            platform=data.get("platform", "fake"), external_id=data["id"], source_version=data["version"],
            platform_status="待签收", appeal_type=appeal, title=data.get("title", "噪音扰民"),
            content=data.get("content", "夜间施工噪音"), citizen=citizen, respondent=respondent,
            address=data.get("address"), address_personal=bool(data.get("address_personal")),
            region=Region(district=data.get("district"), subdistrict=data.get("subdistrict")),
            issued_at=datetime.fromisoformat(data.get("issued_at", "2026-11-20T09:00:00+08:00")),
        )

    def outbound(self, action: str, payload: Mapping[str, Any]) -> dict[str, Any]:
        return {"action": action, **payload}


def raw(event_id: str, **data: Any) -> RawItem:
    """A raw inbox item for the fake platform."""
    return RawItem(event_id=event_id, event_type="snapshot", external_id=data.get("id"), payload=json.dumps(data))


def actors(container: Any) -> Any:
    """The container's actors (``workers.actors.ActorBell``), behind its doorbell's queue: call ``.fn``
    to run one in the test's thread, ``.send`` to enqueue one directly."""
    from workers.actors import ActorBell

    bell = container.rings.bell
    assert isinstance(bell, ActorBell)
    return bell
