"""Issue 13 point 7: users see Chinese only; English stays in logs and in the API's machine ``code``.

Every message a person reads from an error the core raises (``DomainError`` and its kin, HTTP errors, the
API's fixed texts) is Chinese without an English gloss in brackets: the gloss was once added for the
developers, who now read the ``code`` and the logs.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2] / "gateway"
RAISED = {"DomainError", "Forbidden", "NotFound", "HTTPException", "LoginRefused", "LoginThrottled", "_fail",
          "error_response"}
ENGLISH_GLOSS = re.compile(r"[(（]\s*[A-Za-z][A-Za-z0-9 _:;,'/.|\-–!?{}\[\]=>]*[)）]")


def _text(node: ast.AST) -> str:
    """The literal parts of a string argument (an f-string's fields stand as ``{}``)."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.JoinedStr):
        return "".join(_text(v) if isinstance(v, ast.Constant) else "{}" for v in node.values)
    if isinstance(node, ast.BinOp):
        return _text(node.left) + _text(node.right)
    return ""


def _messages() -> list[tuple[str, str]]:
    found = []
    for path in sorted(ROOT.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call):
                name = getattr(node.func, "id", None) or getattr(node.func, "attr", None)
                if name in RAISED:
                    for arg in node.args:
                        if text := _text(arg):
                            found.append((f"{path.relative_to(ROOT.parent)}:{node.lineno}", text))
    return found


def test_the_scan_sees_the_messages() -> None:
    messages = _messages()
    assert len(messages) > 100  # the scan reads the raises, not nothing
    assert any("不是本单位承办的工单" in text for _, text in messages)


def test_no_message_a_user_reads_carries_an_english_gloss() -> None:
    glossed = [f"{where}: {text}" for where, text in _messages() if ENGLISH_GLOSS.search(text)]
    assert glossed == []


@pytest.mark.parametrize("text", ["文件超过 20 MB 上限 (file too large)", "无权访问（forbidden）"])
def test_the_gloss_pattern_catches_what_it_should(text: str) -> None:
    assert ENGLISH_GLOSS.search(text)


@pytest.mark.parametrize("text", ["须写明终结理由（不少于10字）", "（{}）预计 {} 天", "月份格式为 YYYY-MM"])
def test_the_gloss_pattern_spares_chinese_brackets(text: str) -> None:
    assert not ENGLISH_GLOSS.search(text)


# --- labels: every status / enum value shown to users in Chinese, an unknown one as 未知 -----------------


@pytest.mark.parametrize(("value", "word"), [("pending_review", "待受理"), ("accepted", "已受理"),
                                             ("answered", "已答复"), ("transferred", "已转办"),
                                             ("invalid", "无效信件"), ("duplicate", "重复信件")])
def test_the_mailbox_status_reads_chinese(value: str, word: str) -> None:
    from gateway.dashboard.labels import platform_status

    assert platform_status(value, "mailbox") == word


def test_every_mailbox_status_the_mapper_accepts_has_a_chinese_word() -> None:
    from gateway.catalogue import statuses
    from mappers.mailbox.tables import STATUSES

    assert set(STATUSES) == set(statuses("mailbox"))


def test_platform_statuses_already_in_chinese_stay_and_unknown_ones_read_unknown() -> None:
    from gateway.dashboard.labels import platform_status

    assert platform_status("办理中", "p12345") == "办理中"  # 12345, 12389 and the mayor speak Chinese already
    assert platform_status("on_hold", "mailbox") == "未知"  # a new platform value: never raw, never a crash
    assert platform_status("on_hold", "no-such-platform") == "未知"
    assert platform_status(None, "mailbox") == "—" and platform_status("", "mailbox") == "—"


def test_zh_names_codes_from_their_table_and_never_shows_english() -> None:
    from gateway.dashboard import labels
    from gateway.schema import TicketStatus

    assert labels.zh("received", labels.STATUS) == "待签收"
    assert labels.zh(TicketStatus.closed, labels.STATUS) == "已办结"  # an enum member by its value
    assert labels.zh("brand_new_state", labels.STATUS) == "未知"
    assert labels.zh("urgent", None) == "未知" and labels.zh("紧急", None) == "紧急"
    assert labels.zh(None, labels.SENT_BACK_STEP, "") == ""


def test_the_templates_show_no_code_without_its_table() -> None:
    # The old pattern showed an unknown code raw: L.X.get(code, code). Every table lookup now goes through zh.
    templates = ROOT / "dashboard" / "templates"
    raw = [f"{p.name}: {m.group()}" for p in templates.glob("*.html")
           for m in re.finditer(r"L\.[A-Z_]+\.get\(([^,()]+), \1\)", p.read_text(encoding="utf-8"))]
    assert raw == []
    assert "platform_status(t.platform)" in (templates / "ticket.html").read_text(encoding="utf-8")


# --- pydantic validation errors in Chinese ------------------------------------------------------------


def _errors(data: dict[str, object]) -> list[dict[str, object]]:
    from pydantic import ValidationError

    from gateway.schema import ReplyDraft

    with pytest.raises(ValidationError) as refused:
        ReplyDraft.model_validate(data)
    return [dict(e) for e in refused.value.errors()]


GOOD = {"is_true": "属实", "investigation": "经民警现场核查。", "disposition": "已责令整改", "citizen_opinion": "满意"}


@pytest.mark.parametrize(("change", "expected"), [
    ({"is_true": "true"}, "是否属实：须为以下之一：属实、部分属实、不属实、无法核实"),
    ({"investigation": "短"}, "调查情况：至少 5 个字"),
    ({"disposition": "处" * 4001}, "处置结果：最多 4000 个字"),
    ({"citizen_opinion": None}, "反映人意见：须为文本"),
])
def test_a_reply_draft_error_reads_chinese(change: dict[str, object], expected: str) -> None:
    from gateway.validation_zh import summary

    assert summary(_errors({**GOOD, **change})) == expected


def test_a_missing_field_reads_required_and_the_summary_names_each_field_once() -> None:
    from gateway.validation_zh import summary

    text = summary(_errors({"is_true": "属实"}))
    assert text == "调查情况：必填；处置结果：必填；反映人意见：必填"
    assert not re.search(r"[A-Za-z]", text)


@pytest.mark.parametrize(("error", "expected"), [
    ({"type": "missing", "loc": ("body", "note")}, "说明：必填"),
    ({"type": "int_parsing", "loc": ("query", "limit")}, "条数：须为整数"),
    ({"type": "less_than_equal", "loc": ("path", "ticket_id"), "ctx": {"le": 9}}, "ticket_id：不能大于 9"),
    ({"type": "string_too_short", "loc": ("body", "reason"), "ctx": {"min_length": 1}}, "理由：不能为空"),
    ({"type": "json_invalid", "loc": ("body", 12)}, "请求内容：不是有效的 JSON"),
    ({"type": "brand_new_type", "loc": ("body", "body")}, "实施甄别的单位：取值无效"),
    ({"type": "value_error", "loc": ("body",), "msg": "Value error, 调休上班日 2027-03-03 是星期三"},
     "请求内容：调休上班日 2027-03-03 是星期三"),
    ({"type": "value_error", "loc": ("body", "x"), "msg": "Value error, something English"}, "x：取值无效"),
    ({"type": "greater_than", "loc": ("body", "days")}, "延期天数：须大于"),  # ctx missing: no crash
])
def test_pydantic_error_types_translate(error: dict[str, object], expected: str) -> None:
    from gateway.validation_zh import describe

    assert describe(error) == expected


def test_a_long_list_of_errors_is_cut_with_a_count() -> None:
    from gateway.validation_zh import summary

    errors = [{"type": "missing", "loc": ("body", f"f{i}")} for i in range(7)]
    assert summary(errors, limit=5).endswith("；另有 2 项")
