"""Alert wording in Chinese, for the dashboard, robot groups and email.

Messages carry the platform, the platform's ticket number, the timer and the time left: never the
title, content or citizen (RULES.md §5: nothing of a ticket may leak to chat tools).
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta

from gateway.catalogue import label
from gateway.sla.deadlines import to_shanghai

TIMER_LABELS = {"sign_off": "签收", "dispatch": "派单", "response": "响应", "first_feedback": "交办并初步反馈",
                "plan": "提出解决方案", "resolution": "办结", "extension": "延期办结", "supervision": "督办",
                "urge": "催办"}
PLATFORM_SHORT = {"p12345": "12345", "p12389": "12389", "mayor": "市长热线", "mailbox": "局长信箱"}
TITLES = {
    "warning": "即将超时",
    "breach": "已超时",
    "repeat": "超时未处理",
    "escalation": "超时升级",
    "calendar_missing": "日历缺失",
    "auto_signed": "自动签收",
    "intervention": "提级介入",
}
SEVERITY_RANK = {"info": 0, "warning": 1, "critical": 2}
SEVERITY_LABELS = {"info": "提示", "warning": "警告", "critical": "严重"}


def severity_for(threshold: int) -> str:
    """50 % is a heads-up, 75 % and 90 % are warnings, 100 % (breach) is critical."""
    if threshold >= 100:
        return "critical"
    return "warning" if threshold >= 75 else "info"


def remaining(delta: timedelta) -> str:
    """Time left in words: 1天3小时, 2小时, 45分钟, 不足1分钟."""
    minutes = int(delta.total_seconds() // 60)
    if minutes < 1:
        return "不足1分钟"
    days, rest = divmod(minutes, 24 * 60)
    hours, mins = divmod(rest, 60)
    parts = [f"{days}天" if days else "", f"{hours}小时" if hours else ""]
    if not days and mins and hours < 10:
        parts.append(f"{mins}分钟")
    return "".join(parts)


def _ticket(platform: str, external_id: str) -> str:
    return f"{PLATFORM_SHORT.get(platform) or label(platform)}工单 {external_id}"


def _timer(kind: str, cycle: int) -> str:
    name = TIMER_LABELS.get(kind, kind)
    return f"第{cycle - 1}次重办{name}" if cycle > 1 else name


def _deadline(due_at: datetime) -> str:
    local = to_shanghai(due_at)
    return f"{local.month}月{local.day}日 {local:%H:%M}"


def timer_message(
    *, platform: str, external_id: str, timer_kind: str, cycle: int, threshold: int, fire_at: datetime,
    due_at: datetime, provisional: bool = False,
) -> str:
    """【即将超时】12345工单 2611…签收剩余2小时（截止…）, or 【已超时】… for the breach."""
    note = "，期限暂定（缺少节假日安排）" if provisional else ""
    what = f"{_ticket(platform, external_id)}{_timer(timer_kind, cycle)}"
    if threshold >= 100:
        return f"【{TITLES['breach']}】{what}已超时（截止{_deadline(due_at)}{note}）"
    left = remaining(due_at - fire_at)
    return f"【{TITLES['warning']}】{what}剩余{left}（已过{threshold}%，截止{_deadline(due_at)}{note}）"


def repeat_message(original: str, count: int, overdue: timedelta) -> str:
    """The n-th reminder of an unacknowledged breach."""
    body = original.split("】", 1)[-1]
    return f"【{TITLES['repeat']}·第{count}次提醒】{body}，已超时{remaining(overdue)}，请尽快处理并确认告警"


def escalation_message(original: str, unacknowledged_for: timedelta) -> str:
    """A breach nobody acknowledged, for the leader in charge."""
    body = original.split("】", 1)[-1]
    return f"【{TITLES['escalation']}】{body}，{remaining(unacknowledged_for)}无人确认，请分管领导督办"


def calendar_message(year: int, today: datetime) -> str:
    """Next year's State Council arrangement is not loaded yet."""
    return (
        f"【{TITLES['calendar_missing']}】{year}年节假日安排尚未导入（{today:%Y-%m-%d}），跨入{year}年的办理期限"
        f"暂按法定节日和周末推算并标记为暂定。请导入国务院办公厅通知：hotline-gateway calendar load FILE"
    )


def auto_signed_message(platform: str, external_id: str, due_at: datetime, before: timedelta) -> str:
    """The safety net signed a ticket nobody had signed or returned."""
    return (
        f"【{TITLES['auto_signed']}】{_ticket(platform, external_id)}距签收期限不足{remaining(before)}仍无人签收"
        f"或退回，系统已自动签收（期限{_deadline(due_at)}），请尽快派单"
    )


DIGEST_KINDS = {"warning": "即将超时", "breach": "已超时", "repeat": "超时未处理提醒", "escalation": "超时升级",
                "calendar_missing": "日历缺失", "auto_signed": "自动签收"}


def digest_title(count: int, in_window: int, window_s: float) -> str:
    """The heading of a digest: how many alerts it stands for, and how many the window saw."""
    seconds = int(window_s)
    return f"SLA告警汇总 {count} 条（{seconds}秒内共 {in_window} 条）"


def digest_lines(counts: Counter[tuple[str, int | None, str | None]]) -> list[str]:
    """One line per kind (and threshold) and unit with its count, most first; never a ticket or its text.

    RULES.md §5: nothing of a ticket may leak to chat tools — a digest names kinds and units only.
    """
    lines = []
    for (kind, threshold, unit), n in sorted(counts.items(), key=lambda item: (-item[1], str(item[0]))):
        what = DIGEST_KINDS.get(kind, kind)
        if kind == "warning" and threshold:
            what += f"（已过{threshold}%）"
        lines.append(f"{what} · {unit or '未派单'}：{n} 条")
    lines.append("详情见工作台“告警”页，可按组批量确认")
    return lines


def intervention_message(platform: str, external_id: str, what: str) -> str:
    """提级介入 for the leader in charge: the ticket and which rule met it, never a person's reason or 批示."""
    return f"【{TITLES['intervention']}】{_ticket(platform, external_id)}{what}，请分管领导批示"
