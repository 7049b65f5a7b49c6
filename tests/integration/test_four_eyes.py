"""Four eyes on every reply and dispatch: the unit head reviews (002 三(二) 经部门负责人、分管局领导审核签字;
000 督办 三), a leader who neither drafted nor reviewed approves (000 督办 三: 没有分管领导签字的一律不得回复),
and a duty officer's dispatch waits for the leader (000 二). SQLite and PostgreSQL.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from app.bootstrap import Container
from app.web import create_app
from gateway.errors import Forbidden
from gateway.principal import Principal
from gateway.services import actions, decisions
from gateway.settings import Role
from gateway.store.db import transaction
from gateway.store.tables import OutboxRecord, TicketEventRecord, TicketRecord
from gateway.store.tables_dashboard import ApprovalRecord
from tests.integration.dashboard_support import (
    NOW,
    OTHER_UNIT,
    REPLY,
    UNIT,
    Browser,
    add_ticket,
    build_container,
    token,
)
from tests.integration.dashboard_support import cheap_hashes as cheap_hashes

# People holding two roles at once: the cases where one person could sign twice.
DOUBLES: dict[str, tuple[str, list[str], str | None]] = {
    "admin_leader": ("局长助理甲", ["admin", "leader", "duty"], None),
    "unit_leader": ("城关所教导员乙", ["unit", "leader"], UNIT),
    "head_leader": ("城关所所长兼领导丙", ["unit_head", "leader"], UNIT),
    "unit_and_head": ("城关所副所长丁", ["unit", "unit_head"], UNIT),
    "other_head": ("东城所所长", ["unit_head"], OTHER_UNIT),
}


@pytest.fixture
def policy() -> dict[str, Any]:
    return {}


@pytest.fixture
def container(db_url: str, make_settings: Callable[..., Any], tmp_path: Path,
              policy: dict[str, Any]) -> Iterator[Container]:
    yield from build_container(db_url, make_settings, tmp_path, people=DOUBLES, **policy)


@pytest.fixture
def api(container: Container) -> TestClient:
    return TestClient(create_app(container))


def post(api: TestClient, who: str, path: str, **kwargs: Any) -> Any:
    return api.post(path, headers=token(who), **kwargs)


def drafted(api: TestClient, container: Container, external_id: str, drafter: str = "unit") -> int:
    """A ticket dispatched to the unit with a reply drafted by ``drafter``."""
    tid = add_ticket(container, external_id)
    assert post(api, "duty", f"/api/v1/tickets/{tid}/sign-off").is_success
    assert post(api, "duty", f"/api/v1/tickets/{tid}/dispatch", json={"unit": UNIT}).is_success
    assert post(api, "leader", f"/api/v1/tickets/{tid}/dispatch/approve", json={}).is_success
    response = post(api, drafter, f"/api/v1/tickets/{tid}/reply", json=REPLY)
    assert response.is_success, response.text
    return tid


def replies_sent(container: Container, tid: int) -> int:
    with container.sessions() as s:
        return len(s.scalars(select(OutboxRecord.id).where(OutboxRecord.ticket_id == tid,
                                                           OutboxRecord.action == "reply")).all())


@pytest.mark.parametrize("policy", [{"unit_head_review": False}])  # the leader's step alone is the point here
def test_admin_approves_nothing_and_never_its_own_draft_even_holding_the_leader_role(
    api: TestClient, container: Container
) -> None:
    """000 督办 三: the leader signs. Admin administers; with the leader role too, never its own draft."""
    tid = drafted(api, container, "E-ADMIN", drafter="admin_leader")  # drafts as a duty officer may
    plain = post(api, "admin", f"/api/v1/tickets/{tid}/reply/approve")
    assert plain.status_code == 403 and "分管领导" in plain.json()["error"]["message"]
    own = post(api, "admin_leader", f"/api/v1/tickets/{tid}/reply/approve")
    assert own.status_code == 403 and "四眼" in own.json()["error"]["message"]
    assert replies_sent(container, tid) == 0
    assert post(api, "leader", f"/api/v1/tickets/{tid}/reply/approve").is_success
    assert replies_sent(container, tid) == 1


@pytest.mark.parametrize("policy", [{"unit_head_review": False}])
def test_a_unit_officer_who_is_also_a_leader_cannot_approve_their_own_draft(
    api: TestClient, container: Container
) -> None:
    """Four eyes: the approver is a different person from the drafter, whatever roles the drafter holds."""
    tid = drafted(api, container, "E-UL", drafter="unit_leader")
    own = post(api, "unit_leader", f"/api/v1/tickets/{tid}/reply/approve")
    assert own.status_code == 403 and own.json()["error"]["code"] == "forbidden"
    browser = Browser(container)
    browser.login("unit_leader")
    page = browser.get(f"/dashboard/tickets/{tid}").text
    assert 'id="form-approve"' not in page and "四眼原则" in page
    browser.post(f"/dashboard/tickets/{tid}/reply/approve")
    assert browser.flash().startswith("error:") and replies_sent(container, tid) == 0
    assert post(api, "leader", f"/api/v1/tickets/{tid}/reply/approve").is_success


def test_the_unit_head_who_reviewed_a_reply_cannot_also_approve_it(api: TestClient, container: Container) -> None:
    """002 三(二): 部门负责人 and 分管局领导 are two signatures of two people."""
    tid = drafted(api, container, "E-HL")
    assert post(api, "head_leader", f"/api/v1/tickets/{tid}/reply/review", json={}).is_success
    assert post(api, "head_leader", f"/api/v1/tickets/{tid}/reply/approve").status_code == 403
    assert post(api, "leader", f"/api/v1/tickets/{tid}/reply/approve").is_success


def test_the_unit_head_reviews_a_units_reply_before_the_leader_with_an_audit_trail_and_a_queue(
    api: TestClient, container: Container
) -> None:
    """002 三(二), 000 督办 三: review by the head of the ticket's own unit, recorded, then the leader."""
    tid = drafted(api, container, "E-REV")
    early = post(api, "leader", f"/api/v1/tickets/{tid}/reply/approve")
    assert early.status_code == 409 and "部门负责人审核" in early.json()["error"]["message"]
    assert post(api, "other_head", f"/api/v1/tickets/{tid}/reply/review", json={}).status_code == 403
    assert post(api, "leader", f"/api/v1/tickets/{tid}/reply/review", json={}).status_code == 403
    head, leader = Browser(container), Browser(container)
    head.login("unit_head"), leader.login("leader")
    assert f"/dashboard/tickets/{tid}" in head.get("/dashboard/approvals").text
    assert f"/dashboard/tickets/{tid}#form-approve" not in leader.get("/dashboard/approvals").text
    queue = api.get("/api/v1/approvals", headers=token("unit_head")).json()["items"]
    assert [(a["ticket_id"], a["kind"]) for a in queue] == [(tid, "review")]
    assert api.get("/api/v1/approvals", headers=token("other_head")).json()["items"] == []

    reviewed = post(api, "unit_head", f"/api/v1/tickets/{tid}/reply/review", json={"note": "同意"}).json()
    assert reviewed["reply_reviewed_by"] == "unit_head-api"
    assert any(e["kind"] == "reply_reviewed" and e["actor"] == "unit_head-api" for e in reviewed["events"])
    with container.sessions() as s:
        record = s.scalars(select(ApprovalRecord).where(ApprovalRecord.kind == "review")).one()
        assert (record.state, record.requested_by, record.decided_by) == ("approved", "unit-api", "unit_head-api")
    assert f"/dashboard/tickets/{tid}#form-approve" in leader.get("/dashboard/approvals").text
    assert post(api, "leader", f"/api/v1/tickets/{tid}/reply/approve").is_success


def test_a_unit_head_neither_reviews_their_own_draft_nor_passes_it_unreviewed(
    api: TestClient, container: Container
) -> None:
    tid = drafted(api, container, "E-OWN", drafter="unit_and_head")
    own = post(api, "unit_and_head", f"/api/v1/tickets/{tid}/reply/review", json={})
    assert own.status_code == 403 and "四眼" in own.json()["error"]["message"]
    sent_back = post(api, "unit_head", f"/api/v1/tickets/{tid}/reply/review/send-back", json={"reason": "证据不足"})
    assert sent_back.is_success and sent_back.json()["status"] == "dispatched"
    with container.sessions() as s:
        assert s.scalars(select(ApprovalRecord.state).where(ApprovalRecord.kind == "review")).all() == ["rejected"]
        kinds = s.scalars(select(TicketEventRecord.kind).where(TicketEventRecord.ticket_id == tid)).all()
    assert "reply_review_sent_back" in kinds
    assert post(api, "leader", f"/api/v1/tickets/{tid}/reply/approve").status_code == 409


def test_a_new_draft_needs_a_new_review(api: TestClient, container: Container) -> None:
    tid = drafted(api, container, "E-AGAIN")
    assert post(api, "unit_head", f"/api/v1/tickets/{tid}/reply/review", json={}).is_success
    assert post(api, "unit", f"/api/v1/tickets/{tid}/reply", json={**REPLY, "disposition": "已改为约谈整改"}).is_success
    assert post(api, "leader", f"/api/v1/tickets/{tid}/reply/approve").status_code == 409


@pytest.mark.parametrize("policy", [{"unit_head_review": False}])
def test_a_deployment_may_turn_the_unit_head_review_off(api: TestClient, container: Container) -> None:
    """The review step is a per-deployment setting (on by default): off, the leader approves the draft."""
    tid = drafted(api, container, "E-OFF")
    assert post(api, "leader", f"/api/v1/tickets/{tid}/reply/approve").is_success


def test_nobody_approves_a_dispatch_or_an_extension_they_asked_for_themselves(container: Container) -> None:
    """Four eyes on dispatch too (000 二): a request and its approval are two people."""
    tid = add_ticket(container, "E-DISP")
    duty, now = Principal("值班员甲", frozenset({Role.duty})), NOW
    promoted = Principal("值班员甲", frozenset({Role.duty, Role.leader}))  # the same person, now also a leader
    with transaction(container.sessions) as s:
        actions.sign_off(s, ticket_id=tid, principal=duty, now=now)
    with transaction(container.sessions) as s:
        actions.dispatch(s, ticket_id=tid, principal=duty, unit=UNIT, now=now)
    with pytest.raises(Forbidden), transaction(container.sessions) as s:
        decisions.approve_dispatch(s, ticket_id=tid, principal=promoted, now=now)
    with container.sessions() as s:
        assert s.get_one(TicketRecord, tid).unit is None
    with transaction(container.sessions) as s:
        decisions.approve_dispatch(s, ticket_id=tid, principal=Principal("分管领导丙", frozenset({Role.leader})),
                                   now=now)
    with container.sessions() as s:
        assert s.get_one(TicketRecord, tid).unit == UNIT
