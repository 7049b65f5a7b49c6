"""The platform catalogue: what the core knows about each platform key, as data.

Labels, the write-backs a platform has, whether it pushes or takes files, the reply parts it
requires and how the citizen's text is composed. No adapter or mapper is imported here: the
composition root (``app/registry.py``) pairs each key with its adapter and mapper. Adding a platform
= adapter module + mapper module + mock module + settings section + fixtures + one line here and one
in ``app/registry.py`` (README "Adding a platform").
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from gateway.schema import ReplyDraft


def disposition_text(draft: ReplyDraft) -> str:
    """12345 and the mayor's hotline: without a public reply the citizen is told the 处置结果."""
    return draft.disposition


def compose_answer(draft: ReplyDraft) -> str:
    """The answer a mailbox letter gets when the drafter wrote no public reply: the four required parts.

    Used when the draft is saved (``gateway.services.replies``), so the approver sees this very text;
    at send time the answer is the approved ``public_reply`` and nothing else.
    """
    return (
        f"是否属实：{draft.is_true.value}\n"
        f"调查情况：{draft.investigation}\n"
        f"处置结果：{draft.disposition}\n"
        f"反映人意见：{draft.citizen_opinion}"
    )


@dataclass(frozen=True)
class PlatformInfo:
    """One platform as the core sees it: what it is called on screen and what it accepts."""

    key: str
    label: str  # shown to staff
    pushes: bool  # the platform pushes to /inbound/{key} (its adapter is also a PushVerifier)
    actions: frozenset[str]  # write-backs the platform has; others are recorded locally only
    takes_files: bool = False  # write-backs carry attachments the platform fetches by URL
    # Reply parts beyond the four the platform's reply requires, (field, 中文); refused when left empty.
    reply_parts: tuple[tuple[str, str], ...] = ()
    # The reply carries a text the citizen reads; when the drafter writes none, this composes it from
    # their own parts, into the draft before approval (what is approved is what is sent).
    public_text: Callable[[ReplyDraft], str] | None = None
    # The platform's own status words shown to staff (its ``platform_status``) → 中文, for a platform
    # whose words are not Chinese already; a value missing here shows as 未知 (``status_label``).
    statuses: Mapping[str, str] = field(default_factory=dict)


CATALOGUE: dict[str, PlatformInfo] = {
    "p12345": PlatformInfo("p12345", "12345政务服务便民热线", pushes=True,
                           actions=frozenset({"sign", "contact", "return", "extension", "progress", "reply"}),
                           takes_files=True, reply_parts=(("resolved", "办理结果"),), public_text=disposition_text),
    # 核查报告 (001 四(四)): 有关人员的责任认定 … 处理结果和整改情况, written by a person, never defaulted.
    "p12389": PlatformInfo("p12389", "12389公安机关举报投诉平台", pushes=False,
                           actions=frozenset({"sign", "extension", "reply"}),
                           reply_parts=(("responsibility", "责任认定"), ("rectification", "整改情况"))),
    "mayor": PlatformInfo("mayor", "市长热线", pushes=False,
                          actions=frozenset({"sign", "return", "extension", "reply"}), public_text=disposition_text),
    "mailbox": PlatformInfo("mailbox", "局长信箱", pushes=False,
                            actions=frozenset({"sign", "return", "reply"}), public_text=compose_answer,
                            # PLATFORMS.md §4 letter statuses (mappers/mailbox/tables.py STATUSES)
                            statuses={"pending_review": "待受理", "accepted": "已受理", "answered": "已答复",
                                      "transferred": "已转办", "invalid": "无效信件", "duplicate": "重复信件"}),
}


def reply_parts(key: str) -> tuple[tuple[str, str], ...]:
    """The reply parts this platform requires beyond the four (none for an unregistered key)."""
    info = CATALOGUE.get(key)
    return info.reply_parts if info else ()


def public_text(key: str, draft: ReplyDraft) -> str | None:
    """The text the citizen reads, composed from the draft's own parts; None when the platform has none."""
    info = CATALOGUE.get(key)
    compose = disposition_text if info is None else info.public_text
    return None if compose is None else compose(draft)


def supports(key: str, action: str) -> bool:
    """Whether the platform has this write-back (an unregistered key is assumed to have them all)."""
    info = CATALOGUE.get(key)
    return info is None or action in info.actions


def takes_files(key: str) -> bool:
    """Whether the platform's write-backs carry evidence files it fetches by URL."""
    info = CATALOGUE.get(key)
    return info is not None and info.takes_files


def label(key: str) -> str:
    """The Chinese name of a platform key (the key itself when unknown)."""
    info = CATALOGUE.get(key)
    return info.label if info else key


def statuses(key: str) -> Mapping[str, str]:
    """The platform's status words → 中文 (empty for a platform whose words are Chinese, or an unknown key)."""
    info = CATALOGUE.get(key)
    return info.statuses if info else {}
