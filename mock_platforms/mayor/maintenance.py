"""HTML "系统维护中" pages: at random, for a set time, and in a nightly window (PLATFORMS.md §3).

These switches extend the shared fault switches for this platform only: ``POST /_mock/faults``
of the mayor mock takes the shared fields plus ``maintenance_rate``, ``maintenance_seconds`` and
``nightly_maintenance`` (the shared ``FaultSwitches`` forbids unknown fields and is not ours).
"""

from __future__ import annotations

import random
import re
import time
from collections.abc import Callable
from datetime import datetime
from typing import Any

from pydantic import Field, field_validator
from starlette.types import ASGIApp, Receive, Scope, Send

from mock_platforms.common.clock import SHANGHAI, iso_cn, now_cn
from mock_platforms.common.faults import FaultSwitches
from mock_platforms.mayor.wire import MAINTENANCE_PAGE, html_page

WINDOW = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)-([01]\d|2[0-3]):([0-5]\d)$")
MAINTENANCE_FIELDS = ("maintenance_rate", "maintenance_seconds", "nightly_maintenance")


class MayorFaultSwitches(FaultSwitches):
    """The shared fault switches plus this platform's maintenance pages."""

    maintenance_rate: float | None = Field(None, ge=0, le=1, description="share of API calls answered HTML")
    maintenance_seconds: float | None = Field(None, ge=0, description="maintenance from now for N s; 0 ends it")
    nightly_maintenance: str | None = Field(None, description='nightly window "HH:MM-HH:MM" (Shanghai); null: off')

    @field_validator("nightly_maintenance")
    @classmethod
    def _window(cls, value: str | None) -> str | None:
        if value is not None and not WINDOW.match(value):
            raise ValueError('must be "HH:MM-HH:MM"')
        return value

    def shared(self) -> FaultSwitches:
        """The fields the shared fault state understands, as a partial update."""
        given = {k: getattr(self, k) for k in self.model_fields_set if k not in MAINTENANCE_FIELDS}
        return FaultSwitches.model_validate(given)


def _minutes(text: str) -> int:
    hours, minutes = text.split(":")
    return int(hours) * 60 + int(minutes)


class MaintenanceState:
    """Decides per API call whether the server is "in maintenance", and counts the pages served."""

    def __init__(self, seed: int, rate: float = 0.0, nightly: str | None = None) -> None:
        self._seed, self._rate, self._nightly = seed, rate, nightly
        self.reset()

    def reset(self) -> None:
        """Return to the start-up switches and zero the counter."""
        self.rng = random.Random(self._seed + 7)
        self.rate = self._rate
        self.nightly = self._nightly
        self.until: float | None = None
        self.pages = 0

    def update(self, switches: MayorFaultSwitches) -> None:
        """Apply the maintenance fields that were set."""
        given = switches.model_fields_set
        if "maintenance_rate" in given and switches.maintenance_rate is not None:
            self.rate = switches.maintenance_rate
        if "maintenance_seconds" in given and switches.maintenance_seconds is not None:
            seconds = switches.maintenance_seconds
            self.until = time.time() + seconds if seconds > 0 else None
        if "nightly_maintenance" in given:
            self.nightly = switches.nightly_maintenance

    def in_nightly_window(self, now: datetime) -> bool:
        """Tell whether ``now`` (Shanghai) falls in the nightly window; a window may wrap past midnight."""
        if self.nightly is None:
            return False
        start, end = (_minutes(part) for part in self.nightly.split("-"))
        local = now.astimezone(SHANGHAI)
        minute = local.hour * 60 + local.minute
        return start <= minute < end if start <= end else minute >= start or minute < end

    def active(self, now: datetime) -> bool:
        """Decide for one call: scheduled window, nightly window, or the random share."""
        if self.until is not None and time.time() >= self.until:
            self.until = None
        on = self.until is not None or self.in_nightly_window(now)
        if not on and self.rate > 0:
            on = self.rng.random() < self.rate
        if on:
            self.pages += 1
        return on

    def snapshot(self) -> dict[str, Any]:
        """The maintenance switches as JSON-ready data."""
        until = self.until if self.until is not None and time.time() < self.until else None
        return {
            "maintenance_rate": self.rate,
            "maintenance_until": iso_cn(datetime.fromtimestamp(until, SHANGHAI)) if until else None,
            "nightly_maintenance": self.nightly,
        }


class MaintenanceMiddleware:
    """Answers API calls with the HTML maintenance page (HTTP 200) while maintenance is on."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        state: MaintenanceState,
        api_prefix: str = "/hotline/",
        clock: Callable[[], datetime] = now_cn,
    ) -> None:
        self.app = app
        self.state = state
        self.api_prefix = api_prefix
        self.clock = clock

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Serve the page instead of the application; the control API is never in maintenance."""
        api_call = scope["type"] == "http" and str(scope["path"]).startswith(self.api_prefix)
        if api_call and self.state.active(self.clock()):
            await html_page(MAINTENANCE_PAGE)(scope, receive, send)
            return
        await self.app(scope, receive, send)
