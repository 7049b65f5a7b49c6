"""Nothing invented: a 12389 核查报告 carries the 责任认定 and 整改情况 a person wrote (001 四(四)), and no
platform gets a statement in the bureau's name that nobody wrote and approved (000 责任追究 五: 虚假回复).
API and dashboard, SQLite and PostgreSQL.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, update

from app.bootstrap import Container
from app.web import create_app
from gateway.catalogue import compose_answer
from gateway.schema import ReplyDraft
from gateway.store.db import transaction
from gateway.store.tables import OutboxRecord, TicketRecord
from mappers.p12389 import P12389Mapper
from tests.integration.dashboard_support import REPLY, REPORT, UNIT, Browser, add_ticket, build_container, token
from tests.integration.dashboard_support import cheap_hashes as cheap_hashes


@pytest.fixture
def container(db_url: str, make_settings: Callable[..., Any], tmp_path: Path) -> Iterator[Container]:
    yield from build_container(db_url, make_settings, tmp_path)


@pytest.fixture
def api(container: Container) -> TestClient:
    return TestClient(create_app(container))


def post(api: TestClient, who: str, path: str, **kwargs: Any) -> Any:
    return api.post(path, headers=token(who), **kwargs)


def in_hand(api: TestClient, container: Container, external_id: str, platform: str, respond: bool = True) -> int:
    """Signed, dispatched to the unit (leader-approved) and, unless told, first contact recorded."""
    tid = add_ticket(container, external_id, platform=platform)
    assert post(api, "duty", f"/api/v1/tickets/{tid}/sign-off").is_success
    assert post(api, "duty", f"/api/v1/tickets/{tid}/dispatch", json={"unit": UNIT}).is_success
    assert post(api, "leader", f"/api/v1/tickets/{tid}/dispatch/approve", json={}).is_success
    if respond:
        assert post(api, "unit", f"/api/v1/tickets/{tid}/response", json={"note": "已电话联系"}).is_success
    return tid


def ticket(container: Container, tid: int) -> TicketRecord:
    with container.sessions() as s:
        return s.get_one(TicketRecord, tid)


def reply_payload(container: Container, tid: int) -> dict[str, Any]:
    with container.sessions() as s:
        return dict(s.scalars(select(OutboxRecord.payload).where(
            OutboxRecord.ticket_id == tid, OutboxRecord.action == "reply")).one())


@pytest.mark.parametrize(("missing", "chinese"), [("responsibility", "责任认定"), ("rectification", "整改情况")])
@pytest.mark.parametrize("value", [None, "", "  "])
def test_a_12389_report_without_responsibility_or_rectification_is_refused_naming_the_part_001_4_4(
    api: TestClient, container: Container, missing: str, chinese: str, value: str | None
) -> None:
    """001 四(四): 报告应包括…有关人员的责任认定…以及处理结果和整改情况 — a 422 naming the part in Chinese."""
    tid = in_hand(api, container, "R-1", "p12389")
    body = {**REPORT, missing: value} if value is not None else {k: v for k, v in REPORT.items() if k != missing}
    refused = post(api, "unit", f"/api/v1/tickets/{tid}/reply", json=body)
    assert refused.status_code == 422, refused.text
    assert chinese in refused.json()["error"]["message"] and missing not in refused.json()["error"]["message"]
    assert ticket(container, tid).status == "responded" and ticket(container, tid).reply is None


def test_the_12389_report_parts_typed_in_the_dashboard_are_exactly_what_goes_to_the_platform_001_4_4(
    api: TestClient, container: Container
) -> None:
    """The dashboard asks for 责任认定 and 整改情况 on a 12389 ticket (only there), and sends them as typed."""
    report, hotline = in_hand(api, container, "R-2", "p12389"), in_hand(api, container, "H-2", "p12345")
    unit = Browser(container)
    unit.login("unit")
    page = unit.get(f"/dashboard/tickets/{report}").text
    assert 'id="field-responsibility"' in page and 'id="field-rectification"' in page and "001 四(四)" in page
    assert 'id="field-responsibility"' not in unit.get(f"/dashboard/tickets/{hotline}").text
    typed = {"responsibility": "民警甲未按规定出示证件，负直接责任；所长乙负管理责任",
             "rectification": "已责令民警甲书面检查，全所开展规范执法教育整改"}
    unit.post(f"/dashboard/tickets/{report}/reply", {**REPLY, "responsibility": "", "rectification": ""})
    assert "责任认定" in unit.flash() and ticket(container, report).reply is None
    unit.post(f"/dashboard/tickets/{report}/reply", {**REPLY, **typed})
    assert "答复已保存" in unit.flash()
    head, leader = Browser(container), Browser(container)
    head.login("unit_head"), leader.login("leader")
    head.post(f"/dashboard/tickets/{report}/reply/review")
    shown = leader.get(f"/dashboard/tickets/{report}").text  # what the leader approves
    assert typed["responsibility"] in shown and typed["rectification"] in shown
    leader.post(f"/dashboard/tickets/{report}/reply/approve")
    body = P12389Mapper().outbound("reply", reply_payload(container, report))
    assert (body["zrrd"], body["zgqk"]) == (typed["responsibility"], typed["rectification"])
    assert "经核查无需责任认定" not in str(body) and body["zgqk"] != "无"


def test_a_12389_draft_saved_without_its_parts_cannot_be_approved_until_they_are_written(
    api: TestClient, container: Container
) -> None:
    """A draft kept from before the parts were required is refused at approval (422), nothing queued."""
    tid = in_hand(api, container, "R-3", "p12389")
    old_draft = {**REPLY, "contacted": True, "public_reply": "", "attachments": []}
    with transaction(container.sessions) as s:
        s.execute(update(TicketRecord).where(TicketRecord.id == tid).values(
            reply=old_draft, status="reply_drafted", reply_drafted_by="城关所民警", reply_reviewed_by="城关所所长"))
    refused = post(api, "leader", f"/api/v1/tickets/{tid}/reply/approve")
    assert refused.status_code == 422 and "责任认定、整改情况" in refused.json()["error"]["message"]
    with container.sessions() as s:
        assert s.scalars(select(OutboxRecord.action).where(OutboxRecord.ticket_id == tid)).all() == ["sign"]
    assert post(api, "unit", f"/api/v1/tickets/{tid}/reply", json=REPORT).is_success
    assert post(api, "unit_head", f"/api/v1/tickets/{tid}/reply/review", json={}).is_success
    assert post(api, "leader", f"/api/v1/tickets/{tid}/reply/approve").is_success
    assert reply_payload(container, tid)["responsibility"] == REPORT["responsibility"]


@pytest.mark.parametrize("platform", ["p12345", "mayor", "mailbox"])
def test_the_text_a_citizen_reads_is_in_the_draft_the_leader_approves_never_made_up_at_send_time(
    api: TestClient, container: Container, platform: str
) -> None:
    """000 责任追究 五: the public text is the drafter's own, or composed from their parts before approval."""
    tid = in_hand(api, container, f"P-{platform}", platform)
    assert post(api, "unit", f"/api/v1/tickets/{tid}/reply", json=REPLY).is_success
    stored = ticket(container, tid).reply or {}
    expected = compose_answer(ReplyDraft.model_validate(REPLY)) if platform == "mailbox" else REPLY["disposition"]
    assert stored["public_reply"] == expected
    leader = Browser(container)
    leader.login("leader")
    assert post(api, "unit_head", f"/api/v1/tickets/{tid}/reply/review", json={}).is_success
    assert 'id="reply-public"' in leader.get(f"/dashboard/tickets/{tid}").text
    assert post(api, "leader", f"/api/v1/tickets/{tid}/reply/approve").is_success
    payload = reply_payload(container, tid)
    assert {k: payload[k] for k in stored if k != "attachments"} == {k: v for k, v in stored.items()
                                                                      if k != "attachments"}
    assert payload.get("responsibility") is None and payload.get("rectification") is None


def test_a_12345_reply_without_its_resolution_is_refused_instead_of_claiming_resolved(
    api: TestClient, container: Container
) -> None:
    """12345's 办理结果 was defaulted to 已解决: now the drafter states it, or the draft is refused."""
    tid = in_hand(api, container, "H-3", "p12345")
    unresolved = {k: v for k, v in REPLY.items() if k != "resolved"}
    refused = post(api, "unit", f"/api/v1/tickets/{tid}/reply", json=unresolved)
    assert refused.status_code == 422 and "办理结果" in refused.json()["error"]["message"]


def test_contact_is_never_claimed_without_a_recorded_first_contact(api: TestClient, container: Container) -> None:
    """"contacted" and its time come from the recorded 先行联系 or the drafter — never assumed."""
    tid = in_hand(api, container, "H-4", "p12345", respond=False)
    refused = post(api, "unit", f"/api/v1/tickets/{tid}/reply", json={**REPLY, "contacted": True})
    assert refused.status_code == 422 and "先行联系" in refused.json()["error"]["message"]
    assert post(api, "unit", f"/api/v1/tickets/{tid}/reply", json=REPLY).is_success
    assert (ticket(container, tid).reply or {})["contacted"] is False
