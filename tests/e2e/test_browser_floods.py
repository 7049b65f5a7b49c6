"""Issue 13, points 2 and 4, in a real browser (Debian's chromium via Playwright) against a real gateway and
mock 12345, as the role who meets each: the unit's refused upload (.exe, then a file over the limit) shows its
error inside the upload form, in view, with the note typed kept; the duty officer facing a midnight flood sees
it grouped per kind and unit and acknowledges a whole group, then the checked rest, each with one note.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import select

from gateway.store.db import transaction
from gateway.store.tables_auth import AuditRecord
from gateway.store.tables_sla import AlertRecord
from tests.e2e.harness import UNIT, Stack
from tests.e2e.test_browser import browser as browser
from tests.e2e.test_browser import signed_in
from tests.e2e.test_browser_day import people, pushed
from tests.sla_support import new_ticket

pytestmark = pytest.mark.browser
IN_VIEW = "el => { const r = el.getBoundingClientRect(); return r.top >= 0 && r.bottom <= window.innerHeight; }"


def test_a_refused_upload_shows_its_error_in_the_upload_form_with_the_note_kept(
    make_stack: Callable[..., Stack], browser: Any
) -> None:
    stack = make_stack(platforms={"p12345": {}}, settings={"dashboard": {"upload_max_bytes": 1_048_576}})
    people(stack)
    ticket = pushed(stack, title="小区内电动车充电线私拉乱接")
    stack.act("duty", ticket["id"], "sign-off")
    stack.dispatch(ticket["id"])

    unit = signed_in(browser, stack, "unit")
    unit.goto(f"{stack.url}/dashboard/tickets/{ticket['id']}")
    refusals = (("整改前现场照片", {"name": "现场.exe", "mimeType": "application/octet-stream",
                                     "buffer": b"MZ\x90\x00" + b"\x00" * 512}, "不支持的文件类型"),
                ("整改后录音", {"name": "录音.mp3", "mimeType": "audio/mpeg",
                               "buffer": b"ID3\x03\x00" + b"\x00" * (1_048_576 + 10)}, "文件超过 1 MB 上限"))
    for note, upload, error in refusals:
        unit.set_input_files("#form-evidence input[type=file]", files=[upload])
        unit.fill("#form-evidence input[name=note]", note)
        unit.click("#form-evidence button[type=submit]")
        unit.wait_for_selector("#form-evidence .flash.error")
        assert error in unit.inner_text("#form-evidence .flash.error")  # next to the upload form …
        assert unit.eval_on_selector("#form-evidence .flash.error", IN_VIEW)  # … where the page is
        assert unit.query_selector("main > #flash") is None  # not up at the top, out of sight
        assert unit.input_value("#form-evidence input[name=note]") == note  # what was typed is kept
        assert "暂无证据材料" in unit.inner_text("#evidence")  # and nothing was kept of the file

    unit.set_input_files("#form-evidence input[type=file]", files=[
        {"name": "现场.png", "mimeType": "image/png", "buffer": b"\x89PNG\r\n\x1a\n" + b"\x00" * 64}])
    unit.fill("#form-evidence input[name=note]", "整改前现场照片")
    unit.click("#form-evidence button[type=submit]")
    unit.wait_for_selector("#form-evidence .flash.ok")
    assert "已上传证据：现场.png" in unit.inner_text("#form-evidence .flash.ok")
    assert unit.input_value("#form-evidence input[name=note]") == ""  # accepted: the form is fresh again


def test_the_duty_officer_acknowledges_a_midnight_flood_by_group_and_by_checked_rows(
    make_stack: Callable[..., Stack], browser: Any
) -> None:
    stack = make_stack(platforms={"p12345": {}})
    people(stack)
    sessions, now = stack.container.sessions, stack.container.clock()
    ids: list[int] = []
    for k in range(10):  # eight of 城关派出所's same-day tickets and two not dispatched breach at midnight
        ticket_id = new_ticket(sessions, issued_at=now, unit=UNIT if k < 8 else None)
        with transaction(sessions) as s:
            alert = AlertRecord(dedup_key=f"flood:{k}", kind="breach", severity="critical", state="active",
                                audience="duty", ticket_id=ticket_id, platform="p12345", external_id=f"F{k}",
                                timer_kind="resolution", threshold=100, message=f"【已超时】12345工单 F{k}办结已超时",
                                fire_at=now, created_at=now)
            s.add(alert)
            s.flush()
            ids.append(alert.id)

    duty = signed_in(browser, stack, "duty")
    duty.click("header nav >> text=告警")
    duty.wait_for_selector("#alert-groups")
    assert "未确认 10 条，2 组" in duty.inner_text("#alert-groups h2")
    group = duty.locator("#alert-groups tr.alert-group", has_text=UNIT)
    assert "8 条" in group.inner_text()
    group.locator("input[name=note]").fill("零点批量超时，已电话通知城关派出所")
    group.locator("button[type=submit]").click()  # one action for the whole group
    duty.wait_for_selector(".flash.ok")
    assert "已确认 8 条告警" in duty.inner_text(".flash.ok")
    assert "未确认 2 条，1 组" in duty.inner_text("#alert-groups h2")

    duty.check("#alerts-all")  # the rest: checked rows, one note
    duty.fill("#form-alerts-ack input[name=note]", "未派单工单，值班员跟进")
    duty.click("#form-alerts-ack button[type=submit]")
    duty.wait_for_selector(".flash.ok")
    assert "已确认 2 条告警" in duty.inner_text(".flash.ok")
    assert duty.query_selector("#alert-groups") is None and "没有未确认的告警" in duty.inner_text("#alerts")

    with sessions() as s:
        states = {a.id: (a.state, a.acknowledged_by) for a in s.scalars(select(AlertRecord))}
        notes = {a.target: a.detail.get("note") for a in s.scalars(
            select(AuditRecord).where(AuditRecord.action == "alert_acknowledged"))}
    assert all(states[i] == ("acknowledged", "值班员小王") for i in ids)
    assert notes == {**{f"alert:{i}": "零点批量超时，已电话通知城关派出所" for i in ids[:8]},
                     **{f"alert:{i}": "未派单工单，值班员跟进" for i in ids[8:]}}
