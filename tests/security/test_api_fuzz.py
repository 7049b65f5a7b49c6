"""The API fuzzed from its own OpenAPI description: no 5xx, and every answer as documented.

Schemathesis (pinned in pyproject's dev extras) generates requests for every operation of
``/openapi.json`` — valid and invalid parameters, bodies, ids — and sends each to the ASGI app once
per role's token and once without one, on PostgreSQL (the database that refuses the most). Each
answer must not be a 5xx, and its status, content type, headers and body must match the schema.
Bounded by ``FUZZ_EXAMPLES`` examples per operation (derandomized, so a CI run is repeatable).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from argon2 import PasswordHasher
from fastapi import FastAPI
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode, checks

from app.bootstrap import bootstrap
from app.web import create_app
from gateway.services import accounts
from gateway.settings import Settings
from tests.conftest import _truncate
from tests.fakes import FakeAdapter, FakeMapper
from tests.integration.dashboard_support import NOW, PEOPLE, add_ticket, token

FUZZ_EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "25"))
ROLES = [None, *PEOPLE]  # no token at all, then each person's token (duty, unit, leader, supervisor, admin…)
CHECKS = [checks.not_a_server_error, checks.status_code_conformance, checks.content_type_conformance,
          checks.response_schema_conformance, checks.response_headers_conformance]


@pytest.fixture(scope="module")
def fuzzed_app(pg_database: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[FastAPI]:
    _truncate(pg_database)
    tmp: Path = tmp_path_factory.mktemp("fuzz")
    tokens = [{"name": f"{n}-api", "token": f"{n}-token-0123456789", "roles": r, "unit": u}
              for n, (_, r, u) in PEOPLE.items()]
    container = bootstrap(Settings(_env_file=None, database_url=pg_database, broker_url="memory://",  # type: ignore[call-arg]
                                   api_tokens=tokens, data_dir=str(tmp)),
                          adapters={"fake": FakeAdapter()}, clock=lambda: NOW)  # type: ignore[dict-item]
    container.mappers["fake"] = FakeMapper()
    hasher, accounts.HASHER = accounts.HASHER, PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
    for n in range(1, 4):  # a few tickets, so that small ids hit real rows now and then
        add_ticket(container, f"F{n}")
    yield create_app(container)
    accounts.HASHER = hasher
    container.close()


def fuzz(operation: Any, mode: GenerationMode) -> None:
    """Hypothesis over one operation's strategy; every example sent once per role and once without a token."""

    @given(case=operation.as_strategy(generation_mode=mode))
    @settings(max_examples=FUZZ_EXAMPLES, deadline=None, derandomize=True, database=None,
              phases=[Phase.explicit, Phase.generate], suppress_health_check=list(HealthCheck))
    def run(case: Any) -> None:
        for role in ROLES:
            case.call_and_validate(headers=token(role) if role else {}, checks=CHECKS)

    run()


# Every operation × two modes × every role: ~80 operations take 1.5–3.5 minutes on a shared 2-core machine, past
# the suite's default 120 s guard against hangs; this test gets its own, still finite.
@pytest.mark.timeout(600)
def test_no_operation_answers_5xx_or_off_its_schema(fuzzed_app: FastAPI) -> None:
    schema = schemathesis.openapi.from_asgi("/openapi.json", fuzzed_app)
    failures: list[str] = []
    operations = 0
    for result in schema.get_all_operations():
        operation = result.ok()
        operations += 1
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):  # valid requests, then invalid ones
            try:
                fuzz(operation, mode)
            except Unsatisfiable:  # an operation without parameters or body has no invalid request
                assert mode is GenerationMode.NEGATIVE, operation.path
            except (Exception, BaseExceptionGroup) as exc:  # collect every operation's failure, report them together
                failures.append(f"{operation.method.upper()} {operation.path} ({mode.value}): {exc}")
    assert operations >= 35  # the whole API was fuzzed, not an empty schema
    assert not failures, "\n\n".join(failures)
