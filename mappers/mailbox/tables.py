"""局长信箱 enum tables and limits (PLATFORMS.md §4): platform words -> internal values, one dict per field."""

from __future__ import annotations

from gateway.schema import AppealType, NoticeKind, TicketStatus

KEY = "mailbox"
MAX_TITLE = 25
MAX_BODY = 600

SNAPSHOT = "letter.snapshot"  # a letter read from the change feed; payload = the letter itself
RATED = "letter.rated"  # the same letter, routed as the writer's rating (the adapter emits both)

LETTER_TYPES: dict[str, AppealType] = {
    "咨询": AppealType.consultation,
    "投诉": AppealType.complaint,
    "建议": AppealType.suggestion,
    "求助": AppealType.help,
}
# Status stays in the platform's words (TicketDraft keeps it as text): this table only validates it,
# so a new platform value fails loudly instead of passing through unseen.
STATUSES: dict[str, str] = {
    s: s for s in ("pending_review", "accepted", "answered", "transferred", "invalid", "duplicate")
}
# Only the platform can take a letter away from us: transferred is our 退回 done; invalid and
# duplicate letters are closed by the mailbox's own review.
STATUS_HINTS: dict[str, TicketStatus] = {
    "transferred": TicketStatus.returned,
    "invalid": TicketStatus.closed,
    "duplicate": TicketStatus.closed,
}
# §4 rates 1–5 without words; this is our reading, so ratings count in the same satisfaction
# rate as the 12345 回访 (满意 / 基本满意 / 不满意). The raw score is always kept beside it.
SCORE_SATISFACTION: dict[int, str] = {
    5: "satisfied",
    4: "satisfied",
    3: "basically_satisfied",
    2: "dissatisfied",
    1: "dissatisfied",
}
RATING_KIND = NoticeKind.rated

# ReturnPayload.target -> the transfer's ``to``; no target means "another unit" (not ours to handle).
TRANSFER_TARGETS: dict[str | None, str] = {None: "其他单位", "其他单位": "其他单位", "信访": "信访"}

# Letter fields with a home in TicketDraft; every other field lands in ``extra``.
LETTER_FIELDS = frozenset(
    {
        "letter_no",
        "letter_type",
        "title",
        "body",
        "writer",
        "attachments",
        "submitted_at",
        "forwarded_at",
        "status",
        "updated_at",
        "answer",
        "rating",
    }
)
