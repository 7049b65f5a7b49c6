"""Issue 16 point 5: 提级介入 (000 提级介入调查制度 一、四; 001 三(三) 重大、敏感) — the rules raise a matter to the
leader once (two scheduler ticks, two schedulers at once), a person flags it with a reason, the leader's 批示 is
recorded and only a leader writes it, and the 待办审批 inbox and the overview show it (SQLite and PostgreSQL)."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select, update

from app.bootstrap import Container
from app.web import create_app
from gateway.alerts.sinks import routes as sink_routes
from gateway.services import intervention
from gateway.settings import AlertSettings, SlaSettings, WebhookSinkSettings
from gateway.sla import runtime as sla_runtime
from gateway.sla.engine import Rings, SlaEngine
from gateway.store.db import transaction
from gateway.store.tables import OutboxRecord, TicketEventRecord, TicketRecord
from gateway.store.tables_dashboard import InterventionRecord
from gateway.store.tables_sla import AlertDeliveryRecord, AlertRecord
from tests.integration.dashboard_support import NOW, Browser, add_ticket, build_container, token
from tests.integration.dashboard_support import cheap_hashes as cheap_hashes

# The bureau chief holds the leader role too; duty_leader tests four eyes (flags, then may not instruct).
PEOPLE = {"chief": ("局长甲", ["leader"], None), "duty_leader": ("值班领导乙", ["duty", "leader"], None)}
ALERTS = AlertSettings(webhooks=[WebhookSinkSettings(name="robot", kind="wecom", url="https://robot.invalid/hook")])
AFTER_DUE = datetime(2026, 11, 27, 16, 0, 1, tzinfo=UTC)  # 28 Nov 00:00:01 Shanghai: 5 working days from 20 Nov


@pytest.fixture
def container(db_url: str, make_settings: Callable[..., Any], tmp_path: Path) -> Iterator[Container]:
    for built in build_container(db_url, make_settings, tmp_path, people=PEOPLE):
        sla_runtime.bind(built.engine, SlaSettings(profile="default"), ALERTS)
        yield built


@pytest.fixture
def api(container: Container) -> TestClient:
    return TestClient(create_app(container))


def post(api: TestClient, who: str, path: str, **kwargs: Any) -> Any:
    return api.post(path, headers=token(who), **kwargs)


def sweep(container: Container, now: datetime) -> list[int]:
    """One scheduler tick of the 提级介入 rules, in its own transaction."""
    with transaction(container.sessions) as session:
        return intervention.sweep(session, policy=ALERTS.intervention, routes=sink_routes(ALERTS),
                                  group_max=ALERTS.group_max_lines, now=now)


def raised(container: Container) -> list[tuple[int, str, str]]:
    with container.sessions() as s:
        return [(r.ticket_id, r.rule, r.raised_by) for r in s.scalars(select(InterventionRecord)
                                                                      .order_by(InterventionRecord.id))]


def leader_alerts(container: Container) -> list[AlertRecord]:
    with container.sessions() as s:
        return list(s.scalars(select(AlertRecord).where(AlertRecord.kind == "intervention").order_by(AlertRecord.id)))


def dispatched(api: TestClient, container: Container, external_id: str, **fields: Any) -> int:
    tid = add_ticket(container, external_id, **fields)
    base = f"/api/v1/tickets/{tid}"
    assert post(api, "duty", f"{base}/sign-off").is_success
    assert post(api, "duty", f"{base}/dispatch", json={"unit": "城关派出所"}).is_success
    assert post(api, "leader", f"{base}/dispatch/approve", json={}).is_success
    assert post(api, "unit", f"{base}/response", json={}).is_success  # in time: the 办结 deadline is what is late
    return tid


# --- the rules, 000 提级介入调查制度 一 -------------------------------------------------------------------------

def test_overdue_000_提级介入_一_久拖不决_is_raised_once_at_the_breach_of_the_binding_deadline_over_two_ticks(
    api: TestClient, container: Container,
) -> None:
    tid = dispatched(api, container, "O-1")
    assert sweep(container, datetime(2026, 11, 27, 15, 59, tzinfo=UTC)) == [] and raised(container) == []
    first = sweep(container, AFTER_DUE)
    assert raised(container) == [(tid, "overdue", "system")] and len(first) == 1  # one robot delivery
    assert sweep(container, AFTER_DUE) == [] and raised(container) == [(tid, "overdue", "system")]
    (alert,) = leader_alerts(container)
    assert alert.audience == "leader" and alert.severity == "critical"
    assert alert.message.startswith("【提级介入】12345工单 O-1办结期限已过") and "久拖不决" in alert.message
    with container.sessions() as s:
        kinds = s.scalars(select(TicketEventRecord.kind).where(TicketEventRecord.ticket_id == tid)).all()
        basis = s.scalars(select(InterventionRecord.basis)).one()
    assert kinds.count("intervention_raised") == 1 and basis["timer"] == "resolution"
    assert basis["overdue_s"] == 2  # due 23:59:59 of the fifth working day


def test_an_overdue_raise_takes_the_place_of_the_breach_escalation_so_the_leader_hears_once(
    api: TestClient, container: Container,
) -> None:
    tid = dispatched(api, container, "O-2")
    engine = SlaEngine(container.sessions, runtime=sla_runtime.runtime_for_engine(container.engine),
                       clock=lambda: AFTER_DUE, rings=Rings(deliveries=lambda ids: None, outbox=lambda ids: None))
    engine.fire_due(AFTER_DUE)  # the breach alert of the resolution timer
    assert engine.housekeeping(AFTER_DUE)["interventions"] == 1  # the scheduler's housekeeping runs the rules
    later = datetime(2026, 11, 28, 16, 0, tzinfo=UTC)
    counts = engine.housekeeping(later)
    assert counts["interventions"] == 0 and counts["escalations"] == 0  # no 超时升级 besides the 提级介入
    assert [a.ticket_id for a in leader_alerts(container)] == [tid]


def test_repeat_complaints_000_提级介入_一_are_counted_through_linking_and_raised_once_on_the_newest_filing(
    api: TestClient, container: Container,
) -> None:
    a = add_ticket(container, "R-1")
    b = add_ticket(container, "R-2", platform="mayor")
    assert sweep(container, NOW) == [] and raised(container) == []  # filed twice: not yet 反复 (default 3)
    c = add_ticket(container, "R-3", platform="mailbox")
    with container.sessions() as s:
        cases = set(s.scalars(select(TicketRecord.case_id).where(TicketRecord.id.in_([a, b, c]))))
    assert len(cases) == 1 and None not in cases  # one matter, by linking (000 统一派单 二)
    sweep(container, NOW)
    sweep(container, NOW)
    assert raised(container) == [(c, "repeat", "system")]
    with container.sessions() as s:
        assert s.scalars(select(InterventionRecord.basis)).one() == {"filings": 3, "threshold": 3}
    assert "同一事项已投诉3次" in leader_alerts(container)[0].message


def test_a_12389_filing_is_not_counted_with_other_platforms_filings_so_no_raise_tells_a_leader_of_it_001_五(
    api: TestClient, container: Container,
) -> None:
    add_ticket(container, "S-1")
    add_ticket(container, "S-2", platform="p12389")
    add_ticket(container, "S-3", platform="mayor")
    with container.sessions() as s:
        assert s.scalar(select(func.count(func.distinct(TicketRecord.case_id)))) == 1  # linked, for 督察
    sweep(container, NOW)
    assert raised(container) == []  # two filings on this side of the line, one on the other


def test_high_impact_001_三_三_from_the_platforms_level_is_raised_once_even_by_two_schedulers_at_once(
    api: TestClient, container: Container,
) -> None:
    tid = add_ticket(container, "I-1", platform="p12389")
    other = add_ticket(container, "I-2", phone="13900001111", title="交通事故", content="事故处理")
    with transaction(container.sessions) as s:
        s.execute(update(TicketRecord).where(TicketRecord.id == tid).values(level="重大"))
        s.execute(update(TicketRecord).where(TicketRecord.id == other).values(urgency="critical"))
    barrier, errors = threading.Barrier(2), []

    def tick() -> None:
        try:
            barrier.wait(timeout=10)
            sweep(container, NOW)
        except Exception as exc:  # pragma: no cover - shown by the assertion below
            errors.append(exc)

    threads = [threading.Thread(target=tick) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert errors == []
    assert sorted(raised(container)) == [(tid, "impact", "system"), (other, "impact", "system")]
    assert len(leader_alerts(container)) == 2
    with container.sessions() as s:
        assert s.scalar(select(func.count()).select_from(AlertDeliveryRecord)) == 2  # each alerted once
    messages = " ".join(a.message for a in leader_alerts(container))
    assert "案件等级“重大”" in messages and "紧急程度“特急”" in messages


# --- a person's flag, 001 三(三) ------------------------------------------------------------------------------

def test_the_duty_officer_flags_重大_敏感_with_a_reason_and_the_leader_is_alerted_without_it_001_三_三(
    api: TestClient, container: Container,
) -> None:
    tid = dispatched(api, container, "F-1")
    base = f"/api/v1/tickets/{tid}"
    assert post(api, "duty", f"{base}/intervention", json={"rule": "impact", "reason": "短"}).status_code == 422
    sensitive = {"reason": "涉及群体性事件，舆情敏感"}
    assert post(api, "leader", f"{base}/intervention", json=sensitive).status_code == 403
    assert post(api, "other_unit", f"{base}/intervention", json=sensitive).status_code == 403
    body = post(api, "duty", f"{base}/intervention", json={"rule": "impact", "reason": "涉及群体性事件，舆情敏感"})
    assert body.is_success, body.text
    (item,) = body.json()["interventions"]
    assert item["rule"] == "impact" and item["reason"] == "涉及群体性事件，舆情敏感" and item["state"] == "open"
    assert item["raised_by"] == "duty-api" and item["article"].endswith("001 三(三)")
    again = post(api, "unit", f"{base}/intervention", json={"rule": "impact", "reason": "再次标记重大敏感"})
    assert (again.status_code, again.json()["error"]["code"]) == (409, "invalid_state")
    assert post(api, "unit", f"{base}/intervention", json={"rule": "violation", "reason": "民警涉嫌违纪"}).is_success
    (alert, _) = leader_alerts(container)
    assert alert.audience == "leader" and "舆情" not in alert.message and "经人工标记为重大、敏感" in alert.message
    with container.sessions() as s:
        lines = " ".join(" ".join(d.lines) for d in s.scalars(select(AlertDeliveryRecord)))
    assert "舆情" not in lines and "13812341234" not in lines and "噪音" not in lines


# --- the leader's 批示, 000 提级介入调查制度 四 -------------------------------------------------------------------

def test_only_a_leader_other_than_the_flagger_records_the_批示_and_the_supervising_leader_closes_000_提级介入_四(
    api: TestClient, container: Container,
) -> None:
    tid = dispatched(api, container, "L-1")
    base = f"/api/v1/tickets/{tid}"
    with container.sessions() as s:
        outbox_before = s.scalar(select(func.count()).select_from(OutboxRecord))
    assert post(api, "duty_leader", f"{base}/intervention", json={"reason": "媒体已关注，影响较大"}).is_success
    with container.sessions() as s:
        iid = s.scalars(select(InterventionRecord.id)).one()
    url = f"{base}/interventions/{iid}"
    words = {"text": "请督察支队牵头核查，三日内报结果", "supervising_leader": "局长甲"}
    for who in ("unit", "duty", "supervisor", "admin"):
        assert post(api, who, f"{url}/instruction", json=words).status_code == 403, who
    assert post(api, "duty_leader", f"{url}/instruction", json=words).status_code == 403  # four eyes
    assert post(api, "leader", f"{url}/close", json={}).status_code == 422  # a 批示 comes first
    bad = post(api, "leader", f"{url}/instruction", json={**words, "supervising_leader": "查无此人"})
    assert (bad.status_code, bad.json()["error"]["code"]) == (422, "invalid_leader")
    done = post(api, "leader", f"{url}/instruction", json=words).json()
    (item,) = done["interventions"]
    assert item["state"] == "instructed" and item["supervising_leader"] == "局长甲"
    assert item["instructions"] == [{"by": "leader-api", "at": item["instructed_at"], "text": words["text"],
                                     "supervising_leader": "局长甲"}]
    event = next(e for e in done["events"] if e["kind"] == "intervention_instruction")
    assert event["actor"] == "leader-api" and event["detail"]["text"] == words["text"]
    assert post(api, "leader", f"{url}/close", json={}).status_code == 403  # 局长甲 supervises it
    closed = post(api, "chief", f"{url}/close", json={"note": "已核查完毕"}).json()["interventions"][0]
    assert closed["state"] == "closed" and closed["closed_by"] == "局长甲"
    assert post(api, "chief", f"{url}/instruction", json=words).status_code == 409
    with container.sessions() as s:
        assert s.scalar(select(func.count()).select_from(OutboxRecord)) == outbox_before  # nothing to a platform


def test_the_leaders_inbox_the_overview_and_the_ticket_page_show_the_raised_matter(
    api: TestClient, container: Container,
) -> None:
    tid = dispatched(api, container, "P-1")
    assert post(api, "duty", f"/api/v1/tickets/{tid}/intervention",
                json={"rule": "other", "reason": "领导交办，需提级调查"}).is_success
    leader = Browser(container)
    leader.login("leader")
    inbox = leader.get("/dashboard/approvals").text
    assert 'id="interventions"' in inbox and "P-1" in inbox and "其他需提级介入" in inbox
    assert 'id="approvals-count"' in inbox
    assert "intervention-overview" in leader.get("/dashboard/").text
    page = leader.get(f"/dashboard/tickets/{tid}").text
    assert "领导交办，需提级调查" in page and 'id="form-intervention-instruct-' in page
    assert "P-1" in leader.get("/dashboard/interventions").text
    with container.sessions() as s:
        iid = s.scalars(select(InterventionRecord.id)).one()
    sent = leader.post(f"/dashboard/tickets/{tid}/interventions/{iid}/instruction",
                       data={"text": "请城关所立即整改并报告", "supervising_leader": "局长甲"})
    assert sent.status_code == 303 and leader.flash() == "ok: 已记录批示"
    assert "P-1" not in leader.get("/dashboard/approvals").text.split('id="interventions"')[1]  # now the chief's
    chief = Browser(container)
    chief.login("chief")
    assert "P-1" in chief.get("/dashboard/approvals").text.split('id="interventions"')[1]
    duty = Browser(container)
    duty.login("duty")
    duty_page = duty.get(f"/dashboard/tickets/{tid}").text
    assert "请城关所立即整改并报告" in duty_page and "form-intervention-instruct" not in duty_page
    other = Browser(container)
    other.login("other_unit")
    assert other.get(f"/dashboard/tickets/{tid}").status_code == 404
    assert "P-1" not in other.get("/dashboard/interventions").text
    assert api.get("/api/v1/interventions", headers=token("other_unit")).json() == {"items": []}
    listed = api.get("/api/v1/interventions", headers=token("leader")).json()["items"]
    assert [(i["external_id"], i["state"]) for i in listed] == [("P-1", "instructed")]


def test_a_12389_reporter_stays_hidden_from_the_leader_on_a_raised_12389_ticket(
    api: TestClient, container: Container,
) -> None:
    tid = add_ticket(container, "Q-1", platform="p12389", name="李四")
    with transaction(container.sessions) as s:
        s.execute(update(TicketRecord).where(TicketRecord.id == tid).values(level="重大"))
    sweep(container, NOW)
    detail = api.get(f"/api/v1/tickets/{tid}", headers=token("leader")).json()
    assert detail["interventions"][0]["rule"] == "impact"
    assert "13812341234" not in str(detail) and "李四" not in str(detail)
    listed = str(api.get("/api/v1/interventions", headers=token("leader")).json())
    assert "Q-1" in listed and "13812341234" not in listed and "李四" not in listed
    seen = api.get(f"/api/v1/tickets/{tid}", headers=token("supervisor")).json()
    assert "13812341234" in str(seen)  # 督察 see the reporter (001 五)
