"""月结 sealing (000 统一派单 六): how long sealing a month takes, how large the export is, and how long the
checksums take to verify, in a throw-away SQLite database.

Run: ``.venv/bin/python benchmarks/bench_archive.py [--tickets 2000] [--events 8]``. Prints figures only;
no target (the office seals once a month).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout without installing

from gateway.principal import Principal
from gateway.services import archive
from gateway.settings import AlertSettings, Role, SlaSettings
from gateway.sla import runtime as sla_runtime
from gateway.store.db import make_engine, make_session_factory, transaction
from gateway.store.migrate import upgrade
from gateway.store.tables import TicketEventRecord, TicketRecord

ISSUED = datetime(2026, 11, 3, 1, 0, tzinfo=UTC)
DUTY = Principal("值班员甲", frozenset({Role.duty}))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--tickets", type=int, default=2000)
    parser.add_argument("--events", type=int, default=8, help="timeline entries per ticket")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        engine = make_engine(f"sqlite:///{tmp}/bench.db")
        upgrade(engine)
        sla_runtime.bind(engine, SlaSettings(), AlertSettings())  # the default rules, as bootstrap binds them
        sessions = make_session_factory(engine)
        with transaction(sessions) as s:
            for n in range(args.tickets):
                at = ISSUED + timedelta(minutes=n)
                ticket = TicketRecord(
                    platform="p12345", external_id=f"B{n:08d}", platform_status="已办结", status="replied",
                    appeal_type="complaint", title=f"虚构工单 {n}", content="虚构内容" * 20, citizen={"name": "张某"},
                    region={}, attachments=[], issued_at=at, replied_at=at + timedelta(days=2), unit="城关派出所",
                    reply={"disposition": "已处理"}, category=[], extra={})
                s.add(ticket)
                s.flush()
                for k in range(args.events):
                    s.add(TicketEventRecord(ticket_id=ticket.id, at=at + timedelta(hours=k), actor="bench",
                                            kind=f"step{k}", detail={"note": "虚构记录"}))
        with transaction(sessions) as s:
            started = time.perf_counter()
            record = archive.close_month(s, principal=DUTY, month="2026-11", now=datetime(2026, 12, 1, 2, tzinfo=UTC))
            sealed = time.perf_counter() - started
            size = len(record.content.encode("utf-8"))
            started = time.perf_counter()
            intact = archive.verify(record)
            verified = time.perf_counter() - started
        print(f"tickets={args.tickets} events/ticket={args.events} seal_s={sealed:.2f} "
              f"tickets_per_s={args.tickets / sealed:.0f} export_mb={size / 1e6:.1f} verify_s={verified:.2f} "
              f"intact={intact}")


if __name__ == "__main__":
    main()
