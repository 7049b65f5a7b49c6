"""Production start-up refuses weak secrets and tokens and insecure cookies, naming each setting."""

from __future__ import annotations

import secrets

import pytest

from gateway.secret_strength import weakness
from gateway.settings import Settings

STRONG = "k3Jq9vT2mX8pL4sWe7Rb1Yc5Nd0Hf6Gu"


def production(monkeypatch: pytest.MonkeyPatch, **env: str) -> Settings:
    values = {"GATEWAY_MODE": "production", "GATEWAY_DASHBOARD__COOKIE_SECURE": "true",
              "GATEWAY_PUBLIC_URL": "https://gateway.example.gov.cn", **env}
    for name, value in values.items():
        monkeypatch.setenv(name, value)
    return Settings(_env_file=None)  # type: ignore[call-arg]


@pytest.mark.parametrize(("value", "why"), [
    ("secret", "shorter than 32"),
    ("Tr0ub4dor&3-but-only-28-chars", "shorter than 32"),
    ("a" * 40, "too little variety"),
    ("abcabcabcabcabcabcabcabcabcabcabcabc", "too little variety"),
    ("abcdefgh" * 5, "repeated pattern"),
    ("demo-" + STRONG, "placeholder"),
])
def test_a_weak_secret_is_named_with_the_reason(value: str, why: str) -> None:
    assert why in (weakness(value) or "")


def test_random_secrets_pass() -> None:
    assert all(weakness(secrets.token_urlsafe(32)) is None for _ in range(200))
    assert all(weakness(secrets.token_hex(16)) is None for _ in range(200))
    assert weakness(STRONG) is None


def test_every_weak_setting_is_named_at_once(monkeypatch: pytest.MonkeyPatch) -> None:
    settings = production(
        monkeypatch,
        GATEWAY_PLATFORMS__P12345__ENABLED="true",
        GATEWAY_PLATFORMS__P12345__APP_SECRET="secret",
        GATEWAY_API_TOKENS='[{"name": "ops-bot", "roles": ["duty"], "token": "' + "a" * 40 + '"},'
                          ' {"name": "report-bot", "token": "0123456789abcdef", "roles": ["supervisor"]}]',
        GATEWAY_DASHBOARD__SESSION_SECRET="short-session-secret",
        GATEWAY_DASHBOARD__COOKIE_SECURE="false",
    )
    with pytest.raises(SystemExit) as refused:
        settings.check_secrets()
    message = str(refused.value)
    for named in ("GATEWAY_PLATFORMS__P12345__APP_SECRET: shorter than 32",
                  "GATEWAY_API_TOKENS (token of 'ops-bot'): too little variety",
                  "GATEWAY_API_TOKENS (token of 'report-bot'): shorter than 32",
                  "GATEWAY_DASHBOARD__SESSION_SECRET: shorter than 32",
                  "GATEWAY_DASHBOARD__COOKIE_SECURE: must be true"):
        assert named in message
    assert "short-session-secret" not in message and "0123456789abcdef" not in message


def test_cookie_secure_false_alone_refuses_production(monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(SystemExit, match="GATEWAY_DASHBOARD__COOKIE_SECURE"):
        production(monkeypatch, GATEWAY_DASHBOARD__COOKIE_SECURE="false").check_secrets()


def test_strong_settings_start(monkeypatch: pytest.MonkeyPatch) -> None:
    production(
        monkeypatch,
        GATEWAY_PLATFORMS__P12345__ENABLED="true",
        GATEWAY_PLATFORMS__P12345__APP_SECRET=STRONG,
        GATEWAY_API_TOKENS=f'[{{"name": "ops-bot", "token": "{secrets.token_urlsafe(32)}", "roles": ["duty"]}}]',
        GATEWAY_DASHBOARD__SESSION_SECRET=secrets.token_urlsafe(48),
    ).check_secrets()


def test_dev_mode_keeps_its_demo_secrets(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GATEWAY_PLATFORMS__P12345__ENABLED", "true")
    Settings(_env_file=None).check_secrets()  # type: ignore[call-arg]
