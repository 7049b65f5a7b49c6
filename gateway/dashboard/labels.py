"""Chinese words for the codes the dashboard shows (states, actions, timeline kinds, roles)."""

from __future__ import annotations

import re
from collections.abc import Mapping

from gateway import catalogue
from gateway.principal import ROLE_LABELS
from gateway.schema import APPEAL_TYPE_LABELS
from gateway.services.accountability import CAUSES, MEASURES
from gateway.services.ticket_states import STATUS_LABELS

STATUS = dict(STATUS_LABELS)
APPEAL = {k.value: v for k, v in APPEAL_TYPE_LABELS.items()}
ROLES = {k.value: v for k, v in ROLE_LABELS.items()}
OPEN_STATUSES = ("received", "signed", "dispatched", "responded", "reply_drafted", "approved", "return_requested")
URGENCY = {"normal": "一般", "urgent": "紧急", "critical": "特急"}
TIMER = {"sign_off": "签收", "dispatch": "派单", "response": "响应", "first_feedback": "交办并初步反馈",
         "plan": "提出解决方案", "resolution": "办结", "extension": "延期办结", "supervision": "督办", "urge": "催办"}
TIMER_STATE = {"running": "计时中", "met": "按时完成", "breached": "已超时", "not_started": "未开始",
               "paused": "已暂停", "cancelled": "已取消", "superseded": "已延期", "warning": "预警中"}
OUTBOUND_ACTION = {"sign": "签收", "contact": "先行联系", "return": "退回", "extension": "延期申请",
                   "progress": "阶段反馈", "reply": "办结答复", "report": "上报", "transfer": "转办"}
OUTBOUND_STATE = {"pending": "待发送", "in_flight": "发送中", "retry": "等待重试", "unknown": "结果待核实",
                  "sent": "已送达", "dead": "发送失败"}
SATISFACTION = {"satisfied": "满意", "basically_satisfied": "基本满意", "dissatisfied": "不满意", "unrated": "未评价"}
APPROVAL_KIND = {"dispatch": "派单", "extension": "延期", "review": "答复审核", "suspension": "延期挂单",
                 "termination": "终结办理", "final_review": "三级结案终审表", "screening": "不满意件甄别",
                 "accountability": "问责建议", "intervention": "提级介入"}
INTERVENTION_RULE = {"overdue": "久拖不决", "repeat": "反复投诉", "impact": "重大、敏感", "violation": "严重违纪违法",
                     "other": "其他需提级介入"}  # services.intervention.RULES (000 提级介入调查制度 一)
SENT_BACK_STEP = {"unit_head": "部门负责人", "leader": "分管领导"}
APPROVAL_STATE = {"pending": "待审批", "approved": "已批准", "rejected": "已驳回", "cancelled": "已撤销"}
ALERT_KIND = {"warning": "预警", "breach": "超时", "escalation": "升级", "calendar_missing": "日历缺失",
              "auto_signed": "自动签收", "intervention": "提级介入"}
ALERT_STATE = {"active": "未确认", "acknowledged": "已确认", "resolved": "已解除"}
SEVERITY = {"info": "提示", "warning": "警告", "critical": "严重"}
EVENT = {
    "received": "接收工单", "platform_updated": "平台更新", "signed": "签收", "return_requested": "申请退回",
    "dispatched": "派单", "dispatch_proposed": "拟派单（待领导审批）",
    "dispatch_approval_requested": "派单待领导确认", "dispatch_approved": "领导批准派单",
    "dispatch_rejected": "领导驳回派单", "responded": "先行联系", "progress": "阶段反馈",
    "reply_drafted": "起草答复", "reply_approved": "领导审批答复", "reply_sent_back": "领导退回修改",
    "reply_reviewed": "部门负责人审核答复", "reply_review_sent_back": "部门负责人退回修改",
    "extension_proposed": "申请延期（待领导审批）", "extension_approved": "领导批准延期",
    "extension_rejected": "领导驳回延期", "extension_requested": "延期申请报平台",
    "extension_decided": "平台延期审批结果", "urged": "平台催办", "supervised": "督办",
    "reply_rejected": "平台审核退回", "return_decided": "平台退回审批结果", "callback": "回访结果", "rated": "评价",
    "reopened": "重办", "evidence_uploaded": "上传证据", "outbound_replayed": "重新回传",
    "outbound_sent": "回传成功", "outbound_dead": "回传失败", "linked": "关联同一事项（一事多投）",
    "repeat_complaint": "重复投诉", "case_unit_assigned": "随案分派承办单位", "auto_signed": "自动签收",
    "suspended": "延期挂单", "resumed": "解除挂单", "supervision_issued": "督办/催办",
    "suspension_proposed": "申请延期挂单（待领导审批）", "suspension_rejected": "领导驳回挂单申请",
    "accountability_proposed": "提出问责建议", "accountability_approved": "批准问责",
    "accountability_rejected": "驳回问责建议",
    "complex_marked": "认定为复杂问题", "complex_unmarked": "取消复杂问题认定", "plan_submitted": "提出解决方案",
    "intervention_raised": "提级介入", "intervention_instruction": "领导批示（提级介入）",
    "intervention_closed": "提级介入办结",
}
AUDIT = {"login": "登录", "logout": "退出", "login_failed": "登录失败", "user_created": "新建用户",
         "user_updated": "修改用户", "password_set": "设置密码", "outbound_replayed": "重新回传",
         "alert_acknowledged": "确认告警", "unit_saved": "保存承办单位", "report_exported": "导出报表",
         "evidence_fetched": "平台下载证据", "accountability_proposed": "提出问责建议",
         "accountability_approved": "批准问责", "accountability_rejected": "驳回问责建议"}
ACCOUNTABILITY_CAUSE = {key: text for key, (text, _) in CAUSES.items()}  # 问责事由 (000 责任追究制度)
ACCOUNTABILITY_MEASURE = {key: text for key, (text, _, _) in MEASURES.items()}  # 问责措施

UNKNOWN = "未知"  # a value no table names (a new platform or enum value): never shown raw, never a crash
_HAN = re.compile(r"[\u3400-\u9fff]")
_LATIN = re.compile(r"[A-Za-z]")


def zh(value: object, table: Mapping[str, str] | None = None, empty: str = "—") -> str:
    """The Chinese word for a code the dashboard shows: the table's label; a value already in Chinese
    (the platforms' own words) as it is; ``empty`` for none; ``未知`` for an unknown English code."""
    if value is None or value == "":
        return empty
    text = str(getattr(value, "value", value))
    if table is not None and text in table:
        return table[text]
    return text if _HAN.search(text) and not _LATIN.search(text) else UNKNOWN


def platform_status(value: str | None, platform: str) -> str:
    """A platform's own status (``platform_status``) in Chinese: e.g. the mailbox's pending_review → 待受理."""
    return zh(value, catalogue.statuses(platform))
