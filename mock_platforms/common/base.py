"""The lifecycle every platform mock shares: start, close, reset, delayed actions and health counters.

A platform mock subclasses `MockBase`, passes its config, store and default generator mix to
`MockBase.__init__`, implements `_generate`, and adds its own reset steps in `_reset_extra`.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Callable, Mapping
from typing import Any, ClassVar, Generic, Protocol, TypeVar

from mock_platforms.common.faults import FaultState, FaultSwitches
from mock_platforms.common.generator import GeneratorSettings, OrderGenerator
from mock_platforms.common.ledger import Ledger
from mock_platforms.common.ratelimit import SlidingWindowLimiter
from mock_platforms.common.webhook import PushDispatcher


class MockConfig(Protocol):
    """The settings every platform mock's config has."""

    seed: int
    generator: GeneratorSettings
    faults: FaultSwitches
    rate_limit_per_s: int


class MockStore(Protocol):
    """What the shared lifecycle needs of a platform's store."""

    def __len__(self) -> int: ...

    def clear(self) -> None: ...


ConfigT = TypeVar("ConfigT", bound=MockConfig)
StoreT = TypeVar("StoreT", bound=MockStore)


class MockBase(Generic[ConfigT, StoreT]):
    """Ledger, faults, limiter, generator, pushes (none by default) and timers of one platform mock."""

    platform: str
    # The key of the store's size in `health()` ("orders", "cases", "letters").
    _health_items: ClassVar[str] = "orders"

    def __init__(self, config: ConfigT, store: StoreT, default_mix: Mapping[str, float]) -> None:
        self.config = config
        if not config.generator.mix:
            config.generator.mix = dict(default_mix)
        self.store = store
        self.ledger = Ledger()
        self.faults = FaultState(config.seed, config.faults)
        self.limiter = SlidingWindowLimiter(config.rate_limit_per_s)
        self.pushes: PushDispatcher | None = None
        self.generator: OrderGenerator | None = OrderGenerator(config.generator, config.seed, self._generate)
        self._timers: set[asyncio.Task[None]] = set()
        self._seed_rngs()

    def _seed_rngs(self) -> None:
        self.manual_rng = random.Random(self.config.seed + 1)
        self.decision_rng = random.Random(self.config.seed + 2)

    async def _generate(self, rng: random.Random, settings: GeneratorSettings) -> None:
        """Create one item for the generator."""
        raise NotImplementedError

    # --- lifecycle -------------------------------------------------------------------------
    def start(self) -> None:
        """Start background work (the generator, if enabled); call inside the running loop."""
        if self.generator is not None:
            self.generator.start()

    async def aclose(self) -> None:
        """Stop every background task and close the push client (if any)."""
        await self._cancel_timers()
        if self.generator is not None:
            await self.generator.stop()
        if self.pushes is not None:
            await self.pushes.aclose()

    async def reset(self) -> None:
        """Return to the start-up state: empty store, ledger and push log; start-up switches."""
        await self._cancel_timers()
        if self.generator is not None:
            await self.generator.reset()
        if self.pushes is not None:
            await self.pushes.reset()
        self.store.clear()
        self.ledger.clear()
        self.faults.reset()
        self.limiter.reset()
        self._reset_extra()
        self._seed_rngs()
        self.start()

    def _reset_extra(self) -> None:
        """Reset the platform's own state and counters (called by `reset`, before reseeding)."""

    async def _cancel_timers(self) -> None:
        timers = list(self._timers)
        for task in timers:
            task.cancel()
        await asyncio.gather(*timers, return_exceptions=True)

    def _later(self, delay: float, action: Callable[[], object]) -> None:
        """Call `action` after `delay` seconds, as a task of the running loop (cancelled by reset)."""

        async def run() -> None:
            await asyncio.sleep(delay)
            action()

        task = asyncio.get_running_loop().create_task(run())
        self._timers.add(task)
        task.add_done_callback(self._timers.discard)

    def health(self) -> dict[str, Any]:
        """Return counters for ``/_mock/health``."""
        return {
            self._health_items: len(self.store),
            "ledger_entries": len(self.ledger.entries),
            "duplicates": self.ledger.duplicates,
            **self._health_counters(),
            "rate_limited": self.limiter.rejected,
            "faults": self.faults.snapshot(),
            "generator": self.generator.as_json() if self.generator else None,
        }

    def _health_counters(self) -> dict[str, Any]:
        """The platform's own counters, placed after the ledger's in `health()`."""
        return {}
