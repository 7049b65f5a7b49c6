"""``hotline-gateway demo``: the whole system on the embedded default, with mock platforms.

SQLite file under ``var/demo``, the in-process broker and worker, the scheduler, every mock
platform generating tickets and pushing them to the gateway, the API (and dashboard) on one port.
Prints the URLs, a token per role and how an operator signs and replies through the API.
"""

from __future__ import annotations

import secrets
import shutil
from pathlib import Path
from typing import Any

from gateway.settings import UNIT_ROLES, ApiToken, Mode, Role, Settings

DEMO_DIR = Path("var/demo")
MOCK_PORTS = {"p12345": 9101, "p12389": 9102, "mayor": 9103, "mailbox": 9104}
ROLE_NAMES = {
    Role.duty: "值班员-演示",
    Role.unit: "城关派出所-演示",
    Role.unit_head: "城关派出所所长-演示",
    Role.leader: "分管领导-演示",
    Role.supervisor: "督察-演示",
    Role.admin: "管理员-演示",
}
DEMO_UNIT = "城关派出所"


def unit_of(role: Role) -> str | None:
    """The demo's unit for a unit role (unit and unit head need one), None for the others."""
    return DEMO_UNIT if role in UNIT_ROLES else None


def demo_settings(port: int, tokens: dict[Role, str]) -> Settings:
    """Settings of the demo: every registered platform enabled against its local mock."""
    from gateway.catalogue import CATALOGUE

    platforms: dict[str, Any] = {}
    for key in CATALOGUE:
        platforms[key] = {"enabled": True, "base_url": f"http://127.0.0.1:{MOCK_PORTS[key]}", "poll_interval_s": 20}
    return Settings(
        _env_file=None,
        mode=Mode.demo,
        database_url=f"sqlite:///{DEMO_DIR / 'demo.sqlite3'}",
        broker_url="memory://",
        host="127.0.0.1",
        port=port,
        data_dir=DEMO_DIR,
        api_tokens=[
            ApiToken(name=ROLE_NAMES[role], token=token, roles=[role], unit=unit_of(role))
            for role, token in tokens.items()
        ],
        platforms=platforms,
    )


def start_mocks(settings: Settings, per_min: float) -> list[Any]:
    """Start every registered mock platform in this process, pushing to the gateway."""
    from mock_platforms.cli import PLATFORMS, build_app
    from mock_platforms.common.runner import MockOptions, serve_in_thread

    handles = []
    for key, platform in settings.platforms.enabled().items():
        if key not in PLATFORMS:
            continue
        secret = next((s.get_secret_value() for s in platform.secrets().values()), None)
        options = MockOptions(
            port=MOCK_PORTS[key],
            push_url=f"http://127.0.0.1:{settings.port}/inbound/{key}",
            app_id=getattr(platform, "app_id", None) or getattr(platform, "client_id", None),
            app_secret=secret,
            generate_per_min=per_min,
            auto_decide=True,
            push_retry_schedule=[5, 15, 60, 120],
        )
        handles.append(serve_in_thread(build_app(key, options), port=MOCK_PORTS[key]))
    return handles


def demo_logins(container: Any) -> dict[Role, tuple[str, str]]:
    """A dashboard login per role (new random passwords on every start): role -> (username, password)."""
    from gateway.services.accounts import ensure_user
    from gateway.store.db import transaction

    logins = {role: (role.value, f"demo{secrets.randbelow(10**6):06d}{secrets.token_hex(3)}") for role in ROLE_NAMES}
    with transaction(container.sessions) as session:
        for role, (username, password) in logins.items():
            ensure_user(session, username=username, display_name=ROLE_NAMES[role], password=password, roles=[role],
                        unit=unit_of(role), actor="demo", now=container.clock())
    return logins


def banner(settings: Settings, tokens: dict[Role, str], logins: dict[Role, tuple[str, str]] | None = None) -> str:
    """What the operator needs to start."""
    base = f"http://{settings.host}:{settings.port}"
    lines = [
        "",
        "=== hotline-gateway 演示环境 (demo) ===",
        f"仪表盘 dashboard:   {base}/",
        f"接口文档 API docs:  {base}/docs",
        "",
        "仪表盘登录 dashboard logins (用户名 / 密码):",
        *[f"  {ROLE_NAMES[r]:<16} {u:<12} {p}" for r, (u, p) in (logins or {}).items()],
        "模拟平台 mocks:      " + ", ".join(f"{k} http://127.0.0.1:{p}/_mock/ledger" for k, p in MOCK_PORTS.items()
                                      if k in settings.platforms.enabled()),
        "",
        "令牌 API tokens (Authorization: Bearer …):",
        *[f"  {ROLE_NAMES[r]:<16} {r.value:<10} {t}" for r, t in tokens.items()],
        "",
        "签收并答复一张 12345 工单 (sign off and reply through the API; each step by another person):",
        f"  D={tokens[Role.duty]}; U={tokens[Role.unit]}; H={tokens[Role.unit_head]}; L={tokens[Role.leader]}",
        f"  curl -s -H \"Authorization: Bearer $D\" '{base}/api/v1/tickets?platform=p12345&status=received&limit=5'",
        "  T=<a ticket id from that list>",
        f"  curl -s -X POST -H \"Authorization: Bearer $D\" {base}/api/v1/tickets/$T/sign-off",
        f"  curl -s -X POST -H \"Authorization: Bearer $D\" -H 'Content-Type: application/json' "
        f"-d '{{\"unit\":\"{DEMO_UNIT}\"}}' {base}/api/v1/tickets/$T/dispatch   # 拟派 (000 二)",
        f"  curl -s -X POST -H \"Authorization: Bearer $L\" -H 'Content-Type: application/json' -d '{{}}' "
        f"{base}/api/v1/tickets/$T/dispatch/approve",
        f"  curl -s -X POST -H \"Authorization: Bearer $U\" -H 'Content-Type: application/json' "
        f"-d '{{\"note\":\"已电话联系诉求人\"}}' {base}/api/v1/tickets/$T/response",
        f"  curl -s -X POST -H \"Authorization: Bearer $U\" -H 'Content-Type: application/json' "
        f"-d '{{\"is_true\":\"属实\",\"investigation\":\"经民警现场核查，情况属实。\",\"disposition\":\"已责令整改\","
        f"\"citizen_opinion\":\"诉求人表示满意\",\"resolved\":\"已解决\"}}' {base}/api/v1/tickets/$T/reply",
        f"  curl -s -X POST -H \"Authorization: Bearer $H\" -H 'Content-Type: application/json' -d '{{}}' "
        f"{base}/api/v1/tickets/$T/reply/review   # 部门负责人审核 (002 三(二))",
        f"  curl -s -X POST -H \"Authorization: Bearer $L\" {base}/api/v1/tickets/$T/reply/approve",
        "  # then the reply is in the mock's ledger: curl -s http://127.0.0.1:9101/_mock/ledger",
        "  # a 12389 核查报告 also needs \"responsibility\" (责任认定) and \"rectification\" (整改情况);",
        "  # its reporter is shown to the 督察 login only.",
        "",
        "Ctrl-C 退出 (stop).",
    ]
    return "\n".join(lines)


def run_demo(*, port: int = 8000, per_min: float = 6.0, fresh: bool = False) -> int:
    """Run until interrupted."""
    import uvicorn

    from app.bootstrap import bootstrap
    from app.embedded import Embedded
    from app.web import create_app
    from gateway.store.migrate import upgrade

    if fresh and DEMO_DIR.exists():
        shutil.rmtree(DEMO_DIR)
    DEMO_DIR.mkdir(parents=True, exist_ok=True)
    tokens = {role: f"demo-{role.value}-{secrets.token_hex(6)}" for role in ROLE_NAMES}
    settings = demo_settings(port, tokens)
    container = bootstrap(settings)
    upgrade(container.engine)
    embedded = Embedded(container)
    app = create_app(container, on_start=embedded.start, on_stop=embedded.stop)
    mocks = start_mocks(settings, per_min)
    print(banner(settings, tokens, demo_logins(container)), flush=True)
    try:
        uvicorn.run(app, host=settings.host, port=settings.port, log_level="warning", access_log=False)
    finally:
        for handle in mocks:
            handle.stop()
        container.close()
    return 0
