"""``hotline-gateway demo``: the whole system on the embedded default, with mock platforms.

SQLite file under ``var/demo``, the in-process broker and worker, the scheduler, every mock
platform generating tickets and pushing them to the gateway, the API (and dashboard) on one port.
Prints the URLs, a token per role and how an operator signs and replies through the API, with the id of a
real 12345 ticket once the first one has come in.

The mocks make a believable day by default: about six tickets an hour over the four platforms (12345 the
most), at uneven gaps drawn from ``--seed``; ``--per-min`` raises the rate (e.g. for a load demo).
"""

from __future__ import annotations

import secrets
import shutil
import threading
import time
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
DEFAULT_PER_MIN = 0.1  # tickets a minute over all platforms: 6 an hour, a believable day at a city bureau
DEFAULT_SEED = 2026
# How the day's tickets spread over the platforms (12345 brings most; 12389 reports are rare).
SHARES = {"p12345": 0.5, "mayor": 0.2, "mailbox": 0.2, "p12389": 0.1}
BANNER_WAIT_S = 60.0  # how long the banner waits for the first 12345 ticket to name it


def rates(per_min: float, keys: Any) -> dict[str, float]:
    """Each enabled platform's share of ``per_min`` tickets a minute (a platform without a share gets the least)."""
    keys = list(keys)
    floor = min(SHARES.values())
    weights = {key: SHARES.get(key, floor) for key in keys}
    total = sum(weights.values()) or 1.0
    return {key: per_min * weight / total for key, weight in weights.items()}


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


def start_mocks(settings: Settings, per_min: float = DEFAULT_PER_MIN, seed: int = DEFAULT_SEED) -> list[Any]:
    """Start every registered mock platform in this process, pushing to the gateway: ``per_min`` tickets a
    minute over them all (``rates``), at random gaps from ``seed`` (each platform its own seed)."""
    from mock_platforms.cli import PLATFORMS, build_app
    from mock_platforms.common.runner import MockOptions, serve_in_thread

    handles = []
    enabled = [key for key in settings.platforms.enabled() if key in PLATFORMS]
    per_platform = rates(per_min, enabled)
    for index, key in enumerate(enabled):
        platform = settings.platforms.enabled()[key]
        secret = next((s.get_secret_value() for s in platform.secrets().values()), None)
        options = MockOptions(
            port=MOCK_PORTS[key],
            push_url=f"http://127.0.0.1:{settings.port}/inbound/{key}",
            app_id=getattr(platform, "app_id", None) or getattr(platform, "client_id", None),
            app_secret=secret,
            generate_per_min=per_platform[key],
            generate_random_gaps=True,
            seed=seed + index,
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


def first_ticket(container: Any, platform: str = "p12345") -> int | None:
    """The id of the oldest ticket of ``platform`` still waiting for sign-off (the banner's walk starts there)."""
    from sqlalchemy import select

    from gateway.store.tables import TicketRecord

    with container.sessions() as session:
        found: int | None = session.scalars(select(TicketRecord.id).where(
            TicketRecord.platform == platform, TicketRecord.status == "received").order_by(TicketRecord.id).limit(1)
        ).first()
    return found


def wait_for_ticket(container: Any, timeout_s: float = BANNER_WAIT_S, interval_s: float = 0.5) -> int | None:
    """Poll until the first 12345 ticket has come in (the mock pushes one at start); None after ``timeout_s``."""
    deadline = time.monotonic() + timeout_s
    while True:
        found = first_ticket(container)
        if found is not None or time.monotonic() >= deadline:
            return found
        time.sleep(interval_s)


def banner(settings: Settings, tokens: dict[Role, str], logins: dict[Role, tuple[str, str]] | None = None,
           ticket_id: int | None = None, per_min: float = DEFAULT_PER_MIN) -> str:
    """What the operator needs to start; the API walk uses ``ticket_id``, a real 12345 ticket, when there is one."""
    base = f"http://{settings.host}:{settings.port}"
    query = "platform=p12345&status=received&limit=5"
    listing = f"  curl -s -H \"Authorization: Bearer $D\" '{base}/api/v1/tickets?{query}'"
    pick = (f"  T={ticket_id}   # 一张待签收的 12345 工单（也可从上面的列表中另选）" if ticket_id is not None
            else "  # 还没有待签收的 12345 工单：稍候用上面的列表查询，取一个 id 设为 T")
    lines = [
        "",
        "=== hotline-gateway 演示环境 ===",
        f"仪表盘：    {base}/",
        f"接口文档：  {base}/docs",
        f"模拟工单：  每小时约 {per_min * 60:g} 件，分布在各平台，间隔随机（--per-min 调整每分钟件数）",
        "",
        "仪表盘登录（用户名 / 密码）：",
        *[f"  {ROLE_NAMES[r]:<16} {u:<12} {p}" for r, (u, p) in (logins or {}).items()],
        "模拟平台：  " + ", ".join(f"{k} http://127.0.0.1:{p}/_mock/ledger" for k, p in MOCK_PORTS.items()
                                 if k in settings.platforms.enabled()),
        "",
        "接口令牌（Authorization: Bearer …）：",
        *[f"  {ROLE_NAMES[r]:<16} {r.value:<10} {t}" for r, t in tokens.items()],
        "",
        "通过接口签收并答复一张 12345 工单（每一步由不同的人办理）：",
        f"  D={tokens[Role.duty]}; U={tokens[Role.unit]}; H={tokens[Role.unit_head]}; L={tokens[Role.leader]}",
        listing,
        pick,
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
        "  # 答复随后出现在模拟平台的台账中：curl -s http://127.0.0.1:9101/_mock/ledger",
        "  # 12389 核查报告还须填写 \"responsibility\"（责任认定）和 \"rectification\"（整改情况）；",
        "  # 举报人信息仅督察账号可见。",
        "",
        "按 Ctrl-C 退出。",
    ]
    return "\n".join(lines)


def run_demo(*, port: int = 8000, per_min: float = DEFAULT_PER_MIN, seed: int = DEFAULT_SEED,
             fresh: bool = False) -> int:
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
    mocks = start_mocks(settings, per_min, seed)
    logins = demo_logins(container)

    def announce() -> None:  # once the server runs and the first 12345 ticket is in, name it in the banner
        print(banner(settings, tokens, logins, wait_for_ticket(container), per_min), flush=True)

    threading.Thread(target=announce, name="demo-banner", daemon=True).start()
    try:
        uvicorn.run(app, host=settings.host, port=settings.port, log_level="warning", access_log=False)
    finally:
        for handle in mocks:
            handle.stop()
        container.close()
    return 0
