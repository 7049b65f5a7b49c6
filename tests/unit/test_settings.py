"""Settings: environment parsing, the production secret check, and the documented example file."""

from __future__ import annotations

from pathlib import Path

import pytest

from gateway.envdoc import render
from gateway.settings import Settings

ROOT = Path(__file__).resolve().parents[2]


def test_deploy_env_example_lists_every_setting_as_the_code_defines_it() -> None:
    assert (ROOT / "deploy" / ".env.example").read_text(encoding="utf-8") == render(), (
        "deploy/.env.example is stale: run `python -m gateway.envdoc > deploy/.env.example`"
    )


def test_nested_platform_settings_and_tokens_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GATEWAY_PLATFORMS__P12345__ENABLED", "true")
    monkeypatch.setenv("GATEWAY_PLATFORMS__P12345__BASE_URL", "http://platform.example:8080")
    monkeypatch.setenv("GATEWAY_API_TOKENS", '[{"name": "ops", "token": "t0123456789abcdef", "roles": ["leader"]}]')
    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    assert list(settings.platforms.enabled()) == ["p12345"]
    assert settings.platforms.p12345.base_url == "http://platform.example:8080"
    assert settings.api_tokens[0].roles == ["leader"]


def test_production_refuses_a_placeholder_secret_and_names_the_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GATEWAY_MODE", "production")
    monkeypatch.setenv("GATEWAY_PLATFORMS__P12345__ENABLED", "true")
    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    with pytest.raises(SystemExit, match="GATEWAY_PLATFORMS__P12345__APP_SECRET"):
        settings.check_secrets()
    monkeypatch.setenv("GATEWAY_PLATFORMS__P12345__APP_SECRET", "k3Jq9vT2mX8pL4sWe7Rb1Yc5Nd0Hf6Gu")
    monkeypatch.setenv("GATEWAY_DASHBOARD__COOKIE_SECURE", "true")
    with pytest.raises(SystemExit, match="GATEWAY_PUBLIC_URL"):  # 12345 fetches evidence files by URL
        Settings(_env_file=None).check_secrets()  # type: ignore[call-arg]
    monkeypatch.setenv("GATEWAY_PUBLIC_URL", "https://gateway.example.gov.cn")
    Settings(_env_file=None).check_secrets()  # type: ignore[call-arg]


def test_production_refuses_a_placeholder_robot_secret_and_names_the_sink(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GATEWAY_MODE", "production")
    monkeypatch.setenv(
        "GATEWAY_ALERTS__WEBHOOKS",
        '[{"name": "值班群", "kind": "dingtalk", "url": "https://robot.invalid/send?access_token=k3Jq9vT2",'
        ' "secret": "change-me"}]',
    )
    monkeypatch.setenv("GATEWAY_DASHBOARD__COOKIE_SECURE", "true")
    with pytest.raises(SystemExit, match="GATEWAY_ALERTS__WEBHOOKS \\(值班群: secret\\)"):
        Settings(_env_file=None).check_secrets()  # type: ignore[call-arg]
