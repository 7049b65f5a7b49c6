"""Push events (PLATFORMS.md §1 push table): envelopes and plausible default data."""

from __future__ import annotations

import copy
import uuid
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from mock_platforms.common.clock import add_weekdays, end_of_day, iso_cn, now_cn, parse_iso
from mock_platforms.p12345.store import OrderRecord

EVENT_TYPES = (
    "order.dispatched",
    "order.updated",
    "order.urged",
    "order.supervised",
    "reply.rejected",
    "extension.decided",
    "return.decided",
    "order.callback",
    "order.reopened",
)
# The events whose data is the full order as it is after the change.
FULL_ORDER_EVENTS = ("order.dispatched", "order.updated")


def envelope(event_type: str, record: OrderRecord, data: Mapping[str, Any], now: datetime) -> dict[str, Any]:
    """Return the push body; the data is copied so later changes cannot alter a queued event."""
    return {
        "event_id": f"evt-{uuid.uuid4().hex}",
        "event_type": event_type,
        "occurred_at": iso_cn(now),
        "order_no": record.order_no,
        "data": copy.deepcopy(dict(data)),
    }


def later_due(record: OrderRecord, days: int) -> str:
    """Return the order's dueAt moved `days` weekdays later (end of that day)."""
    try:
        due = parse_iso(str(record.order["dueAt"]))
    except ValueError:
        due = now_cn()
    return iso_cn(end_of_day(add_weekdays(due.date(), days)))


def default_data(event_type: str, record: OrderRecord, now: datetime) -> dict[str, Any]:
    """Return plausible data for an event the control API emits without (all of) its data."""
    stamp = f"{now:%y%m%d%H%M%S}"
    if event_type in FULL_ORDER_EVENTS:
        return dict(record.order)
    if event_type == "order.urged":
        return {
            "urge_no": f"CB{stamp}{record.urges + 1:03d}",
            "count": record.urges + 1,
            "note": "市民再次来电催促，请加快办理",
        }
    if event_type == "order.supervised":
        return {
            "supervise_no": f"DB{stamp}{record.supervisions + 1:03d}",
            "level": "平台督办",
            "note": "该工单临近办理时限，请加快办理并按时反馈",
            "reply_by": iso_cn(now + timedelta(days=1)),
        }
    if event_type == "reply.rejected":
        return {"reason": "答复未写明调查情况和处置结果，请补充后重新提交"}
    if event_type == "extension.decided":
        days = record.pending_extension_days or 3
        return {"approved": True, "new_due_at": later_due(record, days), "note": "同意延期"}
    if event_type == "return.decided":
        return {"approved": True, "note": "同意退回，已改派其他单位"}
    if event_type == "order.callback":
        return {
            "contacted": True,
            "resolved": "已解决",
            "satisfaction": "满意",
            "valid": True,
            "comment": "对办理结果表示满意",
            "visited_at": iso_cn(now),
        }
    if event_type == "order.reopened":
        return {"reason": "市民对办理结果不满意，要求重新办理", "new_due_at": later_due(record, 5)}
    return {}
