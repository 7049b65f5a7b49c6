"""The webhook's own connections are cut (a PostgreSQL restart or failover): the next push is still stored."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from sqlalchemy import create_engine, text

from tests.e2e.harness import Stack, wait_for
from tests.e2e.test_p12345_e2e import envelope, inbox_count, new_order, push

pytestmark = pytest.mark.postgres


def test_a_push_after_the_database_dropped_the_webhooks_connections_is_stored(
    make_stack: Callable[..., Stack], pg_url: str
) -> None:
    stack = make_stack(platforms={"p12345": {}}, database_url=pg_url)
    first, second = new_order(stack, push=False), new_order(stack, push=False)
    assert push(stack, envelope(first, "evt-before")).json()["code"] == 0  # the committer's connection is open
    admin = create_engine(pg_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:  # what a restart does to every open connection of the gateway
        killed = conn.execute(text(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid()")).scalar_one()
    admin.dispose()
    assert killed >= 1
    answer = push(stack, envelope(second, "evt-after"))
    assert answer.status_code == 200 and answer.json()["code"] == 0, answer.text
    assert inbox_count(stack) == 2
    wait_for(lambda: stack.ticket_for("p12345", second["orderNo"]), what="the ticket of the push after the cut")
