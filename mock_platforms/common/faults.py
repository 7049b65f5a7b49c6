"""Fault switches: injected errors, latency, outages and dropped responses."""

from __future__ import annotations

import random
import time
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from mock_platforms.common.clock import SHANGHAI, iso_cn

DropMode = Literal["close", "hang"]
ErrorStatus = Literal[500, 503, "mixed"]


class FaultSwitches(BaseModel):
    """A partial update of the fault switches; fields left out keep their current value."""

    model_config = ConfigDict(extra="forbid")

    error_rate: float | None = Field(None, ge=0, le=1, description="share of API calls answered 5xx")
    error_status: ErrorStatus | None = Field(None, description="500, 503, or mixed (half each)")
    latency_ms: int | None = Field(None, ge=0, description="added before every API response")
    outage_seconds: float | None = Field(None, ge=0, description="outage from now for N s; 0 ends it")
    outage_until: datetime | None = Field(None, description="outage until this time; null ends it")
    drop_rate: float | None = Field(None, ge=0, le=1, description="share of write-back responses dropped")
    drop_next: int | None = Field(None, ge=0, description="drop the responses of the next N write-backs")
    drop_mode: DropMode | None = Field(None, description="close the connection, or hang then close")
    drop_hang_s: float | None = Field(None, ge=0, description="how long `hang` holds the response")


class FaultState:
    """The live fault switches of one mock, with counters of what they did."""

    def __init__(self, seed: int, initial: FaultSwitches | None = None) -> None:
        self._seed = seed
        self._initial = initial or FaultSwitches()
        self.reset()

    def reset(self) -> None:
        """Return to the start-up switches and zero the counters."""
        self.rng = random.Random(self._seed)
        self.error_rate = 0.0
        self.error_status: ErrorStatus = "mixed"
        self.latency_ms = 0
        self.outage_until: float | None = None
        self.drop_rate = 0.0
        self.drop_next = 0
        self.drop_mode: DropMode = "close"
        self.drop_hang_s = 10.0
        self.errors_injected = 0
        self.outage_rejections = 0
        self.responses_dropped = 0
        self.update(self._initial)

    def update(self, switches: FaultSwitches) -> None:
        """Apply the fields that were set in `switches`."""
        given = switches.model_fields_set
        for name in ("error_rate", "latency_ms", "drop_rate", "drop_next", "drop_hang_s"):
            value = getattr(switches, name)
            if name in given and value is not None:
                setattr(self, name, value)
        if "error_status" in given and switches.error_status is not None:
            self.error_status = switches.error_status
        if "drop_mode" in given and switches.drop_mode is not None:
            self.drop_mode = switches.drop_mode
        if "outage_until" in given:
            until = switches.outage_until
            if until is not None and until.tzinfo is None:
                until = until.replace(tzinfo=SHANGHAI)
            self.outage_until = until.timestamp() if until is not None else None
        if "outage_seconds" in given and switches.outage_seconds is not None:
            seconds = switches.outage_seconds
            self.outage_until = time.time() + seconds if seconds > 0 else None

    def in_outage(self, now: float) -> bool:
        """Tell whether an outage is on at `now` (unix seconds)."""
        if self.outage_until is None:
            return False
        if now >= self.outage_until:
            self.outage_until = None
            return False
        self.outage_rejections += 1
        return True

    def pick_error(self) -> int | None:
        """Return the HTTP status of an injected error for this call, or None."""
        if self.error_rate <= 0 or self.rng.random() >= self.error_rate:
            return None
        self.errors_injected += 1
        if self.error_status == "mixed":
            return self.rng.choice((500, 503))
        return self.error_status

    def take_drop(self) -> bool:
        """Decide whether to drop this write-back response, consuming `drop_next` first."""
        if self.drop_next > 0:
            self.drop_next -= 1
        elif self.drop_rate <= 0 or self.rng.random() >= self.drop_rate:
            return False
        self.responses_dropped += 1
        return True

    def snapshot(self) -> dict[str, Any]:
        """Return the switches and counters as JSON-ready data."""
        outage = self.outage_until
        if outage is not None and time.time() >= outage:
            outage = None
        return {
            "error_rate": self.error_rate,
            "error_status": self.error_status,
            "latency_ms": self.latency_ms,
            "outage_until": iso_cn(datetime.fromtimestamp(outage, SHANGHAI)) if outage else None,
            "drop_rate": self.drop_rate,
            "drop_next": self.drop_next,
            "drop_mode": self.drop_mode,
            "drop_hang_s": self.drop_hang_s,
            "counters": {
                "errors_injected": self.errors_injected,
                "outage_rejections": self.outage_rejections,
                "responses_dropped": self.responses_dropped,
            },
        }
