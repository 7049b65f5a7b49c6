"""Settings of the mock mayor's hotline."""

from __future__ import annotations

from dataclasses import dataclass, field

from mock_platforms.common.faults import FaultSwitches
from mock_platforms.common.generator import GeneratorSettings

APPEAL_CATEGORIES = ("求决", "咨询", "揭发控告", "意见建议", "申诉", "其他")
DEFAULT_MIX: dict[str, float] = {
    "求决": 0.3,
    "咨询": 0.25,
    "揭发控告": 0.15,
    "意见建议": 0.15,
    "申诉": 0.05,
    "其他": 0.1,
}


def default_generator() -> GeneratorSettings:
    """Return the generator settings used when none are given: off, 6 per minute, default mix."""
    return GeneratorSettings(enabled=False, per_min=6.0, mix=dict(DEFAULT_MIX), urgent_fraction=0.1)


@dataclass
class MayorMockConfig:
    """Everything a mock mayor's hotline needs at start-up."""

    token: str = "mayor-demo-token"  # dev-only placeholder; tests pass their own
    rate_limit_per_s: int = 10
    seed: int = 12345
    generator: GeneratorSettings = field(default_factory=default_generator)
    faults: FaultSwitches = field(default_factory=FaultSwitches)
    # HTML "系统维护中" pages: a share of API calls at random, and a nightly window "HH:MM-HH:MM"
    # in Shanghai time (e.g. "02:00-02:30"; it may wrap past midnight). Off unless set.
    maintenance_rate: float = 0.0
    nightly_maintenance: str | None = None
    # The platform's own follow-up (close after feedback, callback, extension decision): off by
    # default so tests decide through the control API; on in the demo.
    auto_decide: bool = False
    auto_decide_delay_s: float = 5.0
    auto_approve_rate: float = 1.0
