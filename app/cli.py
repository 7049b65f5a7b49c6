"""``hotline-gateway``: serve, worker, scheduler, migrate, mock, demo, calendar (DESIGN.md)."""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from collections.abc import Sequence
from typing import TYPE_CHECKING

from pydantic import ValidationError

from app import cli_calendar, cli_users
from app.demo import DEFAULT_PER_MIN, DEFAULT_SEED
from gateway.redaction import configure_logging, uvicorn_log_config
from gateway.settings import Settings

if TYPE_CHECKING:
    from gateway.container import Container


def _setup_logging(level: str) -> None:
    configure_logging(level)  # every record through the redacting filter (gateway/redaction.py)


def _positive(text: str) -> float:
    """A rate for ``--per-min``: a number above zero."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"不是数字：{text}") from None
    if not 0 < value <= 6000:
        raise argparse.ArgumentTypeError("须大于 0 且不超过 6000")
    return value


def _wait_for_signal() -> None:
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    stop.wait()


def cmd_migrate(settings: Settings, _: argparse.Namespace) -> int:
    """Bring the database schema up to date."""
    from gateway.store.db import make_engine
    from gateway.store.migrate import upgrade

    upgrade(make_engine(settings.database_url))
    print(f"database migrated: {settings.database_url.split('@')[-1]}")
    return 0


def cmd_serve(settings: Settings, args: argparse.Namespace) -> int:
    """API + dashboard; on the in-process broker also the worker and the scheduler."""
    import uvicorn

    from app.bootstrap import bootstrap
    from app.embedded import Embedded
    from app.web import create_app
    from gateway.store.migrate import upgrade

    settings.check_secrets()
    container = bootstrap(settings)
    if settings.database_url.startswith("sqlite") or args.migrate:
        upgrade(container.engine)
    check_users(container)
    embedded = Embedded(container) if settings.broker_url.startswith("memory://") else None
    app = create_app(
        container,
        on_start=embedded.start if embedded else None,
        on_stop=embedded.stop if embedded else None,
    )
    uvicorn.run(app, host=settings.host, port=settings.port, log_level=args.log_level.lower(),
                workers=1, access_log=False, log_config=uvicorn_log_config(args.log_level))
    container.close()
    return 0


def check_users(container: Container) -> None:
    """Refuse to start while a dashboard user has no usable roles (roles fail closed), naming the user."""
    from sqlalchemy.exc import SQLAlchemyError

    from gateway.services.accounts import user_problems

    try:
        with container.sessions() as session:
            problems = user_problems(session)
    except SQLAlchemyError:
        return  # no users table yet (not migrated): there is no user to refuse
    if problems:
        container.close()
        raise SystemExit("refusing to start: " + "; ".join(problems)
                         + " (fix with `hotline-gateway users` or the admin page)")


def cmd_worker(settings: Settings, _: argparse.Namespace) -> int:
    """Dramatiq worker threads on the configured broker (run several processes to scale out)."""
    from app.bootstrap import bootstrap
    from app.embedded import Embedded

    settings.check_secrets()
    if settings.broker_url.startswith("memory://"):
        print("worker: GATEWAY_BROKER_URL is memory:// — the in-process worker runs inside `serve`", file=sys.stderr)
        return 2
    container = bootstrap(settings)
    runtime = Embedded(container, worker=True, scheduler=False)
    runtime.start()
    print(f"worker {container.owner}: {settings.worker_threads} threads on {settings.broker_url.split('@')[-1]}")
    _wait_for_signal()
    runtime.stop()
    container.close()
    return 0


def cmd_scheduler(settings: Settings, _: argparse.Namespace) -> int:
    """Polls, sweeps and housekeeping; safe to run two (one leads)."""
    from app.bootstrap import bootstrap
    from workers.scheduler import Scheduler

    settings.check_secrets()
    container = bootstrap(settings)
    scheduler = Scheduler(container)
    scheduler.start()
    print(f"scheduler {container.owner} started")
    _wait_for_signal()
    scheduler.stop()
    container.close()
    return 0


def cmd_mock(_: Settings, args: argparse.Namespace) -> int:
    """Run one mock platform (tests, demos, benchmarks)."""
    from mock_platforms.cli import main as mock_main

    return mock_main([args.platform, *args.rest])


def cmd_demo(_: Settings, args: argparse.Namespace) -> int:
    """Everything on the embedded default with the mock platforms generating tickets."""
    from app.demo import run_demo

    return run_demo(port=args.port, per_min=args.per_min, seed=args.seed, fresh=args.fresh)


def build_parser() -> argparse.ArgumentParser:
    """The command line."""
    parser = argparse.ArgumentParser(prog="hotline-gateway", description="12345/12389/市长热线/局长信箱 统一接入网关")
    parser.add_argument("--log-level", default="INFO")
    sub = parser.add_subparsers(dest="command", required=True)
    serve = sub.add_parser("serve", help="API + dashboard (+ worker and scheduler on memory://)")
    serve.add_argument("--migrate", action="store_true", help="run migrations first (always on SQLite)")
    serve.set_defaults(func=cmd_serve)
    sub.add_parser("worker", help="Dramatiq worker on the configured broker").set_defaults(func=cmd_worker)
    sub.add_parser("scheduler", help="polls, sweeps, SLA ticks").set_defaults(func=cmd_scheduler)
    sub.add_parser("migrate", help="apply database migrations").set_defaults(func=cmd_migrate)
    mock = sub.add_parser("mock", help="run a mock platform: mock PLATFORM --port N [options]")
    mock.add_argument("platform")
    mock.add_argument("rest", nargs=argparse.REMAINDER)
    mock.set_defaults(func=cmd_mock)
    demo = sub.add_parser("demo", help="the whole system on SQLite with mock platforms")
    demo.add_argument("--port", type=int, default=8000)
    demo.add_argument("--per-min", type=_positive, default=DEFAULT_PER_MIN,
                      help="tickets a minute over all platforms (default 0.1: about 6 an hour)")
    demo.add_argument("--seed", type=int, default=DEFAULT_SEED, help="seed of the fake tickets and their gaps")
    demo.add_argument("--fresh", action="store_true", help="start from an empty demo database")
    demo.set_defaults(func=cmd_demo)
    cli_calendar.register(sub)
    cli_users.register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the console script."""
    args = build_parser().parse_args(argv)
    _setup_logging(args.log_level)
    if args.command in ("mock", "demo"):
        return int(args.func(Settings.model_construct(), args))
    try:
        settings = Settings()
    except ValidationError as exc:
        # e.g. an API token without explicit roles: refuse to start, naming the entry (roles fail closed).
        problems = "; ".join(str(e["msg"]).removeprefix("Value error, ") for e in exc.errors())
        raise SystemExit(f"refusing to start: invalid settings: {problems}") from None
    return int(args.func(settings, args))


if __name__ == "__main__":
    raise SystemExit(main())
