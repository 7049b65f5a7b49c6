"""Search by a phone number's digits and batch sign-off (issue 13, point 8), on SQLite and PostgreSQL.

A match on a stored phone reveals as much as the number, so the search covers exactly the citizens the caller
may see unmasked (gateway/privacy.py): a 12389 reporter only for 督察 (001 五: 不得擅自透露举报投诉人信息), a
citizen who asked for 保密 only for leaders and 督察, nobody's for an administrator; the queue never shows the
number itself. Batch sign-off signs each ticket in its own transaction (the 24-hour sign-off of RULES.md §2 for
a morning's intake at once), reports the ones it could not sign, and queues each sign-off write-back once.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from app.bootstrap import Container
from app.web import create_app
from gateway.store.tables import OutboxRecord, TicketRecord
from tests.integration.dashboard_support import Browser, add_ticket, build_container, token
from tests.integration.dashboard_support import cheap_hashes as cheap_hashes

# Fake numbers only.
ORDINARY, SECRET_ASKED, REPORTER = "13900001111", "13900002222", "13900003333"


@pytest.fixture
def container(db_url: str, make_settings: Callable[..., Any], tmp_path: Path) -> Iterator[Container]:
    yield from build_container(db_url, make_settings, tmp_path)


@pytest.fixture
def api(container: Container) -> TestClient:
    return TestClient(create_app(container))


@pytest.fixture
def tickets(container: Container) -> dict[str, int]:
    return {
        "ordinary": add_ticket(container, "P-ORD", phone=ORDINARY, title="噪音扰民"),
        "secret": add_ticket(container, "P-SEC", phone=SECRET_ASKED, confidential=True, title="邻里纠纷"),
        "reporter": add_ticket(container, "R-12389", platform="p12389", phone=REPORTER, title="民警执法不规范"),
    }


def found(api: TestClient, who: str, q: str) -> set[str]:
    response = api.get("/api/v1/tickets", params={"q": q}, headers=token(who))
    assert response.status_code == 200, response.text
    return {item["external_id"] for item in response.json()["items"]}


def test_phone_digits_find_only_the_citizens_the_caller_may_see(api: TestClient, tickets: dict[str, int]) -> None:
    """privacy.may_see_citizen decides; 001 五 keeps a 12389 reporter to 督察."""
    assert found(api, "duty", "1111") == {"P-ORD"}  # the last four digits
    assert found(api, "duty", "139 0000 1111") == {"P-ORD"}  # typed with spaces
    assert found(api, "duty", "2222") == set()  # asked for 保密: leaders only
    assert found(api, "leader", "2222") == {"P-SEC"}
    assert found(api, "duty", "3333") == set()  # a 12389 reporter: 督察 only (001 五)
    assert found(api, "leader", "3333") == set()
    assert found(api, "supervisor", "3333") == {"R-12389"}
    assert found(api, "admin", "1111") == set()  # administers, does not handle tickets
    assert found(api, "duty", "13900") == {"P-ORD"}  # the prefix all three share: still only what duty may see
    assert found(api, "supervisor", "13900") == {"P-ORD", "P-SEC", "R-12389"}
    assert found(api, "duty", "111") == set()  # three digits are not a phone search


def test_the_dashboard_queue_finds_by_phone_and_shows_no_number(container: Container,
                                                                tickets: dict[str, int]) -> None:
    duty = Browser(container)
    assert duty.login("duty").status_code == 303
    page = duty.get("/dashboard/queue", params={"q": "1111"})
    assert "P-ORD" in page.text and "P-SEC" not in page.text and "R-12389" not in page.text
    assert ORDINARY not in page.text  # matched on the stored value, never shown in the list
    supervisor = Browser(container)
    assert supervisor.login("supervisor").status_code == 303
    assert "R-12389" in supervisor.get("/dashboard/queue", params={"q": "3333"}).text


def sign_offs(container: Container, ticket_id: int) -> int:
    with container.sessions() as session:
        return int(session.scalar(select(func.count()).select_from(OutboxRecord).where(
            OutboxRecord.ticket_id == ticket_id, OutboxRecord.action == "sign")) or 0)


def status(container: Container, ticket_id: int) -> str:
    with container.sessions() as session:
        return str(session.scalar(select(TicketRecord.status).where(TicketRecord.id == ticket_id)))


def test_batch_sign_off_signs_each_and_names_the_ones_it_could_not(container: Container, api: TestClient) -> None:
    first, second, done = (add_ticket(container, n) for n in ("B-1", "B-2", "B-DONE"))
    assert api.post(f"/api/v1/tickets/{done}/sign-off", headers=token("duty")).status_code == 200
    duty = Browser(container)
    assert duty.login("duty").status_code == 303
    page = duty.get("/dashboard/queue")
    assert 'id="batch-sign"' in page.text and f'name="ticket_id" value="{first}"' in page.text
    assert f'name="ticket_id" value="{done}"' not in page.text  # only 待签收 tickets can be ticked
    response = duty.post("/dashboard/queue/sign-off", {"ticket_id": [first, second, done, first]})
    assert response.status_code == 303
    assert duty.flash().startswith("error: 已签收 2 件；1 件未签收：B-DONE（")
    assert [status(container, t) for t in (first, second, done)] == ["signed", "signed", "signed"]
    assert [sign_offs(container, t) for t in (first, second, done)] == [1, 1, 1]  # once each, the repeat ignored


def test_batch_sign_off_is_the_duty_officers(container: Container, api: TestClient) -> None:
    """签收 is the duty officer's (RULES.md §2); a leader or unit gets 403 and nothing is signed."""
    ticket = add_ticket(container, "B-ROLE")
    for who in ("unit", "leader", "admin"):
        response = api.post("/api/v1/tickets/sign-off", json={"ids": [ticket]}, headers=token(who))
        assert response.status_code == 403, (who, response.text)
    unit = Browser(container)
    assert unit.login("unit").status_code == 303
    assert 'id="batch-sign"' not in unit.get("/dashboard/queue").text
    unit.post("/dashboard/queue/sign-off", {"ticket_id": [ticket]})
    assert status(container, ticket) == "received"
    answer = api.post("/api/v1/tickets/sign-off", json={"ids": [ticket, 999999]}, headers=token("duty"))
    assert answer.status_code == 200
    assert [(o["external_id"], o["ok"], o["code"]) for o in answer.json()] == [("B-ROLE", True, None),
                                                                                (None, False, "not_found")]
    assert api.post("/api/v1/tickets/sign-off", json={"ids": []}, headers=token("duty")).status_code == 422
