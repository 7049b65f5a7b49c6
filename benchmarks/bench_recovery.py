"""Delivery after a fault (issue 12): time from the platform's return to every write-back delivered, and from
a worker's death to its row being read back.

Run (about 2 minutes per scenario on the 2-core machine; SQLite file by default)::

    .venv/bin/python benchmarks/bench_recovery.py --scenario outage --rows 300 --outage-s 60
    .venv/bin/python benchmarks/bench_recovery.py --scenario outage --rows 300 --outage-s 120 --flaky-s 20
    .venv/bin/python benchmarks/bench_recovery.py --scenario dead-owner --rows 20
    .venv/bin/python benchmarks/bench_recovery.py --database-url postgresql+psycopg://postgres@127.0.0.1:5432/DB

``outage``: write-backs queued while the platform is down (every request a 503) for ``--outage-s``; the
circuit breaker opens with the default settings (5 failures, 30 s), the sweeper rings every second,
``--threads`` worker threads deliver through the real ``delivery.deliver`` with our own pacer at
``--rate`` requests/s. Then the platform comes back. Printed: platform back → circuit closed → every
row delivered, the same for the 2-hour 先行联系 rows, the requests made and the attempts per row.

``dead-owner``: a worker that beats (2 s, owner TTL 10 s by default) claims ``--rows`` rows and dies;
printed: death → each row read back and delivered by another worker (the lease is the default 60 s).
The scheduler, doorbell and workers are the same functions the processes run, in threads here, so the
figures measure the delivery rules, not Redis or HTTP.
"""

from __future__ import annotations

import argparse
import queue
import random
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Mapping
from datetime import timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # run from a checkout without installing

from sqlalchemy import func, select  # noqa: E402
from sqlalchemy.orm import Session, sessionmaker  # noqa: E402

from gateway.errors import TransientError  # noqa: E402
from gateway.ports import Lookup, SendResult  # noqa: E402
from gateway.services import delivery, inbound, processing  # noqa: E402
from gateway.services.circuit import CircuitPolicy  # noqa: E402
from gateway.services.ratelimit import PlatformPacer  # noqa: E402
from gateway.settings import AlertSettings, OutboxSettings, P12345Settings, SlaSettings  # noqa: E402  # noqa: E402
from gateway.sla import runtime as sla_runtime  # noqa: E402
from gateway.store import outbox  # noqa: E402
from gateway.store.db import make_engine, make_session_factory, transaction, utcnow  # noqa: E402
from gateway.store.migrate import upgrade  # noqa: E402
from gateway.store.tables import OutboxRecord, TicketRecord  # noqa: E402
from tests.fakes import FakeMapper, raw  # noqa: E402


class Platform:
    """A platform that answers in ``latency_s``; while ``down`` every request is a 503."""

    key = "fake"

    def __init__(self, latency_s: float, *, flaky_until: float = 0.0, flaky_rate: float = 0.0) -> None:
        self.latency_s, self.down = latency_s, False
        # A platform coming back is often shaky: until ``flaky_until`` (monotonic) it fails a share of requests.
        self.flaky_until, self.flaky_rate, self.dice = flaky_until, flaky_rate, random.Random(12)
        self.requests = 0
        self.applied: dict[str, float] = {}  # request id → when it was applied
        self.first_ok: float | None = None
        self.lock = threading.Lock()

    def send(self, action: str, external_id: str, body: Mapping[str, Any], request_id: str) -> SendResult:
        with self.lock:
            self.requests += 1
        time.sleep(self.latency_s)
        if self.down:
            raise TransientError("503 platform down")
        with self.lock:
            now = time.monotonic()
            if now < self.flaky_until and self.dice.random() < self.flaky_rate:
                raise TransientError("503 platform warming up")
            self.applied.setdefault(request_id, now)
            self.first_ok = self.first_ok or now
        return SendResult(receipt_id=f"R-{request_id}")

    def lookup(self, action: str, external_id: str, body: Mapping[str, Any], request_id: str) -> Lookup:
        with self.lock:
            self.requests += 1
        if self.down:
            raise TransientError("503 platform down")
        applied = request_id in self.applied
        return Lookup(applied=applied, receipt_id=f"R-{request_id}" if applied else None)

    def poll(self, cursor: Any) -> Any:
        raise NotImplementedError

    def close(self) -> None:
        pass


def queue_rows(sessions: sessionmaker[Session], n: int) -> dict[int, str]:
    """``n`` tickets, each with one write-back: every tenth a 2-hour 先行联系 (contact), the rest sign-offs."""
    now, mapper, rows = utcnow(), {"fake": FakeMapper()}, {}
    for i in range(n):
        with transaction(sessions) as s:
            inbox_id = inbound.store_item(s, platform="fake", item=raw(f"e{i}", id=f"T{i}", version=1),
                                          source="push", now=now)
        with transaction(sessions) as s:
            processing.process_inbox_row(s, row_id=inbox_id or 0, mappers=mapper, now=now)
        with transaction(sessions) as s:
            ticket = s.scalars(select(TicketRecord).where(TicketRecord.external_id == f"T{i}")).one()
            action = "contact" if i % 10 == 0 else "sign"
            rows[outbox.enqueue(s, ticket=ticket, action=action, payload={}, actor="bench", now=now).id] = action
    return rows


class Workers:
    """Doorbell queue, worker threads running ``delivery.deliver``, and the 1 s sweeper."""

    def __init__(self, sessions: sessionmaker[Session], platform: Platform, *, threads: int, rate: float,
                 policy: OutboxSettings, owner: str = "bench") -> None:
        self.sessions, self.platform, self.policy, self.owner = sessions, platform, policy, owner
        defaults = P12345Settings()
        self.circuits = {"fake": CircuitPolicy(defaults.circuit_failure_threshold, defaults.circuit_reset_s)}
        self.pacer = PlatformPacer({"fake": rate})
        self.bell: queue.Queue[int] = queue.Queue()
        self.stop = threading.Event()
        self.threads = [threading.Thread(target=self._work, daemon=True) for _ in range(threads)]
        self.threads.append(threading.Thread(target=self._sweep, daemon=True))

    def start(self) -> None:
        for thread in self.threads:
            thread.start()

    def _work(self) -> None:
        while not self.stop.is_set():
            try:
                row_id = self.bell.get(timeout=0.2)
            except queue.Empty:
                continue
            report = delivery.deliver(self.sessions, row_id=row_id, adapters={"fake": self.platform},
                                      mappers={"fake": FakeMapper()}, policy=self.policy, owner=self.owner,
                                      clock=utcnow, circuits=self.circuits, pacer=self.pacer)
            if report.ring_next is not None:
                self.bell.put(report.ring_next)
            for released in getattr(report, "released", ()):  # absent before issue 12
                self.bell.put(released)

    def _sweep(self) -> None:
        while not self.stop.wait(1.0):
            with transaction(self.sessions) as s:
                ids = outbox.due_ids(s, now=utcnow(),
                                     ring_again_after=timedelta(seconds=self.policy.ring_again_after_s))
            for row_id in ids:
                self.bell.put(row_id)


def sent_at(sessions: sessionmaker[Session]) -> dict[int, Any]:
    with sessions() as s:
        return dict(s.execute(select(OutboxRecord.id, OutboxRecord.sent_at).where(OutboxRecord.state == "sent")).all())


def attempts(sessions: sessionmaker[Session]) -> list[int]:
    with sessions() as s:
        return list(s.scalars(select(OutboxRecord.attempts)))


def outage(sessions: sessionmaker[Session], args: argparse.Namespace) -> None:
    rows = queue_rows(sessions, args.rows)
    platform = Platform(args.latency_s)
    platform.down = True
    workers = Workers(sessions, platform, threads=args.threads, rate=args.rate, policy=OutboxSettings())
    workers.start()
    for row_id in rows:  # the doorbell rings when the write-backs are queued
        workers.bell.put(row_id)
    time.sleep(args.outage_s)
    before = attempts(sessions)
    requests_down = platform.requests
    platform.flaky_until, platform.flaky_rate = time.monotonic() + args.flaky_s, args.flaky_rate
    platform.down = False
    back, back_wall = time.monotonic(), utcnow()
    deadline = back + args.timeout_s
    while len(sent_at(sessions)) < len(rows) and time.monotonic() < deadline:
        time.sleep(0.2)
    workers.stop.set()
    done = sent_at(sessions)
    after = attempts(sessions)

    def since_back(ids: list[int]) -> str:
        times = [(done[i] - back_wall).total_seconds() for i in ids if i in done]
        if len(times) < len(ids):
            return f"{len(times)}/{len(ids)} delivered within {args.timeout_s:.0f} s"
        return f"p50 {statistics.median(times):.1f} s, last {max(times):.1f} s"

    contact = [i for i, a in rows.items() if a == "contact"]
    closed = (platform.first_ok - back) if platform.first_ok else float("nan")
    print(f"outage: {args.rows} write-backs ({len(contact)} 先行联系), platform down {args.outage_s:.0f} s, "
          + (f"then {args.flaky_rate:.0%} of requests fail for {args.flaky_s:g} s; " if args.flaky_s else "")
          + f"{args.threads} worker threads, pacer {args.rate:g}/s, database {args.dialect}")
    print(f"  during the outage: {requests_down} requests to the platform; attempts per row "
          f"max {max(before)}, mean {statistics.mean(before):.2f}")
    print(f"  platform back → first request accepted (circuit probe): {closed:.1f} s")
    print(f"  platform back → every row delivered: {since_back(list(rows))}")
    print(f"  platform back → every 先行联系 delivered: {since_back(contact)}")
    print(f"  attempts per row at the end: max {max(after)}, mean {statistics.mean(after):.2f}; "
          f"requests in all {platform.requests}")


def dead_owner(sessions: sessionmaker[Session], args: argparse.Namespace) -> None:
    from gateway.services.liveness import Heartbeat

    policy = OutboxSettings()
    rows = queue_rows(sessions, args.rows)
    platform = Platform(args.latency_s)
    heart = Heartbeat(sessions, owner="doomed", clock=utcnow, interval_s=policy.heartbeat_s, ttl_s=policy.owner_ttl_s)
    heart.start()
    lease = timedelta(seconds=policy.lease_s)
    for row_id in rows:  # the doomed worker claims every row and sends it (the platform applies each)...
        with transaction(sessions) as s:
            claim = outbox.claim(s, row_id=row_id, owner="doomed", now=utcnow(), lease=lease)
            assert claim is not None
            outbox.begin_attempt(s, claim, now=utcnow(), lease=lease)
        platform.send(claim.action, claim.external_id, {}, claim.request_id)
    time.sleep(policy.heartbeat_s)
    heart.stop()  # ...and is killed: no more beats, no outcome recorded
    died, died_wall = time.monotonic(), utcnow()
    workers = Workers(sessions, platform, threads=args.threads, rate=args.rate, policy=policy, owner="survivor")
    workers.start()
    deadline = died + args.timeout_s
    while len(sent_at(sessions)) < len(rows) and time.monotonic() < deadline:
        time.sleep(0.2)
    workers.stop.set()
    done = sent_at(sessions)
    times = sorted((t - died_wall).total_seconds() for t in done.values())
    print(f"dead owner: {args.rows} rows held by a killed worker; lease {policy.lease_s:.0f} s, heartbeat "
          f"{policy.heartbeat_s:g} s, owner TTL {policy.owner_ttl_s:g} s, database {args.dialect}")
    if len(times) < len(rows):
        print(f"  only {len(times)}/{len(rows)} delivered within {args.timeout_s:.0f} s")
        return
    print(f"  death → read back and delivered: first {times[0]:.1f} s, p50 {statistics.median(times):.1f} s, "
          f"last {times[-1]:.1f} s; {len(platform.applied)} applied for {len(rows)} rows (0 re-sent: "
          f"{len(platform.applied) == len(rows)})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scenario", choices=["outage", "dead-owner"], default="outage")
    parser.add_argument("--rows", type=int, default=300)
    parser.add_argument("--outage-s", type=float, default=60.0)
    parser.add_argument("--flaky-s", type=float, default=0.0, help="after its return the platform is shaky this long")
    parser.add_argument("--flaky-rate", type=float, default=0.3, help="…failing this share of requests")
    parser.add_argument("--threads", type=int, default=8)
    parser.add_argument("--rate", type=float, default=10.0, help="our pacer, requests/s (12345's default)")
    parser.add_argument("--latency-s", type=float, default=0.02)
    parser.add_argument("--timeout-s", type=float, default=900.0)
    parser.add_argument("--database-url", default=None, help="default: a SQLite file in a temporary directory")
    args = parser.parse_args()
    url = args.database_url or f"sqlite:///{tempfile.mkdtemp()}/bench.sqlite3"
    args.dialect = url.split(":", 1)[0].split("+", 1)[0]
    engine = make_engine(url)
    upgrade(engine)
    sla_runtime.bind(engine, SlaSettings(), AlertSettings())  # the default rules, as bootstrap binds them
    sessions = make_session_factory(engine)
    with sessions() as s:
        if s.scalar(select(func.count()).select_from(OutboxRecord)):
            raise SystemExit("the database must be empty (a fresh one per run)")
    (outage if args.scenario == "outage" else dead_owner)(sessions, args)
    engine.dispose()


if __name__ == "__main__":
    main()
