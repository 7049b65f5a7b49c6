"""Order status rules: which write-back is allowed when, and what each write or decision changes.

Every function returns whether an Order field changed, so the caller bumps `version` only for
real changes (a progress note or a pending extension is not a field of the Order object).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from mock_platforms.p12345.store import OrderRecord

PENDING_SIGN = "待签收"
HANDLING = "办理中"
IN_REVIEW = "待审核"
FINISHED = "已办结"
RETURNED = "已退回"
CLOSED = "已关闭"

ALLOWED_FROM: dict[str, tuple[str, ...]] = {
    "sign": (PENDING_SIGN,),
    "contact": (HANDLING,),
    "progress": (HANDLING,),
    "extension": (HANDLING,),
    "reply": (HANDLING,),
    # A unit may refuse a misrouted order before signing it, or find out while handling it.
    "return": (PENDING_SIGN, HANDLING),
}


class StateConflict(Exception):
    """The write-back does not fit the order's current status (HTTP 409/40901)."""


def check_write(record: OrderRecord, action: str) -> None:
    """Raise StateConflict when `action` is not allowed now."""
    status = record.order["status"]
    if status not in ALLOWED_FROM[action]:
        allowed = "/".join(ALLOWED_FROM[action])
        raise StateConflict(f"{action} is not allowed in status {status} (only in {allowed})")
    if action == "extension" and record.pending_extension_days is not None:
        raise StateConflict("an extension request is already awaiting approval")


def apply_write(record: OrderRecord, action: str, body: Mapping[str, Any]) -> bool:
    """Apply an accepted write-back to the order."""
    order = record.order
    if action == "sign":
        order["status"] = HANDLING
        return True
    if action == "return":
        record.status_before_return = order["status"]
        order["status"] = RETURNED
        return True
    if action == "reply":
        order["status"] = IN_REVIEW
        return True
    if action == "extension":
        record.pending_extension_days = int(body["days"])
    return False


def decide_return(record: OrderRecord, approved: bool) -> bool:
    """Apply the platform's decision on a return request."""
    order = record.order
    previous, record.status_before_return = record.status_before_return, None
    if approved:
        changed = bool(order["status"] != RETURNED)
        order["status"] = RETURNED
        return changed
    if order["status"] == RETURNED:
        # Refused: the order is ours again, in the status it had before the request.
        order["status"] = previous or HANDLING
        return True
    return False


def decide_extension(record: OrderRecord, approved: bool, new_due_at: str | None) -> bool:
    """Apply the platform's decision on an extension request."""
    record.pending_extension_days = None
    if approved and new_due_at and new_due_at != record.order["dueAt"]:
        record.order["dueAt"] = new_due_at
        return True
    return False


def review_reply(record: OrderRecord, approved: bool) -> bool:
    """Apply the platform's review of a reply: accepted closes the case, rejected reopens handling."""
    order = record.order
    if order["status"] != IN_REVIEW:
        return False
    order["status"] = FINISHED if approved else HANDLING
    return True


def reopen(record: OrderRecord, new_due_at: str | None) -> bool:
    """重办: the order is handled again (no new sign-off) with a new due time."""
    order = record.order
    order["status"] = HANDLING
    if new_due_at:
        order["dueAt"] = new_due_at
    record.pending_extension_days = None
    return True


def redispatch(record: OrderRecord, dispatch_id: str, dispatched_at: str, sign_deadline: str) -> bool:
    """A new 派单 of a known order: new dispatchId, and it waits for a sign-off again."""
    order = record.order
    order.update(
        dispatchId=dispatch_id, dispatchedAt=dispatched_at, signDeadline=sign_deadline, status=PENDING_SIGN
    )
    record.status_before_return = None
    record.pending_extension_days = None
    return True


def merge_fields(order: dict[str, Any], changes: Mapping[str, Any]) -> bool:
    """Overwrite order fields; a dict value is merged into a dict field one level deep."""
    for key, value in changes.items():
        current = order.get(key)
        if isinstance(current, dict) and isinstance(value, dict):
            order[key] = {**current, **value}
        else:
            order[key] = value
    return bool(changes)
