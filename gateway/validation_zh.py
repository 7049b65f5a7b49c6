"""Pydantic's validation errors in Chinese, for the people who read them (issue 13 point 7).

Pydantic writes "Input should be '属实', '部分属实', '不属实' or '无法核实'" and "Field required". The
dashboard's flash and the API's human ``message`` say instead "是否属实：须为以下之一：属实、部分属实、不属实、
无法核实" and "调查情况：必填". The machine parts stay as they are: the API's ``code`` and each error's
``loc`` and ``type`` (``gateway/api/errors.py``). A type this table does not know reads 取值无效, never
English; a field it does not know is named by its ``loc`` (the API's own field name).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

# The field names people meet in forms and API bodies → the words on the form.
FIELD_LABELS: dict[str, str] = {
    "is_true": "是否属实", "investigation": "调查情况", "disposition": "处置结果", "citizen_opinion": "反映人意见",
    "resolved": "办理结果", "responsibility": "责任认定", "rectification": "整改情况", "public_reply": "答复诉求人",
    "contacted": "是否已联系诉求人", "contacted_at": "联系时间", "evidence": "证据文件", "evidence_ids": "证据文件",
    "file": "文件", "unit": "承办单位", "note": "说明", "reason": "理由", "reason_code": "情形", "days": "延期天数",
    "expected_days": "预计办理天数", "due_at": "期限", "report": "阶段进展情况", "plan": "解决方案",
    "explanation": "情况说明", "findings": "甄别调查情况", "answer": "书面答复", "cause": "甄别结果",
    "body": "实施甄别的单位", "told": "通报结果", "opinion": "反映人意见", "how": "通报方式", "satisfied": "是否满意",
    "exempt_reason": "免予通报理由", "value": "认定结果", "chief": "主要领导", "visit": "上门劝解情况",
    "username": "用户名", "password": "密码", "display_name": "姓名", "roles": "角色", "active": "启用",
    "name": "名称", "kind": "类别", "parent": "上级单位", "area": "辖区", "phone": "电话", "contact_phone": "联系电话",
    "day": "日期", "month": "月份", "year": "年份", "start": "开始日期", "end": "结束日期", "limit": "条数",
    "before": "分页位置", "cursor": "分页位置", "q": "搜索词", "state": "状态", "platform": "平台", "status": "状态",
    "target": "退回去向", "mode": "方式", "timer": "期限类别", "current": "当前密码", "new": "新密码",
    "ids": "所选工单", "comment": "意见", "urgency": "紧急程度", "complex": "复杂问题",
}

# Pydantic v2 error types → 中文; ``{name}`` is filled from the error's ``ctx``.
TYPES: dict[str, str] = {
    "missing": "必填",
    "literal_error": "须为以下之一：{expected}",
    "enum": "须为以下之一：{expected}",
    "string_too_short": "至少 {min_length} 个字",
    "string_too_long": "最多 {max_length} 个字",
    "string_type": "须为文本",
    "string_unicode": "须为有效的文本",
    "string_pattern_mismatch": "格式不正确",
    "too_short": "至少 {min_length} 项",
    "too_long": "最多 {max_length} 项",
    "int_type": "须为整数", "int_parsing": "须为整数", "int_from_float": "须为整数",
    "float_type": "须为数字", "float_parsing": "须为数字", "decimal_parsing": "须为数字",
    "finite_number": "须为有限的数",
    "bool_type": "须为是或否", "bool_parsing": "须为是或否",
    "greater_than": "须大于 {gt}", "greater_than_equal": "不能小于 {ge}",
    "less_than": "须小于 {lt}", "less_than_equal": "不能大于 {le}",
    "datetime_type": "须为有效的日期时间", "datetime_parsing": "须为有效的日期时间",
    "datetime_from_date_parsing": "须为有效的日期时间", "timezone_aware": "须带时区（如 +08:00）",
    "date_type": "须为有效的日期", "date_parsing": "须为有效的日期", "date_from_datetime_parsing": "须为有效的日期",
    "time_parsing": "须为有效的时间",
    "list_type": "须为列表", "dict_type": "须为对象", "model_type": "须为对象", "model_attributes_type": "须为对象",
    "extra_forbidden": "不接受此项",
    "json_invalid": "不是有效的 JSON",
    "json_type": "不是有效的 JSON",
    "url_parsing": "须为有效的网址", "url_type": "须为有效的网址", "url_scheme": "须为 http 或 https 网址",
    "uuid_parsing": "格式不正确", "uuid_type": "格式不正确",
    "none_required": "须为空",
    "value_error": "取值无效",
    "assertion_error": "取值无效",
}
FALLBACK = "取值无效"
_HAN = re.compile(r"[\u3400-\u9fff]")
_PREFIXES = ("Value error, ", "Assertion failed, ")


def _choices(expected: str) -> str:
    """pydantic's "'属实', '部分属实' or '无法核实'" → 属实、部分属实、无法核实."""
    parts = re.split(r", | or ", expected)
    return "、".join(p.strip().strip("'\"") for p in parts if p.strip())


def field_label(loc: Sequence[Any]) -> str:
    """The field an error is about, as the form names it; its ``loc`` when the table does not know it."""
    if loc and loc[0] in ("body", "query", "path", "header", "cookie"):  # where FastAPI found it
        loc = loc[1:]
    names = [str(p) for p in loc if not isinstance(p, int)]
    if not names:
        return "请求内容"
    label = FIELD_LABELS.get(names[-1])
    return label if label else ".".join(names)


def reason(error: Mapping[str, Any]) -> str:
    """What is wrong with the value, in Chinese (without the field)."""
    kind = str(error.get("type", ""))
    if kind in ("value_error", "assertion_error"):
        own = str(error.get("msg", ""))
        for prefix in _PREFIXES:
            own = own.removeprefix(prefix)
        if _HAN.search(own):  # our own validators already speak Chinese
            return own
    template = TYPES.get(kind)
    if template is None:
        return FALLBACK
    ctx = dict(error.get("ctx") or {})
    if "expected" in ctx:
        ctx["expected"] = _choices(str(ctx["expected"]))
    if kind == "string_too_short" and ctx.get("min_length") == 1:
        return "不能为空"
    try:
        return template.format(**ctx)
    except (KeyError, IndexError, ValueError):
        return template.split("{", 1)[0].rstrip("：: ") or FALLBACK


def describe(error: Mapping[str, Any]) -> str:
    """One error: 是否属实：须为以下之一：属实、部分属实、不属实、无法核实."""
    return f"{field_label(error.get('loc', ()))}：{reason(error)}"


def summary(errors: Iterable[Mapping[str, Any]], limit: int = 5) -> str:
    """Up to ``limit`` errors in one line, one per field (the first error of a field names it)."""
    seen: dict[str, str] = {}
    for error in errors:
        label = field_label(error.get("loc", ()))
        seen.setdefault(label, reason(error))
    shown = [f"{label}：{why}" for label, why in list(seen.items())[:limit]]
    more = len(seen) - len(shown)
    return "；".join(shown) + (f"；另有 {more} 项" if more > 0 else "")
