"""The state and behaviour of one mock 局长信箱, independent of HTTP.

Write-back rules (PLATFORMS.md §4, and our reading where it is silent):
- ``acceptance`` (PUT): pending_review -> accepted. The same body again, on an accepted or answered
  letter, changes nothing (a ledger replay); a different body replaces it while the letter is
  still only accepted; anything else is 409 ``conflict``.
- ``answer`` (PUT): needs an accepted (or answered) letter. The same body again changes nothing;
  a different one replaces the answer until the letter is rated, then it is 409 ``conflict``.
- ``transfer`` (POST): from pending_review or accepted; a second one is 409 ``already_transferred``
  (counted as a duplicate on the first transfer's ledger entry: a client should have read back).
"""

from __future__ import annotations

import random
from collections.abc import Mapping
from typing import Any

from mock_platforms.common.base import MockBase
from mock_platforms.common.generator import GeneratorSettings
from mock_platforms.common.ledger import LedgerEntry
from mock_platforms.mailbox.config import DEFAULT_MIX, MailboxMockConfig
from mock_platforms.mailbox.errors import ApiError
from mock_platforms.mailbox.factory import LetterFactory
from mock_platforms.mailbox.store import LetterRecord, LetterStore, now_ms
from mock_platforms.mailbox.writebacks import parse_body, validate

PENDING, ACCEPTED, ANSWERED, TRANSFERRED = "pending_review", "accepted", "answered", "transferred"
IMMUTABLE = ("letter_no",)
RATING_COMMENTS = {
    5: "答复及时，问题已解决，非常满意",
    4: "答复清楚，基本解决",
    3: "一般",
    2: "答复敷衍",
    1: "问题没有解决",
}


class MailboxMock(MockBase[MailboxMockConfig, LetterStore]):
    """Letters, write-backs, faults, generator and ledger of one mock mailbox."""

    platform = "mailbox"
    _health_items = "letters"

    def __init__(self, config: MailboxMockConfig) -> None:
        super().__init__(config, LetterStore(), DEFAULT_MIX)  # §4 is pull only
        self.factory = LetterFactory(config.attachment_base_url, config.target_dept)
        self.auth_rejected = 0
        self.transfer_conflicts = 0

    def _seed_rngs(self) -> None:
        self.manual_rng = random.Random(self.config.seed + 1)
        self.rating_rng = random.Random(self.config.seed + 2)

    # --- lifecycle (see MockBase) ------------------------------------------------------------
    def _reset_extra(self) -> None:
        self.auth_rejected = self.transfer_conflicts = 0

    def _health_counters(self) -> dict[str, Any]:
        return {"transfer_conflicts": self.transfer_conflicts, "auth_rejected": self.auth_rejected}

    def check_key(self, authorization: str | None) -> None:
        """Raise 401 ``unauthorized`` unless the header is ``Bearer {api_key}``."""
        if authorization != f"Bearer {self.config.api_key}":
            self.auth_rejected += 1
            raise ApiError(401, "missing or wrong API key")

    # --- letters -----------------------------------------------------------------------------
    def create_letter(
        self,
        overrides: Mapping[str, Any] | None = None,
        *,
        rng: random.Random | None = None,
        settings: GeneratorSettings | None = None,
    ) -> LetterRecord:
        """Create a letter (fake data, then ``overrides``); KeyError when its letter_no exists."""
        letter = self.factory.build(rng or self.manual_rng, settings or self.config.generator, now_ms())
        _merge(letter, overrides or {})
        return self.store.add(letter)

    async def _generate(self, rng: random.Random, settings: GeneratorSettings) -> None:
        self.create_letter(rng=rng, settings=settings)

    def record_of(self, letter_no: str) -> LetterRecord:
        """Return the letter's record or raise 404 ``not_found``."""
        record = self.store.get(letter_no)
        if record is None:
            raise ApiError(404, f"letter {letter_no} not found")
        return record

    def change(self, letter_no: str, changes: Mapping[str, Any]) -> LetterRecord:
        """Overwrite letter fields (control API); one change of the feed. Raises 404 / 400."""
        record = self.record_of(letter_no)
        if any(name in changes for name in IMMUTABLE):
            raise ApiError(400, "letter_no cannot be changed")
        _merge(record.letter, changes)
        self.store.changed(record)
        return record

    def rate(self, letter_no: str, score: int | None = None, comment: str | None = None) -> LetterRecord:
        """The writer rates the answer (1–5): a change of the letter days after the answer."""
        record = self.record_of(letter_no)
        if record.status != ANSWERED:
            raise ApiError(409, f"letter {letter_no} is {record.status}; only an answered letter can be rated")
        if record.letter.get("rating") is not None:
            raise ApiError(409, f"letter {letter_no} is already rated")
        chosen = score if score is not None else self.rating_rng.choices((5, 4, 3, 2, 1), (50, 25, 10, 8, 7))[0]
        if not 1 <= chosen <= 5:
            raise ApiError(400, "score: must be from 1 to 5")
        text = comment if comment is not None else RATING_COMMENTS[chosen]
        record.letter["rating"] = {"score": chosen, "comment": text, "rated_at": now_ms()}
        self.store.changed(record)
        return record

    # --- write-backs -------------------------------------------------------------------------
    def write_back(self, letter_no: str, endpoint: str, raw: bytes) -> dict[str, Any]:
        """Validate and apply one write-back; return the letter as it is afterwards."""
        body = parse_body(raw)
        record = self.record_of(letter_no)
        validate(endpoint, body)
        if endpoint == "acceptance":
            self._accept(record, body)
        elif endpoint == "answer":
            self._answer(record, body)
        else:
            self._transfer(record, body)
        return record.letter

    def _accept(self, record: LetterRecord, body: dict[str, Any]) -> None:
        status = record.status
        if record.acceptance is not None and record.acceptance.body == body and status in (ACCEPTED, ANSWERED):
            self.ledger.note_duplicate(record.acceptance)  # idempotent PUT: nothing changes
            return
        if status not in (PENDING, ACCEPTED):
            raise ApiError(409, f"letter {record.letter_no} is {status}; it cannot be accepted now")
        if status == PENDING:
            record.letter["status"] = ACCEPTED
            self.store.changed(record)
        # A different acceptance of an accepted letter replaces it (PUT); the letter shows no change.
        record.acceptance = self._record("acceptance", record, body)

    def _answer(self, record: LetterRecord, body: dict[str, Any]) -> None:
        status = record.status
        if status not in (ACCEPTED, ANSWERED):
            raise ApiError(409, f"letter {record.letter_no} is {status}; accept it before answering")
        if record.answer is not None and record.answer.body == body:
            self.ledger.note_duplicate(record.answer)
            return
        if record.letter.get("rating") is not None:
            raise ApiError(409, f"letter {record.letter_no} is rated; its answer can no longer change")
        record.letter["status"] = ANSWERED
        record.letter["answer"] = {
            "text": body["text"],
            "dept": body["dept"],
            "answered_at": now_ms(),
            "published": body["publish"],
        }
        self.store.changed(record)
        record.answer = self._record("answer", record, body)
        if self.config.auto_rate:
            letter_no = record.letter_no
            self._later(self.config.auto_rate_delay_s, lambda: self._auto_rate(letter_no))

    def _transfer(self, record: LetterRecord, body: dict[str, Any]) -> None:
        status = record.status
        if status == TRANSFERRED:
            self.transfer_conflicts += 1
            if record.transfer is not None:
                self.ledger.note_duplicate(record.transfer)
            raise ApiError(409, f"letter {record.letter_no} is already transferred", code="already_transferred")
        if status not in (PENDING, ACCEPTED):
            raise ApiError(409, f"letter {record.letter_no} is {status}; it cannot be transferred")
        record.letter["status"] = TRANSFERRED
        self.store.changed(record)
        record.transfer = self._record("transfer", record, body)

    def _record(self, endpoint: str, record: LetterRecord, body: dict[str, Any]) -> LedgerEntry:
        receipt = f"{record.letter_no}@{record.letter['updated_at']}"
        return self.ledger.record(endpoint, record.letter_no, None, receipt, body)

    def _auto_rate(self, letter_no: str) -> None:
        record = self.store.get(letter_no)
        if record is not None and record.status == ANSWERED and record.letter.get("rating") is None:
            self.rate(letter_no)


def _merge(letter: dict[str, Any], changes: Mapping[str, Any]) -> None:
    """Overwrite letter fields; a dict value is merged into a dict field one level deep."""
    for key, value in changes.items():
        current = letter.get(key)
        letter[key] = {**current, **value} if isinstance(current, dict) and isinstance(value, dict) else value
