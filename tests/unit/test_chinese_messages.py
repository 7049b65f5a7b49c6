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
