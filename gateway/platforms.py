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
from gateway.schema import ReplyDraft
from mappers.base import Mapper
from mappers.mailbox import MailboxMapper
from mappers.mailbox.outbound import compose_answer
from mappers.mayor import MayorMapper
from mappers.p12345 import P12345Mapper
from mappers.p12389 import P12389Mapper


def disposition_text(draft: ReplyDraft) -> str:
    """12345 and the mayor's hotline: without a public reply the citizen is told the 处置结果."""
    return draft.disposition


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
    # Reply parts beyond the four the platform's reply requires, (field, 中文); refused when left empty.
    reply_parts: tuple[tuple[str, str], ...] = ()
    # The reply carries a text the citizen reads; when the drafter writes none, this composes it from
    # their own parts, into the draft before approval (what is approved is what is sent).
    public_text: Callable[[ReplyDraft], str] | None = None


REGISTRY: dict[str, PlatformSpec] = {
    "p12345": PlatformSpec("p12345", "12345政务服务便民热线", P12345Adapter, P12345Mapper, pushes=True,
                           actions=frozenset({"sign", "contact", "return", "extension", "progress", "reply"}),
                           takes_files=True, reply_parts=(("resolved", "办理结果"),), public_text=disposition_text),
    # 核查报告 (001 四(四)): 有关人员的责任认定 … 处理结果和整改情况, written by a person, never defaulted.
    "p12389": PlatformSpec("p12389", "12389公安机关举报投诉平台", P12389Adapter, P12389Mapper, pushes=False,
                           actions=frozenset({"sign", "extension", "reply"}),
                           reply_parts=(("responsibility", "责任认定"), ("rectification", "整改情况"))),
    "mayor": PlatformSpec("mayor", "市长热线", MayorAdapter, MayorMapper, pushes=False,
                          actions=frozenset({"sign", "return", "extension", "reply"}), public_text=disposition_text),
    "mailbox": PlatformSpec("mailbox", "局长信箱", MailboxAdapter, MailboxMapper, pushes=False,
                            actions=frozenset({"sign", "return", "reply"}), public_text=compose_answer),
}


def reply_parts(key: str) -> tuple[tuple[str, str], ...]:
    """The reply parts this platform requires beyond the four (none for an unregistered key)."""
    spec = REGISTRY.get(key)
    return spec.reply_parts if spec else ()


def public_text(key: str, draft: ReplyDraft) -> str | None:
    """The text the citizen reads, composed from the draft's own parts; None when the platform has none."""
    spec = REGISTRY.get(key)
    compose = disposition_text if spec is None else spec.public_text
    return None if compose is None else compose(draft)


def supports(key: str, action: str) -> bool:
    """Whether the platform has this write-back (an unregistered key is assumed to have them all)."""
    spec = REGISTRY.get(key)
    return spec is None or action in spec.actions


def label(key: str) -> str:
    """The Chinese name of a platform key (the key itself when unknown)."""
    spec = REGISTRY.get(key)
    return spec.label if spec else key
