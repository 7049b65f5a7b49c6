"""Container.commit_then_ring: the doorbell rings after the commit, and never for a rolled-back change."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import pytest
from dramatiq.brokers.stub import StubBroker
from sqlalchemy import text

from gateway.container import Container
from gateway.settings import Settings
from gateway.store.db import make_engine, make_session_factory


class Bell:
    def __init__(self, container: Container) -> None:
        self.container, self.rung = container, []

    def _seen(self) -> int:
        with self.container.sessions() as session:
            return int(session.execute(text("SELECT count(*) FROM t")).scalar_one())

    def outbox(self, ids: Iterable[int]) -> None:
        self.rung.append(("outbox", list(ids), self._seen()))  # what another connection sees when rung

    def inbox(self, ids: Iterable[int]) -> None:
        self.rung.append(("inbox", list(ids), self._seen()))

    def poll(self, platform: str) -> None:
        raise AssertionError("not rung here")

    def alerts(self, ids: Iterable[int]) -> None:
        raise AssertionError("not rung here")


@pytest.fixture
def container(tmp_path: Path) -> Container:
    engine = make_engine(f"sqlite:///{tmp_path / 'ring.db'}")
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE t (id INTEGER PRIMARY KEY)"))
    c = Container(settings=Settings(), engine=engine, sessions=make_session_factory(engine), adapters={},
                  mappers={}, verifiers={}, broker=StubBroker())
    c.doorbell = Bell(c)
    return c


def test_rows_are_rung_in_order_once_their_transaction_is_visible(container: Container) -> None:
    with container.commit_then_ring() as (session, ring):
        session.execute(text("INSERT INTO t (id) VALUES (1)"))
        ring.outbox([4, 5])
        ring.inbox([])
        ring.inbox([9])
        assert container.doorbell.rung == []  # type: ignore[attr-defined]
    assert container.doorbell.rung == [("outbox", [4, 5], 1), ("inbox", [], 1), ("inbox", [9], 1)]  # type: ignore[attr-defined]


def test_nothing_rings_when_the_transaction_rolls_back(container: Container) -> None:
    with pytest.raises(RuntimeError), container.commit_then_ring() as (session, ring):
        session.execute(text("INSERT INTO t (id) VALUES (2)"))
        ring.outbox([7])
        raise RuntimeError("the use case refused")
    assert container.doorbell.rung == []  # type: ignore[attr-defined]
    with container.sessions() as session:
        assert session.execute(text("SELECT count(*) FROM t")).scalar_one() == 0
