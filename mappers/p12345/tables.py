"""12345 enum tables (PLATFORMS.md §1): platform words -> internal values, one dict per field."""

from __future__ import annotations

from typing import Literal

from gateway.schema import AppealType, Gender, NoticeKind, Resolution, TicketStatus, Truthfulness, Urgency

KEY = "p12345"
MAX_CONTENT = 4000
CONFIDENTIAL_NAME = "保密"  # the platform blanks a confidential citizen's name with this word

TimeUnit = Literal["working_days", "calendar_days", "hours"]

APPEAL_TYPES: dict[str, AppealType] = {
    "咨询": AppealType.consultation,
    "求助": AppealType.help,
    "投诉": AppealType.complaint,
    "举报": AppealType.report,
    "建议": AppealType.suggestion,
    "表扬": AppealType.praise,
}
URGENCIES: dict[str, Urgency] = {"一般": Urgency.normal, "紧急": Urgency.urgent, "特急": Urgency.critical}
# Status and channel stay in the platform's words (TicketDraft keeps them as text): these tables
# only validate them, so a new platform value fails loudly instead of passing through unseen.
STATUSES: dict[str, str] = {s: s for s in ("待签收", "办理中", "待审核", "已办结", "已退回", "已关闭")}
# What the platform's status means for our lifecycle: only the platform can close or take back a ticket.
STATUS_HINTS: dict[str, TicketStatus] = {
    "已办结": TicketStatus.closed,
    "已关闭": TicketStatus.closed,
    "已退回": TicketStatus.returned,
}
CHANNELS: dict[str, str] = {c: c for c in ("电话", "网站", "微信", "APP", "领导留言板", "110转办", "省平台流转")}
TIME_UNITS: dict[str, TimeUnit] = {"工作日": "working_days", "自然日": "calendar_days", "小时": "hours"}
GENDERS: dict[int, Gender] = {0: Gender.unknown, 1: Gender.male, 2: Gender.female}

SUPERVISE_LEVELS: dict[str, str] = {"平台督办": "platform", "领导督办": "leader"}
RESOLUTIONS: dict[str, Resolution] = {r.value: r for r in Resolution}
SATISFACTIONS: dict[str, str] = {
    "满意": "satisfied",
    "基本满意": "basically_satisfied",
    "不满意": "dissatisfied",
    "未评价": "unrated",
}
# 12345 knows three verdicts; "无法核实" exists only on 12389.
REPLY_TRUTHFULNESS: dict[Truthfulness, str] = {
    Truthfulness.true: "属实",
    Truthfulness.partly: "部分属实",
    Truthfulness.false: "不属实",
}

SNAPSHOT = "order.snapshot"  # a pulled order (the adapter's event type), payload = the order itself
ORDER_EVENTS = frozenset({"order.dispatched", "order.updated"})
NOTICE_KINDS: dict[str, NoticeKind] = {
    "order.urged": NoticeKind.urged,
    "order.supervised": NoticeKind.supervised,
    "reply.rejected": NoticeKind.reply_rejected,
    "extension.decided": NoticeKind.extension_decided,
    "return.decided": NoticeKind.return_decided,
    "order.callback": NoticeKind.callback,
    "order.reopened": NoticeKind.reopened,
}
# Order fields with a home in TicketDraft; every other field lands in ``extra``.
ORDER_FIELDS = frozenset(
    {
        "orderNo",
        "parentOrderNo",
        "acceptedAt",
        "dispatchedAt",
        "channel",
        "appealType",
        "categoryPath",
        "urgency",
        "title",
        "content",
        "citizen",
        "respondent",
        "region",
        "address",
        "lng",
        "lat",
        "signDeadline",
        "dueAt",
        "timeLimit",
        "timeUnit",
        "needsCallback",
        "attachments",
        "status",
        "version",
    }
)
