"""The deploy files name real commands and settings (there is no Docker engine here to run them)."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest
import yaml

from app.cli import build_parser
from gateway.settings import Settings

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"
ROLES = {"api": "serve", "worker": "worker", "scheduler": "scheduler"}


def parses(argv: list[str]) -> bool:
    assert argv[0] == "hotline-gateway", argv
    build_parser().parse_args(argv[1:])
    return True


def test_compose_runs_api_worker_and_scheduler_on_postgres_and_redis() -> None:
    compose = yaml.safe_load((DEPLOY / "compose.yaml").read_text(encoding="utf-8"))
    services = compose["services"]
    for role, command in ROLES.items():
        assert services[role]["command"] == ["hotline-gateway", command] and parses(services[role]["command"])
    env = compose["x-gateway"]["environment"]
    assert env["GATEWAY_DATABASE_URL"].startswith("postgresql+psycopg://")
    assert env["GATEWAY_BROKER_URL"].startswith("redis://")
    assert services["worker"]["deploy"]["replicas"] >= 2
    assert parses(services["migrate"]["command"])


def test_procfile_and_systemd_units_call_existing_commands() -> None:
    for line in (DEPLOY / "Procfile").read_text(encoding="utf-8").splitlines():
        if line and not line.startswith("#"):
            parses(shlex.split(line.split(":", 1)[1]))
    units = sorted((DEPLOY / "systemd").glob("*.service"))
    assert [u.name for u in units] == [
        "hotline-gateway-api.service", "hotline-gateway-scheduler.service", "hotline-gateway-worker@.service"]
    for unit in units:
        exec_start = re.search(r"^ExecStart=(\S+) (.+)$", unit.read_text(encoding="utf-8"), re.M)
        assert exec_start and exec_start.group(1).endswith("/hotline-gateway")
        parses(["hotline-gateway", *shlex.split(exec_start.group(2))])


@pytest.mark.parametrize("name", ["GATEWAY_DATABASE_URL", "GATEWAY_BROKER_URL", "GATEWAY_API_TOKENS"])
def test_env_example_documents_the_settings_deploy_files_rely_on(name: str) -> None:
    text = (DEPLOY / ".env.example").read_text(encoding="utf-8")
    assert re.search(rf"^{name}=", text, re.M)
    field = name.removeprefix("GATEWAY_").lower()
    assert field in Settings.model_fields


def test_the_image_copies_every_package_the_project_installs() -> None:
    import tomllib

    project = tomllib.loads((DEPLOY.parent / "pyproject.toml").read_text(encoding="utf-8"))
    packages = {name.rstrip("*") for name in project["tool"]["setuptools"]["packages"]["find"]["include"]}
    copied = set(re.findall(r"^COPY (\w+) \./\1$", (DEPLOY / "Dockerfile").read_text(encoding="utf-8"), re.M))
    assert "app" in packages and packages <= copied, packages - copied
    assert project["project"]["scripts"]["hotline-gateway"] == "app.cli:main"
