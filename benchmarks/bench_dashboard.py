"""Server time of the dashboard's overview and filtered queue pages with 100,000 tickets in PostgreSQL.

Run: ``.venv/bin/python benchmarks/bench_dashboard.py [--tickets 100000] [--runs 30]`` (PostgreSQL at
``BENCH_PG_ADMIN_URL``, default ``postgresql+psycopg://postgres@127.0.0.1:5432/postgres``). Target (issue 5):
each page ≤ 300 ms on the server. The script makes its own database, fills it with a year of tickets
(95 % answered, 5 % open, with their SLA timers: ~300,000 rows), measures each page in-process through
the real app (routing, session lookup, queries, template rendering; no network), and drops the database.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout without installing

import sqlalchemy as sa
from fastapi.testclient import TestClient

from app.bootstrap import bootstrap
from app.web import create_app
from gateway.services import accounts
from gateway.settings import Settings
from gateway.store.db import make_engine, transaction
from gateway.store.migrate import upgrade
from gateway.store.tables import TicketRecord
from gateway.store.tables_sla import SlaTimerRecord

ADMIN_URL = os.environ.get("BENCH_PG_ADMIN_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
NOW = datetime(2026, 11, 20, 2, 0, tzinfo=UTC)
PLATFORMS = ["p12345"] * 6 + ["p12389", "mayor", "mailbox", "mailbox"]
UNITS = ["城关派出所", "东城派出所", "西城派出所", "南关派出所", "北关派出所", "治安管理大队", "交通警察大队"]
TYPES = ["complaint", "consultation", "help", "report", "suggestion"]
WORDS = ["夜间施工噪音扰民", "小区门口车辆违停", "户籍迁移办理咨询", "出入境证件办理", "电动车充电安全隐患",
         "网络诈骗求助", "窗口服务态度", "占道经营", "噪音扰民", "交通信号灯故障"]
OPEN = ["received", "signed", "dispatched", "responded", "reply_drafted"]
PAGES = {
    "overview (总览)": "/dashboard/",
    "overview live part (htmx poll)": "/dashboard/live",
    "queue: platform + state + unit, newest first":
        "/dashboard/queue?platform=p12345&status=dispatched&unit=城关派出所",
    "queue: breached sign-off, by time left": "/dashboard/queue?timer=sign_off&timer_state=breached&sort=due",
    "queue: all open, by time left": "/dashboard/queue?sort=due",
    "queue: full-text search": "/dashboard/queue?q=电动车充电",
}


def fill(url: str, count: int) -> None:
    """Tickets over the last year and their timers, inserted in bulk."""
    engine = make_engine(url)
    rng = random.Random(5)
    tickets: list[dict[str, Any]] = []
    for n in range(count):
        issued = NOW - timedelta(minutes=rng.randint(0, 365 * 24 * 60))
        status = rng.choice(OPEN) if rng.random() < 0.05 else rng.choice(["replied", "closed"])
        signed = issued + timedelta(minutes=rng.randint(5, 600)) if status != "received" else None
        words = rng.choice(WORDS)
        tickets.append({
            "platform": rng.choice(PLATFORMS), "external_id": f"B{n:08d}", "platform_status": "x", "status": status,
            "appeal_type": rng.choice(TYPES), "urgency": "normal", "title": words,
            "content": f"市民反映{words}，请尽快处理。" * 3, "citizen": {"phone": f"1380000{n % 10000:04d}"},
            "region": {}, "category": [], "attachments": [], "extra": {},
            "issued_at": issued, "signed_at": signed, "unit": rng.choice(UNITS) if signed else None,
            "created_at": issued, "updated_at": issued, "version": 1, "source_version": 1, "needs_callback": False,
            "supervised": False, "urge_count": 0, "reopen_count": 0,
        })
    with engine.begin() as conn:
        for start in range(0, count, 5000):
            conn.execute(sa.insert(TicketRecord.__table__), tickets[start:start + 5000])
        rows = conn.execute(sa.select(TicketRecord.id, TicketRecord.platform, TicketRecord.status,
                                      TicketRecord.issued_at, TicketRecord.signed_at)).all()
        timers: list[dict[str, Any]] = []
        for tid, platform, status, issued, signed in rows:
            done = status in ("replied", "closed")
            base = {"ticket_id": tid, "platform": platform, "cycle": 1, "seq": 0, "provisional": False,
                    "paused_total_s": 0.0, "last_threshold": 0, "updated_at": NOW}
            sign_due = issued + timedelta(hours=24)
            timers.append({**base, "kind": "sign_off", "started_at": issued, "due_at": sign_due, "met_at": signed,
                           "state": ("met" if signed <= sign_due else "breached") if signed else
                           ("breached" if sign_due < NOW else "running")})
            if signed:
                due = signed + timedelta(hours=2)
                timers.append({**base, "kind": "response", "started_at": signed, "due_at": due,
                               "met_at": signed + timedelta(hours=1) if done else None,
                               "state": "met" if done else ("breached" if due < NOW else "running")})
            due = issued + timedelta(days=7)
            timers.append({**base, "kind": "resolution", "started_at": issued, "due_at": due,
                           "met_at": issued + timedelta(days=3) if done else None,
                           "state": "met" if done else ("breached" if due < NOW else "running")})
        for start in range(0, len(timers), 10000):
            conn.execute(sa.insert(SlaTimerRecord.__table__), timers[start:start + 10000])
        conn.execute(sa.text("ANALYZE"))
    engine.dispose()


def measure(url: str, runs: int) -> dict[str, list[float]]:
    """Milliseconds per request of each page, measured in-process."""
    settings = Settings(_env_file=None, database_url=url, broker_url="memory://")
    container = bootstrap(settings, adapters={}, clock=lambda: NOW)
    with transaction(container.sessions) as session:
        accounts.create_user(session, username="bench", display_name="压测值班员", password="bench-pass-2026",
                             roles=["duty"], unit=None, actor="bench", now=NOW)
    client = TestClient(create_app(container), base_url="https://bench")
    form = client.get("/dashboard/login").text
    token = form.split('name="form_token" value="', 1)[1].split('"', 1)[0]
    client.post("/dashboard/login", data={"username": "bench", "password": "bench-pass-2026", "form_token": token})
    out: dict[str, list[float]] = {}
    for label, path in PAGES.items():
        assert client.get(path).status_code == 200, path  # warm-up: plans cached, templates compiled
        samples = []
        for _ in range(runs):
            started = time.perf_counter()
            response = client.get(path)
            samples.append((time.perf_counter() - started) * 1000)
            assert response.status_code == 200
        out[label] = samples
    container.close()
    return out


def main() -> int:
    """Create, fill, measure, drop."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--tickets", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=30)
    args = parser.parse_args()
    name = f"hg_bench_{uuid.uuid4().hex[:8]}"
    admin = make_engine(ADMIN_URL, isolation_level="AUTOCOMMIT", pool_size=1)
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    url = ADMIN_URL.rsplit("/", 1)[0] + "/" + name
    try:
        engine = make_engine(url)
        upgrade(engine)
        engine.dispose()
        started = time.perf_counter()
        fill(url, args.tickets)
        print(f"filled {args.tickets:,} tickets with their timers in {time.perf_counter() - started:.0f} s")
        print(f"{'page':<48} {'median ms':>10} {'p95 ms':>8} {'max ms':>8}")
        worst = 0.0
        for label, samples in measure(url, args.runs).items():
            p95 = statistics.quantiles(samples, n=20)[-1]
            worst = max(worst, p95)
            print(f"{label:<48} {statistics.median(samples):>10.1f} {p95:>8.1f} {max(samples):>8.1f}")
        print(f"target ≤ 300 ms: {'met' if worst <= 300 else 'MISSED'} (worst p95 {worst:.0f} ms)")
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
