"""Write-back rules of the mock mayor's hotline: required fields, which ``zt`` allows what, and
what an accepted write-back changes. Refusals are the platform's own messages (result "0").
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime

from mock_platforms.mayor.store import RowRecord
from mock_platforms.mayor.wire import TIME_FORMAT

WAITING, HANDLING, FED_BACK, CLOSED, RETURNED = "01", "02", "03", "04", "05"
ACTIONS = ("sign", "feedback", "back", "delay")

# PLATFORMS.md §3 gives the first two; the others are how such a server refuses a repeat.
ALREADY_SIGNED = "该工单已签收"
ALREADY_FED_BACK = "该工单已反馈"
ALREADY_RETURNED = "该工单已退回"
DELAY_PENDING = "该工单已申请延期"
NOT_SIGNED = "该工单未签收"
ALREADY_CLOSED = "该工单已办结"
NO_SUCH_ROW = "工单不存在"
MAX_TEXT = 4000


class Refusal(Exception):
    """A write-back the platform refuses: answered ``{"result": "0", "msg": message}``."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def _text(limit: int) -> Callable[[str], bool]:
    return lambda value: bool(value.strip()) and len(value) <= limit


def _days(value: str) -> bool:
    return value.isdigit() and 1 <= int(value) <= 30


FIELDS: dict[str, dict[str, Callable[[str], bool]]] = {
    "sign": {"qsr": _text(50)},
    "feedback": {
        "sfss": lambda v: v in ("1", "0", "2"),
        "dcqk": _text(MAX_TEXT),
        "czjg": _text(MAX_TEXT),
        "ldryj": _text(MAX_TEXT),
        "bljg": _text(MAX_TEXT),
        "shr": _text(50),
    },
    "back": {"thyy": _text(MAX_TEXT)},
    "delay": {"yqts": _days, "yqly": _text(MAX_TEXT)},
}

# zt -> the refusal of each action in that status (None: allowed).
REFUSALS: dict[str, dict[str, str | None]] = {
    "sign": {WAITING: None, HANDLING: ALREADY_SIGNED, FED_BACK: ALREADY_SIGNED, CLOSED: ALREADY_SIGNED,
             RETURNED: ALREADY_RETURNED},
    "feedback": {WAITING: NOT_SIGNED, HANDLING: None, FED_BACK: ALREADY_FED_BACK, CLOSED: ALREADY_FED_BACK,
                 RETURNED: ALREADY_RETURNED},
    "back": {WAITING: None, HANDLING: None, FED_BACK: ALREADY_FED_BACK + "，不能退回",
             CLOSED: ALREADY_CLOSED, RETURNED: ALREADY_RETURNED},
    "delay": {WAITING: NOT_SIGNED, HANDLING: None, FED_BACK: ALREADY_FED_BACK + "，不能延期",
              CLOSED: ALREADY_CLOSED, RETURNED: ALREADY_RETURNED},
}


def validate(action: str, form: Mapping[str, str]) -> None:
    """Raise ``Refusal`` naming the first missing or malformed field."""
    for name, valid in FIELDS[action].items():
        value = form.get(name, "")
        if not value.strip():
            raise Refusal(f"参数{name}不能为空")
        if not valid(value):
            raise Refusal(f"参数{name}格式错误")


def check(record: RowRecord, action: str) -> None:
    """Raise ``Refusal`` when ``action`` is not allowed in the row's status."""
    refusal = REFUSALS[action].get(str(record.row["zt"]), "工单状态异常")
    if action == "delay" and refusal is None and record.pending_delay is not None:
        refusal = DELAY_PENDING
    if refusal is not None:
        raise Refusal(refusal)


def apply(record: RowRecord, action: str, form: Mapping[str, str], now: datetime) -> bool:
    """Apply an accepted write-back; return whether a row field changed (then ``gxsj`` moves)."""
    row = record.row
    if action == "sign":
        record.signer, row["zt"] = form["qsr"], HANDLING
        return True
    if action == "feedback":
        record.feedback_form = dict(form)
        row["zt"], row["fkxx"] = FED_BACK, {"fksj": now.strftime(TIME_FORMAT), "bljg": form["bljg"]}
        return True
    if action == "back":
        record.return_reason, row["zt"] = form["thyy"], RETURNED
        return True
    record.pending_delay = {"yqts": form["yqts"], "yqly": form["yqly"]}
    return False  # a pending request is not a row field: detail.do cannot show it


def close(record: RowRecord) -> bool:
    """办结: the platform accepts the feedback."""
    if record.row["zt"] != FED_BACK:
        return False
    record.row["zt"] = CLOSED
    return True


def decide_delay(record: RowRecord, approved: bool) -> bool:
    """The platform's decision on a pending extension: approved adds the days to 办理时限."""
    pending, record.pending_delay = record.pending_delay, None
    if pending is None or not approved:
        return False
    record.row["blsx"] = int(record.row["blsx"]) + int(pending["yqts"])
    return True
