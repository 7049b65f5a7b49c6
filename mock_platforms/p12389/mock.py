"""The state and behaviour of one mock 12389 platform, independent of HTTP."""

from __future__ import annotations

import random
from collections.abc import Mapping
from datetime import date
from typing import Any

from mock_platforms.common.base import MockBase
from mock_platforms.common.clock import add_weekdays, now_cn
from mock_platforms.common.generator import GeneratorSettings
from mock_platforms.p12389 import workflow
from mock_platforms.p12389.auth import TokenIssuer
from mock_platforms.p12389.config import DEFAULT_MIX, P12389MockConfig
from mock_platforms.p12389.factory import LOCAL, CaseFactory
from mock_platforms.p12389.store import CaseRecord, CaseStore
from mock_platforms.p12389.xmlio import ApiError, parse_request

# Fields a test may set when creating a case or change later (jbbh is fixed once created).
CASE_FIELDS = frozenset(
    {"cxm", "sxlb", "jbfs", "sfsm", "jbr", "bjbdw", "bjbmj", "fssj", "fsdd", "jbnr", "fj", "slsj", "xfsj"}
    | {"ajdj", "blqx", "qszt", "zt", "bgs", "fkpj"}
)
EVALUATIONS = ("满意", "基本满意", "不满意")


class P12389Mock(MockBase[P12389MockConfig, CaseStore]):
    """Cases, tokens, write-backs, faults and generator of one mock platform."""

    platform = "p12389"
    _health_items = "cases"

    def __init__(self, config: P12389MockConfig) -> None:
        super().__init__(config, CaseStore(), DEFAULT_MIX)  # 12389 is pull only: nothing is pushed
        self.factory = CaseFactory(config.attachment_base_url)
        self.tokens = TokenIssuer(config.client_id, config.client_secret, config.token_ttl_s)
        self.arrivals_per_page = config.arrivals_per_page
        self.repeated_receipts = 0
        self._receipts = 0

    # --- lifecycle (see MockBase) ------------------------------------------------------------
    def _reset_extra(self) -> None:
        self.tokens.reset()
        self.tokens.ttl_s = self.config.token_ttl_s
        self.arrivals_per_page = self.config.arrivals_per_page
        self.repeated_receipts = 0

    def _health_counters(self) -> dict[str, Any]:
        return {
            "repeated_receipts": self.repeated_receipts,
            "tokens_issued": self.tokens.issued,
            "auth_rejected": self.tokens.refused_tokens + self.tokens.refused_clients,
        }

    # --- cases -------------------------------------------------------------------------------
    def create_case(
        self,
        overrides: Mapping[str, Any] | None = None,
        *,
        rng: random.Random | None = None,
        settings: GeneratorSettings | None = None,
    ) -> CaseRecord:
        """Create a case (fake data, then ``overrides``). Raises KeyError for a jbbh in use,
        ValueError for a field §2 does not have."""
        case = self.factory.build(rng or self.manual_rng, settings or self.config.generator, now_cn())
        if overrides:
            unknown = set(overrides) - CASE_FIELDS - {"jbbh"}
            if unknown:
                raise ValueError(f"not case fields: {', '.join(sorted(unknown))}")
            case.update(overrides)
        return self.store.add(case)

    async def _generate(self, rng: random.Random, settings: GeneratorSettings) -> None:
        self.create_case(rng=rng, settings=settings)

    def change_case(self, jbbh: str, changes: Mapping[str, Any]) -> CaseRecord:
        """Apply a platform-side change (status, evaluation, deadline…). Raises ApiError 404/400."""
        record = self.record_of(jbbh)
        unknown = set(changes) - CASE_FIELDS
        if unknown:
            raise ApiError(400, f"cannot change: {', '.join(sorted(unknown))}")
        if changes.get("fkpj") not in (None, *EVALUATIONS):
            raise ApiError(400, "fkpj must be one of " + "/".join(EVALUATIONS))
        record.case.update(changes)
        return record

    def record_of(self, jbbh: str) -> CaseRecord:
        """The case's record or 404."""
        record = self.store.get(jbbh)
        if record is None:
            raise ApiError(404, f"案件不存在 {jbbh}")
        return record

    def before_list_page(self, offset: int) -> None:
        """Cases arriving while a client pages (the ``arrivals_per_page`` switch)."""
        if offset > 0:
            for _ in range(self.arrivals_per_page):
                self.create_case()

    # --- write-backs -------------------------------------------------------------------------
    def write_back(self, jbbh: str, action: str, raw: bytes) -> None:
        """Validate and apply a write-back (400/404/409 as ApiError); every accepted one is in the ledger."""
        record = self.record_of(jbbh)
        body = parse_request(raw)
        workflow.validate(action, body)
        try:
            workflow.check_state(record, action)
        except ApiError as exc:
            if action == "receipt" and exc.message == "已签收":
                self.repeated_receipts += 1
            raise
        now = now_cn()
        reference = body.get("wbbh") if action == "report" else None
        earlier = self.ledger.find(reference) if reference else None
        workflow.apply(record, action, body, now.strftime(LOCAL))
        self._receipts += 1
        receipt = f"R{now:%y%m%d%H%M%S}{self._receipts:06d}"
        if earlier is not None:
            # §2: 12389 applies a repeated report again. The ledger shows both entries and counts it.
            self.ledger.note_duplicate(earlier)
        self.ledger.record(action, jbbh, reference, receipt, dict(body))
        self._schedule_decision(jbbh, action)

    def _schedule_decision(self, jbbh: str, action: str) -> None:
        if not self.config.auto_decide or action == "receipt":
            return
        self._later(self.config.auto_decide_delay_s, lambda: self._decide(jbbh, action))

    def _decide(self, jbbh: str, action: str) -> None:
        """The platform's own follow-up: an extension granted, a report accepted, then evaluated."""
        record = self.store.get(jbbh)
        if record is None:
            return
        case = record.case
        if action == "extension" and record.extensions:
            days = record.extensions.pop(0)
            case["blqx"] = add_weekdays(date.fromisoformat(case["blqx"]), days).isoformat()
        elif action == "report" and case["zt"] == workflow.REPORTED:
            case["zt"] = workflow.FINISHED
            self._later(self.config.auto_decide_delay_s, lambda: self._evaluate(jbbh))

    def _evaluate(self, jbbh: str) -> None:
        record = self.store.get(jbbh)
        if record is not None and record.case.get("fkpj") is None:
            record.case["fkpj"] = self.decision_rng.choices(EVALUATIONS, weights=(6, 3, 1), k=1)[0]
