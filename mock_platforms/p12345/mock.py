"""The state and behaviour of one mock 12345 platform, independent of HTTP."""

from __future__ import annotations

import random
from collections.abc import Mapping
from datetime import timedelta
from typing import Any

import httpx

from mock_platforms.common.base import MockBase
from mock_platforms.common.clock import iso_cn, now_cn
from mock_platforms.common.generator import GeneratorSettings
from mock_platforms.common.webhook import PushDispatcher
from mock_platforms.p12345 import events, workflow
from mock_platforms.p12345.config import DEFAULT_MIX, P12345MockConfig
from mock_platforms.p12345.errors import ApiError
from mock_platforms.p12345.factory import OrderFactory
from mock_platforms.p12345.signing import SignatureVerifier, signed_headers
from mock_platforms.p12345.store import OrderRecord, OrderStore
from mock_platforms.p12345.writebacks import parse_body, request_id_of, validate

REFUSALS: dict[str, dict[str, Any]] = {
    "return.decided": {"approved": False, "note": "经核实属于你单位职责范围，不予退回"},
    "extension.decided": {"approved": False, "new_due_at": None, "note": "延期理由不充分，不予批准"},
}


def acknowledged(response: httpx.Response) -> bool:
    """PLATFORMS.md §1: only HTTP 200 with JSON {"code": 0} counts as received."""
    if response.status_code != 200:
        return False
    try:
        body = response.json()
    except ValueError:
        return False
    code = body.get("code") if isinstance(body, dict) else None
    return isinstance(code, int) and not isinstance(code, bool) and code == 0


class P12345Mock(MockBase[P12345MockConfig, OrderStore]):
    """Orders, write-backs, pushes, faults and generator of one mock platform."""

    platform = "p12345"

    def __init__(self, config: P12345MockConfig) -> None:
        super().__init__(config, OrderStore(), DEFAULT_MIX)
        self.factory = OrderFactory(config.attachment_base_url)
        self.verifier = SignatureVerifier(config.app_id, config.app_secret, config.signature_window_s)
        self.pushes = PushDispatcher(
            config.push_url,
            signer=lambda body: signed_headers(config.app_id, config.app_secret, body),
            acknowledged=acknowledged,
            retry_schedule=config.push_retry_schedule,
            timeout_s=config.push_timeout_s,
        )
        self._receipts = 0

    # --- lifecycle (see MockBase) ------------------------------------------------------------
    def _reset_extra(self) -> None:
        self.verifier.reset()

    def _health_counters(self) -> dict[str, Any]:
        return {
            "pushes_pending": self.pushes.pending() if self.pushes else 0,
            "auth_rejected": self.verifier.rejected,
        }

    # --- orders ------------------------------------------------------------------------------
    def create_order(
        self,
        overrides: Mapping[str, Any] | None = None,
        *,
        push: bool = True,
        rng: random.Random | None = None,
        settings: GeneratorSettings | None = None,
    ) -> OrderRecord:
        """Create an order (fake data, then `overrides`) and push `order.dispatched` unless told not to.

        Raises KeyError when an overridden orderNo already exists.
        """
        now = now_cn()
        chosen = settings or self.config.generator
        order = self.factory.build(rng or self.manual_rng, chosen, now, self.store.order_numbers())
        if overrides:
            citizen = overrides.get("citizen")
            if isinstance(citizen, dict) and citizen.get("confidential") and "name" not in citizen:
                overrides = {**overrides, "citizen": {**citizen, "name": "保密"}}
            workflow.merge_fields(order, overrides)
        record = self.store.add(order, now)
        if push:
            self.emit(record, "order.dispatched", record.order)
        return record

    async def _generate(self, rng: random.Random, settings: GeneratorSettings) -> None:
        self.create_order(rng=rng, settings=settings)

    def record_of(self, order_no: str) -> OrderRecord:
        """Return the order's record or raise 404/40400."""
        record = self.store.get(order_no)
        if record is None:
            raise ApiError(404, f"unknown order {order_no}")
        return record

    # --- write-backs -------------------------------------------------------------------------
    def write_back(self, order_no: str, action: str, raw: bytes) -> str:
        """Validate and apply a write-back; return its receiptId (the original one for a repeat)."""
        body = parse_body(raw)
        request_id = request_id_of(body)
        record = self.record_of(order_no)
        earlier = self.ledger.find(request_id)
        if earlier is not None:
            # PLATFORMS.md §1: a repeated requestId gets the original result and changes nothing.
            self.ledger.note_duplicate(earlier)
            return earlier.receipt_id
        validate(action, body)
        try:
            workflow.check_write(record, action)
        except workflow.StateConflict as exc:
            raise ApiError(409, str(exc)) from exc
        now = now_cn()
        if workflow.apply_write(record, action, body):
            self.store.changed(record, now)
        self._receipts += 1
        receipt = f"RC{now:%y%m%d%H%M%S}{self._receipts:06d}"
        self.ledger.record(action, order_no, request_id, receipt, body)
        self._schedule_decision(record, action)
        return receipt

    def _schedule_decision(self, record: OrderRecord, action: str) -> None:
        config = self.config
        if action in ("return", "extension") and config.auto_decide:
            kind = f"{action}.decided"
        elif action == "reply" and config.auto_review_replies:
            kind = "reply.reviewed"
        else:
            return
        order_no = record.order_no
        self._later(config.auto_decide_delay_s, lambda: self._decide(order_no, kind))

    def _decide(self, order_no: str, kind: str) -> None:
        record = self.store.get(order_no)
        if record is None:
            return
        approved = self.decision_rng.random() < self.config.auto_approve_rate
        status = record.order["status"]
        if kind == "reply.reviewed":
            if status != workflow.IN_REVIEW:
                return
            if approved:
                # The spec has no push for an accepted reply; the client sees 已办结 by pulling.
                if workflow.review_reply(record, True):
                    self.store.changed(record, now_cn())
            else:
                self.emit_event(order_no, "reply.rejected")
            return
        if kind == "return.decided" and status != workflow.RETURNED:
            return
        if kind == "extension.decided" and record.pending_extension_days is None:
            return
        self.emit_event(order_no, kind, {} if approved else REFUSALS[kind])

    # --- events ------------------------------------------------------------------------------
    def emit(self, record: OrderRecord, event_type: str, data: Mapping[str, Any]) -> dict[str, Any]:
        """Build an event for the order and hand it to the push dispatcher; return the envelope."""
        body = events.envelope(event_type, record, data, now_cn())
        if self.pushes is not None:
            self.pushes.submit(body)
        return body

    def emit_event(
        self,
        order_no: str,
        event_type: str,
        data: Mapping[str, Any] | None = None,
        changes: Mapping[str, Any] | None = None,
    ) -> dict[str, Any]:
        """Apply an event's effect to the order (if it has one) and push it. Raises ApiError 404."""
        record = self.record_of(order_no)
        data, changes = dict(data or {}), dict(changes or {})
        now = now_cn()
        changed = False
        if event_type == "order.updated":
            changed = workflow.merge_fields(record.order, {**data, **changes})
        elif event_type == "order.dispatched":
            dispatch_id = self.factory.next_dispatch_id(now)
            deadline = iso_cn(now + timedelta(hours=24))
            changed = workflow.redispatch(record, dispatch_id, iso_cn(now), deadline)
            workflow.merge_fields(record.order, {**data, **changes})
        else:
            changed = workflow.merge_fields(record.order, changes)
            data = {**events.default_data(event_type, record, now), **data}
            changed = self._apply_event(record, event_type, data) or changed
        if changed:
            self.store.changed(record, now)
        if event_type in events.FULL_ORDER_EVENTS:
            data = record.order
        return self.emit(record, event_type, data)

    @staticmethod
    def _apply_event(record: OrderRecord, event_type: str, data: Mapping[str, Any]) -> bool:
        if event_type == "order.urged":
            record.urges += 1
        elif event_type == "order.supervised":
            record.supervisions += 1
        elif event_type == "reply.rejected":
            return workflow.review_reply(record, False)
        elif event_type == "extension.decided":
            new_due = data.get("new_due_at")
            return workflow.decide_extension(record, bool(data.get("approved")), new_due if new_due else None)
        elif event_type == "return.decided":
            return workflow.decide_return(record, bool(data.get("approved")))
        elif event_type == "order.reopened":
            new_due = data.get("new_due_at")
            return workflow.reopen(record, str(new_due) if new_due else None)
        return False
