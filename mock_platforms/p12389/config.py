"""Settings of the mock 12389 platform."""

from __future__ import annotations

from dataclasses import dataclass, field

from mock_platforms.common.faults import FaultSwitches
from mock_platforms.common.generator import GeneratorSettings

MATTER_TYPES = ("检举控告", "申诉", "意见建议")  # §2 sxlb, the keys of the generator's mix
DEFAULT_MIX: dict[str, float] = {"检举控告": 0.6, "申诉": 0.25, "意见建议": 0.15}


def default_generator() -> GeneratorSettings:
    """Off, 6 cases per minute, the default mix; 'urgent' cases are graded 重大."""
    return GeneratorSettings(enabled=False, per_min=6.0, mix=dict(DEFAULT_MIX), urgent_fraction=0.1)


@dataclass
class P12389MockConfig:
    """Everything a mock 12389 platform needs at start-up."""

    client_id: str = "p12389-demo"
    client_secret: str = "p12389-demo-secret"  # dev-only placeholder; tests pass their own
    token_ttl_s: float = 7200.0  # §2: expires_in 7200; tests shorten it to see renewals
    rate_limit_per_s: int = 0  # §2 names no limit; 0 = off (a test may switch one on)
    seed: int = 12389
    generator: GeneratorSettings = field(default_factory=default_generator)
    faults: FaultSwitches = field(default_factory=FaultSwitches)
    # New cases inserted at the top before each list call past the first page: makes the offset
    # list shift mid-paging on demand, not only when the generator happens to fire.
    arrivals_per_page: int = 0
    # The platform's own progress after a report/extension (closing, evaluating, granting):
    # off by default so tests decide through the control API; on in the demo.
    auto_decide: bool = False
    auto_decide_delay_s: float = 5.0
    attachment_base_url: str = "https://files.p12389.mock.invalid"
