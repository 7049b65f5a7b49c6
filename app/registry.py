"""The platform registry: one line per platform key, pairing it with its adapter and mapper.

What the core knows about a platform (label, write-backs, pushes, files) is ``gateway.catalogue``;
this is the only place that names the adapter and mapper classes (README "Adding a platform").
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from adapters.mailbox import MailboxAdapter
from adapters.mayor import MayorAdapter
from adapters.p12345 import P12345Adapter
from adapters.p12389 import P12389Adapter
from gateway.ports import Mapper, PlatformAdapter
from mappers.mailbox import MailboxMapper
from mappers.mayor import MayorMapper
from mappers.p12345 import P12345Mapper
from mappers.p12389 import P12389Mapper


@dataclass(frozen=True)
class PlatformWiring:
    """How to build one platform's adapter and mapper."""

    make_adapter: Callable[[Any], PlatformAdapter]  # the platform's settings section -> adapter
    make_mapper: Callable[[], Mapper]


REGISTRY: dict[str, PlatformWiring] = {
    "p12345": PlatformWiring(P12345Adapter, P12345Mapper),
    "p12389": PlatformWiring(P12389Adapter, P12389Mapper),
    "mayor": PlatformWiring(MayorAdapter, MayorMapper),
    "mailbox": PlatformWiring(MailboxAdapter, MailboxMapper),
}
