"""Core pipeline benchmark on PostgreSQL + Redis, real processes, real HTTP.

    .venv/bin/python benchmarks/bench_pipeline.py [--events 6000] [--replies 300] [--concurrency 8] [--workers 1]

Starts, as separate processes: the mock 12345 platform, the gateway API (`hotline-gateway serve`,
Redis broker, so no in-process worker), Dramatiq workers (`hotline-gateway worker`) and, for the
ceiling, a trivial FastAPI echo app under the same uvicorn. Prints:

- webhook ingestion: signed pushes accepted per second, and p50/p99 from sending a push to its
  ticket row existing (the row's created_at, written by the worker);
- the echo ceiling: the same load against `POST /echo` (target: ingestion ≥ half of it), measured
  in interleaved rounds with the paused ingestion (the median round is the figure), and the API
  process's CPU per request for both;
- the worker drain rate: how fast the worker processes turn a backlog of pushes into tickets;
- replies: from the leader's approval (the outbox row's created_at) to the platform's acceptance
  (sent_at, recorded after the mock answered and wrote its ledger), throughput and p50/p99, and the
  mock's ledger count (must equal the number of approvals, with no duplicates).

Uses a database of its own (dropped afterwards) and Redis DB 14 (flushed). No timed assertions:
this prints figures.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import os
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import redis
import sqlalchemy as sa

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from adapters.p12345_signing import signed_headers  # noqa: E402

PG_ADMIN = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
REDIS_URL = "redis://127.0.0.1:6379/14"
APP_ID, SECRET = "gw-bench", "bench-secret-p12345-0123456789"
TOKENS = {"duty": "bench-duty-token-0123456789", "unit": "bench-unit-token-0123456789",
          "leader": "bench-leader-token-0123456789"}
ECHO_APP = '''
from fastapi import FastAPI, Request
app = FastAPI()
@app.post("/echo")
async def echo(request: Request) -> dict:
    await request.body()
    return {"code": 0}
'''


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


@contextmanager
def database() -> Iterator[str]:
    name = f"hg_bench_{uuid.uuid4().hex[:8]}"
    admin = sa.create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    try:
        yield PG_ADMIN.rsplit("/", 1)[0] + "/" + name
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def wait_http(url: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if httpx.get(url, timeout=1).status_code < 500:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"{url} did not come up")


def start(args: list[str], env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen(args, cwd=ROOT, env=os.environ | env, stdout=log.open("ab"), stderr=subprocess.STDOUT)


async def _fire_slice(url: str, bodies: list[bytes], concurrency: int, sign: bool) -> tuple[list[float], int]:
    """POST every body with ``concurrency`` in flight; returns (send times, failures)."""
    sent_at: list[float] = [0.0] * len(bodies)
    failures = 0
    queue: asyncio.Queue[int] = asyncio.Queue()
    for i in range(len(bodies)):
        queue.put_nowait(i)
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(limits=limits, timeout=30) as client:

        async def worker() -> None:
            nonlocal failures
            while not queue.empty():
                i = queue.get_nowait()
                headers = {"Content-Type": "application/json"}
                if sign:
                    headers |= signed_headers(APP_ID, SECRET, bodies[i], now=time.time())
                sent_at[i] = time.time()
                response = await client.post(url, content=bodies[i], headers=headers)
                if response.status_code != 200 or response.json().get("code") != 0:
                    failures += 1

        await asyncio.gather(*(worker() for _ in range(concurrency)))
    return sent_at, failures


def _run_slice(job: tuple[str, list[bytes], int, bool, float]) -> tuple[list[float], int]:
    url, bodies, concurrency, sign, start_at = job
    time.sleep(max(0.0, start_at - time.time()))  # all client processes start together
    return asyncio.run(_fire_slice(url, bodies, concurrency, sign))


def fire(url: str, bodies: list[bytes], concurrency: int, sign: bool, clients: int) -> tuple[float, list[float], int]:
    """Load from ``clients`` processes (one Python client saturates past ~8 in flight)."""
    start_at = time.time() + 3.0  # after the client processes have started and imported
    jobs = [(url, bodies[k::clients], concurrency, sign, start_at) for k in range(clients)]
    with multiprocessing.get_context("spawn").Pool(clients) as pool:
        results = pool.map(_run_slice, jobs)
    finished = time.time()
    sent_at: list[float] = [0.0] * len(bodies)
    for k, (times, _) in enumerate(results):
        sent_at[k::clients] = times
    return finished - start_at, sent_at, sum(f for _, f in results)


def cpu_seconds(pid: int) -> float:
    """User + system CPU time a process has used so far (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def push_bodies(orders: list[dict[str, Any]]) -> list[bytes]:
    return [
        json.dumps({"event_id": f"bench-{o['orderNo']}", "event_type": "order.dispatched",
                    "occurred_at": o["dispatchedAt"], "order_no": o["orderNo"], "data": o},
                   ensure_ascii=False).encode()
        for o in orders
    ]


def make_orders(mock_url: str, n: int) -> list[dict[str, Any]]:
    """Orders created on the mock (without pushing), so the platform knows them for write-backs."""
    with httpx.Client(base_url=mock_url, timeout=30) as client:
        return [client.post("/_mock/orders", json={"push": False}).json() for _ in range(n)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--events", type=int, default=6000)
    parser.add_argument("--replies", type=int, default=300)
    parser.add_argument("--concurrency", type=int, default=8,
                        help="requests in flight per client process (past ~8 one Python client saturates)")
    parser.add_argument("--clients", type=int, default=3, help="load-generating processes")
    parser.add_argument("--worker-threads", type=int, default=8)
    parser.add_argument("--workers", type=int, default=1, help="worker processes (scale-out)")
    parser.add_argument("--rounds", type=int, default=3, help="interleaved echo/ingestion rounds (median reported)")
    args = parser.parse_args()
    logs = Path(tempfile.mkdtemp(prefix="hg-bench-"))
    redis.Redis.from_url(REDIS_URL).flushdb()
    procs: list[subprocess.Popen[bytes]] = []
    with database() as db_url:
        mock_port, api_port, echo_port = free_port(), free_port(), free_port()
        env = {
            "GATEWAY_MODE": "dev", "GATEWAY_DATABASE_URL": db_url, "GATEWAY_BROKER_URL": REDIS_URL,
            "GATEWAY_PORT": str(api_port), "GATEWAY_WORKER_THREADS": str(args.worker_threads),
            "GATEWAY_API_TOKENS": json.dumps(
                [{"name": f"{r}-bench", "token": t, "roles": [r]} for r, t in TOKENS.items()]),
            "GATEWAY_PLATFORMS__P12345__ENABLED": "true",
            "GATEWAY_PLATFORMS__P12345__BASE_URL": f"http://127.0.0.1:{mock_port}",
            "GATEWAY_PLATFORMS__P12345__APP_ID": APP_ID, "GATEWAY_PLATFORMS__P12345__APP_SECRET": SECRET,
            "GATEWAY_PLATFORMS__P12345__POLL_INTERVAL_S": "3600",
            # The real platform allows 20 req/s; to measure the gateway itself both limits are lifted.
            "GATEWAY_PLATFORMS__P12345__RATE_LIMIT_PER_S": "100000",
        }
        py = sys.executable
        try:
            subprocess.run([py, "-m", "app.cli", "migrate"], cwd=ROOT, env=os.environ | env, check=True,
                           stdout=subprocess.DEVNULL)
            procs.append(start([py, "-m", "app.cli", "--log-level", "WARNING", "mock", "p12345", "--port",
                                str(mock_port), "--app-id", APP_ID, "--app-secret", SECRET, "--rate-limit", "100000",
                                "--log-level", "warning"], env, logs / "mock.log"))
            procs.append(start([py, "-m", "app.cli", "--log-level", "WARNING", "serve"], env, logs / "api.log"))
            worker_cmd = [py, "-m", "app.cli", "--log-level", "WARNING", "worker"]
            workers = [start(worker_cmd, env, logs / f"worker{n}.log") for n in range(args.workers)]
            procs.append(workers[0])
            procs.append(start([py, "-m", "app.cli", "--log-level", "WARNING", "scheduler"], env,
                               logs / "scheduler.log"))
            echo_file = logs / "echo_app.py"
            echo_file.write_text(ECHO_APP)
            procs.append(start([py, "-m", "uvicorn", "echo_app:app", "--app-dir", str(logs), "--port", str(echo_port),
                                "--log-level", "warning", "--no-access-log"], env, logs / "echo.log"))
            for url in (f"http://127.0.0.1:{mock_port}/_mock/health", f"http://127.0.0.1:{api_port}/healthz",
                        f"http://127.0.0.1:{echo_port}/docs"):
                wait_http(url)
            engine = sa.create_engine(db_url)

            # --- echo ceiling and ingestion, same payloads, same concurrency
            mock_url = f"http://127.0.0.1:{mock_port}"
            warm_n = 100  # both servers get the same warm-up (connections, pools, first commits)
            orders = make_orders(mock_url, args.events + warm_n)
            bodies = push_bodies(orders)
            warm, bodies, orders = bodies[:warm_n], bodies[warm_n:], orders[warm_n:]
            echo_url, ingest_url = f"http://127.0.0.1:{echo_port}/echo", f"http://127.0.0.1:{api_port}/inbound/p12345"
            api_pid, echo_pid = procs[1].pid, procs[4].pid
            procs.extend(workers[1:])
            fire(echo_url, warm, args.concurrency, sign=False, clients=args.clients)
            fire(ingest_url, warm, args.concurrency, sign=True, clients=args.clients)
            # Ingestion alone (the workers paused) against the echo, in interleaved pairs of rounds: this
            # machine is shared and its speed drifts, so each round compares the two under the same load
            # and the median round is the figure (every round is printed too).
            half = len(bodies) // 2
            with engine.connect() as conn:  # the warm-up's tickets first, so the workers are idle when paused
                while conn.execute(sa.text("SELECT count(*) FROM tickets")).scalar_one() < warm_n:
                    time.sleep(0.2)
            for w in workers:
                w.send_signal(signal.SIGSTOP)
            rounds: list[tuple[float, float]] = []
            echo_fail = alone_fail = 0
            echo_cpu = ingest_cpu = 0.0
            parts = [bodies[:half][k::args.rounds] for k in range(args.rounds)]
            for k, part in enumerate(parts):
                rates: dict[str, float] = {}
                for kind in (("echo", "ingest") if k % 2 == 0 else ("ingest", "echo")):  # no order bias
                    url, pid, sign = (echo_url, echo_pid, False) if kind == "echo" else (ingest_url, api_pid, True)
                    cpu0 = cpu_seconds(pid)
                    took, _, failed = fire(url, part, args.concurrency, sign=sign, clients=args.clients)
                    rates[kind] = len(part) / took
                    if kind == "echo":
                        echo_fail, echo_cpu = echo_fail + failed, echo_cpu + cpu_seconds(pid) - cpu0
                    else:
                        alone_fail, ingest_cpu = alone_fail + failed, ingest_cpu + cpu_seconds(pid) - cpu0
                rounds.append((rates["echo"], rates["ingest"]))
            echo_cpu, ingest_cpu = echo_cpu / half, ingest_cpu / half
            for w in workers:
                w.send_signal(signal.SIGCONT)
            drain_started = time.monotonic()
            with engine.connect() as conn:  # let the worker catch up before the contended run
                while conn.execute(sa.text("SELECT count(*) FROM tickets")).scalar_one() < warm_n + half:
                    time.sleep(0.05)
            drain_rate = half / (time.monotonic() - drain_started)
            # Ingestion while the worker turns the same events into tickets on the same two cores.
            ingest_s, sent_at, ingest_fail = fire(ingest_url, bodies[half:], args.concurrency, sign=True,
                                                  clients=args.clients)
            orders = orders[half:]
            deadline = time.monotonic() + 300
            with engine.connect() as conn:
                while time.monotonic() < deadline:
                    count = conn.execute(sa.text("SELECT count(*) FROM tickets")).scalar_one()
                    if count >= warm_n + args.events:  # the warm-up and both halves
                        break
                    time.sleep(0.2)
                created = dict(conn.execute(sa.text("SELECT external_id, created_at FROM tickets")).all())
            lat = [(created[o["orderNo"]].timestamp() - sent_at[i]) * 1000
                   for i, o in enumerate(orders) if o["orderNo"] in created]
            print(f"events: {args.events}, {args.clients} client processes x {args.concurrency} in flight, "
                  f"{args.workers} worker process(es) x {args.worker_threads} threads")
            echo_rate, alone_rate = sorted(rounds, key=lambda r: r[1] / r[0])[len(rounds) // 2]  # the median round
            busy_rate = (args.events - half) / ingest_s
            print("rounds (echo, ingestion, ratio): " + ", ".join(
                f"{e:.0f}/{i:.0f} {100 * i / e:.0f}%" for e, i in rounds))
            print(f"echo ceiling:        {echo_rate:8.0f} req/s  (median round; failures {echo_fail})")
            print(f"webhook ingestion:   {alone_rate:8.0f} events/s accepted, worker paused  (failures {alone_fail}; "
                  f"{100 * alone_rate / echo_rate:.0f}% of echo in the median round; target >= 50%)")
            print(f"                     {busy_rate:8.0f} events/s accepted, worker processing alongside "
                  f"(failures {ingest_fail}; {100 * busy_rate / echo_rate:.0f}% of echo)")
            print(f"server CPU/request:  echo {echo_cpu * 1e6:6.0f} µs, ingestion {ingest_cpu * 1e6:6.0f} µs "
                  f"(API process, worker paused; the rest of both cores runs the load generator and PostgreSQL)")
            print(f"worker drain:        {drain_rate:8.0f} events/s turned into tickets ({args.workers} worker "
                  f"process(es), the paused run's backlog of {half}, nothing else running)")
            print(f"push -> ticket row:  p50 {pct(lat, .5):7.0f} ms  p99 {pct(lat, .99):7.0f} ms  "
                  f"({len(lat)}/{len(orders)} tickets, worker processing alongside)")

            # --- replies: prepare tickets up to the draft, then approve all and time approval -> sent
            n = min(args.replies, args.events)
            with engine.connect() as conn:
                ids = [r[0] for r in conn.execute(sa.text("SELECT id FROM tickets ORDER BY id LIMIT :n"), {"n": n})]
            reply = {"is_true": "属实", "investigation": "经民警现场核查，反映情况属实。", "disposition": "已责令整改",
                     "citizen_opinion": "诉求人表示满意"}
            api = f"http://127.0.0.1:{api_port}/api/v1/tickets"

            headers = {r: {"Authorization": f"Bearer {t}"} for r, t in TOKENS.items()}

            async def prepare() -> None:
                sem = asyncio.Semaphore(args.concurrency)
                async with httpx.AsyncClient(timeout=60) as c:
                    async def prep(tid: int) -> None:
                        async with sem:
                            await c.post(f"{api}/{tid}/sign-off", headers=headers["duty"])
                            await c.post(f"{api}/{tid}/dispatch", headers=headers["duty"], json={"unit": "城关派出所"})
                            await c.post(f"{api}/{tid}/response", headers=headers["duty"], json={"note": "已联系"})
                            await c.post(f"{api}/{tid}/reply", headers=headers["duty"], json=reply)
                    await asyncio.gather(*(prep(t) for t in ids))

            async def approve_all() -> None:
                sem = asyncio.Semaphore(args.concurrency)
                async with httpx.AsyncClient(timeout=60) as c:
                    async def approve(tid: int) -> None:
                        async with sem:
                            r = await c.post(f"{api}/{tid}/reply/approve", headers=headers["leader"])
                            assert r.status_code == 200, r.text
                    await asyncio.gather(*(approve(t) for t in ids))

            asyncio.run(prepare())
            with engine.connect() as conn:  # let sign/contact drain so replies do not queue behind them
                drain = "SELECT count(*) FROM outbox WHERE state NOT IN ('sent', 'dead')"
                while conn.execute(sa.text(drain)).scalar_one():
                    time.sleep(0.2)
            asyncio.run(approve_all())
            with engine.connect() as conn:
                pending = "SELECT count(*) FROM outbox WHERE action='reply' AND state NOT IN ('sent', 'dead')"
                while conn.execute(sa.text(pending)).scalar_one():
                    time.sleep(0.1)
                rows = conn.execute(sa.text(
                    "SELECT created_at, sent_at FROM outbox WHERE action='reply' AND state = 'sent'")).all()
                dead = conn.execute(sa.text("SELECT count(*) FROM outbox WHERE state = 'dead'")).scalar_one()
            rlat = [(s - c).total_seconds() * 1000 for c, s in rows]
            span = (max(s for _, s in rows) - min(c for c, _ in rows)).total_seconds()
            ledger = httpx.get(f"http://127.0.0.1:{mock_port}/_mock/ledger", params={"action": "reply"}).json()
            print(f"replies:             {len(rows) / span:8.0f} replies/s  approval -> platform accepted: "
                  f"p50 {pct(rlat, .5):6.0f} ms  p99 {pct(rlat, .99):6.0f} ms")
            print(f"mock ledger:         {ledger['count']} replies for {n} approvals, "
                  f"duplicates {ledger['duplicates']}, dead write-backs {dead}")
            engine.dispose()
        finally:
            for p in procs:
                p.terminate()
            for p in procs:
                try:
                    p.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    p.kill()
            print(f"(process logs in {logs})")


if __name__ == "__main__":
    main()
