"""Roles fail closed (RULES.md §5 need-to-know): tokens are refused at start-up unless their roles are explicit,
not empty and, for a unit role, with the unit; a role grants what it names and nothing more."""

from __future__ import annotations

import json

import pytest
from pydantic import ValidationError

from app.cli import main
from gateway.errors import Forbidden
from gateway.principal import SYSTEM, Principal
from gateway.settings import Role, Settings

TOKEN = "t0123456789abcdef-long"


@pytest.mark.parametrize(
    ("entry", "reason"),
    [
        ({"name": "ops-bot", "token": TOKEN}, "roles must be listed explicitly"),  # once silently "duty"
        ({"name": "ops-bot", "token": TOKEN, "roles": []}, "roles must be listed explicitly"),  # once: read all
        ({"name": "ops-bot", "token": TOKEN, "roles": ["unit"]}, "needs its unit"),  # once: every unit unmasked
        ({"name": "ops-bot", "token": TOKEN, "roles": ["unit_head"], "unit": " "}, "needs its unit"),
        ({"name": "ops-bot", "token": TOKEN, "roles": ["root"]}, "unknown role"),
    ],
)
def test_a_token_whose_roles_are_not_explicit_refuses_start_up_naming_the_entry(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], entry: dict[str, object], reason: str
) -> None:
    monkeypatch.setenv("GATEWAY_API_TOKENS", json.dumps([entry]))
    with pytest.raises(ValidationError, match=reason):
        Settings(_env_file=None)  # type: ignore[call-arg]
    with pytest.raises(SystemExit) as refused:
        main(["serve"])
    assert "refusing to start" in str(refused.value) and "'ops-bot'" in str(refused.value)
    assert reason in str(refused.value)


def test_a_token_with_explicit_roles_and_its_unit_is_accepted(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GATEWAY_API_TOKENS", json.dumps([
        {"name": "unit-bot", "token": TOKEN, "roles": ["unit", "unit_head"], "unit": "城关派出所"}]))
    assert Settings(_env_file=None).api_tokens[0].unit == "城关派出所"  # type: ignore[call-arg]


def test_no_role_implies_another_admin_included() -> None:
    admin = Principal("管理员", frozenset({Role.admin}))
    assert not admin.has(Role.leader, Role.duty, Role.unit, Role.unit_head, Role.supervisor)
    with pytest.raises(Forbidden):
        admin.require(Role.leader, action="审批答复")
    assert SYSTEM.roles == frozenset({Role.duty})  # the auto sign-off acts as a duty officer, nothing more


@pytest.mark.parametrize(
    ("principal", "scope"),
    [
        (Principal("值班员", frozenset({Role.duty})), None),
        (Principal("管理员", frozenset({Role.admin})), None),
        (Principal("所长", frozenset({Role.unit_head}), "城关派出所"), "城关派出所"),
        (Principal("民警", frozenset({Role.unit}), "城关派出所"), "城关派出所"),
        (Principal("兼职", frozenset({Role.unit, Role.leader}), "城关派出所"), None),
    ],
)
def test_the_read_scope_of_each_role(principal: Principal, scope: str | None) -> None:
    assert principal.unit_scope() == scope


@pytest.mark.parametrize(
    "principal",
    [Principal("nobody"), Principal("无单位民警", frozenset({Role.unit})),
     Principal("无单位所长", frozenset({Role.unit_head}))],
)
def test_a_principal_with_no_role_or_a_unit_role_without_a_unit_reads_nothing(principal: Principal) -> None:
    with pytest.raises(Forbidden):
        principal.unit_scope()


def test_the_demo_has_a_valid_login_and_token_for_every_role_unit_head_included() -> None:
    from app.demo import ROLE_NAMES, demo_settings, unit_of

    tokens = {role: f"demo-{role.value}-0123456789" for role in ROLE_NAMES}
    settings = demo_settings(8000, tokens)  # a token without a usable role would not validate
    assert set(ROLE_NAMES) == set(Role)
    assert {token.roles[0] for token in settings.api_tokens} == set(Role)
    assert unit_of(Role.unit) == unit_of(Role.unit_head) == "城关派出所" and unit_of(Role.leader) is None
