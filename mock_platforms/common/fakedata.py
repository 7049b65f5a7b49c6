"""Fake Chinese personal data for the mocks: invented people, phones and places, never real ones."""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TypeVar

T = TypeVar("T")

SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘蒋蔡余杜叶程魏苏吕丁任沈"
)
MALE_GIVEN = "伟强磊军洋勇杰涛明超刚平辉鹏华飞鑫波斌宇浩凯健俊帆帅旭宁龙林"
FEMALE_GIVEN = "芳娜敏静丽艳娟霞燕玲婷雪琳晶颖倩洁慧璐瑶怡佳欣悦萍红梅兰"
NEUTRAL_GIVEN = "文子晨博思一嘉雨安心乐诗可若天逸"

# An invented city. District names like these exist somewhere in China, but the street and
# community names are combined at random, so no generated address is a real one.
CITY = "示例市"
DISTRICTS: Mapping[str, Sequence[str]] = {
    "东湖区": ("湖滨街道", "东岸街道", "翠园街道"),
    "西岭区": ("岭南街道", "枫林街道", "石桥街道"),
    "南港区": ("港湾街道", "海景街道", "新渡街道"),
    "北苑区": ("苑东街道", "北桥街道", "青松街道"),
    "新城区": ("新华街道", "城南街道", "锦绣街道"),
    "高新区": ("科创街道", "软件园街道", "云谷街道"),
}
COMMUNITY_STEMS = ("阳光", "和平", "幸福", "春晖", "金桂", "绿洲", "怡景", "康乐", "书香", "长青")
ROADS = (
    "人民路",
    "解放路",
    "建设路",
    "文化路",
    "长江路",
    "黄河路",
    "学府路",
    "园林路",
    "振兴大道",
    "滨江大道",
)
PLACES = ("小区", "花园", "公寓", "广场", "大厦", "商业街")


@dataclass(frozen=True)
class FakePlace:
    """An invented location inside the fake city."""

    district: str
    subdistrict: str
    community: str
    road: str
    estate: str
    address: str
    lng: float
    lat: float


def weighted_choice(rng: random.Random, weights: Mapping[T, float]) -> T:
    """Pick a key with probability proportional to its (non-negative) weight."""
    keys = [key for key, weight in weights.items() if weight > 0]
    if not keys:
        raise ValueError("no positive weight to choose from")
    return rng.choices(keys, weights=[weights[key] for key in keys], k=1)[0]


def fake_gender(rng: random.Random) -> int:
    """Return a GB/T 2261.1 gender code: 0 unknown, 1 male, 2 female."""
    return rng.choices((0, 1, 2), weights=(1, 9, 9), k=1)[0]


def fake_name(rng: random.Random, gender: int = 0) -> str:
    """Return an invented two- or three-character Chinese name matching the gender code."""
    pool = {1: MALE_GIVEN, 2: FEMALE_GIVEN}.get(gender, NEUTRAL_GIVEN)
    given = rng.choice(pool)
    if rng.random() < 0.6:
        given = rng.choice(NEUTRAL_GIVEN + pool) + given
    return rng.choice(SURNAMES) + given


def fake_mobile(rng: random.Random) -> str:
    """Return an invented mobile number: 1, [3-9], one digit, eight random digits."""
    return f"1{rng.choice('3456789')}{rng.randrange(10)}{rng.randrange(10**8):08d}"


def fake_place(rng: random.Random) -> FakePlace:
    """Return an invented district/subdistrict/community with a street address and coordinates."""
    district = rng.choice(sorted(DISTRICTS))
    subdistrict = rng.choice(DISTRICTS[district])
    community = rng.choice(COMMUNITY_STEMS) + "社区"
    road = rng.choice(ROADS)
    estate = rng.choice(COMMUNITY_STEMS) + rng.choice(PLACES)
    building = f"{rng.randrange(1, 30)}栋{rng.randrange(1, 6)}单元"
    address = f"{CITY}{district}{subdistrict}{road}{rng.randrange(1, 400)}号{estate}{building}"
    # An arbitrary patch of eastern China: the values only need the right shape and range.
    lng = round(118.5 + rng.random() * 0.4, 6)
    lat = round(31.0 + rng.random() * 0.3, 6)
    return FakePlace(district, subdistrict, community, road, estate, address, lng, lat)


def fake_police_unit(rng: random.Random, district: str) -> str:
    """Return an invented police unit name in the fake city."""
    kind = rng.choice(("派出所", "交警大队", "治安大队", "户政科"))
    stem = rng.choice(COMMUNITY_STEMS)
    return f"{CITY}公安局{district.removesuffix('区')}分局{stem}{kind}"
