"""Regulation profiles: each bureau's deadline rules as data, every rule with the article it comes from.

The seeds are four bureaus' regulations (RULES.md); a deployment follows its own. ``GATEWAY_SLA__PROFILE``
picks one of these; any other ``GATEWAY_SLA__…`` setting overrides a rule of it (``DeadlinePolicy``).
A rule a regulation does not contain is ``None`` in its profile (no timer; the platform's own limit
still binds). ``default`` combines the four as DESIGN.md "Default deadline policy" says.

Articles are written ``<seed> <section>``: ``000 限时办结 一`` is seed 000 (亳州市公安局八项制度), the
限时办结制度, item 一. Seed 002 numbers two sections 四; its second (四、工作要求) is cited as ``002 工作要求``.
"""

from __future__ import annotations

from typing import Any

# 000 限时办结 一: 一般警务咨询和应急类、求助类诉求当日答复；较为复杂的咨询诉求、投诉类诉求、市长热线反映问题类
# 要在 5 个工作日回复，…厅（局）长信箱来信 10 个工作日内办结回复，其他类问题暂按 10 个工作日办结回复。
A000_LIMITS = "000 限时办结 一"
A000_EXTENSION = "000 限时办结 二"  # 提前一天提出延期申请，延期不得超过5天；市局办公室有回复时间要求的…为准
A000_DISPATCH = "000 统一派单 二"  # 于第二日9时前进行派单，第二日为节假日的顺延
A001_LIMITS = "001 四(三)"  # 简单 10 / 一般 15 / 重大疑难 20 个工作日；到期不能办结的应书面报告阶段进展情况
A002_SIGN = "002 四(一)"  # 签收时间不得超过24小时
A002_RESPONSE = "002 四(二)"  # 在接单2小时内介入处置，一般类诉求按工单限时提前办结反馈
A002_137 = "002 工作要求(二)"  # “137”: 1个工作日内交办并初步反馈，3天内处理完毕并回复，复杂问题7天内提出方案
A002_REPORT = "002 二(二)"  # 不能按期办结的应当说明理由并报告阶段性工作情况
A002_SUPERVISION = "002 四(九)"  # 旗政府督查室…下达督办单，进行跟踪督办
A003_LIMITS = "003 三(三)"  # 在规定时限内答复
A003_SUPERVISION = "003 三(四)"  # 对逾期未办结事项，应督促承办单位书面上报情况，说明理由，在规定时间内予以办结

SIGN_OFF = {"after": "PT24H", "article": A002_SIGN}
RESPONSE = {"after": "PT2H", "article": A002_RESPONSE}
DISPATCH = {"at": "09:00:00", "roll_to_workday": True, "platforms": None, "article": A000_DISPATCH}
SAME_DAY_URGENT = {"紧急": 0, "特急": 0}  # 应急类: 12345 marks urgency 紧急 / 特急


def _resolution_000() -> dict[str, Any]:
    return {
        "p12345": {"by_type": {"咨询": 0, "复杂咨询": 5, "求助": 0, "投诉": 5, "举报": 5, "建议": 5, "表扬": 5},
                   "by_urgency": SAME_DAY_URGENT, "default": 10, "article": A000_LIMITS},
        "mayor": {"default": 5, "article": A000_LIMITS},  # 市长热线反映问题类
        "mailbox": {"default": 10, "article": A000_LIMITS},  # 厅（局）长信箱来信
        "*": {"default": 10, "article": A000_LIMITS},  # 其他类问题暂按 10 个工作日
    }


def _resolution_001() -> dict[str, Any]:
    return {"p12389": {"by_type": {"简单": 10, "一般": 15, "重大": 20}, "article": A001_LIMITS}}


EXTENSION_000 = {"max_days": 5, "unit": "calendar_days", "min_notice": "P1D", "max_count": 1,
                 "article": A000_EXTENSION, "report_platforms": [], "report_article": ""}
UNBOUNDED_EXTENSION = {"max_days": None, "unit": "calendar_days", "min_notice": "PT0S", "max_count": None}

PROFILES: dict[str, dict[str, Any]] = {
    "default": {
        "sign_off": SIGN_OFF,
        "dispatch": DISPATCH,
        "response": RESPONSE,
        "first_feedback": None,
        "complex_plan": None,
        "resolution": {**_resolution_000(), **_resolution_001()},
        "extension": {**EXTENSION_000, "report_platforms": ["p12389"], "report_article": A001_LIMITS},
        "platform_article": A000_LIMITS,
        "supervision_article": A000_EXTENSION,
    },
    "000": {
        "sign_off": None,
        "dispatch": DISPATCH,
        "response": None,
        "first_feedback": None,
        "complex_plan": None,
        "resolution": _resolution_000(),
        "extension": EXTENSION_000,
        "platform_article": A000_LIMITS,
        "supervision_article": A000_EXTENSION,
    },
    "001": {
        "sign_off": None,
        "dispatch": None,
        "response": None,
        "first_feedback": None,
        "complex_plan": None,
        "resolution": _resolution_001(),
        "extension": {**UNBOUNDED_EXTENSION, "article": A001_LIMITS, "report_platforms": ["p12389"],
                      "report_article": A001_LIMITS},
        "platform_article": A001_LIMITS,
        "supervision_article": A001_LIMITS,
    },
    "002": {
        "sign_off": SIGN_OFF,
        "dispatch": None,  # 137 counts 交办 together with the first feedback
        "response": RESPONSE,
        "first_feedback": {"days": 1, "unit": "working_days", "platforms": ["p12345"], "article": A002_137},
        "complex_plan": {"days": 7, "unit": "calendar_days", "platforms": ["p12345"], "article": A002_137},
        # 3天内处理完毕并回复 (calendar days, as against "1个工作日" in the same sentence); a complex ticket
        # answers to its plan instead ("复杂" → no policy limit; the platform's own still binds).
        "resolution": {"p12345": {"by_type": {"复杂": None}, "default": 3, "unit": "calendar_days",
                                  "article": A002_137}},
        "extension": {**UNBOUNDED_EXTENSION, "article": A002_REPORT, "report_platforms": ["p12345"],
                      "report_article": A002_REPORT},
        "platform_article": A002_RESPONSE,
        "supervision_article": A002_SUPERVISION,
    },
    "003": {
        "sign_off": None,
        "dispatch": None,
        "response": None,
        "first_feedback": None,
        "complex_plan": None,
        "resolution": {},  # 在规定时限内答复: the platform's limits are the rule
        "extension": {**UNBOUNDED_EXTENSION, "article": "", "report_platforms": [], "report_article": ""},
        "platform_article": A003_LIMITS,
        "supervision_article": A003_SUPERVISION,
    },
}

PROFILE_LABELS: dict[str, str] = {
    "default": "默认（综合四地规定，见 DESIGN.md）",
    "000": "000 亳州市公安局群众咨询投诉问题八项制度",
    "001": "001 泰安市公安局12389举报投诉事项核查工作机制",
    "002": "002 乌审旗公安局12345“接诉即办”（“137”工作法）",
    "003": "003 嘉定公安分局12345市民服务热线实施方案",
}


def profile_data(name: str) -> dict[str, Any]:
    """The rules of a named profile as plain data (a fresh copy), or ValueError naming the known ones."""
    if name not in PROFILES:
        raise ValueError(f"unknown deadline profile {name!r}; known: {', '.join(PROFILES)}")
    copied: dict[str, Any] = _copy(PROFILES[name])
    return copied


def _copy(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _copy(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_copy(v) for v in value]
    return value
