"""The order generator: creates fake orders at a steady rate (or at random gaps), deterministic for a seed."""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field, replace
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

log = logging.getLogger(__name__)


@dataclass
class GeneratorSettings:
    """How fast and what kind of orders to generate; `mix` keys are the platform's own type enum."""

    enabled: bool = False
    per_min: float = 6.0
    mix: dict[str, float] = field(default_factory=dict)
    urgent_fraction: float = 0.1
    # Gaps drawn at random (exponential, mean 60/per_min, from the seed) instead of a steady beat: calls come
    # in unevenly, like a real day (the demo). The first order still comes at once.
    random_gaps: bool = False


class GeneratorUpdate(BaseModel):
    """A partial update of the generator from the control API."""

    model_config = ConfigDict(extra="forbid")

    enabled: bool | None = None
    per_min: float | None = Field(None, gt=0, le=60_000)
    mix: dict[str, float] | None = None
    urgent_fraction: float | None = Field(None, ge=0, le=1)
    generate_now: int = Field(0, ge=0, le=10_000, description="create this many orders at once")


MakeOne = Callable[[random.Random, GeneratorSettings], Awaitable[Any]]


class OrderGenerator:
    """Calls `make_one` every 60/per_min seconds while enabled, with its own seeded RNG."""

    def __init__(self, settings: GeneratorSettings, seed: int, make_one: MakeOne) -> None:
        self._initial = replace(settings, mix=dict(settings.mix))
        self._seed = seed
        self._make_one = make_one
        self._task: asyncio.Task[None] | None = None
        self.settings = replace(settings, mix=dict(settings.mix))
        self.rng = random.Random(seed)
        self.gaps = random.Random(seed + 97)  # apart from ``rng``: the orders stay the same for a seed
        self.generated = 0

    def gap(self) -> float:
        """Seconds until the next order: steady, or drawn from the seed when ``random_gaps``."""
        mean = 60.0 / self.settings.per_min
        return self.gaps.expovariate(1.0 / mean) if self.settings.random_gaps else mean

    async def generate(self, count: int) -> None:
        """Create `count` orders now."""
        for _ in range(count):
            await self._make_one(self.rng, self.settings)
            self.generated += 1

    def start(self) -> None:
        """Start the timed loop in the running event loop if enabled and not running."""
        if self.settings.enabled and (self._task is None or self._task.done()):
            self._task = asyncio.get_running_loop().create_task(self._run())

    async def stop(self) -> None:
        """Stop the timed loop (the settings keep `enabled` as they are)."""
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)

    async def apply(self, update: GeneratorUpdate) -> None:
        """Change the settings, restart the loop to pick up a new rate, then generate any burst."""
        if update.mix is not None and not any(weight > 0 for weight in update.mix.values()):
            raise ValueError("mix needs at least one positive weight")
        if update.mix is not None:
            self.settings.mix = dict(update.mix)
        if update.per_min is not None:
            self.settings.per_min = update.per_min
        if update.urgent_fraction is not None:
            self.settings.urgent_fraction = update.urgent_fraction
        if update.enabled is not None:
            self.settings.enabled = update.enabled
        await self.stop()
        self.start()
        await self.generate(update.generate_now)

    async def reset(self) -> None:
        """Stop, reseed and return to the start-up settings."""
        await self.stop()
        self.settings = replace(self._initial, mix=dict(self._initial.mix))
        self.rng = random.Random(self._seed)
        self.gaps = random.Random(self._seed + 97)
        self.generated = 0

    async def _run(self) -> None:
        while True:
            try:
                await self.generate(1)
            except Exception:
                # A broken order must not silence the generator for the rest of a demo.
                log.exception("generator failed to create an order")
            await asyncio.sleep(self.gap())

    def as_json(self) -> dict[str, Any]:
        """Return settings and progress as JSON-ready data."""
        return {
            "enabled": self.settings.enabled,
            "running": self._task is not None and not self._task.done(),
            "per_min": self.settings.per_min,
            "mix": self.settings.mix,
            "urgent_fraction": self.settings.urgent_fraction,
            "generated": self.generated,
        }
