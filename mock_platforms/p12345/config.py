"""Settings of the mock 12345 platform."""

from __future__ import annotations

from dataclasses import dataclass, field

from mock_platforms.common.faults import FaultSwitches
from mock_platforms.common.generator import GeneratorSettings

APPEAL_TYPES = ("咨询", "求助", "投诉", "举报", "建议", "表扬")
DEFAULT_MIX: dict[str, float] = {
    "咨询": 0.25,
    "求助": 0.2,
    "投诉": 0.3,
    "举报": 0.08,
    "建议": 0.12,
    "表扬": 0.05,
}
# PLATFORMS.md §1: re-send after 1, 5, 30 and 120 minutes.
DEFAULT_RETRY_SCHEDULE = (60.0, 300.0, 1800.0, 7200.0)


def default_generator() -> GeneratorSettings:
    """Return the generator settings used when none are given: off, 6 per minute, default mix."""
    return GeneratorSettings(enabled=False, per_min=6.0, mix=dict(DEFAULT_MIX), urgent_fraction=0.1)


@dataclass
class P12345MockConfig:
    """Everything a mock 12345 platform needs at start-up."""

    app_id: str = "p12345-demo"
    app_secret: str = "p12345-demo-secret"  # dev-only placeholder; tests pass their own
    push_url: str | None = None
    push_retry_schedule: list[float] = field(default_factory=lambda: list(DEFAULT_RETRY_SCHEDULE))
    push_timeout_s: float = 5.0
    rate_limit_per_s: int = 20
    signature_window_s: int = 300
    seed: int = 12345
    generator: GeneratorSettings = field(default_factory=default_generator)
    faults: FaultSwitches = field(default_factory=FaultSwitches)
    # The platform's own approval of return/extension requests (and optionally of replies):
    # off by default so tests decide through the control API; on in the demo.
    auto_decide: bool = False
    auto_decide_delay_s: float = 5.0
    auto_approve_rate: float = 1.0
    auto_review_replies: bool = False
    attachment_base_url: str = "https://files.p12345.mock.invalid"
