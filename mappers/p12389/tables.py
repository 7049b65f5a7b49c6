"""12389 enum tables (PLATFORMS.md §2): platform words -> internal values, one dict per field."""

from __future__ import annotations

from gateway.schema import AppealType, TicketStatus, Truthfulness

KEY = "p12389"
SNAPSHOT = "case.snapshot"  # a case as read by the adapter, wrapped in <snapshot observed version>
RATED = "case.rated"  # the reporter's evaluation (fkpj) of a case, once per value
MAX_CONTENT = 1500  # §2: jbnr ≤ 1500 chars

# 事项类别 → 诉求类型. 检举控告 is a report of misconduct; 申诉 an appeal against a decision.
APPEAL_TYPES: dict[str, AppealType] = {
    "检举控告": AppealType.report,
    "申诉": AppealType.appeal,
    "意见建议": AppealType.suggestion,
}
# Channel, level and status stay in the platform's words (TicketDraft keeps them as text): these
# tables only validate them, so a new platform value fails loudly instead of passing unseen.
CHANNELS: dict[str, str] = {c: c for c in ("电话", "网络", "来信", "来访", "上级交办")}
# 案件等级: the SLA policy reads the word itself (简单/一般/重大 → 10/15/20 working days, 001 §4(3)).
LEVELS: dict[str, str] = {lv: lv for lv in ("简单", "一般", "重大")}
STATUSES: dict[str, str] = {s: s for s in ("待签收", "核查中", "已报结", "已退回", "已办结")}
# Only the platform can close a case or take it back; the other statuses follow our own lifecycle.
STATUS_HINTS: dict[str, TicketStatus] = {"已办结": TicketStatus.closed, "已退回": TicketStatus.returned}
FLAGS: dict[str, bool] = {"1": True, "0": False}  # qszt 签收状态, sfsm 是否实名
# 举报人评价, in the vocabulary of the other platforms' callback results (p12345 satisfaction).
EVALUATIONS: dict[str, str] = {"满意": "satisfied", "基本满意": "basically_satisfied", "不满意": "dissatisfied"}
# 核查结论: 12389 knows all four verdicts, 无法核实 included.
VERDICTS: dict[Truthfulness, str] = {t: t.value for t in Truthfulness}

# The reporter's elements (jbr): never echoed in an error, a log or anything but the Citizen.
REPORTER_FIELDS: dict[str, tuple[str, int]] = {  # element -> (Citizen field, longest plausible value)
    "xm": ("name", 100),
    "sfzh": ("id_number", 32),
    "lxdh": ("phone", 64),
    "dz": ("address", 500),
}
RESPONDENT_FIELDS: dict[str, str] = {"xm": "name", "jh": "badge_no", "zw": "position"}
