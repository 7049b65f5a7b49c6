"""Chinese all through, in a real browser (Debian's chromium via Playwright) against a real gateway and the mock
局长信箱 (issue 13 point 7), as the roles who meet it: the duty officer reads the letter's platform status in
Chinese (the mailbox says ``pending_review``); the unit's refused upload and refused reply read Chinese only.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest

from tests.e2e.harness import Stack
from tests.e2e.test_browser import browser as browser
from tests.e2e.test_browser import signed_in
from tests.e2e.test_browser_day import people
from tests.e2e.test_mailbox_e2e import act, new_letter, pulled

pytestmark = pytest.mark.browser
ENGLISH_GLOSS = re.compile(r"\([A-Za-z][^)]*\)")


def error_shown(page: Any) -> str:
    page.wait_for_selector(".flash.error")
    return str(page.inner_text(".flash.error"))


def test_the_mailbox_status_and_the_units_refusals_read_chinese_only(
    make_stack: Callable[..., Stack], browser: Any, tmp_path: Any
) -> None:
    stack = make_stack(platforms={"mailbox": {}})
    people(stack)
    letter_no = new_letter(stack, title="小区门口夜间施工噪音扰民", letter_type="投诉")
    ticket = pulled(stack, letter_no)
    assert ticket["platform_status"] == "pending_review"  # the API keeps the platform's own word

    duty = signed_in(browser, stack, "duty")
    duty.goto(f"{stack.url}/dashboard/tickets/{ticket['id']}")
    assert duty.inner_text("#platform-status") == "待受理"
    assert "pending_review" not in duty.content()

    act(stack, "duty", ticket["id"], "sign-off")
    stack.dispatch(ticket["id"])
    unit = signed_in(browser, stack, "unit")
    unit.goto(f"{stack.url}/dashboard/tickets/{ticket['id']}")
    program = tmp_path / "setup.exe"
    program.write_bytes(b"MZ\x90\x00" + b"\x00" * 256)
    unit.set_input_files("#form-evidence input[name=file]", str(program))
    unit.click("#form-evidence button[type=submit]")
    refused = error_shown(unit)
    assert "不支持的文件类型，仅接受：" in refused and not ENGLISH_GLOSS.search(refused), refused

    unit.goto(f"{stack.url}/dashboard/tickets/{ticket['id']}")
    # What the page's own checks would stop: a value outside the list and a too-short text reach the server.
    unit.evaluate("""() => {
        const form = document.querySelector('#form-reply');
        form.noValidate = true;
        const select = form.querySelector('[name=is_true]');
        const wrong = document.createElement('option');
        wrong.value = wrong.text = 'true';
        select.appendChild(wrong);
        select.value = 'true';
    }""")
    unit.fill("#form-reply [name=investigation]", "短")
    unit.fill("#form-reply [name=disposition]", "已责令施工方夜间停工")
    unit.fill("#form-reply [name=citizen_opinion]", "诉求人表示认可")
    unit.click("#form-reply button[type=submit]")
    refused = error_shown(unit)
    assert ("答复内容不完整或有误：是否属实：须为以下之一：属实、部分属实、不属实、无法核实；调查情况：至少 5 个字"
            in refused), refused
    assert "Input should" not in refused and "String should" not in refused
