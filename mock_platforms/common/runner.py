"""Run a mock app on a real socket inside the current process (tests, demo, benchmarks)."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from types import TracebackType

import uvicorn
from starlette.types import ASGIApp

from mock_platforms.common.faults import FaultSwitches


class ServerHandle:
    """A uvicorn server running in a daemon thread; `stop()` shuts it down."""

    def __init__(self, server: uvicorn.Server, thread: threading.Thread, host: str, port: int) -> None:
        self.server = server
        self.thread = thread
        self.host = host
        self.port = port

    @property
    def url(self) -> str:
        """Return the base URL, e.g. http://127.0.0.1:53211."""
        return f"http://{self.host}:{self.port}"

    def stop(self, timeout: float = 10.0) -> None:
        """Ask the server to exit and wait for its thread."""
        self.server.should_exit = True
        self.thread.join(timeout)
        if self.thread.is_alive():
            # Second request: uvicorn then cancels in-flight requests (a hanging drop, say).
            self.server.force_exit = True
            self.thread.join(timeout)

    def __enter__(self) -> ServerHandle:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()


def serve_in_thread(
    app: ASGIApp,
    host: str = "127.0.0.1",
    port: int = 0,
    *,
    log_level: str = "warning",
    start_timeout: float = 10.0,
) -> ServerHandle:
    """Serve `app` with uvicorn in a thread and return once it accepts connections.

    `port=0` picks a free port; read it from the handle's `port` or `url`. Raises RuntimeError
    when the server cannot start (port in use, lifespan failure) and TimeoutError when it is slow.
    """
    config = uvicorn.Config(
        app,
        host=host,
        port=port,
        log_level=log_level,
        access_log=False,
        lifespan="on",
        timeout_graceful_shutdown=2,
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name=f"mock-server-{host}:{port}", daemon=True)
    thread.start()
    deadline = time.monotonic() + start_timeout
    while not server.started:
        if not thread.is_alive():
            raise RuntimeError(f"mock server on {host}:{port} failed to start")
        if time.monotonic() > deadline:
            server.should_exit = True
            raise TimeoutError(f"mock server on {host}:{port} did not start in {start_timeout} s")
        time.sleep(0.01)
    bound_port = int(server.servers[0].sockets[0].getsockname()[1])
    return ServerHandle(server, thread, host, bound_port)


@dataclass
class MockOptions:
    """Platform-neutral start-up options from the command line; each platform maps what it uses."""

    host: str = "127.0.0.1"
    port: int = 0
    push_url: str | None = None
    app_id: str | None = None
    app_secret: str | None = None
    generate_per_min: float = 0.0
    generate_random_gaps: bool = False  # uneven gaps around the rate, from the seed (the demo's day)
    seed: int = 12345
    rate_limit_per_s: int | None = None
    push_retry_schedule: list[float] | None = None
    auto_decide: bool = False
    auto_decide_delay_s: float = 5.0
    faults: FaultSwitches = field(default_factory=FaultSwitches)
