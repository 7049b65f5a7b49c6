"""Dashboard pages: masking per role, a unit's scope, the queue's filters and paging, the ticket page,
the overview's live part, alerts and deliveries with their audited actions (SQLite and PostgreSQL).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select, update

from app.bootstrap import Container
from gateway.store.db import transaction
from gateway.store.tables import OutboxRecord, TicketRecord
from gateway.store.tables_auth import AuditRecord
from gateway.store.tables_sla import AlertRecord
from tests.integration.dashboard_support import NOW, UNIT, Browser, add_ticket, build_container
from tests.integration.dashboard_support import cheap_hashes as cheap_hashes


@pytest.fixture
def container(db_url: str, make_settings: Callable[..., Any], tmp_path: Path) -> Iterator[Container]:
    yield from build_container(db_url, make_settings, tmp_path)


def as_user(container: Container, username: str) -> Browser:
    browser = Browser(container)
    assert browser.login(username).status_code == 303
    return browser


def dispatch(container: Container, ticket_id: int, unit: str = UNIT) -> None:
    duty = as_user(container, "duty")
    assert duty.post(f"/dashboard/tickets/{ticket_id}/sign-off").status_code == 303
    assert duty.post(f"/dashboard/tickets/{ticket_id}/dispatch", {"unit": unit}).status_code == 303
    leader = as_user(container, "leader")  # 000 二: the dispatch takes effect when the leader approves it
    assert leader.post(f"/dashboard/tickets/{ticket_id}/dispatch/approve", {"unit": unit}).status_code == 303


def phone_on_page(html: str) -> str:
    found = re.search(r'<dd id="citizen-phone">([^<]*)</dd>', html)
    assert found, "no citizen phone on the page"
    return found.group(1)


def test_a_12345_citizens_phone_is_shown_to_the_duty_officer_who_must_call_back(container: Container) -> None:
    ticket_id = add_ticket(container, "M-1", phone="13812341234")
    assert phone_on_page(as_user(container, "duty").get(f"/dashboard/tickets/{ticket_id}").text) == "13812341234"


def test_a_12389_reporter_is_seen_by_supervisors_only(container: Container) -> None:
    ticket_id = add_ticket(container, "M-2", platform="p12389", phone="13912345678")
    for who in ("duty", "leader", "admin"):
        page = as_user(container, who).get(f"/dashboard/tickets/{ticket_id}").text
        assert phone_on_page(page) == "保密" and "仅督察人员可见" in page and "5678" not in page
    assert phone_on_page(as_user(container, "supervisor").get(f"/dashboard/tickets/{ticket_id}").text) == "13912345678"


def test_a_unit_sees_only_its_own_tickets_in_queue_page_and_files(container: Container) -> None:
    mine, theirs = add_ticket(container, "U-MINE"), add_ticket(container, "U-THEIRS")
    dispatch(container, mine)
    dispatch(container, theirs, unit="东城派出所")
    unit = as_user(container, "unit")
    queue = unit.get("/dashboard/queue").text
    assert "U-MINE" in queue and "U-THEIRS" not in queue
    assert "U-THEIRS" not in unit.get("/dashboard/queue?unit=东城派出所").text  # the scope wins over the filter
    assert unit.get(f"/dashboard/tickets/{theirs}").status_code == 404
    assert unit.get(f"/dashboard/tickets/{mine}").status_code == 200
    assert "U-THEIRS" not in unit.get("/dashboard/live").text
    assert unit.get("/dashboard/alerts").status_code == 403


def test_the_queue_filters_by_platform_state_type_and_text(container: Container) -> None:
    add_ticket(container, "Q-A", title="夜间施工噪音")
    signed = add_ticket(container, "Q-B", title="占道经营", content="路口有人占道经营", type="咨询")
    add_ticket(container, "Q-C", platform="mailbox", title="户籍迁移咨询", content="如何办理户口迁移")
    as_user(container, "duty").post(f"/dashboard/tickets/{signed}/sign-off")
    duty = as_user(container, "duty")

    def ids(query: str) -> set[str]:
        return set(re.findall(r"Q-[A-C]", duty.get(f"/dashboard/queue?{query}").text))

    assert ids("platform=mailbox") == {"Q-C"}
    assert ids("status=signed") == {"Q-B"}
    assert ids("appeal_type=consultation") == {"Q-B"}
    assert ids("q=施工") == {"Q-A"}
    assert ids("q=Q-C") == {"Q-C"}


def test_time_left_sorting_and_breached_filter_follow_the_sla_timers(container: Container) -> None:
    first = add_ticket(container, "S-EARLY", issued_at="2026-11-20T08:00:00+08:00")
    add_ticket(container, "S-LATE", issued_at="2026-11-20T09:30:00+08:00")
    duty = as_user(container, "duty")
    page = duty.get("/dashboard/queue?sort=due&timer=sign_off").text
    assert page.index("S-EARLY") < page.index("S-LATE")
    assert "S-EARLY" not in duty.get("/dashboard/queue?timer_state=breached").text
    container.clock = lambda: NOW + timedelta(hours=23, minutes=30)  # 09:30 next day: S-EARLY is late
    duty = as_user(container, "duty")  # the earlier login has been idle too long
    late = duty.get("/dashboard/queue?timer_state=breached&timer=sign_off").text
    assert "S-EARLY" in late and "S-LATE" not in late
    assert f"/dashboard/tickets/{first}" in duty.get("/dashboard/live").text


def test_the_queue_pages_with_a_keyset_cursor_without_repeats(container: Container) -> None:
    for n in range(55):
        add_ticket(container, f"P-{n:03d}")
    duty = as_user(container, "duty")
    first = duty.get("/dashboard/queue").text
    cursor = re.search(r'hx-get="/dashboard/queue\?[^"]*cursor=([^"&]+)"', first)
    assert cursor, "a full page offers the next one"
    second = duty.get(f"/dashboard/queue?cursor={cursor.group(1)}", headers={"HX-Request": "true"}).text
    one, two = set(re.findall(r"P-\d{3}", first)), set(re.findall(r"P-\d{3}", second))
    assert len(one) == 50 and len(two) == 5 and not one & two
    assert "<html" not in second  # htmx gets rows only, appended under the table


def test_the_ticket_page_shows_deadlines_write_backs_timeline_and_linked_tickets(container: Container) -> None:
    a = add_ticket(container, "L-1", phone="13700001111", title="小区门口违停", content="小区门口长期违停，影响通行")
    add_ticket(container, "L-2", platform="mailbox", phone="13700001111", title="小区门口违停",
               content="小区门口长期违停，影响通行")
    dispatch(container, a)  # the duty officer's dispatch, in force once the leader approves it (000 二)
    page = as_user(container, "duty").get(f"/dashboard/tickets/{a}").text
    assert "L-2" in page and 'id="linked"' in page
    deadlines = page[page.index('id="deadlines"'):page.index('id="evidence"')]
    assert "签收" in deadlines and "按时完成" in deadlines and "响应" in deadlines and "办结" in deadlines
    assert "派单" in deadlines and "依据：000 统一派单 二" in deadlines and "依据：002 四(二)" in deadlines
    outbound = page[page.index('id="outbound"'):page.index('id="timeline"')]
    assert "签收" in outbound and "待发送" in outbound
    assert "值班员甲" in page[page.index('id="timeline"'):]


def test_acknowledging_an_alert_records_who_and_is_audited(container: Container) -> None:
    ticket_id = add_ticket(container, "A-1")
    with transaction(container.sessions) as s:
        s.add(AlertRecord(dedup_key="x", kind="breach", severity="critical", state="active", audience="duty",
                          ticket_id=ticket_id, platform="p12345", external_id="A-1", message="A-1 签收已超时",
                          fire_at=NOW, created_at=NOW))
    duty = as_user(container, "duty")
    page = duty.get("/dashboard/alerts").text
    alert_id = re.search(r"/dashboard/alerts/(\d+)/ack", page)
    assert alert_id and "A-1 签收已超时" in page
    assert duty.post(f"/dashboard/alerts/{alert_id.group(1)}/ack").status_code == 303
    assert "A-1 签收已超时" in duty.get("/dashboard/alerts?state=acknowledged").text
    with container.sessions() as s:
        alert = s.scalars(select(AlertRecord)).one()
        audit = s.scalars(select(AuditRecord).where(AuditRecord.action == "alert_acknowledged")).one()
    assert alert.acknowledged_by == "值班员甲" and audit.actor == "值班员甲"


def test_a_dead_write_back_shows_its_reason_and_replay_is_audited(container: Container) -> None:
    ticket_id = add_ticket(container, "D-1")
    duty = as_user(container, "duty")
    duty.post(f"/dashboard/tickets/{ticket_id}/sign-off")
    with transaction(container.sessions) as s:
        s.execute(update(OutboxRecord).values(state="dead", last_error="400 工单已关闭，不能签收", attempts=3))
    page = duty.get("/dashboard/delivery").text
    assert "工单已关闭，不能签收" in page and "重新回传" in page
    row_id = re.search(r"/dashboard/delivery/(\d+)/replay", page)
    assert row_id
    assert as_user(container, "supervisor").post(f"/dashboard/delivery/{row_id.group(1)}/replay").status_code == 303
    with container.sessions() as s:
        assert s.scalars(select(OutboxRecord.state)).one() == "dead"  # 督察 may look, not replay
    assert duty.post(f"/dashboard/delivery/{row_id.group(1)}/replay").status_code == 303
    with container.sessions() as s:
        assert s.scalars(select(OutboxRecord.state)).one() == "unknown"  # queued again, read back before sending
        assert s.scalars(select(AuditRecord.actor).where(AuditRecord.action == "outbound_replayed")).one() == "值班员甲"
        assert s.get(TicketRecord, ticket_id) is not None


def test_the_overview_shows_open_work_today_and_the_missing_calendar_year(container: Container) -> None:
    add_ticket(container, "O-1")
    page = as_user(container, "duty").get("/dashboard/").text
    assert re.search(r'id="stat-open">1<', page) and re.search(r'id="stat-today">1<', page)
    assert "工作日历缺少 2027 年" in page  # from 1 November the next year must be loaded
    assert 'id="chart-data"' in page and "/dashboard/static/vendor/chart.umd.min.js" in page
