"""The platform registry: one line per platform key. Adding a platform = adapter module + mapper
module + mock module + settings section + fixtures + one line here (README "Adding a platform").
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from adapters.base import PlatformAdapter
from adapters.mailbox import MailboxAdapter
from adapters.mayor import MayorAdapter
from adapters.p12345 import P12345Adapter
from adapters.p12389 import P12389Adapter
from mappers.base import Mapper
from mappers.mailbox import MailboxMapper
from mappers.mayor import MayorMapper
from mappers.p12345 import P12345Mapper
from mappers.p12389 import P12389Mapper


@dataclass(frozen=True)
class PlatformSpec:
    """How to build one platform's adapter and mapper, and what it is called on screen."""

    key: str
    label: str  # shown to staff
    make_adapter: Callable[[Any], PlatformAdapter]  # the platform's settings section -> adapter
    make_mapper: Callable[[], Mapper]
    pushes: bool  # the platform pushes to /inbound/{key} (its adapter is also a PushVerifier)
    actions: frozenset[str]  # write-backs the platform has; others are recorded locally only
    takes_files: bool = False  # write-backs carry attachments the platform fetches by URL


REGISTRY: dict[str, PlatformSpec] = {
    "p12345": PlatformSpec("p12345", "12345政务服务便民热线", P12345Adapter, P12345Mapper, pushes=True,
                           actions=frozenset({"sign", "contact", "return", "extension", "progress", "reply"}),
                           takes_files=True),
    "p12389": PlatformSpec("p12389", "12389公安机关举报投诉平台", P12389Adapter, P12389Mapper, pushes=False,
                           actions=frozenset({"sign", "extension", "reply"})),
    "mayor": PlatformSpec("mayor", "市长热线", MayorAdapter, MayorMapper, pushes=False,
                          actions=frozenset({"sign", "return", "extension", "reply"})),
    "mailbox": PlatformSpec("mailbox", "局长信箱", MailboxAdapter, MailboxMapper, pushes=False,
                            actions=frozenset({"sign", "return", "reply"})),
}


def supports(key: str, action: str) -> bool:
    """Whether the platform has this write-back (an unregistered key is assumed to have them all)."""
    spec = REGISTRY.get(key)
    return spec is None or action in spec.actions


def label(key: str) -> str:
    """The Chinese name of a platform key (the key itself when unknown)."""
    spec = REGISTRY.get(key)
    return spec.label if spec else key
