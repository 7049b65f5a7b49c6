"""``hotline-gateway calendar show [YEAR] | load FILE [--replace] | missing``.

``load`` validates a year file (the State Council notice as data), stores it in the database so every
process and restart uses it, recomputes every open deadline and writes an audit entry.
"""

from __future__ import annotations

import argparse
import getpass
import json
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from gateway.calendar import CalendarYear
from gateway.settings import Settings
from gateway.sla.calendar_store import stored_year_rows
from gateway.sla.deadlines import to_shanghai
from gateway.sla.recompute import load_year
from gateway.sla.runtime import SlaRuntime
from gateway.store.db import make_engine, make_session_factory, transaction, utcnow
from gateway.store.migrate import upgrade

WEEKDAYS = "一二三四五六日"


def register(subparsers: Any) -> None:
    """Add ``calendar`` and its sub-commands to the main parser."""
    calendar = subparsers.add_parser("calendar", help="节假日安排: show, load FILE, missing")
    sub = calendar.add_subparsers(dest="calendar_command", required=True)
    show = sub.add_parser("show", help="list the years in use, or one year's rest and make-up days")
    show.add_argument("year", nargs="?", type=int)
    show.set_defaults(func=cmd_show)
    load = sub.add_parser("load", help="validate and load a year file; recomputes open deadlines")
    load.add_argument("file", type=Path)
    load.add_argument("--replace", action="store_true", help="correct a year that is already loaded")
    load.set_defaults(func=cmd_load)
    sub.add_parser("missing", help="years a deadline may fall in that have no data (exit 1 if any)").set_defaults(
        func=cmd_missing
    )


def _runtime(settings: Settings) -> tuple[Any, SlaRuntime]:
    engine = make_engine(settings.database_url)
    if settings.database_url.startswith("sqlite"):
        upgrade(engine)  # the embedded default migrates on every start, as `serve` does
    return make_session_factory(engine), SlaRuntime(settings.sla, settings.alerts)


def cmd_show(settings: Settings, args: argparse.Namespace) -> int:
    """Print the years in use, or the days of one year."""
    sessions, runtime = _runtime(settings)
    with sessions() as session:
        calendar = runtime.calendar(session)
        loaded = {row.year: row for row in stored_year_rows(session)}
    if args.year is None:
        for year in calendar.years():
            data = calendar.year(year)
            assert data is not None
            row = loaded.get(year)
            source = f"导入 {row.loaded_at:%Y-%m-%d} by {row.loaded_by}" if row else "内置"
            print(f"{year}  {data.notice.document_number}  {data.notice.title}  [{source}]")
        return 0
    data = calendar.year(args.year)
    if data is None:
        print(f"{args.year}年：无数据，期限按法定节日和周末推算并标记为暂定"
              f" (no data for {args.year}: statutory festivals and weekends only)")
        return 1
    print(f"{data.year}  {data.notice.title}  {data.notice.document_number}  ({data.notice.published_on})")
    for day in data.rest_days:
        print(f"  放假 {day.date} 周{WEEKDAYS[day.date.weekday()]}  {day.holiday}")
    for day in data.makeup_workdays:
        print(f"  调休上班 {day.date} 周{WEEKDAYS[day.date.weekday()]}  {day.holiday}")
    return 0


def cmd_load(settings: Settings, args: argparse.Namespace) -> int:
    """Validate, store, recompute, audit."""
    try:
        year = CalendarYear.model_validate(json.loads(args.file.read_text(encoding="utf-8")))
    except (OSError, ValueError, ValidationError) as exc:
        print(f"无法导入 {args.file}: {exc}")
        return 2
    sessions, runtime = _runtime(settings)
    try:
        with transaction(sessions) as session:
            report = load_year(session, year=year, runtime=runtime, actor=f"cli:{getpass.getuser()}",
                               now=utcnow(), replace=args.replace)
    except ValueError as exc:
        print(str(exc))
        return 2
    print(f"已导入 {year.year}年（{year.notice.document_number}）：检查 {report.scanned} 个未完成期限，"
          f"重新计算 {report.changed} 个")
    return 0


def cmd_missing(settings: Settings, _: argparse.Namespace) -> int:
    """Print the missing years; exit 1 when any (for cron and monitoring)."""
    sessions, runtime = _runtime(settings)
    with sessions() as session:
        missing = runtime.calendar(session).missing_years(to_shanghai(utcnow()).date())
    if not missing:
        print("节假日安排齐全")
        return 0
    for year in missing:
        print(f"缺少 {year}年节假日安排：跨入该年的期限暂按法定节日和周末推算并标记为暂定")
    return 1
