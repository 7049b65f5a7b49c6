"""Due-date computations per second on the bundled calendar, single process.

Run: ``.venv/bin/python benchmarks/bench_calendar.py [--seconds 2]``. Target (issue 3): at least
1,000,000 ``WorkCalendar.add_workdays`` calls per second. Full ``resolution_due`` calls (time zone
conversion, policy lookup, 23:59:59 datetime) are measured too, for information.
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from collections.abc import Callable
from datetime import date, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout without installing

from gateway.calendar import WorkCalendar
from gateway.sla import SHANGHAI, resolution_due

LIMITS = (0, 5, 10, 15, 20)


def _rate(label: str, batch: Callable[[], int], seconds: float) -> float:
    calls, started = 0, time.perf_counter()
    while (elapsed := time.perf_counter() - started) < seconds:
        calls += batch()
    rate = calls / elapsed
    print(f"{label:<58} {rate:>14,.0f} /s")
    return rate


def main() -> int:
    """Print due-date computations per second; exit 1 below the 1,000,000/s target."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=2.0, help="time per measurement")
    args = parser.parse_args()

    calendar = WorkCalendar.bundled()
    rng = random.Random(3)  # fixed seed: the same mix of starts every run
    first = date(2024, 1, 1)
    starts = [first + timedelta(days=rng.randrange(3 * 366)) for _ in range(10_000)]
    work = [(s, LIMITS[i % len(LIMITS)]) for i, s in enumerate(starts)]
    add_workdays = calendar.add_workdays

    def dates_batch() -> int:
        for start, n in work:
            add_workdays(start, n)
        return len(work)

    issued = [datetime.combine(s, datetime.min.time(), SHANGHAI) + timedelta(hours=9) for s in starts[:2_000]]

    def full_batch() -> int:
        for when in issued:
            resolution_due("p12389", "一般", when, None, calendar)
        return len(issued)

    print(f"python {sys.version.split()[0]}, calendar years {calendar.years()}, limits {LIMITS}")
    rate = _rate("WorkCalendar.add_workdays (due-date computations)", dates_batch, args.seconds)
    _rate("sla.resolution_due (aware datetime in, Due out)", full_batch, args.seconds)
    return 0 if rate >= 1_000_000 else 1


if __name__ == "__main__":
    sys.exit(main())
