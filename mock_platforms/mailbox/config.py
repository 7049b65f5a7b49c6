"""Settings of the mock 局长信箱 (director's mailbox)."""

from __future__ import annotations

from dataclasses import dataclass, field

from mock_platforms.common.faults import FaultSwitches
from mock_platforms.common.generator import GeneratorSettings

LETTER_TYPES = ("咨询", "投诉", "建议", "求助")
DEFAULT_MIX: dict[str, float] = {"咨询": 0.35, "投诉": 0.3, "建议": 0.15, "求助": 0.2}


def default_generator() -> GeneratorSettings:
    """Return the generator settings used when none are given: off, 6 per minute, default mix.

    §4 letters have no urgency field: an "urgent" letter is one whose writer marks it 【紧急】 in
    the title, which is what real mailboxes receive (the gateway still sees an ordinary letter).
    """
    return GeneratorSettings(enabled=False, per_min=6.0, mix=dict(DEFAULT_MIX), urgent_fraction=0.1)


@dataclass
class MailboxMockConfig:
    """Everything a mock mailbox needs at start-up."""

    api_key: str = "mailbox-demo-key"  # dev-only placeholder; tests pass their own
    rate_limit_per_s: int = 5  # PLATFORMS.md §4: 5 requests/s, 429 with Retry-After
    seed: int = 4
    generator: GeneratorSettings = field(default_factory=default_generator)
    faults: FaultSwitches = field(default_factory=FaultSwitches)
    # The writer rates the answer by themselves after a while: off by default so tests decide
    # through the control API; on in the demo (§4: in reality this takes days).
    auto_rate: bool = False
    auto_rate_delay_s: float = 5.0
    target_dept: str = "示例市公安局"
    attachment_base_url: str = "https://files.mailbox.mock.invalid"
