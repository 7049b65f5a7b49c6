"""Issue 13 point 10: logs print +08:00, the zone the dashboard shows, whatever the host's zone is."""

from __future__ import annotations

import io
import logging
import os
import re
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from gateway.redaction import ShanghaiFormatter, configure_logging

INSTANT = datetime(2026, 12, 5, 1, 30, 15, 250_000, tzinfo=UTC)  # 09:30:15.250 in Shanghai


def record_at(moment: datetime) -> logging.LogRecord:
    record = logging.LogRecord("gateway.test", logging.INFO, __file__, 1, "ticket %s signed", ("T-1",), None)
    record.created = moment.timestamp()
    return record


@pytest.fixture
def host_in_utc() -> Iterator[None]:
    """The process zone set to UTC (a container's default), so local time and +08:00 differ."""
    old = os.environ.get("TZ")
    os.environ["TZ"] = "UTC"
    time.tzset()
    yield
    if old is None:
        os.environ.pop("TZ", None)
    else:
        os.environ["TZ"] = old
    time.tzset()


def test_the_formatter_prints_shanghai_time_with_its_offset(host_in_utc: None) -> None:
    line = ShanghaiFormatter("%(asctime)s %(levelname)s %(name)s: %(message)s").format(record_at(INSTANT))
    assert line == "2026-12-05 09:30:15.250+08:00 INFO gateway.test: ticket T-1 signed"


def test_a_date_format_is_applied_in_shanghai_time(host_in_utc: None) -> None:
    formatter = ShanghaiFormatter("%(asctime)s", datefmt="%H:%M %z")
    assert formatter.format(record_at(INSTANT)) == "09:30 +0800"


def test_the_process_logging_uses_it(host_in_utc: None) -> None:
    buffer = io.StringIO()
    handler = configure_logging("INFO", stream=buffer)
    tuned = {name: logging.getLogger(name).level for name in ("httpx", "alembic")}
    try:
        logging.getLogger("gateway.test").handle(record_at(INSTANT))
    finally:
        logging.getLogger().removeHandler(handler)
        for name, level in tuned.items():
            logging.getLogger(name).setLevel(level)
    assert buffer.getvalue().startswith("2026-12-05 09:30:15.250+08:00 INFO gateway.test: ticket T-1 signed")


def test_the_core_and_its_edges_have_one_time_zone_constant() -> None:
    # Issue 14: gateway.schema.SHANGHAI is the zone; everything else imports it. The mock platforms keep their
    # own (mock_platforms/common/clock.py): they stand for the platforms' systems, not for the gateway.
    root = Path(__file__).resolve().parents[2]
    made = re.compile(r"timezone\(\s*timedelta|ZoneInfo\(|tz\.gettz|pytz\.")
    places = [str(p.relative_to(root)) for folder in ("gateway", "app", "adapters", "mappers", "workers")
              for p in sorted((root / folder).rglob("*.py")) if made.search(p.read_text(encoding="utf-8"))]
    assert places == ["gateway/schema.py"]
