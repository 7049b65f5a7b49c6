"""Command line: `python -m mock_platforms.cli PLATFORM --port N [...]` serves one mock platform."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable

import uvicorn
from fastapi import FastAPI

from mock_platforms import mailbox, mayor, p12345, p12389
from mock_platforms.common.faults import FaultSwitches
from mock_platforms.common.runner import MockOptions, ServerHandle, serve_in_thread

AppBuilder = Callable[[MockOptions], FastAPI]

# One line per platform key (STYLE.md: adding a platform is its files plus one registry line).
PLATFORMS: dict[str, AppBuilder] = {
    "p12345": p12345.app_from_options,
    "p12389": p12389.app_from_options,
    "mayor": mayor.app_from_options,
    "mailbox": mailbox.app_from_options,
}

__all__ = ["PLATFORMS", "ServerHandle", "build_app", "main", "parse_options", "serve_in_thread"]


def _seconds_list(text: str) -> list[float]:
    try:
        values = [float(part) for part in text.split(",") if part.strip()]
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"expected comma-separated seconds, got {text!r}") from exc
    if not values or any(value < 0 for value in values):
        raise argparse.ArgumentTypeError("expected one or more non-negative numbers of seconds")
    return values


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="mock_platforms", description="Serve a mock hotline platform.")
    parser.add_argument("platform", choices=sorted(PLATFORMS), help="platform key")
    parser.add_argument("--port", type=int, required=True, help="TCP port (0 picks a free one)")
    parser.add_argument("--host", default="127.0.0.1", help="bind address (default 127.0.0.1)")
    parser.add_argument("--push-url", help="gateway webhook, e.g. http://127.0.0.1:8000/inbound/p12345")
    parser.add_argument("--app-id", help="client id / app id the mock expects")
    parser.add_argument("--app-secret", help="signing secret / token the mock expects")
    parser.add_argument("--generate-per-min", type=float, default=0.0, help="generate orders (0 = off)")
    parser.add_argument("--seed", type=int, default=12345, help="seed of the fake data")
    parser.add_argument("--rate-limit", type=int, help="requests per second per client")
    parser.add_argument("--push-retry", type=_seconds_list, help="retry delays in seconds, e.g. 60,300")
    parser.add_argument("--auto-decide", action="store_true", help="platform decides requests itself")
    parser.add_argument("--auto-decide-delay", type=float, default=5.0, help="seconds before deciding")
    parser.add_argument("--error-rate", type=float, help="share of API calls answered 500/503")
    parser.add_argument("--error-status", choices=("500", "503", "mixed"), help="which 5xx to inject")
    parser.add_argument("--latency-ms", type=int, help="latency added to every API call")
    parser.add_argument("--outage-seconds", type=float, help="answer 503 for this long after start")
    parser.add_argument("--drop-rate", type=float, help="share of write-back responses dropped")
    parser.add_argument("--drop-mode", choices=("close", "hang"), help="how a response is dropped")
    parser.add_argument("--log-level", default="info", help="uvicorn log level")
    return parser


def parse_options(argv: list[str] | None = None) -> tuple[str, MockOptions, str]:
    """Parse the command line into (platform, options, log level); exits on bad arguments."""
    args = _parser().parse_args(argv)
    switches: dict[str, object] = {
        "error_rate": args.error_rate,
        "latency_ms": args.latency_ms,
        "outage_seconds": args.outage_seconds,
        "drop_rate": args.drop_rate,
        "drop_mode": args.drop_mode,
    }
    if args.error_status is not None:
        status = args.error_status
        switches["error_status"] = status if status == "mixed" else int(status)
    given = {key: value for key, value in switches.items() if value is not None}
    faults = FaultSwitches.model_validate(given)
    options = MockOptions(
        host=args.host,
        port=args.port,
        push_url=args.push_url,
        app_id=args.app_id,
        app_secret=args.app_secret,
        generate_per_min=args.generate_per_min,
        seed=args.seed,
        rate_limit_per_s=args.rate_limit,
        push_retry_schedule=args.push_retry,
        auto_decide=args.auto_decide,
        auto_decide_delay_s=args.auto_decide_delay,
        faults=faults,
    )
    return args.platform, options, args.log_level


def build_app(platform: str, options: MockOptions) -> FastAPI:
    """Return the app of a registered platform; raise KeyError for an unknown key."""
    return PLATFORMS[platform](options)


def main(argv: list[str] | None = None) -> int:
    """Serve the chosen mock platform until interrupted; return the exit status."""
    platform, options, log_level = parse_options(argv)
    app = build_app(platform, options)
    print(
        f"mock {platform} on http://{options.host}:{options.port} "
        f"(control API under /_mock, docs at /_mock/docs)",
        file=sys.stderr,
    )
    uvicorn.run(app, host=options.host, port=options.port, log_level=log_level)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
