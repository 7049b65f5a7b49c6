"""日清月结年归档 (000 统一派单 六: …认真登记归档，及时提供查询服务，做到日清月结年归档): the day's clearing list,
the sealed month with checksums, the working queue without it, the search, the export for 督察 only, and the
yearly archive only after every month is sealed (SQLite and PostgreSQL)."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from app.bootstrap import Container
from app.web import create_app
from gateway.services import archive
from gateway.store.tables import ArchiveBatchRecord
from tests.integration.dashboard_support import UNIT, Browser, add_ticket, build_container, token
from tests.integration.dashboard_support import cheap_hashes as cheap_hashes

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 200
DECEMBER = datetime(2026, 12, 1, 1, 0, tzinfo=UTC)  # 09:00 on 1 December in Beijing


@pytest.fixture
def container(db_url: str, make_settings: Callable[..., Any], tmp_path: Path) -> Iterator[Container]:
    yield from build_container(db_url, make_settings, tmp_path)


@pytest.fixture
def api(container: Container) -> TestClient:
    return TestClient(create_app(container))


def post(api: TestClient, who: str, path: str, **kwargs: Any) -> Any:
    return api.post(path, headers=token(who), **kwargs)


def terminated(api: TestClient, container: Container, external_id: str) -> int:
    """A ticket closed through 终结办理 (002 四(七)), with one evidence file."""
    tid = add_ticket(container, external_id)
    base = f"/api/v1/tickets/{tid}"
    assert post(api, "duty", f"{base}/sign-off").is_success
    assert post(api, "duty", f"{base}/dispatch", json={"unit": UNIT}).is_success
    assert post(api, "leader", f"{base}/dispatch/approve", json={}).is_success
    photo = post(api, "unit", f"{base}/evidence", files={"file": ("劝解.png", PNG, "image/png")}).json()
    asked = {"reason_code": 7, "explanation": "不属于市人民政府行政职权管辖范围，已告知渠道", "visit": "已上门劝解",
             "evidence_ids": [photo["id"]]}
    assert post(api, "unit", f"{base}/termination", json=asked).is_success
    assert post(api, "leader", f"{base}/termination/approve", json={"chief": "局长甲"}).is_success
    return tid


def test_daily_clearing_000_统一派单_六_lists_what_is_still_open_tonight(api: TestClient, container: Container) -> None:
    done = terminated(api, container, "A-1")
    still = add_ticket(container, "A-2", phone="13900001111", title="路灯不亮")  # another citizen, not linked
    day = api.get("/api/v1/archive/daily", params={"day": "2026-11-20"}, headers=token("duty")).json()
    assert [r["ticket_id"] for r in day["open"]] == [still] and day["open"][0]["next_due_at"] is not None
    assert [r["ticket_id"] for r in day["finished"]] == [done]
    assert {r["ticket_id"] for r in day["received"]} == {done, still}
    assert api.get("/api/v1/archive/daily", params={"day": "9999-12-31"}, headers=token("duty")).status_code == 422
    # a unit sees its own tickets only: the undispatched one is nobody's yet
    mine = api.get("/api/v1/archive/daily", params={"day": "2026-11-20"}, headers=token("unit")).json()
    assert mine["open"] == [] and [r["ticket_id"] for r in mine["finished"]] == [done]


def test_the_month_is_sealed_once_with_checksums_and_leaves_the_working_queue_000_统一派单_六(
    api: TestClient, container: Container,
) -> None:
    done = terminated(api, container, "A-1")
    still = add_ticket(container, "A-2")
    early = post(api, "duty", "/api/v1/archive/months/2026-11")
    assert early.status_code == 422 and early.json()["error"]["code"] == "too_early"
    container.clock = lambda: DECEMBER
    assert post(api, "unit", "/api/v1/archive/months/2026-11").status_code == 403  # the office seals
    sealed = post(api, "duty", "/api/v1/archive/months/2026-11").json()
    assert (sealed["ticket_count"], sealed["carried_over"], sealed["intact"]) == (1, 1, True)
    again = post(api, "duty", "/api/v1/archive/months/2026-11")
    assert again.status_code == 409 and again.json()["error"]["code"] == "already_sealed"
    duty = Browser(container)
    duty.login("duty")
    queue = duty.get("/dashboard/queue").text
    assert f"/dashboard/tickets/{still}\"" in queue and f"/dashboard/tickets/{done}\"" not in queue
    found = api.get("/api/v1/archive/search", params={"q": "A-1"}, headers=token("duty")).json()["items"]
    assert [(r["ticket_id"], r["batch"]) for r in found] == [(done, "2026-11")]
    assert "citizen" not in found[0]  # summaries only
    assert api.get(f"/api/v1/archive/batches/{sealed['id']}/export", headers=token("duty")).status_code == 403
    exported = api.get(f"/api/v1/archive/batches/{sealed['id']}/export", headers=token("supervisor"))
    assert hashlib.sha256(exported.content).hexdigest() == exported.headers["X-Content-SHA256"] == sealed["sha256"]
    data = json.loads(exported.content)
    kept = data["tickets"][0]
    assert kept["ticket"]["id"] == done and kept["evidence"][0]["sha256"] == hashlib.sha256(PNG).hexdigest()
    assert any(e["kind"] == "terminated" for e in kept["timeline"]) and data["article"] == "000 统一派单 六"
    with container.sessions() as s:  # tampering with a sealed batch is detected
        record = s.get(ArchiveBatchRecord, sealed["id"])
        assert record is not None and archive.verify(record)
        record.content = record.content.replace("局长甲", "局长乙")
        assert not archive.verify(record)


def test_the_year_is_archived_only_when_its_twelve_months_are_sealed_000_统一派单_六(
    api: TestClient, container: Container,
) -> None:
    terminated(api, container, "A-1")
    container.clock = lambda: datetime(2027, 1, 4, 1, 0, tzinfo=UTC)
    refused = post(api, "duty", "/api/v1/archive/years/2026")
    assert refused.status_code == 422 and "2026-01" in refused.json()["error"]["message"]
    for month in range(1, 13):
        assert post(api, "duty", f"/api/v1/archive/months/2026-{month:02d}").is_success
    year = post(api, "duty", "/api/v1/archive/years/2026").json()
    assert (year["period"], year["ticket_count"], year["intact"]) == ("year", 1, True)
    batches = api.get("/api/v1/archive/batches", headers=token("unit")).json()["items"]
    assert [b["key"] for b in batches][:2] == ["2026", "2026-12"]


def test_the_archive_page_shows_the_clearing_the_batches_and_the_search(api: TestClient, container: Container) -> None:
    done = terminated(api, container, "A-1")
    container.clock = lambda: DECEMBER
    duty, supervisor = Browser(container), Browser(container)
    duty.login("duty"), supervisor.login("supervisor")
    page = duty.get("/dashboard/archive?day=2026-11-20").text
    assert "日清月结年归档" in page and 'id="form-close-month"' in page
    duty.post("/dashboard/archive/months", {"month": "2026-11"})
    assert "已封存 2026-11：1 件" in duty.flash()
    assert "/export" not in duty.get("/dashboard/archive").text  # 督察 only
    listed = supervisor.get("/dashboard/archive?q=A-1").text
    assert "校验通过" in listed and f"/dashboard/tickets/{done}" in listed and 'id="form-close-month"' not in listed
    assert supervisor.get("/dashboard/archive/1/export").headers["X-Content-SHA256"]
