"""Fake 12345 work orders (PLATFORMS.md §1 Order object), deterministic for a given RNG."""

from __future__ import annotations

import random
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from mock_platforms.common.clock import add_weekdays, end_of_day, iso_cn
from mock_platforms.common.fakedata import (
    fake_gender,
    fake_mobile,
    fake_name,
    fake_place,
    fake_police_unit,
    weighted_choice,
)
from mock_platforms.common.generator import GeneratorSettings
from mock_platforms.p12345.config import DEFAULT_MIX

CHANNELS = {"电话": 55, "网站": 10, "微信": 12, "APP": 10, "领导留言板": 5, "110转办": 5, "省平台流转": 3}
# (category path of 1-5 levels, title, body); {place}/{road} are filled from the fake address.
TOPICS: Sequence[tuple[tuple[str, ...], str, str]] = (
    (
        ("公安", "治安管理", "噪音扰民"),
        "{place}夜间噪音扰民",
        "近一周每晚22点后{place}附近有商铺用高音喇叭招揽顾客，严重影响休息。",
    ),
    (
        ("公安", "交通管理", "违法停车"),
        "{place}门口车辆长期占用人行道",
        "{place}门口长期有车辆停在人行道上，行人只能走机动车道，存在安全隐患。",
    ),
    (
        ("公安", "户政管理", "户口迁移"),
        "户口迁入需要哪些材料",
        "因工作调动需将户口迁入本市，想了解需要准备的材料、办理窗口和办理时限。",
    ),
    (
        ("公安", "出入境管理", "证件办理"),
        "护照办理进度",
        "半个月前在出入境窗口申请护照，至今未收到领取通知，希望告知办理进度。",
    ),
    (
        ("公安", "执法监督", "民警作风"),
        "窗口民警服务态度",
        "在{place}附近的派出所办理业务时，窗口工作人员态度生硬，未一次性告知所需材料。",
    ),
    (
        ("公安", "网络安全", "电信网络诈骗"),
        "疑似遭遇网络刷单诈骗",
        "在网上参与所谓刷单返利被骗，已转账多笔，请求帮助立案并追回损失。",
    ),
    (
        ("公安", "消防安全", "电动车违规充电", "楼道飞线充电"),
        "{place}楼道飞线给电动车充电",
        "{place}有住户从楼上拉电线到楼道给电动车充电，担心引发火灾。",
    ),
    (
        ("公安", "交通管理", "道路设施", "信号灯", "配时不合理"),
        "{road}路口信号灯配时不合理",
        "{road}与附近路口的信号灯早高峰绿灯时间太短，车辆排队很长。",
    ),
    (("其他",), "其他事项", "反映的事项不属于以上分类，请相关单位研究处理。"),
)
PRAISE = (
    ("公安", "表扬", "民警"),
    "表扬民警热心服务",
    "在{place}附近遇到困难时，民警及时赶到并热心帮助，特此表扬。",
)
VERBS = {appeal: "来电" + appeal for appeal in ("咨询", "求助", "投诉", "举报", "建议", "表扬")}
FILES = (("现场照片.jpg", "image/jpeg"), ("来电录音.mp3", "audio/mpeg"), ("情况说明.pdf", "application/pdf"))


class OrderFactory:
    """Builds orders; numbers are unique per factory (yyMMddHHmm + a 6-digit counter)."""

    def __init__(self, attachment_base_url: str) -> None:
        self.attachment_base_url = attachment_base_url.rstrip("/")
        self.counter = 0

    def next_dispatch_id(self, now: datetime) -> str:
        """Return a fresh 派单记录号."""
        self.counter += 1
        return f"PD{now:%y%m%d%H%M%S}{self.counter:06d}"

    def build(
        self, rng: random.Random, settings: GeneratorSettings, now: datetime, existing: Sequence[str]
    ) -> dict[str, Any]:
        """Return a new order in status 待签收, dispatched at `now`."""
        appeal = weighted_choice(rng, settings.mix or DEFAULT_MIX)
        urgent = rng.random() < settings.urgent_fraction
        urgency = (rng.choices(("紧急", "特急"), weights=(3, 1), k=1)[0]) if urgent else "一般"
        path, title, body = PRAISE if appeal == "表扬" else rng.choice(TOPICS)
        place = fake_place(rng)
        gender = fake_gender(rng)
        confidential = rng.random() < 0.1
        name = fake_name(rng, gender)
        accepted = now - timedelta(minutes=rng.randrange(5, 180))
        self.counter += 1
        order_no = f"{accepted:%y%m%d%H%M}{self.counter % 10**6:06d}"
        limit, unit = self._time_limit(rng, appeal, urgency)
        parent_roll, parent_pick = rng.random(), rng.random()
        sign_roll, coord_roll, attach_roll = rng.random(), rng.random(), rng.random()
        respondent = None
        if appeal in ("投诉", "举报"):
            respondent = {
                "name": fake_name(rng, fake_gender(rng)) if rng.random() < 0.6 else "不详",
                "unit": fake_police_unit(rng, place.district),
            }
        filled = {"place": place.estate, "road": place.road}
        # 并单/重办 links are rare; both rolls are drawn always so the sequence stays seed-stable.
        parent = existing[int(parent_pick * len(existing))] if existing and parent_roll < 0.05 else None
        return {
            "orderNo": order_no,
            "dispatchId": self.next_dispatch_id(now),
            "parentOrderNo": parent,
            "acceptedAt": iso_cn(accepted),
            "dispatchedAt": iso_cn(now),
            "channel": weighted_choice(rng, CHANNELS),
            "appealType": appeal,
            "categoryPath": list(path),
            "urgency": urgency,
            "title": title.format(**filled),
            "content": f"市民{VERBS.get(appeal, '来电反映')}：{body.format(**filled)}事发地址：{place.address}。",
            "citizen": {
                "name": "保密" if confidential else name,
                "phone": fake_mobile(rng),
                "gender": gender,
                "confidential": confidential,
            },
            "respondent": respondent,
            "region": {
                "district": place.district,
                "subdistrict": place.subdistrict,
                "community": place.community,
            },
            "address": place.address,
            "lng": place.lng if coord_roll >= 0.15 else None,
            "lat": place.lat if coord_roll >= 0.15 else None,
            "signDeadline": iso_cn(now + timedelta(hours=24)) if sign_roll >= 0.05 else None,
            "dueAt": iso_cn(self._due(now, limit, unit)),
            "timeLimit": limit,
            "timeUnit": unit,
            "needsCallback": rng.random() < 0.8,
            "attachments": self._attachments(rng, order_no) if attach_roll < 0.3 else [],
            "status": "待签收",
            "version": 1,
        }

    @staticmethod
    def _time_limit(rng: random.Random, appeal: str, urgency: str) -> tuple[int, str]:
        if urgency == "特急":
            return 24, "小时"
        if appeal in ("咨询", "求助"):
            return 1, "工作日"
        if appeal == "建议" and rng.random() < 0.3:
            return 15, "自然日"
        return 5, "工作日"

    @staticmethod
    def _due(start: datetime, limit: int, unit: str) -> datetime:
        if unit == "小时":
            return start + timedelta(hours=limit)
        if unit == "自然日":
            return end_of_day(start.date() + timedelta(days=limit))
        return end_of_day(add_weekdays(start.date(), limit))

    def _attachments(self, rng: random.Random, order_no: str) -> list[dict[str, Any]]:
        chosen = rng.sample(FILES, k=rng.randrange(1, 3))
        return [
            {
                "name": name,
                "url": f"{self.attachment_base_url}/{order_no}/{index}",
                "mime": mime,
                "size": rng.randrange(20_000, 3_000_000),
            }
            for index, (name, mime) in enumerate(chosen, start=1)
        ]
