"""The state and behaviour of one mock mayor's hotline, independent of HTTP."""

from __future__ import annotations

import random
from collections.abc import Mapping
from typing import Any

from mock_platforms.common.base import MockBase
from mock_platforms.common.clock import now_cn
from mock_platforms.common.generator import GeneratorSettings
from mock_platforms.mayor import workflow
from mock_platforms.mayor.config import DEFAULT_MIX, MayorMockConfig
from mock_platforms.mayor.factory import RowFactory
from mock_platforms.mayor.maintenance import MaintenanceState, MayorFaultSwitches
from mock_platforms.mayor.store import RowRecord, RowStore
from mock_platforms.mayor.wire import TIME_FORMAT

SATISFACTIONS = ("满意", "基本满意", "不满意")
CALLBACK_REMARKS = {"满意": "对办理结果满意", "基本满意": "问题基本解决", "不满意": "问题未解决，要求重新处理"}


class MayorMock(MockBase[MayorMockConfig, RowStore]):
    """Rows, write-backs, faults, maintenance pages and generator of one mock platform (no pushes)."""

    platform = "mayor"

    def __init__(self, config: MayorMockConfig) -> None:
        super().__init__(config, RowStore(), DEFAULT_MIX)  # pull only (PLATFORMS.md §3)
        self.factory = RowFactory()
        self.maintenance = MaintenanceState(config.seed, config.maintenance_rate, config.nightly_maintenance)
        self.auth_rejected = 0
        self._receipts = 0

    # --- lifecycle (see MockBase) ------------------------------------------------------------
    def _reset_extra(self) -> None:
        self.maintenance.reset()
        self.auth_rejected = 0

    def health(self) -> dict[str, Any]:
        """Return counters for `/_mock/health`."""
        return {
            "orders": len(self.store),
            "ledger_entries": len(self.ledger.entries),
            "duplicates": self.ledger.duplicates,
            "auth_rejected": self.auth_rejected,
            "rate_limited": self.limiter.rejected,
            "maintenance_pages": self.maintenance.pages,
            "faults": self.fault_snapshot(),
            "generator": self.generator.as_json() if self.generator else None,
        }

    def fault_snapshot(self) -> dict[str, Any]:
        """The shared switches and counters plus the maintenance switches."""
        snapshot = {**self.faults.snapshot(), **self.maintenance.snapshot()}
        snapshot["counters"] = {**snapshot["counters"], "maintenance_pages": self.maintenance.pages}
        return snapshot

    def update_faults(self, switches: MayorFaultSwitches) -> None:
        """Apply a partial update of the shared and the maintenance switches."""
        self.faults.update(switches.shared())
        self.maintenance.update(switches)

    # --- rows --------------------------------------------------------------------------------
    def create_row(
        self,
        overrides: Mapping[str, Any] | None = None,
        *,
        rng: random.Random | None = None,
        settings: GeneratorSettings | None = None,
    ) -> RowRecord:
        """Create a row (fake data, then ``overrides``); raise KeyError when its lsh exists."""
        row = self.factory.build(rng or self.manual_rng, settings or self.config.generator, now_cn())
        row.update(overrides or {})
        return self.store.add(row)

    async def _generate(self, rng: random.Random, settings: GeneratorSettings) -> None:
        self.create_row(rng=rng, settings=settings)

    def record_of(self, lsh: str) -> RowRecord:
        """Return the row's record or refuse with 工单不存在."""
        record = self.store.get(lsh)
        if record is None:
            raise workflow.Refusal(workflow.NO_SUCH_ROW)
        return record

    # --- write-backs -------------------------------------------------------------------------
    def write_back(self, action: str, form: Mapping[str, str]) -> None:
        """Validate and apply one write-back form; raise ``Refusal`` with the platform's message.

        No idempotency key: a repeat is refused by the status check (该工单已签收 …) and, when
        an earlier accepted write-back of the same action exists, counted as a duplicate.
        """
        if not form.get("lsh", "").strip():
            raise workflow.Refusal("参数lsh不能为空")
        record = self.record_of(form["lsh"])
        workflow.validate(action, form)
        try:
            workflow.check(record, action)
        except workflow.Refusal:
            earlier = [e for e in self.ledger.for_order(record.lsh) if e.action == action]
            if earlier:
                self.ledger.note_duplicate(earlier[-1])
            raise
        now = now_cn()
        if workflow.apply(record, action, form, now):
            self.store.touch(record, now)
        self._receipts += 1
        # The platform hands out no receipt; the ledger numbers entries for the tests' sake.
        self.ledger.record(action, record.lsh, None, f"MZ{now:%y%m%d%H%M%S}{self._receipts:06d}", dict(form))
        self._follow_up(record.lsh, action)

    def _follow_up(self, lsh: str, action: str) -> None:
        if not self.config.auto_decide:
            return
        delay = self.config.auto_decide_delay_s
        if action == "feedback":
            self._later(delay, lambda: self.emit_event(lsh, "closed"))
            self._later(delay * 2, lambda: self.emit_event(lsh, "callback"))
        elif action == "delay":
            approved = self.decision_rng.random() < self.config.auto_approve_rate
            self._later(delay, lambda: self.emit_event(lsh, "extension_decided", {"approved": approved}))

    # --- platform-side changes (control API, auto decisions) ---------------------------------
    def emit_event(
        self, lsh: str, event_type: str, data: Mapping[str, Any] | None = None, changes: Mapping[str, Any] | None = None
    ) -> RowRecord:
        """Apply a platform-side change to a row; every change moves ``gxsj`` (pull sees it).

        ``updated`` merges ``changes``; ``closed`` 办结 a fed-back row; ``callback`` sets 回访结果
        ``hfjg`` (``data``: myd, hfsj, hfyj); ``extension_decided`` (``data``: approved).
        Raises ``Refusal`` for an unknown row and ``ValueError`` for an unknown event type.
        """
        record = self.record_of(lsh)
        data, changes = dict(data or {}), dict(changes or {})
        now = now_cn()
        if event_type == "updated":
            changed = bool(changes)
        elif event_type == "closed":
            changed = workflow.close(record)
        elif event_type == "callback":
            myd = str(data.get("myd") or self.decision_rng.choice(SATISFACTIONS))
            record.row["hfjg"] = {
                "myd": myd,
                "hfsj": str(data.get("hfsj") or now.strftime(TIME_FORMAT)),
                "hfyj": str(data.get("hfyj", CALLBACK_REMARKS.get(myd, ""))),
            }
            workflow.close(record)
            changed = True
        elif event_type == "extension_decided":
            changed = workflow.decide_delay(record, bool(data.get("approved", True)))
        else:
            raise ValueError(f"unknown event_type {event_type!r} (updated, closed, callback, extension_decided)")
        record.row.update({k: v for k, v in changes.items() if k != "lsh"})
        if changed and "gxsj" not in changes:
            self.store.touch(record, now)
        return record
