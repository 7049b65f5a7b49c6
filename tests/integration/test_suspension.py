"""延期挂单: the resolution clock stops while suspended and the deadline moves by the suspended time."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy.orm import Session, sessionmaker

from gateway.errors import DomainError, Forbidden
from gateway.principal import Principal
from gateway.services import actions, suspension
from gateway.settings import Role
from gateway.store.db import make_session_factory, transaction
from tests.sla_support import bound_engine, new_ticket, sh, timers

DUTY = Principal("值班员甲", frozenset({Role.duty}))
LEADER = Principal("分管领导丙", frozenset({Role.leader}))
RULE = {"reason_code": 5, "note": "需公安、住建多部门联动办理", "chief": "局长甲", "expected_days": 120}


@pytest.fixture
def sessions(db_url: str) -> sessionmaker[Session]:
    return make_session_factory(bound_engine(db_url))


def signed(sessions: sessionmaker[Session]) -> int:
    tid = new_ticket(sessions, issued_at=sh(2026, 3, 2, 9))  # a 12345 complaint: 5 working days
    with transaction(sessions) as s:
        actions.sign_off(s, ticket_id=tid, principal=DUTY, now=sh(2026, 3, 2, 10))
    return tid


def test_a_suspension_pauses_resolution_and_resuming_moves_the_deadline_by_the_suspended_time(
    sessions: sessionmaker[Session],
) -> None:
    tid = signed(sessions)
    due_before = timers(sessions, tid)["resolution"].due_at
    with transaction(sessions) as s:
        suspension.suspend(s, ticket_id=tid, principal=LEADER, now=sh(2026, 3, 3, 9), **RULE)
    assert timers(sessions, tid)["resolution"].state == "paused"
    with transaction(sessions) as s:
        suspension.resume(s, ticket_id=tid, principal=LEADER, note="已具备办理条件", now=sh(2026, 4, 2, 9))
    resumed = timers(sessions, tid)["resolution"]
    assert resumed.state == "running"
    assert resumed.due_at == due_before + timedelta(days=30)


@pytest.mark.parametrize(
    ("change", "message"),
    [({"expected_days": 60}, "三个月"), ({"reason_code": 9}, "八种情形"), ({"chief": " "}, "主要领导")],
)
def test_a_suspension_outside_the_rules_is_refused_with_the_rule(
    sessions: sessionmaker[Session], change: dict[str, object], message: str
) -> None:
    tid = signed(sessions)
    with pytest.raises(DomainError, match=message), transaction(sessions) as s:
        suspension.suspend(s, ticket_id=tid, principal=LEADER, now=sh(2026, 3, 3, 9), **(RULE | change))
    assert timers(sessions, tid)["resolution"].state == "running"


def test_only_a_leader_may_suspend_and_never_after_the_deadline(sessions: sessionmaker[Session]) -> None:
    tid = signed(sessions)
    with pytest.raises(Forbidden), transaction(sessions) as s:
        suspension.suspend(s, ticket_id=tid, principal=DUTY, now=sh(2026, 3, 3, 9), **RULE)
    with pytest.raises(DomainError, match="到期前"), transaction(sessions) as s:
        suspension.suspend(s, ticket_id=tid, principal=LEADER, now=sh(2026, 4, 30, 9), **RULE)
