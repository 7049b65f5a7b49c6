"""Fake mayor's-hotline rows (PLATFORMS.md §3 row fields), deterministic for a given RNG."""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from mock_platforms.common.fakedata import fake_gender, fake_mobile, fake_name, fake_place, weighted_choice
from mock_platforms.common.generator import GeneratorSettings
from mock_platforms.mayor.config import DEFAULT_MIX
from mock_platforms.mayor.wire import TIME_FORMAT

# What callers of a 市长热线 ask of the police, per 诉求类别; {place}/{road}/{address} come from the fake place.
TOPICS: Mapping[str, Sequence[str]] = {
    "求决": (
        "来电人称其电动自行车停放在{place}楼下时被盗，已报警但未有进展，请求尽快处理。",
        "来电人反映{road}一带夜间有人酒后滋事，请求加强巡逻。",
    ),
    "咨询": (
        "来电人咨询办理居住证需要准备哪些材料，在哪个窗口办理。",
        "来电人咨询小孩户口随迁需要哪些手续。",
    ),
    "揭发控告": (
        "来电人反映{address}附近有人非法营运摩的，占道拉客，希望公安交警部门查处。",
        "来电人举报{place}内有一家棋牌室疑似聚众赌博，夜间人员进出频繁。",
    ),
    "意见建议": (
        "来电人建议在{road}与附近路口增设电子抓拍设备，减少闯红灯现象。",
        "来电人建议延长户籍窗口周末的办公时间。",
    ),
    "申诉": ("来电人对其在{road}被处以违停罚款有异议，称当时临时停车下客，要求复核。",),
    "其他": ("来电人反映的事项不属于以上分类，请相关单位研究处理。",),
}
# 办理时限 in working days as the platform sets it; consultations get a shorter limit.
TIME_LIMITS = {"咨询": 3}
DEFAULT_TIME_LIMIT = 5


class RowFactory:
    """Builds rows; serial numbers are unique per factory (SZ + yyMMdd + a 7-digit counter)."""

    def __init__(self) -> None:
        self.counter = 0

    def build(self, rng: random.Random, settings: GeneratorSettings, now: datetime) -> dict[str, Any]:
        """Return a new row in status 01 待签收, dispatched (派单) at ``now``."""
        sqlb = weighted_choice(rng, settings.mix or DEFAULT_MIX)
        urgent = rng.random() < settings.urgent_fraction
        jjcd = rng.choices(("2", "3"), weights=(3, 1), k=1)[0] if urgent else "1"
        place = fake_place(rng)
        name = fake_name(rng, fake_gender(rng))
        anonymous = rng.random() < 0.05  # callers who will not give a name or number
        called = now - timedelta(minutes=rng.randrange(5, 240))
        text = rng.choice(TOPICS[sqlb]).format(place=place.estate, road=place.road, address=place.address)
        self.counter += 1
        stamp = now.strftime(TIME_FORMAT)
        return {
            "lsh": f"SZ{now:%y%m%d}{self.counter:07d}",
            "ldsj": called.strftime(TIME_FORMAT),
            "pdsj": stamp,
            "ldrxm": "" if anonymous else name,
            "lxdh": "" if anonymous else fake_mobile(rng),
            "ldnr": text,
            "sqlb": sqlb,
            "jjcd": jjcd,
            "sfdz": place.address,
            "blsx": TIME_LIMITS.get(sqlb, DEFAULT_TIME_LIMIT),
            "zt": "01",
            "fkxx": None,
            "hfjg": None,
            "gxsj": stamp,
        }
