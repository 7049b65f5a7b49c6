"""Alert floods (issue 13.4): grouped per kind/threshold and unit, acknowledged in bulk with one note (use case,
API, dashboard, role limits), and a digest to the sinks when many fire within the window (SQLite + PostgreSQL).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from pydantic import SecretStr
from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from app.bootstrap import Container
from app.web import create_app
from gateway.alerts.delivery import deliver
from gateway.alerts.sinks import Notification
from gateway.alerts.store import active_groups
from gateway.errors import DomainError, Forbidden, NotFound
from gateway.principal import Principal
from gateway.services.operations import acknowledge_alert
from gateway.settings import AlertSettings, Role, SlaSettings, WebhookSinkSettings
from gateway.sla import runtime as sla_runtime
from gateway.sla.engine import Rings, SlaEngine
from gateway.store.db import make_engine, make_session_factory, transaction
from gateway.store.tables import TicketRecord
from gateway.store.tables_auth import AuditRecord
from gateway.store.tables_sla import AlertDeliveryRecord, AlertRecord
from tests.integration.dashboard_support import NOW, OTHER_UNIT, UNIT, Browser, add_ticket, build_container, token
from tests.integration.dashboard_support import cheap_hashes as cheap_hashes
from tests.sla_support import new_ticket, sh

DUTY = Principal(name="值班员甲", roles=frozenset({Role.duty}))


@pytest.fixture
def container(db_url: str, make_settings: Callable[..., Any], tmp_path: Path) -> Iterator[Container]:
    yield from build_container(db_url, make_settings, tmp_path)


def flood(container: Container, *, per_unit: dict[str | None, int], kind: str = "breach",
          threshold: int | None = 100, prefix: str = "F") -> list[int]:
    """Active alerts on tickets of the given units (None: not dispatched), as the midnight scan leaves them."""
    ids: list[int] = []
    for unit, n in per_unit.items():
        for k in range(n):
            external = f"{prefix}-{unit or 'none'}-{k}"
            ticket_id = add_ticket(container, external)
            with transaction(container.sessions) as s:
                s.execute(update(TicketRecord).where(TicketRecord.id == ticket_id).values(unit=unit))
                alert = AlertRecord(
                    dedup_key=f"{external}:{kind}:{threshold}", kind=kind, severity="critical", state="active",
                    audience="duty", ticket_id=ticket_id, platform="p12345", external_id=external,
                    timer_kind="resolution", threshold=threshold, message=f"【已超时】12345工单 {external}办结已超时",
                    fire_at=NOW, created_at=NOW, next_repeat_at=NOW + timedelta(hours=1))
                s.add(alert)
                s.flush()
                ids.append(alert.id)
    return ids


def states(container: Container) -> dict[int, tuple[str, str | None]]:
    with container.sessions() as s:
        return {a.id: (a.state, a.acknowledged_by) for a in s.scalars(select(AlertRecord))}


def ack_audits(container: Container) -> list[AuditRecord]:
    with container.sessions() as s:
        return list(s.scalars(select(AuditRecord).where(AuditRecord.action == "alert_acknowledged")
                              .order_by(AuditRecord.id)))


# --- the use case --------------------------------------------------------------------------------------------


def test_many_alerts_are_acknowledged_at_once_with_one_note_audited_on_each(container: Container) -> None:
    ids = flood(container, per_unit={UNIT: 4, OTHER_UNIT: 2})
    with transaction(container.sessions) as s:
        done, skipped = acknowledge_alert(s, alert_ids=ids[:5], principal=DUTY, now=NOW,
                                          note="零点批量超时，已通知各所")
    assert sorted(a.id for a in done) == ids[:5] and skipped == []
    after = states(container)
    assert all(after[i] == ("acknowledged", "值班员甲") for i in ids[:5]) and after[ids[5]][0] == "active"
    with container.sessions() as s:
        assert all(s.get_one(AlertRecord, i).next_repeat_at is None for i in ids[:5])  # no more repeats
    audits = ack_audits(container)
    assert sorted(a.target or "" for a in audits) == sorted(f"alert:{i}" for i in ids[:5])
    assert {a.detail["note"] for a in audits} == {"零点批量超时，已通知各所"}
    assert {a.detail["bulk"] for a in audits} == {5} and {a.actor for a in audits} == {"值班员甲"}


def test_bulk_acknowledge_skips_what_others_did_refuses_unknown_ids_whole_and_all_done_twice(
        container: Container) -> None:
    ids = flood(container, per_unit={UNIT: 3})
    with transaction(container.sessions) as s:
        acknowledge_alert(s, alert_ids=[ids[0]], principal=DUTY, now=NOW)
    with pytest.raises(NotFound), transaction(container.sessions) as s:  # one unknown id: nothing is done
        acknowledge_alert(s, alert_ids=[ids[1], 999_999], principal=DUTY, now=NOW)
    assert states(container)[ids[1]][0] == "active"
    with transaction(container.sessions) as s:
        done, skipped = acknowledge_alert(s, alert_ids=ids, principal=DUTY, now=NOW, note="批量")
    assert [a.id for a in done] == ids[1:] and [a.id for a in skipped] == [ids[0]]
    with pytest.raises(DomainError, match="已由值班员甲确认"), transaction(container.sessions) as s:
        acknowledge_alert(s, alert_ids=ids, principal=DUTY, now=NOW)
    assert len(ack_audits(container)) == 3  # one per alert, never two for the same


def test_only_the_roles_that_acknowledge_may_do_it_in_bulk(container: Container) -> None:
    ids = flood(container, per_unit={UNIT: 2})
    for roles, unit in (({Role.unit}, UNIT), ({Role.unit_head}, UNIT), ({Role.admin}, None)):
        someone = Principal(name="某人", roles=frozenset(roles), unit=unit)
        with pytest.raises(Forbidden), transaction(container.sessions) as s:
            acknowledge_alert(s, alert_ids=ids, principal=someone, now=NOW)
    assert {state for state, _ in states(container).values()} == {"active"}
    for role in (Role.leader, Role.supervisor):
        with transaction(container.sessions) as s:
            done, _ = acknowledge_alert(s, alert_ids=[ids.pop()], principal=Principal(name=role.value,
                                        roles=frozenset({role})), now=NOW)
        assert len(done) == 1


def test_groups_count_the_active_alerts_per_kind_threshold_and_unit(container: Container) -> None:
    flood(container, per_unit={UNIT: 5, OTHER_UNIT: 2, None: 1})
    flood(container, per_unit={UNIT: 2}, kind="warning", threshold=90, prefix="W")
    with container.sessions() as s:
        groups = [(g.kind, g.threshold, g.unit, g.count, g.severity) for g in active_groups(s)]
        mine = [(g.kind, g.unit, g.count) for g in active_groups(s, unit=OTHER_UNIT)]
    assert groups == [("breach", 100, UNIT, 5, "critical"), ("breach", 100, OTHER_UNIT, 2, "critical"),
                      ("warning", 90, UNIT, 2, "critical"), ("breach", 100, None, 1, "critical")]
    assert mine == [("breach", OTHER_UNIT, 2)]  # a unit's view holds its own tickets' alerts only


# --- the API -------------------------------------------------------------------------------------------------


def test_the_api_acknowledges_ids_or_a_whole_group_and_keeps_the_role_limits(container: Container) -> None:
    ids = flood(container, per_unit={UNIT: 3, OTHER_UNIT: 2})
    api = TestClient(create_app(container))
    refused = api.post("/api/v1/alerts/ack", json={"ids": ids, "note": "x"}, headers=token("unit"))
    assert refused.status_code == 403
    assert api.post("/api/v1/alerts/ack", json={"ids": ids}, headers=token("admin")).status_code == 403
    assert api.post("/api/v1/alerts/ack", json={"ids": ids, "group": {"kind": "breach"}},
                    headers=token("duty")).status_code == 422  # either ids or a group
    assert api.post("/api/v1/alerts/ack", json={"ids": []}, headers=token("duty")).status_code == 422
    assert {state for state, _ in states(container).values()} == {"active"}

    group = api.post("/api/v1/alerts/ack", headers=token("duty"),
                     json={"group": {"kind": "breach", "threshold": 100, "unit": UNIT}, "note": "已通知城关派出所"})
    assert group.status_code == 200, group.text
    assert group.json() == {"acknowledged": ids[:3], "skipped": [], "count": 3}
    assert api.post("/api/v1/alerts/ack", headers=token("duty"),  # the group is empty now
                    json={"group": {"kind": "breach", "threshold": 100, "unit": UNIT}}).status_code == 404

    picked = api.post("/api/v1/alerts/ack", json={"ids": [ids[2], ids[3]], "note": "东城所已处理"},
                      headers=token("supervisor"))
    assert picked.json() == {"acknowledged": [ids[3]], "skipped": [ids[2]], "count": 1}
    assert api.post("/api/v1/alerts/ack", json={"ids": [ids[3]]}, headers=token("duty")).status_code == 409
    notes = {a.target: a.detail["note"] for a in ack_audits(container)}
    assert notes == {**{f"alert:{i}": "已通知城关派出所" for i in ids[:3]}, f"alert:{ids[3]}": "东城所已处理"}
    single = api.post(f"/api/v1/alerts/{ids[4]}/ack", headers=token("leader"))  # the one-alert route as before
    assert single.status_code == 200 and single.json()["acknowledged_by"] == "leader-api"


# --- the dashboard -------------------------------------------------------------------------------------------


def as_user(container: Container, username: str) -> Browser:
    browser = Browser(container)
    assert browser.login(username).status_code == 303
    return browser


def test_the_alerts_page_groups_the_flood_and_acknowledges_a_group_or_the_checked_rows(container: Container) -> None:
    ids = flood(container, per_unit={UNIT: 6, OTHER_UNIT: 3})
    duty = as_user(container, "duty")
    page = duty.get("/dashboard/alerts").text
    groups = page[page.index('id="alert-groups"'):page.index('id="alerts"')]
    assert "未确认 9 条，2 组" in groups and "确认本组 6 条" in groups and "确认本组 3 条" in groups
    key = re.search(r'name="group" value="(breach\|100\|城关派出所)"', groups)
    assert key, groups
    one_group = duty.get("/dashboard/alerts", params={"state": "active", "group": key.group(1)}).text
    assert len(re.findall(r'name="ids" value="\d+"', one_group)) == 6

    assert duty.post("/dashboard/alerts/ack", {"group": key.group(1), "note": "城关所已到场"}).status_code == 303
    assert duty.flash() == "ok: 已确认 6 条告警"
    after = states(container)
    assert [after[i][0] for i in ids] == ["acknowledged"] * 6 + ["active"] * 3
    history = duty.get("/dashboard/alerts?state=acknowledged").text
    assert history.count("说明：城关所已到场") == 6  # the one note, shown on each alert

    assert duty.post("/dashboard/alerts/ack", {"ids": [str(ids[6]), str(ids[7])], "note": ""}).status_code == 303
    assert duty.flash() == "ok: 已确认 2 条告警"
    assert [after[0] for after in states(container).values()].count("active") == 1
    assert duty.post("/dashboard/alerts/ack", {"note": "空"}).status_code == 303  # nothing chosen: said so
    assert duty.flash().startswith("error: 请勾选要确认的告警")
    assert duty.post("/dashboard/alerts/ack", {"group": key.group(1)}).status_code == 303
    assert duty.flash().startswith("error: 该组已没有未确认的告警")


def test_a_unit_neither_sees_nor_acknowledges_alerts_on_the_page(container: Container) -> None:
    ids = flood(container, per_unit={UNIT: 2})
    unit = as_user(container, "unit")
    assert unit.get("/dashboard/alerts").status_code == 403
    assert unit.post("/dashboard/alerts/ack", {"ids": [str(i) for i in ids]}).status_code == 303
    assert unit.flash().startswith("error: 无权执行“确认告警”")
    assert {state for state, _ in states(container).values()} == {"active"}


# --- the digest ----------------------------------------------------------------------------------------------

ROBOT = WebhookSinkSettings(name="duty-robot", kind="wecom", url=SecretStr("https://robot.test/send?key=K"))
World = tuple[sessionmaker[Session], SlaEngine]


@pytest.fixture
def world(db_url: str) -> World:
    engine = make_engine(db_url)
    sla_runtime.bind(engine, SlaSettings(), AlertSettings(webhooks=[ROBOT], digest_threshold=5, digest_window_s=60))
    sessions = make_session_factory(engine)
    sla = SlaEngine(sessions, runtime=sla_runtime.runtime_for_engine(engine), clock=lambda: sh(2026, 11, 20, 9),
                    rings=Rings(deliveries=lambda ids: None, outbox=lambda ids: None))
    return sessions, sla


class RecordingSink:
    """A sink that keeps what it was asked to send."""

    name = "duty-robot"

    def __init__(self) -> None:
        self.sent: list[Notification] = []

    def send(self, note: Notification) -> None:
        self.sent.append(note)


def send_all(sessions: sessionmaker[Session], sink: RecordingSink, at: Any) -> list[AlertDeliveryRecord]:
    with sessions() as s:
        rows = list(s.scalars(select(AlertDeliveryRecord).order_by(AlertDeliveryRecord.id)))
    for row in rows:
        outcome = deliver(sessions, delivery_id=row.id, sinks={"duty-robot": sink}, config=AlertSettings(),
                          owner="test", clock=lambda: at + timedelta(minutes=5))
        assert outcome.state in ("sent", None)
    return rows


def test_a_flood_within_the_window_reaches_the_sink_as_one_digest_without_ticket_numbers(world: World) -> None:
    sessions, sla = world
    issued = sh(2026, 11, 20, 9)
    tickets = [new_ticket(sessions, issued_at=issued, unit=UNIT if k < 8 else None) for k in range(12)]
    half = sla.fire_due(sh(2026, 11, 20, 21))  # 50 % of the 24-hour sign-off: all twelve at once
    assert len(half.alerts) == 12 and len(half.deliveries) == 1
    sink = RecordingSink()
    send_all(sessions, sink, sh(2026, 11, 20, 21))
    assert len(sink.sent) == 1
    note = sink.sent[0]
    assert note.title == "SLA告警汇总 12 条（60秒内共 12 条）"
    assert note.lines[:2] == (f"即将超时（已过50%） · {UNIT}：8 条", "即将超时（已过50%） · 未派单：4 条")
    with sessions() as s:
        numbers = [t.external_id for t in s.scalars(select(TicketRecord).where(TicketRecord.id.in_(tickets)))]
    text = note.title + "\n".join(note.lines)
    assert not any(number in text for number in numbers) and "测试工单" not in text  # no ticket, no text of one


def test_a_few_alerts_go_one_message_each_and_the_sixth_within_a_minute_becomes_a_digest(world: World) -> None:
    sessions, sla = world
    start = sh(2026, 11, 20, 9)
    for k in range(7):  # one ticket every 10 s: their 50 % instants are 10 s apart
        new_ticket(sessions, issued_at=start + timedelta(seconds=10 * k))
    for k in range(7):
        assert len(sla.fire_due(sh(2026, 11, 20, 21) + timedelta(seconds=10 * k)).alerts) == 1
    sink = RecordingSink()
    send_all(sessions, sink, sh(2026, 11, 20, 21))
    titles = [n.title for n in sink.sent]
    assert titles[:5] == ["即将超时"] * 5 and all(n.lines[0].startswith("【即将超时】12345工单") for n in sink.sent[:5])
    assert titles[5:] == ["SLA告警汇总 1 条（60秒内共 6 条）", "SLA告警汇总 1 条（60秒内共 7 条）"]
    later = sh(2026, 11, 20, 21, 5)  # the window has passed: one message each again
    new_ticket(sessions, issued_at=later - timedelta(hours=12))
    assert len(sla.fire_due(later).alerts) == 1
    with sessions() as s:
        last = s.scalars(select(AlertDeliveryRecord).order_by(AlertDeliveryRecord.id.desc())).first()
    assert last is not None and last.title == "即将超时"


# --- a form's result next to the form (issue 13.2) ------------------------------------------------------------


def flash_of(page: str) -> tuple[str, str, str, dict[str, Any]]:
    """(kind, form, text, values) of the one-time message on a page."""
    found = re.search(r'<div class="flash (\w+)" id="flash" role="\w+" data-form="([^"]+)">([^<]*)</div>', page)
    assert found, page[:2000]
    values = re.search(r'<script type="application/json" id="flash-values">(.*?)</script>', page, re.S)
    assert values
    return found.group(1), found.group(2), found.group(3), json.loads(values.group(1))


def test_a_refused_upload_names_its_form_and_keeps_what_was_typed(container: Container) -> None:
    ticket_id = add_ticket(container, "E-1")
    duty = as_user(container, "duty")
    url = f"/dashboard/tickets/{ticket_id}"
    sent = duty.client.post(f"{url}/evidence", data={"csrf_token": duty.csrf, "note": "整改前照片（现场）"},
                            files={"file": ("病毒.exe", b"MZ\x90\x00" + b"\x00" * 64, "application/octet-stream")},
                            follow_redirects=False)
    assert sent.status_code == 303 and sent.headers["location"].endswith(f"{url}#evidence")
    kind, form, text, values = flash_of(duty.get(url).text)
    assert (kind, form) == ("error", f"{url}/evidence") and text.startswith("不支持的文件类型")
    assert values == {"note": "整改前照片（现场）"}  # the file is not echoed, nor the CSRF token
    assert 'id="flash"' not in duty.get(url).text  # shown once


def test_a_form_refused_by_validation_keeps_its_text_and_says_which_form(container: Container) -> None:
    ticket_id = add_ticket(container, "E-2")
    duty = as_user(container, "duty")
    url = f"/dashboard/tickets/{ticket_id}"
    assert duty.post(f"{url}/return", {"reason": "x"}, headers={"referer": f"https://testserver{url}"}
                     ).status_code == 303  # too short for a reason
    kind, form, text, values = flash_of(duty.get(url).text)
    assert (kind, form, values) == ("error", f"{url}/return", {"reason": "x"}) and "理由" in text
    assert duty.post(f"{url}/sign-off").status_code == 303
    kind, form, text, _ = flash_of(duty.get(url).text)
    assert (kind, form) == ("ok", f"{url}/sign-off") and "已签收" in text
