"""Fake 12389 cases (PLATFORMS.md §2 case fields), deterministic for a given RNG.

Every person is invented: names and phones from ``common.fakedata``, and ID numbers with the
region prefix 99, which no Chinese region has, so no generated 身份证号 can be a real person's.
"""

from __future__ import annotations

import random
import string
from datetime import datetime, timedelta
from typing import Any

from mock_platforms.common.clock import add_weekdays
from mock_platforms.common.fakedata import (
    fake_gender,
    fake_mobile,
    fake_name,
    fake_place,
    fake_police_unit,
    weighted_choice,
)
from mock_platforms.common.generator import GeneratorSettings
from mock_platforms.p12389.config import DEFAULT_MIX

LOCAL = "%Y-%m-%dT%H:%M:%S"
CHANNELS = {"电话": 30, "网络": 45, "来信": 10, "来访": 10, "上级交办": 5}
LEVEL_DAYS = {"简单": 10, "一般": 15, "重大": 20}  # §2 / 001 §4(3): working days per level
POSITIONS = ("民警", "辅警", "副所长", "所长", "中队长", "窗口民警")
# (matter type, text); {unit}, {officer}, {badge} and {place} are filled in.
TOPICS: dict[str, tuple[str, ...]] = {
    "检举控告": (
        "我到{unit}报案，值班民警{officer}（警号{badge}）态度生硬，拒绝受理，让我自己去调监控，请求核查。",
        "{place}附近发生纠纷后报警，出警民警{officer}到场后未做任何处理即离开，存在不作为问题。",
        "民警{officer}（警号{badge}）在{place}检查时言语辱骂群众，并拒绝出示证件。",
        "反映{unit}民警在办理户口迁移时多次要求补充材料，怀疑故意刁难，希望督察部门核实。",
    ),
    "申诉": (
        "对{unit}作出的行政处罚决定不服：事发时我并未在{place}停车，请求复核并撤销处罚。",
        "本人因邻里纠纷被{unit}处以罚款，认为事实认定不清，申请重新调查。",
    ),
    "意见建议": (
        "建议{unit}户政窗口周末增开一个身份证办理窗口，排队时间过长。",
        "建议在{place}附近增设警务服务站，夜间巡逻力量偏少。",
    ),
}
FILES = (("现场照片.jpg", "image/jpeg"), ("录音.mp3", "audio/mpeg"), ("情况说明.pdf", "application/pdf"))
ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
ID_CHECK = "10X98765432"


def fake_id_number(rng: random.Random) -> str:
    """An 18-character 身份证号 of the right shape (GB 11643 check digit) in the non-existent region 99."""
    born = datetime(1950, 1, 1) + timedelta(days=rng.randrange(0, 55 * 365))
    body = f"99{rng.randrange(10**4):04d}{born:%Y%m%d}{rng.randrange(1000):03d}"
    return body + ID_CHECK[sum(int(d) * w for d, w in zip(body, ID_WEIGHTS, strict=True)) % 11]


class CaseFactory:
    """Builds cases; numbers are unique per factory (JB + date + a 5-digit counter)."""

    def __init__(self, attachment_base_url: str) -> None:
        self.attachment_base_url = attachment_base_url.rstrip("/")
        self.counter = 0

    def build(self, rng: random.Random, settings: GeneratorSettings, now: datetime) -> dict[str, Any]:
        """A new case issued (下发) at ``now``, waiting for its receipt."""
        sxlb = weighted_choice(rng, settings.mix or DEFAULT_MIX)
        level = "重大" if rng.random() < settings.urgent_fraction else rng.choice(("简单", "一般"))
        place = fake_place(rng)
        unit = fake_police_unit(rng, place.district)
        officer = fake_name(rng, fake_gender(rng))
        badge = f"{rng.randrange(10**6):06d}"
        anonymous = rng.random() < 0.2
        gender = fake_gender(rng)
        reporter = {
            "xm": fake_name(rng, gender),
            "sfzh": fake_id_number(rng),
            "lxdh": fake_mobile(rng),
            "dz": place.address,
        }
        self.counter += 1
        jbbh = f"JB{now:%Y%m%d}{self.counter:05d}"
        text = rng.choice(TOPICS[sxlb]).format(unit=unit, officer=officer, badge=badge, place=place.estate)
        accepted = now - timedelta(minutes=rng.randrange(10, 24 * 60))
        happened = accepted - timedelta(hours=rng.randrange(1, 72))
        names_officer = sxlb == "检举控告" and rng.random() < 0.7
        return {
            "jbbh": jbbh,
            "cxm": "".join(rng.choice(string.ascii_uppercase + string.digits) for _ in range(8)),
            "sxlb": sxlb,
            "jbfs": weighted_choice(rng, CHANNELS),
            "sfsm": "0" if anonymous else "1",
            "jbr": {"xm": "", "sfzh": "", "lxdh": "", "dz": ""} if anonymous else reporter,
            "bjbdw": unit,
            "bjbmj": {"xm": officer, "jh": badge, "zw": rng.choice(POSITIONS)} if names_officer else None,
            "fssj": happened.strftime(LOCAL),
            "fsdd": place.address,
            "jbnr": text,
            "fj": self._attachments(rng, jbbh) if rng.random() < 0.3 else [],
            "slsj": accepted.strftime(LOCAL),
            "xfsj": now.strftime(LOCAL),
            "ajdj": level,
            "blqx": add_weekdays(now.date(), LEVEL_DAYS[level]).isoformat(),
            "qszt": "0",
            "zt": "待签收",
            "bgs": [],
            "fkpj": None,
        }

    def _attachments(self, rng: random.Random, jbbh: str) -> list[dict[str, str]]:
        chosen = rng.sample(FILES, k=rng.randrange(1, 3))
        return [
            {"mc": name, "url": f"{self.attachment_base_url}/{jbbh}/{index}", "lx": mime}
            for index, (name, mime) in enumerate(chosen, start=1)
        ]
