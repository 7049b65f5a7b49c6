"""Nothing invented, nothing leaked — end to end over real HTTP with the 12389 and 12345 mocks.

A 12389 reporter whose phone also arrives in a 12345 push (一事多投): duty, leader, unit and admin see
nothing of the reporter and nothing of the 12389 case through the 12345 ticket — not in the API's JSON, the
dashboard's HTML or the Excel exports (001 五, RULES.md §5); the supervisor (督察) sees the reporter and
the link. A 12389 核查报告 reaches the platform with exactly the 责任认定 and 整改情况 typed in the dashboard
(001 四(四)), after the unit head's review (002 三(二)) and a leader's approval; nobody approves their own
draft, admin included (000 督办 三).
"""

from __future__ import annotations

import io
import re
from collections.abc import Callable
from typing import Any

import httpx
from openpyxl import load_workbook

from gateway.services import accounts
from gateway.store.db import transaction
from tests.e2e.harness import REPLY, UNIT, Stack, wait_for

PASSWORD = "e2e-pass-2026-x"
PEOPLE: dict[str, tuple[str, list[str], str | None]] = {
    "duty": ("值班员小孙", ["duty"], None),
    "unit": ("城关所刘警官", ["unit"], UNIT),
    "unit_head": ("城关所钱所长", ["unit_head"], UNIT),
    "leader": ("分管领导吴局", ["leader"], None),
    "supervisor": ("督察郑队", ["supervisor"], None),
    "admin": ("管理员冯工", ["admin"], None),
    "unit_leader": ("城关所陈教导员", ["unit", "leader"], UNIT),
    "admin_leader": ("办公室褚主任", ["admin", "leader", "duty"], None),
}
# Case A: the reporter who also calls 12345. Every value invented, each distinctive enough to search for.
PHONE = "13955501234"
REPORTER = {"xm": "上官若曦", "sfzh": "37090219880808642X", "lxdh": PHONE, "dz": "示例市岱岳区泰山大街166号7栋"}
MASKED = f"{PHONE[:3]}****{PHONE[-4:]}"  # the partial mask non-supervisors used to get
MATTER = ("3月5日晚我在泰山大街报警，出警民警郑浩到场后不做登记、态度蛮横，还推搡我，"
          "要求严肃查处该民警的违纪行为并给予答复。")
# What the unit types into the dashboard for case B's 核查报告 (001 四(四)).
TYPED = {"responsibility": "经核查，民警王某未按规定出示证件，负直接责任；所长负管理责任",
         "rectification": "已责令王某书面检查，全所开展规范执法专题教育并建立回访制度"}


class Person:
    """A dashboard user over real HTTP: logs in through the form, sends the CSRF token with every form."""

    def __init__(self, stack: Stack, username: str) -> None:
        self.client = httpx.Client(base_url=stack.url, timeout=30, follow_redirects=False)
        stack.clients.append(self.client)
        form = self.client.get("/dashboard/login").text
        token = re.search(r'name="form_token" value="([^"]+)"', form)
        assert token, form[:300]
        done = self.client.post("/dashboard/login", data={"username": username, "password": PASSWORD,
                                                          "form_token": token.group(1), "next": "/dashboard/"})
        assert done.status_code == 303, done.text[:300]
        meta = re.search(r'<meta name="csrf-token" content="([^"]*)"', self.client.get("/dashboard/account").text)
        assert meta
        self.csrf = meta.group(1)

    def get(self, path: str) -> httpx.Response:
        return self.client.get(path)

    def post(self, path: str, data: dict[str, Any] | None = None) -> str:
        """Submit a form; the one-time message it left (``ok: …`` or ``error: …``)."""
        response = self.client.post(path, data={"csrf_token": self.csrf, **(data or {})})
        assert response.status_code == 303, (path, response.status_code, response.text[:300])
        page = self.get("/dashboard/account").text
        found = re.search(r'<div class="flash (\w+)" id="flash"[^>]*>([^<]*)</div>', page)
        return f"{found.group(1)}: {found.group(2)}" if found else ""


def pulled(stack: Stack, platform: str, external_id: str) -> dict[str, Any]:
    def ready() -> dict[str, Any] | None:
        if platform == "p12389":
            stack.container.doorbell.poll(platform)
        return stack.ticket_for(platform, external_id)

    return dict(wait_for(ready, timeout=30, interval=0.3, what=f"{platform} {external_id}"))


def cells(workbook: bytes) -> str:
    book = load_workbook(io.BytesIO(workbook), read_only=True)
    return "\n".join(str(v) for sheet in book.worksheets for row in sheet.iter_rows(values_only=True)
                     for v in row if v is not None)


def views(stack: Stack, role: str, person: Person, ticket_ids: list[int]) -> dict[str, str]:
    """Everything ``role`` can read: API JSON, dashboard pages, exports (path -> text)."""
    api = stack.api(role)
    seen: dict[str, str] = {"api:queue": api.get("/api/v1/tickets", params={"limit": 200}).text}
    for path in ("/api/v1/approvals", "/api/v1/outbound", "/api/v1/alerts?state=all", "/api/v1/units"):
        response = api.get(path)
        if response.status_code == 200:
            seen[f"api:{path}"] = response.text
    for tid in ticket_ids:
        response = api.get(f"/api/v1/tickets/{tid}")
        if response.status_code == 200:
            seen[f"api:ticket:{tid}"] = response.text
        page = person.get(f"/dashboard/tickets/{tid}")
        if page.status_code == 200:
            seen[f"html:ticket:{tid}"] = page.text
    for path in ("/dashboard/", "/dashboard/live", "/dashboard/queue", "/dashboard/approvals", "/dashboard/alerts",
                 "/dashboard/delivery", "/dashboard/reports", "/dashboard/bulletin?kind=week",
                 "/dashboard/bulletin?kind=month"):
        page = person.get(path)
        if page.status_code == 200:
            seen[f"html:{path}"] = page.text
    for path in ("/dashboard/reports/export.xlsx", "/dashboard/bulletin/export.xlsx?kind=month"):
        export = person.get(path)
        assert export.status_code == 200, (role, path)
        seen[f"xlsx:{path}"] = cells(export.content)
    return seen


def test_a_12389_reporter_who_also_calls_12345_stays_with_supervision_and_reports_say_only_what_was_typed(
    make_stack: Callable[..., Stack],
) -> None:
    stack = make_stack(platforms={"p12389": {}, "p12345": {}})
    with transaction(stack.container.sessions) as session:
        for username, (name, roles, unit) in PEOPLE.items():
            accounts.create_user(session, username=username, display_name=name, password=PASSWORD, roles=roles,
                                 unit=unit, actor="e2e", now=stack.container.clock())
    people = {username: Person(stack, username) for username in PEOPLE}

    # Case A on 12389 and the same person's call to 12345, by the same phone: one matter (一事多投).
    case_a = stack.mock("p12389").post("/_mock/cases", json={
        "sfsm": "1", "jbr": REPORTER, "fsdd": REPORTER["dz"], "jbnr": MATTER,
        "bjbdw": "示例市公安局岱岳分局阳光派出所"}).json()
    call = stack.mock("p12345").post("/_mock/orders", json={
        "push": True, "title": "反映民警处警态度问题", "content": MATTER,
        "citizen": {"name": "上官女士", "phone": PHONE, "confidential": False}}).json()
    a = pulled(stack, "p12389", case_a["jbbh"])
    h = pulled(stack, "p12345", call["orderNo"])
    supervisor = stack.api("supervisor")
    linked = supervisor.get(f"/api/v1/tickets/{h['id']}").json()
    assert [t["external_id"] for t in linked["case"]["tickets"]] == [case_a["jbbh"]]  # linked, for 督察

    # Case B: a 12389 complaint the bureau verifies and reports through the dashboard, each step another person.
    case_b = stack.mock("p12389").post("/_mock/cases", json={"bjbdw": "示例市公安局西城分局和平派出所"}).json()
    b = pulled(stack, "p12389", case_b["jbbh"])
    base_b = f"/dashboard/tickets/{b['id']}"
    assert people["duty"].post(f"{base_b}/sign-off").startswith("ok")
    assert "待分管领导审批" in people["duty"].post(f"{base_b}/dispatch", {"unit": UNIT})  # 000 二
    assert people["leader"].post(f"{base_b}/dispatch/approve", {"unit": UNIT}).startswith("ok")
    form = people["unit"].get(base_b).text
    assert 'id="field-responsibility"' in form and 'id="field-rectification"' in form
    draft = {k: v for k, v in REPLY.items() if k in ("is_true", "investigation", "disposition", "citizen_opinion")}
    assert "责任认定" in people["unit"].post(f"{base_b}/reply", draft)  # refused without the report's parts
    assert people["unit"].post(f"{base_b}/reply", {**draft, **TYPED}).startswith("ok")
    assert people["leader"].post(f"{base_b}/reply/approve").startswith("error")  # the unit head first
    assert people["unit_head"].post(f"{base_b}/reply/review").startswith("ok")
    assert people["leader"].post(f"{base_b}/reply/approve").startswith("ok")
    report = wait_for(lambda: stack.ledger("p12389", action="report", order_no=case_b["jbbh"])["entries"] or None,
                      what="the 核查报告 in the 12389 ledger")
    assert (report[0]["body"]["zrrd"], report[0]["body"]["zgqk"]) == (TYPED["responsibility"],
                                                                     TYPED["rectification"])
    assert report[0]["body"]["spr"] == "分管领导吴局"

    # The 12345 ticket: nobody approves a reply they drafted — a unit+leader officer, an admin+leader.
    base_h = f"/dashboard/tickets/{h['id']}"
    people["duty"].post(f"{base_h}/sign-off")
    people["duty"].post(f"{base_h}/dispatch", {"unit": UNIT})
    people["leader"].post(f"{base_h}/dispatch/approve", {"unit": UNIT})
    hotline_reply = {**draft, "resolved": "已解决", "public_reply": "您反映的问题已转督察部门依法处理。"}
    assert people["unit_leader"].post(f"{base_h}/reply", hotline_reply).startswith("ok")
    assert people["unit_head"].post(f"{base_h}/reply/review").startswith("ok")
    assert people["unit_leader"].post(f"{base_h}/reply/approve").startswith("error")
    assert people["admin_leader"].post(f"{base_h}/reply", hotline_reply).startswith("ok")  # drafts as duty
    assert people["unit_head"].post(f"{base_h}/reply/review").startswith("ok")
    assert people["admin_leader"].post(f"{base_h}/reply/approve").startswith("error")
    assert people["admin"].post(f"{base_h}/reply/approve").startswith("error")
    assert stack.ledger("p12345", action="reply", order_no=call["orderNo"])["count"] == 0
    assert people["leader"].post(f"{base_h}/reply/approve").startswith("ok")
    sent = wait_for(lambda: stack.ledger("p12345", action="reply", order_no=call["orderNo"])["entries"] or None,
                    what="the 12345 reply")
    assert case_a["jbbh"] not in str(sent) and sent[0]["body"]["publicReply"] == hotline_reply["public_reply"]

    # What duty, leader, unit and admin can read, everywhere: nothing of the reporter, nothing of case A
    # through the 12345 ticket; the unit (case A is not its case) nothing of case A at all.
    ids = [a["id"], h["id"], b["id"]]
    for role in ("duty", "leader", "unit", "admin", "unit_head"):
        seen = views(stack, role, people[role], ids)
        assert f"api:ticket:{h['id']}" in seen or role == "admin", role
        for where, text in seen.items():
            assert REPORTER["sfzh"] not in text and "泰山大街166号" not in text, (role, where)
            if not where.endswith(f"ticket:{h['id']}"):  # the 12345 caller (name, phone) is that platform's
                assert "上官" not in text, (role, where)
                assert PHONE not in text and MASKED not in text and PHONE[-7:] not in text, (role, where)
        for where in (f"api:ticket:{h['id']}", f"html:ticket:{h['id']}"):
            text = seen.get(where, "")
            assert case_a["jbbh"] not in text and "12389" not in text, (role, where)
        hotline = stack.api(role).get(f"/api/v1/tickets/{h['id']}")
        if hotline.status_code == 200:
            assert hotline.json()["case"] is None
            assert not {"linked", "repeat_complaint"} & {e["kind"] for e in hotline.json()["events"]}
        if role in ("unit", "unit_head"):
            assert stack.api(role).get(f"/api/v1/tickets/{a['id']}").status_code == 404
            assert case_a["jbbh"] not in "".join(seen.values())
        else:
            citizen = stack.api(role).get(f"/api/v1/tickets/{a['id']}").json()["citizen"]
            assert {citizen[k] for k in ("name", "phone", "id_number", "address")} == {"保密"}, role
        for where in (k for k in seen if k.startswith("xlsx:")):
            assert case_a["jbbh"] not in seen[where], (role, where)

    # The supervisor sees everything: the reporter and the link, in the API and the dashboard.
    full = supervisor.get(f"/api/v1/tickets/{a['id']}").json()
    assert (full["citizen"]["name"], full["citizen"]["phone"], full["citizen"]["id_number"]) == (
        REPORTER["xm"], PHONE, REPORTER["sfzh"])
    assert full["address"] == REPORTER["dz"]
    assert [t["external_id"] for t in full["case"]["tickets"]] == [call["orderNo"]]
    page = people["supervisor"].get(f"/dashboard/tickets/{a['id']}").text
    assert REPORTER["xm"] in page and PHONE in page and call["orderNo"] in page
    assert case_a["jbbh"] in people["supervisor"].get(base_h).text
