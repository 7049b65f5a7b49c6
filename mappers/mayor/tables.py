"""Mayor's hotline enum tables (PLATFORMS.md §3): platform codes -> internal values, one dict per field."""

from __future__ import annotations

from gateway.schema import AppealType, TicketStatus, Truthfulness, Urgency

KEY = "mayor"
SNAPSHOT = "order.snapshot"  # a pulled row (list.do/detail.do), payload = the row itself
CALLBACK = "order.callback"  # the same row, read for its 回访结果 hfjg (the adapter emits it once per hfsj)
TIME_FORMAT = "%Y-%m-%d %H:%M:%S"  # naive Asia/Shanghai local time, the only form the platform writes
CHANNEL = "电话"  # every row is a call (来电时间, 来电人): the hotline has no other intake channel
TITLE_CHARS = 30  # rows have no title; the dashboard gets the start of 来电内容

APPEAL_TYPES: dict[str, AppealType] = {
    "求决": AppealType.help,
    "咨询": AppealType.consultation,
    "揭发控告": AppealType.report,
    "意见建议": AppealType.suggestion,
    "申诉": AppealType.appeal,
    "其他": AppealType.other,
}
# jjcd is written as a string ("1") by the spec's table; the legacy JSON also sends bare numbers.
URGENCIES: dict[str, Urgency] = {"1": Urgency.normal, "2": Urgency.urgent, "3": Urgency.critical}
# zt codes keep their platform meaning as text on the ticket; only 04 and 05 move our lifecycle.
STATUSES: dict[str, str] = {"01": "待签收", "02": "办理中", "03": "已反馈", "04": "已办结", "05": "已退回"}
STATUS_HINTS: dict[str, TicketStatus] = {"04": TicketStatus.closed, "05": TicketStatus.returned}
SATISFACTIONS: dict[str, str] = {
    "满意": "satisfied",
    "基本满意": "basically_satisfied",
    "不满意": "dissatisfied",
}
# feedback.do sfss: 1 属实, 0 不属实, 2 部分属实. "无法核实" has no code on this platform.
REPLY_TRUTHFULNESS: dict[Truthfulness, str] = {
    Truthfulness.true: "1",
    Truthfulness.false: "0",
    Truthfulness.partly: "2",
}
# Row fields with a home in TicketDraft; every other field (fkxx, hfjg, unknown ones) lands in ``extra``.
ROW_FIELDS = frozenset(
    {"lsh", "ldsj", "pdsj", "ldrxm", "lxdh", "ldnr", "sqlb", "jjcd", "sfdz", "blsx", "zt", "gxsj"}
)
