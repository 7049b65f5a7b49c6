"""Calendar, alerts and metrics over the API; loading a year recomputes open deadlines (SQLite + PostgreSQL)."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from fastapi.testclient import TestClient
from sqlalchemy import select

from app.bootstrap import Container, bootstrap
from app.web import create_app
from gateway.sla.calendar_store import calendar_token
from gateway.sla.engine import Rings, SlaEngine
from gateway.sla.runtime import SlaRuntime, runtime_for_engine
from gateway.store.db import make_session_factory
from gateway.store.tables_sla import SlaAuditRecord
from tests.fakes import FakeAdapter
from tests.sla_support import CALENDAR_2027, bound_engine, new_ticket, sh, timer_events, timers, utc

NOW = sh(2026, 11, 22, 10)
ROOT = Path(__file__).resolve().parents[2]
TOKENS = [
    {"name": "值班员甲", "token": "duty-token-0123456789", "roles": ["duty"]},
    {"name": "管理员丁", "token": "admin-token-0123456789", "roles": ["admin"]},
    {"name": "派出所乙", "token": "unit-token-0123456789", "roles": ["unit"], "unit": "城关派出所"},
]
DUTY, ADMIN, UNIT = ({"Authorization": f"Bearer {t['token']}"} for t in TOKENS)
YEAR_2027 = json.loads(CALENDAR_2027.read_text(encoding="utf-8"))


@pytest.fixture
def container(db_url: str, make_settings: Callable[..., Any]) -> Iterator[Container]:
    c = bootstrap(make_settings(database_url=db_url, api_tokens=TOKENS), adapters={"fake": FakeAdapter()},  # type: ignore[dict-item]
                  clock=lambda: NOW)
    yield c
    c.close()


@pytest.fixture
def client(container: Container) -> TestClient:
    return TestClient(create_app(container))


def test_workdays_counts_from_the_day_after_and_flags_an_unpublished_year(client: TestClient) -> None:
    got = client.get("/api/v1/calendar/workdays", params={"start": "2026-02-12", "days": 5}, headers=DUTY).json()
    assert got == {"due_date": "2026-02-26", "provisional": False, "unit": "working_days", "holiday": None}
    got = client.get("/api/v1/calendar/workdays", params={"start": "2026-12-20", "days": 20}, headers=DUTY).json()
    assert got["due_date"] == "2027-01-18" and got["provisional"] is True  # 2027 rests on 元旦 by law, provisional
    same_day = client.get("/api/v1/calendar/workdays", params={"start": "2026-10-03", "days": 0}, headers=DUTY)
    assert same_day.json()["due_date"] == "2026-10-03" and same_day.json()["holiday"] == "国庆节"  # 000 限时办结 一
    five = client.get("/api/v1/calendar/workdays", params={"start": "2026-09-28", "days": 5, "unit": "calendar_days"},
                      headers=DUTY).json()
    assert five["due_date"] == "2026-10-03"  # 000 限时办结 二: 延期不得超过5天 counts calendar days
    bad = client.get("/api/v1/calendar/workdays", params={"start": "2026-13-01", "days": 1}, headers=DUTY)
    assert bad.status_code == 422 and bad.json()["error"]["code"] == "invalid_request"


def test_loading_a_year_is_admin_only_validated_recomputes_open_deadlines_and_is_audited(
    client: TestClient, container: Container,
) -> None:
    # Given a 12389 重大 case whose 20 working days run into 2027, counted on the statutory festivals for now
    tid = new_ticket(container.sessions, issued_at=sh(2026, 12, 20, 9), platform="p12389", appeal_type="report",
                     level="重大")
    before = timers(container.sessions, tid)["resolution"]
    assert before.provisional and before.due_at == utc(sh(2027, 1, 18, 23, 59, 59))
    assert client.get("/api/v1/calendar/years", headers=DUTY).json()["missing"] == [2027]

    assert client.post("/api/v1/calendar/years", json=YEAR_2027, headers=DUTY).status_code == 403
    weekday_makeup = {"date": "2027-03-03", "holiday": "春节"}
    broken = {**YEAR_2027, "makeup_workdays": [*YEAR_2027["makeup_workdays"], weekday_makeup]}
    refused = client.post("/api/v1/calendar/years", json=broken, headers=ADMIN)
    assert refused.status_code == 422 and "不是星期六或星期日" in refused.json()["error"]["message"]

    # When the admin loads 2027
    loaded = client.post("/api/v1/calendar/years", json=YEAR_2027, headers=ADMIN)
    assert loaded.status_code == 200 and loaded.json()["recomputed"] == 1

    # Then the deadline moves past 元旦 and is firm; the change is logged and audited
    after = timers(container.sessions, tid)["resolution"]
    assert not after.provisional and after.due_at == utc(sh(2027, 1, 18, 23, 59, 59))
    assert ("resolution", "recomputed", "管理员丁") in timer_events(container.sessions, tid)
    with container.sessions() as s:
        entry = s.scalars(select(SlaAuditRecord)).one()
    assert (entry.actor, entry.action, entry.detail["year"], entry.detail["changed"]) == ("管理员丁", "calendar_loaded",
                                                                                         2027, 1)
    years = client.get("/api/v1/calendar/years", headers=DUTY).json()
    assert years["missing"] == [] and years["items"][-1]["source"] == "loaded"
    assert client.post("/api/v1/calendar/years", json=YEAR_2027, headers=ADMIN).status_code == 409
    assert client.post("/api/v1/calendar/years?replace=true", json=YEAR_2027, headers=ADMIN).json()["recomputed"] == 0


def test_another_process_picks_up_a_loaded_year_on_its_next_transaction(client: TestClient, db_url: str) -> None:
    other = SlaRuntime()  # stands for a worker process with its own cache
    sessions = make_session_factory(bound_engine(db_url))
    with sessions() as s:
        assert other.calendar(s).year(2027) is None
    client.post("/api/v1/calendar/years", json=YEAR_2027, headers=ADMIN)
    with sessions() as s:
        assert calendar_token(s) is not None and other.calendar(s).year(2027) is not None


def test_alerts_feed_acknowledge_and_metrics(client: TestClient, container: Container) -> None:
    new_ticket(container.sessions, issued_at=sh(2026, 11, 20, 9))
    sla = SlaEngine(container.sessions, runtime=runtime_for_engine(container.engine), clock=lambda: NOW,
                    rings=Rings(deliveries=lambda _: None, outbox=lambda _: None))
    sla.fire_due(NOW)
    sla.housekeeping(NOW)
    active = client.get("/api/v1/alerts", headers=DUTY).json()["items"]
    assert {a["kind"] for a in active} == {"breach", "warning", "calendar_missing"}  # warning: the dispatch timer
    assert client.get("/api/v1/alerts", headers=UNIT).status_code == 403
    breach = next(a for a in active if a["kind"] == "breach")
    acked = client.post(f"/api/v1/alerts/{breach['id']}/ack", headers=DUTY).json()
    assert acked["state"] == "acknowledged" and acked["acknowledged_by"] == "值班员甲"
    assert client.post(f"/api/v1/alerts/{breach['id']}/ack", headers=DUTY).status_code == 409
    assert [a["id"] for a in client.get("/api/v1/alerts?state=acknowledged", headers=DUTY).json()["items"]] == [
        breach["id"]]
    # sign-off 50/75/90 (superseded by its breach), the calendar, and the dispatch timer's 50 %
    assert len(client.get("/api/v1/alerts?state=all", headers=DUTY).json()["items"]) == 6

    text = client.get("/metrics").text
    assert 'hotline_sla_open_timers{platform="p12345",state="breached",timer="sign_off"} 1.0' in text
    assert 'hotline_sla_alerts_total{kind="breach",platform="p12345",timer="sign_off"} 1.0' in text
    assert "hotline_sla_alert_latency_seconds_count 5.0" in text
    assert "hotline_calendar_missing_years 1.0" in text
    rules = yaml.safe_load((ROOT / "deploy/prometheus/alerts.yml").read_text(encoding="utf-8"))
    used = {re.sub(r"_bucket$", "", name) for group in rules["groups"] for rule in group["rules"]
            for name in re.findall(r"hotline_[a-z_]+", rule["expr"])}
    assert used and all(f"# TYPE {name} " in text for name in used)  # the rules watch metrics we export
