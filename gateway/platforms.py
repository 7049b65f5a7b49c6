"""The platform registry: one line per platform key. Adding a platform = adapter module + mapper
module + mock module + settings section + fixtures + one line here (README "Adding a platform").
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from adapters.base import PlatformAdapter
from adapters.p12345 import P12345Adapter
from mappers.base import Mapper
from mappers.p12345 import P12345Mapper


@dataclass(frozen=True)
class PlatformSpec:
    """How to build one platform's adapter and mapper, and what it is called on screen."""

    key: str
    label: str  # shown to staff
    make_adapter: Callable[[Any], PlatformAdapter]  # the platform's settings section -> adapter
    make_mapper: Callable[[], Mapper]
    pushes: bool  # the platform pushes to /inbound/{key} (its adapter is also a PushVerifier)


REGISTRY: dict[str, PlatformSpec] = {
    "p12345": PlatformSpec("p12345", "12345政务服务便民热线", P12345Adapter, P12345Mapper, pushes=True),
}


def label(key: str) -> str:
    """The Chinese name of a platform key (the key itself when unknown)."""
    spec = REGISTRY.get(key)
    return spec.label if spec else key
