"""The handling workflow: dispatch approved by a leader, extensions under the ≥ 24 h rule, 重办 after an
unsatisfied callback, evidence files checked by content, the unit directory (SQLite and PostgreSQL).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, update

from app.bootstrap import Container
from app.web import create_app
from gateway.store.db import transaction
from gateway.store.tables import OutboxRecord, TicketRecord
from gateway.store.tables_dashboard import ApprovalRecord, EvidenceRecord
from gateway.store.tables_sla import SlaTimerRecord
from tests.integration.dashboard_support import NOW, REPLY, UNIT, Browser, add_ticket, build_container, token
from tests.integration.dashboard_support import cheap_hashes as cheap_hashes

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 200
EXE = b"MZ\x90\x00" + b"\x00" * 200


@pytest.fixture
def policy() -> dict[str, Any]:
    return {}


@pytest.fixture
def container(db_url: str, make_settings: Callable[..., Any], tmp_path: Path,
              policy: dict[str, Any]) -> Iterator[Container]:
    yield from build_container(db_url, make_settings, tmp_path, **policy)


@pytest.fixture
def api(container: Container) -> TestClient:
    return TestClient(create_app(container))


def post(api: TestClient, who: str, path: str, **kwargs: Any) -> Any:
    return api.post(path, headers=token(who), **kwargs)


def signed(api: TestClient, container: Container, external_id: str = "W-1") -> int:
    ticket_id = add_ticket(container, external_id)
    assert post(api, "duty", f"/api/v1/tickets/{ticket_id}/sign-off").is_success
    return ticket_id


def dispatched(api: TestClient, container: Container, external_id: str = "W-1") -> int:
    """Signed, dispatched by the duty officer and approved by the leader (000 二)."""
    ticket_id = signed(api, container, external_id)
    assert post(api, "duty", f"/api/v1/tickets/{ticket_id}/dispatch", json={"unit": UNIT}).is_success
    assert post(api, "leader", f"/api/v1/tickets/{ticket_id}/dispatch/approve", json={}).is_success
    return ticket_id


def approvals(container: Container) -> list[tuple[str, str]]:
    with container.sessions() as s:
        return [(a.kind, a.state) for a in s.scalars(select(ApprovalRecord).order_by(ApprovalRecord.id))]


@pytest.mark.parametrize("policy", [{"dispatch_approval": "after"}])
def test_under_the_after_option_a_duty_dispatch_takes_effect_at_once_and_waits_for_the_leaders_confirmation(
    api: TestClient, container: Container
) -> None:
    ticket_id = signed(api, container)
    body = post(api, "duty", f"/api/v1/tickets/{ticket_id}/dispatch", json={"unit": UNIT}).json()
    assert body["status"] == "dispatched" and body["unit"] == UNIT
    assert approvals(container) == [("dispatch", "pending")]
    moved = post(api, "leader", f"/api/v1/tickets/{ticket_id}/dispatch/approve", json={"unit": "东城派出所"}).json()
    assert moved["unit"] == "东城派出所" and approvals(container) == [("dispatch", "approved")]
    assert [e["kind"] for e in moved["events"]][-2:] == ["dispatched", "dispatch_approved"]


def test_by_default_a_duty_dispatch_takes_effect_only_when_the_leader_approves_it(
    api: TestClient, container: Container
) -> None:
    """000 二: 经分管局领导审阅后…派单 — the leader reviews before the dispatch, by default."""
    assert container.settings.dashboard.dispatch_approval == "before"
    ticket_id = signed(api, container)
    proposed = post(api, "duty", f"/api/v1/tickets/{ticket_id}/dispatch", json={"unit": UNIT}).json()
    assert proposed["status"] == "signed" and proposed["unit"] is None
    assert post(api, "unit", f"/api/v1/tickets/{ticket_id}/response", json={}).status_code == 403
    rejected = post(api, "leader", f"/api/v1/tickets/{ticket_id}/dispatch/reject", json={"reason": "应由治安大队办"})
    assert rejected.json()["status"] == "signed" and approvals(container) == [("dispatch", "rejected")]
    post(api, "duty", f"/api/v1/tickets/{ticket_id}/dispatch", json={"unit": UNIT})
    approved = post(api, "leader", f"/api/v1/tickets/{ticket_id}/dispatch/approve", json={}).json()
    assert approved["status"] == "dispatched" and approved["unit"] == UNIT
    assert post(api, "unit", f"/api/v1/tickets/{ticket_id}/response", json={}).is_success


@pytest.mark.parametrize("policy", [{"dispatch_approval": "after"}])
def test_the_leader_approving_the_reply_also_confirms_a_pending_dispatch(api: TestClient, container: Container) -> None:
    ticket_id = signed(api, container)
    post(api, "duty", f"/api/v1/tickets/{ticket_id}/dispatch", json={"unit": UNIT})
    post(api, "unit", f"/api/v1/tickets/{ticket_id}/reply", json=REPLY)
    assert post(api, "unit_head", f"/api/v1/tickets/{ticket_id}/reply/review", json={}).is_success
    assert post(api, "leader", f"/api/v1/tickets/{ticket_id}/reply/approve").is_success
    assert approvals(container) == [("dispatch", "approved"), ("review", "approved")]


def test_a_dispatch_to_a_unit_outside_the_directory_is_refused(api: TestClient, container: Container) -> None:
    ticket_id = signed(api, container)
    response = post(api, "duty", f"/api/v1/tickets/{ticket_id}/dispatch", json={"unit": "不存在的所"})
    assert response.status_code == 422 and response.json()["error"]["code"] == "unknown_unit"
    directory = api.get("/api/v1/units", headers=token("duty")).json()["items"]
    assert directory[0]["name"] == UNIT and len(directory) > 10


def test_a_units_extension_waits_for_the_leader_and_then_goes_to_the_platform(
    api: TestClient, container: Container
) -> None:
    ticket_id = dispatched(api, container)
    asked = post(api, "unit", f"/api/v1/tickets/{ticket_id}/extension", json={"days": 3, "reason": "需调取监控"})
    assert asked.is_success and "extension" not in {o["action"] for o in asked.json()["outbound"]}
    assert approvals(container)[-1] == ("extension", "pending")
    approved = post(api, "leader", f"/api/v1/tickets/{ticket_id}/extension/approve", json={"note": "同意"}).json()
    assert [o["action"] for o in approved["outbound"]] == ["sign", "extension"]
    requested = next(e for e in approved["events"] if e["kind"] == "extension_requested")
    assert requested["detail"]["approved_by"] == "leader-api"
    assert requested["detail"]["new_due_at"].startswith("2026-11-30T23:59:59")  # 5 working days + 3 calendar days


def test_an_extension_asked_less_than_24_hours_before_the_deadline_is_refused(
    api: TestClient, container: Container
) -> None:
    ticket_id = dispatched(api, container)
    container.clock = lambda: NOW + timedelta(days=7, hours=1)  # 27 Nov 11:00; due 27 Nov 23:59:59
    refused = post(api, "unit", f"/api/v1/tickets/{ticket_id}/extension", json={"days": 2, "reason": "来不及了"})
    assert refused.status_code == 422 and refused.json()["error"]["code"] == "extension_refused"
    assert "24 小时" in refused.json()["error"]["message"]
    assert approvals(container) == [("dispatch", "approved")]


def test_a_second_extension_in_one_cycle_is_refused(api: TestClient, container: Container) -> None:
    ticket_id = dispatched(api, container)
    assert post(api, "leader", f"/api/v1/tickets/{ticket_id}/extension", json={"days": 2, "reason": "复杂"}).is_success
    again = post(api, "leader", f"/api/v1/tickets/{ticket_id}/extension", json={"days": 1, "reason": "再延"})
    assert again.status_code == 422 and "最多 1 次" in again.json()["error"]["message"]


def test_rework_needs_an_unsatisfied_callback_and_opens_a_new_cycle(api: TestClient, container: Container) -> None:
    ticket_id = dispatched(api, container)
    with transaction(container.sessions) as s:
        s.execute(update(TicketRecord).values(status="replied", replied_at=NOW,
                                              callback={"satisfaction": "satisfied"}))
    assert post(api, "duty", f"/api/v1/tickets/{ticket_id}/rework", json={"reason": "重新核查"}).status_code == 409
    with transaction(container.sessions) as s:
        s.execute(update(TicketRecord).values(callback={"satisfaction": "dissatisfied"}))
    body = post(api, "duty", f"/api/v1/tickets/{ticket_id}/rework", json={"reason": "诉求人不满意"}).json()
    assert body["status"] == "dispatched" and body["reopen_count"] == 1 and body["unit"] == UNIT
    with container.sessions() as s:
        cycles = s.scalars(select(SlaTimerRecord.cycle).where(SlaTimerRecord.kind == "resolution")).all()
    assert sorted(cycles) == [1, 2]


def test_evidence_is_checked_by_content_and_linked_to_the_reply(api: TestClient, container: Container,
                                                                tmp_path: Path) -> None:
    ticket_id = dispatched(api, container)
    path = f"/api/v1/tickets/{ticket_id}/evidence"
    disguised = post(api, "unit", path, files={"file": ("照片.jpg", EXE, "image/jpeg")})
    assert disguised.status_code == 422 and disguised.json()["error"]["code"] == "unsupported_file"
    kept = post(api, "unit", path, files={"file": ("../../整改后.png", PNG, "image/png")}, data={"note": "整改后"})
    assert kept.is_success and kept.json()["type"] == "png" and kept.json()["name"] == "整改后.png"
    stored = list((tmp_path / "evidence" / str(ticket_id)).iterdir())
    assert len(stored) == 1 and stored[0].read_bytes() == PNG
    browser = Browser(container)
    browser.login("unit")
    browser.post(f"/dashboard/tickets/{ticket_id}/response")
    browser.post(f"/dashboard/tickets/{ticket_id}/reply", {**REPLY, "evidence": [str(kept.json()["id"])]})
    with container.sessions() as s:
        reply = s.get(TicketRecord, ticket_id).reply  # type: ignore[union-attr]
        assert s.scalars(select(EvidenceRecord.in_reply)).one() is True
    assert reply["attachments"] == [{"name": "整改后.png", "url": f"evidence:{kept.json()['id']}",
                                     "mime": "image/png", "size": len(PNG)}]
    assert browser.get(f"/dashboard/tickets/{ticket_id}/evidence/{kept.json()['id']}").content == PNG
    other = Browser(container)
    other.login("other_unit")
    assert other.get(f"/dashboard/tickets/{ticket_id}/evidence/{kept.json()['id']}").status_code == 404


@pytest.mark.parametrize("policy", [{"upload_max_bytes": 100}])
def test_an_oversized_evidence_file_is_refused_and_nothing_is_kept(api: TestClient, container: Container,
                                                                  tmp_path: Path) -> None:
    ticket_id = signed(api, container)
    response = post(api, "duty", f"/api/v1/tickets/{ticket_id}/evidence", files={"file": ("a.png", PNG, "image/png")})
    assert response.status_code == 413
    assert not any((tmp_path / "evidence").rglob("*.png"))
    with container.sessions() as s:
        assert s.scalars(select(EvidenceRecord)).all() == []


def test_the_dashboard_walks_a_ticket_from_sign_off_to_the_queued_reply(container: Container) -> None:
    ticket_id = add_ticket(container, "W-UI")
    duty, unit, head, leader = Browser(container), Browser(container), Browser(container), Browser(container)
    duty.login("duty"), unit.login("unit"), head.login("unit_head"), leader.login("leader")
    base = f"/dashboard/tickets/{ticket_id}"
    duty.post(f"{base}/sign-off")
    duty.post(f"{base}/dispatch", {"unit": UNIT})
    assert "已拟派至城关派出所，待分管领导审批" in duty.flash()
    assert 'id="form-dispatch-approve"' in leader.get(base).text
    leader.post(f"{base}/dispatch/approve", {"unit": UNIT})
    unit.post(f"{base}/response", {"note": "已电话联系"})
    unit.post(f"{base}/reply", {**REPLY, "investigation": "短"})
    assert "调查情况" in unit.flash()  # the four parts are checked, with their Chinese names
    unit.post(f"{base}/reply", REPLY)
    assert 'id="form-approve"' not in leader.get(base).text  # the unit head reviews first (002 三(二))
    assert 'id="form-review"' in head.get(base).text and 'id="form-review"' not in unit.get(base).text
    assert f"/dashboard/tickets/{ticket_id}" in head.get("/dashboard/approvals").text
    head.post(f"{base}/reply/review", {"note": "同意"})
    assert "已审核" in head.flash()
    assert 'id="form-approve"' in leader.get(base).text and 'id="form-approve"' not in unit.get(base).text
    assert f"/dashboard/tickets/{ticket_id}" in leader.get("/dashboard/approvals").text
    leader.post(f"{base}/reply/approve")
    with container.sessions() as s:
        actions = s.scalars(select(OutboxRecord.action).order_by(OutboxRecord.id)).all()
        assert s.get(TicketRecord, ticket_id).reply_approved_by == "分管领导丙"  # type: ignore[union-attr]
    assert actions == ["sign", "contact", "reply"]


def test_a_leader_suspends_and_resumes_a_ticket_from_the_dashboard_and_the_resolution_clock_follows(
    container: Container,
) -> None:
    """延期挂单 on the ticket page: leader only, refused outside the rules, the clock paused and moved on."""
    ticket_id = add_ticket(container, "W-HANG")
    duty, leader = Browser(container), Browser(container)
    duty.login("duty"), leader.login("leader")
    base = f"/dashboard/tickets/{ticket_id}"
    duty.post(f"{base}/sign-off")
    assert 'id="form-suspend"' in leader.get(base).text and 'id="form-suspend"' not in duty.get(base).text
    rule = {"reason_code": "5", "expected_days": "120", "chief": "局长甲", "note": "需住建、公安多部门联动"}

    duty.post(f"{base}/suspend", rule)  # the form is not shown to a duty officer, and posting it is refused
    assert duty.flash().startswith("error:")
    leader.post(f"{base}/suspend", {**rule, "expected_days": "60"})
    assert "三个月" in leader.flash()  # refused with the rule it breaks, in Chinese
    with container.sessions() as s:
        assert s.get_one(TicketRecord, ticket_id).suspended_at is None
        due_before = s.scalars(select(SlaTimerRecord.due_at).where(
            SlaTimerRecord.ticket_id == ticket_id, SlaTimerRecord.kind == "resolution")).one()

    leader.post(f"{base}/suspend", rule)
    assert "已挂单" in leader.flash()
    page = leader.get(base).text
    assert 'id="suspended-badge"' in page and "局长甲" in page and "需要多地、多部门联动办理" in page
    assert 'id="form-resume"' in page and 'id="form-suspend"' not in page
    assert "挂单" in leader.get("/dashboard/queue").text
    with container.sessions() as s:
        timer = s.scalars(select(SlaTimerRecord).where(
            SlaTimerRecord.ticket_id == ticket_id, SlaTimerRecord.kind == "resolution")).one()
        assert timer.state == "paused"

    container.clock = lambda: NOW + timedelta(hours=1)  # (within the dashboard session's idle limit)
    leader.post(f"{base}/resume", {"note": "已具备办理条件"})
    assert "已解除挂单" in leader.flash()
    with container.sessions() as s:
        ticket = s.get_one(TicketRecord, ticket_id)
        timer = s.scalars(select(SlaTimerRecord).where(
            SlaTimerRecord.ticket_id == ticket_id, SlaTimerRecord.kind == "resolution")).one()
        assert ticket.suspended_at is None and timer.state == "running"
        assert timer.due_at == due_before + timedelta(hours=1)
    assert "解除挂单" in leader.get(base).text  # on the timeline


def test_a_reply_names_evidence_only_by_id_of_its_own_ticket_never_by_a_written_reference(
    api: TestClient, container: Container
) -> None:
    """Evidence leaves as a signed link to our file: a reference typed into a draft must not become one."""
    mine, other = dispatched(api, container, "W-MINE"), dispatched(api, container, "W-OTHER")
    theirs = post(api, "unit", f"/api/v1/tickets/{other}/evidence", files={"file": ("他案.png", PNG, "image/png")})
    own = post(api, "unit", f"/api/v1/tickets/{mine}/evidence", files={"file": ("本案.png", PNG, "image/png")})
    forged = {"name": "他案.png", "url": f"evidence:{theirs.json()['id']}"}
    for extra in ({}, {"evidence_ids": [own.json()["id"]]}):
        drafted = post(api, "unit", f"/api/v1/tickets/{mine}/reply", json={**REPLY, "attachments": [forged], **extra})
        assert drafted.is_success, drafted.text
        with container.sessions() as s:
            urls = [a["url"] for a in s.get_one(TicketRecord, mine).reply["attachments"]]
        assert urls == [f"evidence:{i}" for i in extra.get("evidence_ids", [])]  # the forged one is gone
    refused = post(api, "unit", f"/api/v1/tickets/{mine}/reply", json={**REPLY, "evidence_ids": [theirs.json()["id"]]})
    assert refused.status_code == 422 and "不属于本工单" in refused.json()["error"]["message"]
    again = post(api, "unit", f"/api/v1/tickets/{mine}/reply", json=REPLY)  # no ids: the files chosen before stay
    assert again.is_success
    with container.sessions() as s:
        assert [a["url"] for a in s.get_one(TicketRecord, mine).reply["attachments"]] == [
            f"evidence:{own.json()['id']}"]
