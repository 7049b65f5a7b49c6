"""A 12389 reporter is seen by supervision staff (督察) only, through every path (001 五: 不得擅自透露或者向
被举报投诉对象泄露举报投诉人信息及举报投诉内容; RULES.md §5): the ticket's masks, a link to another platform's
ticket (一事多投), a unit carried along a link, and the unit complained about. SQLite and PostgreSQL.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from openpyxl import load_workbook
from sqlalchemy import select

from app.bootstrap import Container
from app.web import create_app
from gateway.store import units
from gateway.store.db import transaction
from gateway.store.tables import TicketRecord
from gateway.store.tables_dashboard import UnitRecord
from tests.integration.dashboard_support import NOW, OTHER_UNIT, UNIT, Browser, add_ticket, build_container, token
from tests.integration.dashboard_support import cheap_hashes as cheap_hashes

# An invented reporter; every value distinctive enough to be searched for in a whole response.
REPORTER = {"name": "欧阳晓岚", "phone": "13912349876", "id_number": "370902199001017788",
            "home": "示例市泰山区望岳路88号3单元501"}
TRACES = ("欧阳", "9876", "7788", "望岳路")
COMPLAINT = "民警处警时态度恶劣，推搡群众，要求严肃处理。"
NON_SUPERVISORS = ("duty", "leader", "admin", "unit", "unit_head")


@pytest.fixture
def container(db_url: str, make_settings: Callable[..., Any], tmp_path: Path) -> Iterator[Container]:
    yield from build_container(db_url, make_settings, tmp_path)


@pytest.fixture
def api(container: Container) -> TestClient:
    return TestClient(create_app(container))


def report_case(container: Container, external_id: str = "JB-1", **fields: Any) -> int:
    values = {"platform": "p12389", "type": "投诉", "title": "检举控告：东城分局城关派出所", "content": COMPLAINT,
              "address": "示例市泰山区望岳路88号", "address_personal": True, **REPORTER, **fields}
    return add_ticket(container, external_id, **values)


def dispatch(api: TestClient, tid: int, unit: str) -> Any:
    """Duty signs and proposes, the leader approves (000 二); the last answer."""
    api.post(f"/api/v1/tickets/{tid}/sign-off", headers=token("duty"))
    proposed = api.post(f"/api/v1/tickets/{tid}/dispatch", json={"unit": unit}, headers=token("duty"))
    if not proposed.is_success:
        return proposed
    return api.post(f"/api/v1/tickets/{tid}/dispatch/approve", json={}, headers=token("leader"))


def leaks(text: str) -> list[str]:
    return [trace for trace in TRACES if trace in text]


def cells(workbook: bytes) -> str:
    """Every cell of every sheet of an Excel export, as text."""
    book = load_workbook(io.BytesIO(workbook), read_only=True)
    return "\n".join(str(value) for sheet in book.worksheets for row in sheet.iter_rows(values_only=True)
                     for value in row if value is not None)


def test_every_reporter_field_is_保密_to_everyone_but_supervisors_in_the_api_and_the_dashboard_001_5(
    api: TestClient, container: Container
) -> None:
    """001 五: not a surname, not four digits, not a street — nothing of a 12389 reporter to non-supervisors."""
    tid = report_case(container)
    assert dispatch(api, tid, UNIT).is_success  # so that the unit and its head see the ticket at all
    for who in NON_SUPERVISORS:
        body = api.get(f"/api/v1/tickets/{tid}", headers=token(who))
        assert body.status_code == 200, (who, body.text)
        citizen = body.json()["citizen"]
        assert {citizen[k] for k in ("name", "phone", "id_number", "address")} == {"保密"}, who
        assert body.json()["address"] == "保密" and body.json()["location"] == {"lng": None, "lat": None}
        assert leaks(body.text) == [], who
        page = Browser(container)
        page.login(who)
        html = page.get(f"/dashboard/tickets/{tid}").text
        assert 'id="citizen-phone">保密<' in html and 'id="ticket-address">保密<' in html
        assert leaks(html) == [], who
        assert leaks(page.get("/dashboard/queue").text) == [], who
    seen = api.get(f"/api/v1/tickets/{tid}", headers=token("supervisor")).json()
    assert (seen["citizen"]["name"], seen["citizen"]["phone"], seen["address"]) == (
        REPORTER["name"], REPORTER["phone"], "示例市泰山区望岳路88号")


def test_a_link_between_a_12389_case_and_a_12345_ticket_is_seen_by_supervisors_only_001_5(
    api: TestClient, container: Container
) -> None:
    """一事多投 by the reporter's phone: to others the 12345 ticket has no case, the 12389 one no link."""
    hotline = add_ticket(container, "H-9001", platform="p12345", content=COMPLAINT, phone=REPORTER["phone"],
                         name=REPORTER["name"])
    report = report_case(container, "JB-9002")
    with container.sessions() as s:
        assert s.get_one(TicketRecord, hotline).case_id == s.get_one(TicketRecord, report).case_id is not None
    for who in ("duty", "leader", "admin"):
        for tid, other in ((hotline, "JB-9002"), (report, "H-9001")):
            body = api.get(f"/api/v1/tickets/{tid}", headers=token(who))
            assert body.json()["case"] is None, who
            assert other not in body.text and "linked" not in {e["kind"] for e in body.json()["events"]}
            page = Browser(container)
            page.login(who)
            html = page.get(f"/dashboard/tickets/{tid}").text
            assert other not in html and 'id="linked"' not in html, who
    for tid, other in ((hotline, "JB-9002"), (report, "H-9001")):
        seen = api.get(f"/api/v1/tickets/{tid}", headers=token("supervisor")).json()
        assert [t["external_id"] for t in seen["case"]["tickets"]] == [other]
        assert "linked" in {e["kind"] for e in seen["events"]}


def test_no_handling_unit_is_carried_to_or_from_a_12389_case_along_a_link(
    api: TestClient, container: Container
) -> None:
    """Dispatching the 12345 ticket must not hand the 12389 case to that unit, nor the other way round."""
    hotline = add_ticket(container, "H-9101", platform="p12345", content=COMPLAINT, phone=REPORTER["phone"])
    report = report_case(container, "JB-9102")
    assert dispatch(api, hotline, UNIT).is_success
    with container.sessions() as s:
        assert s.get_one(TicketRecord, report).unit is None
    assert api.get(f"/api/v1/tickets/{report}", headers=token("unit")).status_code == 404
    assert dispatch(api, report, OTHER_UNIT).is_success
    later = add_ticket(container, "M-9103", platform="mayor", content=COMPLAINT, phone=REPORTER["phone"])
    with container.sessions() as s:
        assert s.get_one(TicketRecord, later).case_id is not None
        assert s.get_one(TicketRecord, later).unit == UNIT  # the 12345 sibling's, never the 12389 case's
        assert s.get_one(TicketRecord, hotline).unit == UNIT


def test_a_12389_case_never_goes_to_the_unit_complained_about_or_its_line_001_5(
    api: TestClient, container: Container
) -> None:
    """001 五 (and 001 四(二) 不得交至被核查单位自行处理): 422 with the reason, the unit shown on the form."""
    with transaction(container.sessions) as s:
        units.seed_units(s, units=units.load_directory(None), now=NOW)
        units.save_unit(s, unit_id=None, name="东城分局", kind="分局", phone="", active=True, sort=90, now=NOW)
        for name, parent in ((UNIT, "东城分局"), ("城关派出所警务室", UNIT)):
            found = s.scalars(select(UnitRecord).where(UnitRecord.name == name)).first()
            units.save_unit(s, unit_id=found.id if found else None, name=name, kind="派出所", phone="",
                            active=True, sort=91, now=NOW, parent=parent)
    tid = report_case(container, "JB-9201", respondent_unit="示例市公安局东城分局城关派出所")
    for barred in (UNIT, "东城分局", "城关派出所警务室"):
        refused = dispatch(api, tid, barred)
        assert refused.status_code == 422, (barred, refused.text)
        error = refused.json()["error"]
        assert error["code"] == "complained_unit" and "被举报单位" in error["message"] and "001 五" in error["message"]
    duty = Browser(container)
    duty.login("duty")
    form = duty.get(f"/dashboard/tickets/{tid}").text
    assert 'id="complained-unit"' in form and "示例市公安局东城分局城关派出所" in form
    options = form[form.index('id="form-dispatch"'):form.index("</form>", form.index('id="form-dispatch"'))]
    assert f'value="{UNIT}"' not in options and 'value="东城分局"' not in options and 'value="西城派出所"' in options
    assert dispatch(api, tid, "西城派出所").is_success
    moved = api.post(f"/api/v1/tickets/{tid}/dispatch", json={"unit": "南关派出所"}, headers=token("duty"))
    assert moved.is_success
    redirected = api.post(f"/api/v1/tickets/{tid}/dispatch/approve", json={"unit": UNIT}, headers=token("leader"))
    assert redirected.status_code == 422  # a leader's 改派 is held to the same rule
    with container.sessions() as s:
        assert s.get_one(TicketRecord, tid).unit == "西城派出所"


def test_reports_and_bulletins_show_nothing_of_a_12389_reporter(api: TestClient, container: Container) -> None:
    """Exports (Excel) and bulletins are read by every unit: no reporter field there either (RULES.md §5)."""
    tid = report_case(container, "JB-9301")
    dispatch(api, tid, UNIT)
    for who in ("duty", "unit", "admin"):
        page = Browser(container)
        page.login(who)
        for path in ("/dashboard/reports", "/dashboard/bulletin?kind=week&day=2026-11-20",
                     "/dashboard/reports/export.xlsx?start=2026-11-01&end=2026-11-30",
                     "/dashboard/bulletin/export.xlsx?kind=month&day=2026-11-20"):
            response = page.get(path)
            assert response.status_code == 200, (who, path)
            assert leaks(cells(response.content) if path.endswith(".xlsx") else response.text) == [], (who, path)
