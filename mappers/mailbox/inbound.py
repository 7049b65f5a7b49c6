"""局长信箱 inbound: letters from the change feed -> ``TicketDraft``, ratings -> ``TicketNotice``.

A letter's rating arrives days after the answer and changes nothing but ``rating`` and
``updated_at``; the adapter therefore hands the same letter in twice, as a snapshot (the ticket's
new version) and as ``letter.rated`` (the callback result, applied once per ``rated_at``). Every
failure is a ``MappingError`` naming the field by its path in the letter and the offending value.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from gateway.errors import MappingError
from gateway.schema import Attachment, Citizen, MappedEvent, TicketDraft, TicketNotice
from mappers.base import load_object, lookup_enum, require
from mappers.mailbox.tables import (
    KEY,
    LETTER_FIELDS,
    LETTER_TYPES,
    MAX_BODY,
    MAX_TITLE,
    RATED,
    RATING_KIND,
    SCORE_SATISFACTION,
    SNAPSHOT,
    STATUS_HINTS,
    STATUSES,
)
from mappers.mailbox.times import from_epoch_ms

Data = Mapping[str, Any]


def map_inbound(event_type: str, payload: str) -> MappedEvent:
    """Map one inbox payload (a letter) of the given event type."""
    letter = load_object(payload)
    if event_type == SNAPSHOT:
        return _letter(letter)
    if event_type == RATED:
        return _rating(letter)
    raise MappingError("unknown event_type", field="event_type", value=event_type)


def _optional(data: Data, key: str, kind: type | tuple[type, ...], path: str = "") -> Any:
    """A nullable field: None when absent or null, else of ``kind`` (a bool never passes as a number)."""
    return None if data.get(key) is None else require(data, key, kind, path)


def _ms(data: Data, key: str, path: str = "") -> datetime:
    return from_epoch_ms(require(data, key, int, path), f"{path}{key}")


def _text(data: Data, key: str, limit: int) -> str:
    value: str = require(data, key, str)
    if len(value) > limit:
        raise MappingError(f"longer than {limit} chars", field=key, value=len(value))
    return value


def _letter(data: Data) -> TicketDraft:
    status = lookup_enum(STATUSES, require(data, "status", str), "status")
    updated_at = require(data, "updated_at", int)
    from_epoch_ms(updated_at, "updated_at")  # validated: it is also the version
    extra = {k: v for k, v in data.items() if k not in LETTER_FIELDS}
    query_code = extra.get("query_code")
    # 查询码 is what the writer types to follow the letter: a JSON number would have lost its
    # leading zeros, so only a string of exactly ten digits is one.
    if query_code is not None and not (isinstance(query_code, str) and len(query_code) == 10 and query_code.isdigit()):
        raise MappingError("not a string of 10 digits", field="query_code", value=query_code)
    answer, rating = _optional(data, "answer", dict), _optional(data, "rating", dict)
    extra["answer"] = None if answer is None else _answer(answer, "answer.")
    extra["rating"] = None if rating is None else _rating_fields(rating, "rating.") | {
        "rated_at": _ms(rating, "rated_at", "rating.").isoformat()
    }
    return TicketDraft(
        platform=KEY,
        external_id=_letter_no(data),
        # No version field: updated_at (epoch ms) grows with every change and fits an int column.
        source_version=updated_at,
        platform_status=status,
        status_hint=STATUS_HINTS.get(status),
        appeal_type=lookup_enum(LETTER_TYPES, require(data, "letter_type", str), "letter_type"),
        title=_text(data, "title", MAX_TITLE),
        content=_text(data, "body", MAX_BODY),
        citizen=_writer(require(data, "writer", dict), "writer."),
        attachments=_attachments(require(data, "attachments", list), "attachments"),
        accepted_at=_ms(data, "submitted_at"),
        issued_at=_ms(data, "forwarded_at"),  # forwarded_at starts the sign-off clock
        extra=extra,
    )


def _letter_no(data: Data) -> str:
    letter_no: str = require(data, "letter_no", str)
    if not letter_no.strip():
        raise MappingError("empty", field="letter_no", value=letter_no)
    return letter_no


def _writer(data: Data, path: str) -> Citizen:
    fields = {key: _optional(data, key, str, path) for key in ("name", "phone", "email", "address")}
    given = {key: value.strip() or None for key, value in fields.items() if value is not None}
    return Citizen(**given, anonymous=not given.get("name") and not given.get("phone"))


def _attachments(items: list[Any], path: str) -> list[Attachment]:
    result = []
    for index, item in enumerate(items):
        here = f"{path}[{index}]"
        if not isinstance(item, dict):
            raise MappingError("wrong type", field=here, value=item)
        result.append(
            Attachment(
                name=require(item, "file_name", str, f"{here}."),
                url=_optional(item, "url", str, f"{here}."),
                size=_optional(item, "size", int, f"{here}."),
            )
        )
    return result


def _answer(data: Data, path: str) -> dict[str, Any]:
    """The platform's copy of the answer, with its time as ISO-8601 +08:00 (``extra`` is JSON)."""
    return {
        "text": require(data, "text", str, path),
        "dept": _optional(data, "dept", str, path),
        "answered_at": _ms(data, "answered_at", path).isoformat(),
        "published": require(data, "published", bool, path),
    }


def _rating(data: Data) -> TicketNotice:
    rating = require(data, "rating", dict)
    rated_at = _ms(rating, "rated_at", "rating.")
    fields = _rating_fields(rating, "rating.")
    return TicketNotice(
        platform=KEY,
        external_id=_letter_no(data),
        kind=RATING_KIND,
        occurred_at=rated_at,
        data={**fields, "satisfaction": SCORE_SATISFACTION[fields["score"]], "rated_at": rated_at},
    )


def _rating_fields(data: Data, path: str) -> dict[str, Any]:
    score = require(data, "score", int, path)
    if score not in SCORE_SATISFACTION:
        raise MappingError("score must be 1–5", field=f"{path}score", value=score)
    return {"score": score, "comment": _optional(data, "comment", str, path)}
