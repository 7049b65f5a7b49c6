"""Write-back rules of §2: body checks (400 naming the element) and state checks (409)."""

from __future__ import annotations

import re
from collections.abc import Mapping

from mock_platforms.p12389.store import CaseRecord
from mock_platforms.p12389.xmlio import ApiError

ACTIONS = ("receipt", "extension", "report")
PENDING, CHECKING, REPORTED, RETURNED, FINISHED = "待签收", "核查中", "已报结", "已退回", "已办结"
VERDICTS = ("属实", "部分属实", "不属实", "无法核实")
REPORT_TEXTS = ("hcqk", "zrrd", "clqk", "zgqk", "fkqk", "spr")
LOCAL_TIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}$")
MAX_WBBH = 40
MAX_TEXT = 4000


def invalid(name: str, why: str) -> ApiError:
    """400 naming the offending element."""
    return ApiError(400, f"invalid field {name}: {why}")


def _text(body: Mapping[str, str], name: str, limit: int = MAX_TEXT) -> str:
    value = body.get(name)
    if value is None:
        raise invalid(name, "missing")
    if not value:
        raise invalid(name, "must not be empty")
    if len(value) > limit:
        raise invalid(name, f"longer than {limit} characters")
    return value


def validate(action: str, body: Mapping[str, str]) -> None:
    """Raise 400 for the first missing or invalid element of a write-back body."""
    if action == "receipt":
        _text(body, "qsr", 64)
        if not LOCAL_TIME.match(_text(body, "qssj")):
            raise invalid("qssj", "must be yyyy-MM-ddTHH:mm:ss (local time, no offset)")
    elif action == "extension":
        days = _text(body, "yqts")
        if not days.isdigit() or not 1 <= int(days) <= 5:
            raise invalid("yqts", "must be a whole number of days from 1 to 5")
        _text(body, "yqly")
    else:
        _text(body, "wbbh", MAX_WBBH)
        if _text(body, "hcjl") not in VERDICTS:
            raise invalid("hcjl", "must be one of " + "/".join(VERDICTS))
        for name in REPORT_TEXTS:
            _text(body, name)


def check_state(record: CaseRecord, action: str) -> None:
    """Raise 409 when the write-back does not fit the case's state."""
    case = record.case
    status = case["zt"]
    if status in (RETURNED, FINISHED):
        raise ApiError(409, f"案件{status}")
    if action == "receipt":
        if case["qszt"] == "1":
            raise ApiError(409, "已签收")
        return
    if case["qszt"] != "1":
        raise ApiError(409, "未签收")
    if action == "extension" and status != CHECKING:
        raise ApiError(409, f"案件{status}，不能申请延期")


def apply(record: CaseRecord, action: str, body: Mapping[str, str], now_local: str) -> None:
    """Apply an accepted write-back to the case."""
    case = record.case
    if action == "receipt":
        case["qszt"], case["zt"] = "1", CHECKING
    elif action == "extension":
        record.extensions.append(int(body["yqts"]))
    else:
        # §2: no idempotency key; a repeated report is a second report, duplicates included.
        case["bgs"].append({"wbbh": body["wbbh"], "sj": now_local})
        case["zt"] = REPORTED
