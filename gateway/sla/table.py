"""The active deadline policy as a table of rules with their articles (admin page, API, README).

Each row is one rule: the step (环节), which platforms it covers, the limit in words, the article it
comes from, and whether the deployment changed it from the named profile (本地调整).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from gateway.sla.policy import UNIT_WORDS, DaysRule, DeadlinePolicy, ResolutionRule
from gateway.sla.profiles import PROFILE_LABELS

PLATFORM_WORDS = {"p12345": "12345", "p12389": "12389", "mayor": "市长热线", "mailbox": "局长信箱", "*": "其他渠道"}
NOT_IN_PROFILE = "本规定未作规定（不计时；平台时限仍然适用）"


def _days(days: int | None, unit: str) -> str:
    if days is None:
        return "不设政策时限（以平台时限或解决方案为准）"
    return "当日（自然日 23:59:59，节假日同样）" if days == 0 else f"{days} {UNIT_WORDS.get(unit, unit)}"


def _hours(window: timedelta) -> str:
    return f"{window / timedelta(hours=1):g} 小时"


def _platforms(rule: DaysRule | Any) -> str:
    platforms = getattr(rule, "platforms", None)
    return "全部" if not platforms else "、".join(PLATFORM_WORDS.get(p, p) for p in platforms)


def _resolution_rows(key: str, rule: ResolutionRule) -> list[dict[str, str]]:
    platform = PLATFORM_WORDS.get(key, key)
    rows = [{"step": "办结（紧急程度）", "platform": platform, "what": f"{word}：{_days(days, rule.unit)}（应急类）",
             "article": rule.article} for word, days in rule.by_urgency.items()]
    rows += [{"step": "办结", "platform": platform, "what": f"{kind}：{_days(days, rule.unit)}",
              "article": rule.article} for kind, days in rule.by_type.items()]
    if rule.default is not None:
        what = f"{'其他类型' if rule.by_type else '全部'}：{_days(rule.default, rule.unit)}"
        rows.append({"step": "办结", "platform": platform, "what": what, "article": rule.article})
    return rows


def rows(policy: DeadlinePolicy) -> list[dict[str, str]]:
    """Every rule of ``policy`` in reading order."""
    out: list[dict[str, str]] = []

    def add(step: str, platform: str, what: str, article: str) -> None:
        out.append({"step": step, "platform": platform, "what": what, "article": article})

    if policy.sign_off is not None:
        what = f"下发后 {_hours(policy.sign_off.after)}内（平台签收期限更早的从其规定）"
        add("签收", "全部", what, policy.sign_off.article)
    else:
        add("签收", "全部", NOT_IN_PROFILE, "—")
    if policy.dispatch is not None:
        roll = "，次日为节假日的顺延至下一个工作日" if policy.dispatch.roll_to_workday else ""
        what = f"接收次日 {policy.dispatch.at:%H:%M} 前{roll}"
        add("派单", _platforms(policy.dispatch), what, policy.dispatch.article)
    if policy.response is not None:
        add("响应（介入处置）", "全部", f"派单生效（承办单位接单）后 {_hours(policy.response.after)}内；"
            "仅先行联系或介入处置记录计为响应，答复草稿不计", policy.response.article)
    for step, days_rule in (("交办并初步反馈", policy.first_feedback), ("复杂问题提出方案", policy.complex_plan)):
        if days_rule is not None:
            add(step, _platforms(days_rule), f"{_days(days_rule.days, days_rule.unit)}内", days_rule.article)
    for key, resolution in policy.resolution.items():
        out.extend(_resolution_rows(key, resolution))
    if not policy.resolution:
        add("办结", "全部", "按平台规定的时限", policy.platform_article)
    add("平台时限", "全部", "平台（或市局办公室）给定的时限更早时以其为准，工单只显示一个有效期限并注明依据",
        policy.platform_article)
    add("督办时限", "全部", "督办要求的回复时间更早时以其为准；督办、催办均单独计时告警", policy.supervision_article)
    ext = policy.extension
    limit = f"最多 {ext.max_days} {UNIT_WORDS[ext.unit]}" if ext.max_days else "天数由平台审批"
    hours = ext.min_notice / timedelta(hours=1)
    notice = f"须在期限前 {hours:g} 小时提出（申请时审查）" if hours else "期限前提出"
    count = f"每轮最多 {ext.max_count} 次" if ext.max_count is not None else "次数不限"
    add("延期", "全部", f"{notice}；{limit}；{count}", ext.article or "—")
    if ext.report_platforms:
        add("延期书面报告", "、".join(PLATFORM_WORDS.get(p, p) for p in ext.report_platforms),
            "须书面报告阶段进展情况并说明延期理由", ext.report_article)
    return out


def policy_table(policy: DeadlinePolicy) -> dict[str, Any]:
    """The profile's name and label, and its rules marked where this deployment changed them."""
    profile = DeadlinePolicy(profile=policy.profile)
    stock = {tuple(r.values()) for r in rows(profile)}
    return {
        "profile": policy.profile,
        "label": PROFILE_LABELS.get(policy.profile, policy.profile),
        "profiles": PROFILE_LABELS,
        "rules": [{**r, "changed": tuple(r.values()) not in stock} for r in rows(policy.rules())],
    }
