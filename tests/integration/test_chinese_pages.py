"""Issue 13 points 7 and 10, through the dashboard as the people who meet them: the mailbox status in Chinese,
a refused upload and a refused form in Chinese only, and the demo's banner naming a real 12345 ticket.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import update

from app.bootstrap import Container
from app.demo import banner, demo_settings, first_ticket, wait_for_ticket
from app.web import create_app
from gateway.settings import Role
from gateway.store.db import transaction
from gateway.store.tables import TicketRecord
from tests.integration.dashboard_support import UNIT, Browser, add_ticket, build_container, token
from tests.integration.dashboard_support import cheap_hashes as cheap_hashes


@pytest.fixture
def container(db_url: str, make_settings: Callable[..., Any], tmp_path: Path) -> Iterator[Container]:
    yield from build_container(db_url, make_settings, tmp_path)


def set_platform(container: Container, tid: int, platform: str, status: str) -> None:
    with transaction(container.sessions) as s:
        s.execute(update(TicketRecord).where(TicketRecord.id == tid).values(platform=platform, platform_status=status))


def in_hand(container: Container, external_id: str) -> int:
    """Signed and dispatched to the unit (leader-approved): the unit may upload evidence and reply."""
    api = TestClient(create_app(container))
    tid = add_ticket(container, external_id)
    assert api.post(f"/api/v1/tickets/{tid}/sign-off", headers=token("duty")).is_success
    assert api.post(f"/api/v1/tickets/{tid}/dispatch", json={"unit": UNIT}, headers=token("duty")).is_success
    assert api.post(f"/api/v1/tickets/{tid}/dispatch/approve", json={}, headers=token("leader")).is_success
    return tid


def status_shown(browser: Browser, tid: int) -> str:
    found = re.search(r'<span id="platform-status">([^<]*)</span>', browser.get(f"/dashboard/tickets/{tid}").text)
    assert found
    return found.group(1)


def test_the_mailbox_ticket_shows_its_status_in_chinese_and_an_unknown_one_as_unknown(container: Container) -> None:
    tid = add_ticket(container, "M-1")
    set_platform(container, tid, "mailbox", "pending_review")
    duty = Browser(container)
    duty.login("duty")
    assert status_shown(duty, tid) == "待受理"
    assert "pending_review" not in duty.get(f"/dashboard/tickets/{tid}").text
    set_platform(container, tid, "mailbox", "escalated_to_mayor")  # a value the table does not know yet
    page = duty.get(f"/dashboard/tickets/{tid}")
    assert page.status_code == 200 and status_shown(duty, tid) == "未知"


def test_a_refused_upload_reads_chinese_only(container: Container) -> None:
    tid = in_hand(container, "U-1")
    unit = Browser(container)
    unit.login("unit")
    unit.post(f"/dashboard/tickets/{tid}/evidence", files={"file": ("setup.exe", b"MZ\x90\x00" + b"\x00" * 64)})
    allowed = "、".join(container.settings.dashboard.upload_types)
    assert unit.flash() == f"error: 不支持的文件类型，仅接受：{allowed}"  # once "… (file type not allowed …)"
    container.settings.dashboard.upload_max_bytes = 1_048_576
    big = b"\x89PNG\r\n\x1a\n" + b"\x00" * 1_100_000
    unit.post(f"/dashboard/tickets/{tid}/evidence", files={"file": ("现场.png", big, "image/png")})
    assert unit.flash() == "error: 文件超过 1 MB 上限"  # once "… (file too large)"


def test_a_refused_reply_names_the_fields_and_the_rule_in_chinese(container: Container) -> None:
    tid = in_hand(container, "R-1")
    unit = Browser(container)
    unit.login("unit")
    unit.post(f"/dashboard/tickets/{tid}/reply", {"is_true": "true", "investigation": "短", "disposition": "已处理",
                                                   "citizen_opinion": "认可"})
    assert unit.flash() == ("error: 答复内容不完整或有误：是否属实：须为以下之一：属实、部分属实、不属实、无法核实；"
                            "调查情况：至少 5 个字")


def test_a_form_the_page_sends_wrong_is_answered_in_chinese(container: Container) -> None:
    tid = in_hand(container, "F-1")
    unit = Browser(container)
    unit.login("unit")
    unit.post(f"/dashboard/tickets/{tid}/extension", {"days": "9", "reason": "急"},
              headers={"referer": f"https://testserver/dashboard/tickets/{tid}"})
    assert unit.flash() == "error: 表单填写不完整或有误：延期天数：不能大于 5；理由：至少 2 个字"


def test_the_api_message_is_chinese_and_keeps_the_machine_fields(container: Container) -> None:
    tid = in_hand(container, "A-1")
    api = TestClient(create_app(container))
    refused = api.post(f"/api/v1/tickets/{tid}/reply", json={"is_true": "属实"}, headers=token("unit"))
    error = refused.json()["error"]
    assert refused.status_code == 422 and error["code"] == "invalid_request"
    assert error["message"] == "请求参数有误：调查情况：必填；处置结果：必填；反映人意见：必填"
    assert [f["loc"][-1] for f in error["fields"]] == ["investigation", "disposition", "citizen_opinion"]
    assert {f["type"] for f in error["fields"]} == {"missing"}


def test_the_demo_banner_names_a_real_12345_ticket_waiting_for_sign_off(container: Container) -> None:
    assert first_ticket(container) is None and wait_for_ticket(container, timeout_s=0) is None
    mailbox = add_ticket(container, "M-2")
    set_platform(container, mailbox, "mailbox", "pending_review")
    signed = in_hand(container, "S-1")
    waiting = add_ticket(container, "W-1")
    later = add_ticket(container, "W-2")
    assert first_ticket(container) == waiting != later and signed < waiting
    assert wait_for_ticket(container, timeout_s=1) == waiting
    tokens = {role: f"demo-{role.value}-0123456789" for role in Role}
    text = banner(demo_settings(8000, tokens), tokens, ticket_id=waiting)
    assert f"  T={waiting}   #" in text and "<" not in text.split(f"T={waiting}")[0].splitlines()[-1]
    assert "/api/v1/tickets/$T/sign-off" in text and "每小时约 6 件" in text
    assert "T=" not in banner(demo_settings(8000, tokens), tokens, ticket_id=None)
