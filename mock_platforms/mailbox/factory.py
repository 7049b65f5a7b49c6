"""Fake letters to the director (PLATFORMS.md §4 letter object), deterministic for a given RNG."""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence
from typing import Any

from mock_platforms.common.fakedata import fake_gender, fake_mobile, fake_name, fake_place, weighted_choice
from mock_platforms.common.generator import GeneratorSettings
from mock_platforms.mailbox.config import DEFAULT_MIX

MAX_TITLE = 25
MAX_BODY = 600
URGENT_MARK = "【紧急】"
# (title, body) per letter type; {place}/{road} are filled from the fake address. Titles stay
# within §4's 25 characters even with the urgent mark in front.
TOPICS: Mapping[str, Sequence[tuple[str, str]]] = {
    "咨询": (
        ("办理居住证需要哪些材料", "本人在{road}附近租房居住，想办理居住证，请问需要哪些材料，在哪个窗口办理？"),
        ("驾驶证异地换证流程咨询", "本人驾驶证是外省核发，现在本市工作，请问能否在本市直接换证，需要体检吗？"),
        ("新生儿落户办理时限", "孩子刚出生，请问新生儿落户需要在多长时间内办理，父母一方户口不在本市可以落户吗？"),
    ),
    "投诉": (
        ("派出所窗口办事推诿", "到{place}附近的派出所办理业务，窗口人员多次让我回去补材料，每次说法都不一样。"),
        ("{road}交警执法态度生硬", "在{road}被交警拦下检查，执勤人员态度生硬，没有说明原因就要求扣车，希望核实处理。"),
        ("报警后长时间无人出警", "{place}发生纠纷后拨打报警电话，等了一个多小时仍无人到场，希望说明情况。"),
    ),
    "建议": (
        ("建议学校门口增设护学岗", "{place}旁边的小学放学时段人车混行，建议在上下学时段增设护学岗，保障孩子安全。"),
        ("建议延长户籍窗口服务时间", "上班族工作日很难请假办理户籍业务，建议户籍窗口周末开放半天或延长中午服务时间。"),
    ),
    "求助": (
        ("家中老人走失请求帮助", "家中老人患有阿尔茨海默病，今天上午在{place}附近走失，至今未归，恳请帮助寻找。"),
        ("遭遇网络诈骗请求帮助", "在网上被人以刷单返利为由骗走多笔钱款，已经报案，恳请加快侦办，帮助追回损失。"),
        ("{place}楼道堆物存在隐患", "{place}楼道长期堆放杂物并有人飞线充电，多次劝说无效，担心引发火灾，请求帮助。"),
    ),
}
FILES = ("现场照片.jpg", "情况说明.pdf", "聊天记录截图.png")


class LetterFactory:
    """Builds letters; numbers are unique per factory (JZ + yyyymmdd + a 6-digit counter)."""

    def __init__(self, attachment_base_url: str, target_dept: str) -> None:
        self.attachment_base_url = attachment_base_url.rstrip("/")
        self.target_dept = target_dept
        self.counter = 0

    def build(self, rng: random.Random, settings: GeneratorSettings, now_ms: int) -> dict[str, Any]:
        """Return a new letter in status pending_review, forwarded to us at ``now_ms``."""
        letter_type = weighted_choice(rng, settings.mix or DEFAULT_MIX)
        title, body = rng.choice(TOPICS[letter_type])
        urgent = rng.random() < settings.urgent_fraction
        place = fake_place(rng)
        filled = {"place": place.estate, "road": place.road}
        title, body = title.format(**filled), body.format(**filled)
        if urgent:
            title, body = URGENT_MARK + title, f"情况紧急！{body}"
        self.counter += 1
        submitted = now_ms - rng.randrange(10, 72 * 60) * 60_000  # written hours or days before
        letter_no = f"JZ{self.counter:08d}"
        has_email, attach_roll = rng.random() < 0.6, rng.random()
        return {
            "letter_no": letter_no,
            "query_code": f"{rng.randrange(10**10):010d}",  # often with leading zeros
            "letter_type": letter_type,
            "title": title[:MAX_TITLE],
            "body": body[:MAX_BODY],
            "writer": {
                "name": fake_name(rng, fake_gender(rng)),
                "phone": fake_mobile(rng),
                "email": f"writer{rng.randrange(10**6):06d}@example.com" if has_email else None,
                "address": place.address,
            },
            "target_dept": self.target_dept,
            "attachments": self._attachments(rng, letter_no) if attach_roll < 0.25 else [],
            "submitted_at": submitted,
            "forwarded_at": now_ms,
            "status": "pending_review",
            "wants_public": rng.random() < 0.4,
            "answer": None,
            "rating": None,
            "updated_at": now_ms,
        }

    def _attachments(self, rng: random.Random, letter_no: str) -> list[dict[str, Any]]:
        chosen = rng.sample(FILES, k=rng.randrange(1, 3))
        return [
            {"file_name": name, "url": f"{self.attachment_base_url}/{letter_no}/{index}",
             "size": rng.randrange(20_000, 3_000_000)}
            for index, name in enumerate(chosen, start=1)
        ]
