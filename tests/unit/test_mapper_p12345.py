"""P12345Mapper: every enum value, every event type, every refusal, every outbound body."""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

from gateway.errors import MappingError
from gateway.schema import (
    AppealType,
    Attachment,
    Gender,
    NoticeKind,
    Resolution,
    TicketDraft,
    TicketNotice,
    Urgency,
)
from mappers.p12345 import P12345Mapper

FIXTURES = Path(__file__).parents[1] / "fixtures" / "p12345"
CST = timezone(timedelta(hours=8))
mapper = P12345Mapper()


def fixture_text(name: str) -> str:
    return (FIXTURES / name).read_text(encoding="utf-8")


def fixture(name: str) -> dict[str, Any]:
    document: dict[str, Any] = json.loads(fixture_text(name))
    return document


def snapshot(order: dict[str, Any]) -> TicketDraft:
    result = mapper.inbound("order.snapshot", json.dumps(order, ensure_ascii=False))
    assert isinstance(result, TicketDraft)
    return result


def base_order(**changes: Any) -> dict[str, Any]:
    order = fixture("order_base.json")
    order.update(changes)
    return order


def refused(event_type: str, payload: str | dict[str, Any]) -> MappingError:
    text = payload if isinstance(payload, str) else json.dumps(payload, ensure_ascii=False)
    with pytest.raises(MappingError) as caught:
        mapper.inbound(event_type, text)
    return caught.value


# -- orders ---------------------------------------------------------------------------------------


def test_a_dispatched_push_becomes_a_full_ticket_draft() -> None:
    draft = mapper.inbound("order.dispatched", fixture_text("push_order_dispatched.json"))

    assert isinstance(draft, TicketDraft)
    assert draft.platform == "p12345"
    assert draft.external_id == "2511221015000123"
    assert draft.source_version == 1
    assert draft.platform_status == "待签收"
    assert draft.appeal_type is AppealType.complaint
    assert draft.urgency is Urgency.normal
    assert draft.channel == "电话"
    assert draft.category == ["公共安全", "治安管理", "噪声扰民"]
    assert draft.title == "反映柳岸路烧烤店夜间噪声扰民"
    assert draft.citizen.name == "林晓东"
    assert draft.citizen.phone == "13851736402"
    assert draft.citizen.gender is Gender.male
    assert draft.citizen.confidential is False
    assert draft.respondent is not None and draft.respondent.name == "老街坊烧烤店"
    assert (draft.region.district, draft.region.subdistrict, draft.region.community) == (
        "东湖区",
        "青山街道",
        "柳岸社区",
    )
    assert draft.address == "东湖区青山街道柳岸路88号"
    assert (draft.lng, draft.lat) == (115.902134, 28.681722)
    assert draft.attachments == [
        Attachment(
            name="现场录音.mp3",
            url="https://files.p12345.example/att/8f3a2c.mp3",
            mime="audio/mpeg",
            size=482113,
        )
    ]
    assert draft.accepted_at == datetime(2025, 11, 22, 9, 58, 11, tzinfo=CST)
    assert draft.issued_at == datetime(2025, 11, 22, 10, 15, tzinfo=CST)
    assert draft.issued_at.utcoffset() == timedelta(hours=8)
    assert draft.deadlines.sign_by == datetime(2025, 11, 23, 10, 15, tzinfo=CST)
    assert draft.deadlines.due_at == datetime(2025, 11, 28, 23, 59, 59, tzinfo=CST)
    assert (draft.deadlines.time_limit, draft.deadlines.time_unit) == (5, "working_days")
    assert draft.needs_callback is True
    assert draft.parent_external_id is None
    assert draft.extra == {"dispatchId": "PD20251122000456"}


def test_an_updated_push_carries_the_new_version_and_deadline() -> None:
    draft = mapper.inbound("order.updated", fixture_text("push_order_updated.json"))

    assert isinstance(draft, TicketDraft)
    assert draft.source_version == 3
    assert draft.platform_status == "办理中"
    assert draft.deadlines.due_at == datetime(2025, 11, 27, 23, 59, 59, tzinfo=CST)


def test_a_pulled_snapshot_maps_the_same_as_the_push_of_the_same_order() -> None:
    pushed = mapper.inbound("order.dispatched", fixture_text("push_order_dispatched.json"))

    assert snapshot(fixture("order_base.json")) == pushed


def test_a_confidential_citizen_named_baomi_has_no_name_and_keeps_the_flag() -> None:
    draft = snapshot(fixture("order_confidential.json"))

    assert draft.citizen.name is None
    assert draft.citizen.confidential is True
    assert draft.citizen.phone == "13907215538"
    assert draft.parent_external_id == "2511180912000075"
    assert draft.region.community is None
    assert draft.attachments == []


def test_the_baomi_placeholder_marks_the_citizen_confidential_even_without_the_flag() -> None:
    order = base_order(citizen={"name": "保密", "phone": None, "gender": 0, "confidential": False})

    citizen = snapshot(order).citizen

    assert (citizen.name, citizen.phone, citizen.confidential) == (None, None, True)


def test_an_order_without_respondent_coordinates_or_sign_deadline_maps_them_to_none() -> None:
    draft = snapshot(fixture("order_no_respondent.json"))

    assert draft.respondent is None
    assert (draft.lng, draft.lat) == (None, None)
    assert draft.deadlines.sign_by is None
    assert draft.citizen.gender is Gender.female


def test_unknown_order_fields_are_kept_in_extra() -> None:
    draft = snapshot(base_order(hotlineSeat="0231", mergedCount=2))

    assert draft.extra == {"dispatchId": "PD20251122000456", "hotlineSeat": "0231", "mergedCount": 2}


def test_integer_coordinates_and_any_explicit_offset_are_accepted() -> None:
    draft = snapshot(base_order(lng=116, lat=40, dispatchedAt="2025-11-22T02:15:00Z"))

    assert (draft.lng, draft.lat) == (116.0, 40.0)
    assert draft.issued_at == datetime(2025, 11, 22, 2, 15, tzinfo=UTC)


def test_content_of_exactly_4000_chars_is_accepted() -> None:
    assert len(snapshot(base_order(content="扰" * 4000)).content) == 4000


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("咨询", AppealType.consultation),
        ("求助", AppealType.help),
        ("投诉", AppealType.complaint),
        ("举报", AppealType.report),
        ("建议", AppealType.suggestion),
        ("表扬", AppealType.praise),
    ],
)
def test_every_appeal_type_is_mapped(value: str, expected: AppealType) -> None:
    assert snapshot(base_order(appealType=value)).appeal_type is expected


@pytest.mark.parametrize(
    ("value", "expected"), [("一般", Urgency.normal), ("紧急", Urgency.urgent), ("特急", Urgency.critical)]
)
def test_every_urgency_is_mapped(value: str, expected: Urgency) -> None:
    assert snapshot(base_order(urgency=value)).urgency is expected


@pytest.mark.parametrize("value", ["电话", "网站", "微信", "APP", "领导留言板", "110转办", "省平台流转"])
def test_every_channel_is_accepted_as_is(value: str) -> None:
    assert snapshot(base_order(channel=value)).channel == value


@pytest.mark.parametrize("value", ["待签收", "办理中", "待审核", "已办结", "已退回", "已关闭"])
def test_every_status_is_kept_as_the_platform_status(value: str) -> None:
    assert snapshot(base_order(status=value)).platform_status == value


@pytest.mark.parametrize(
    ("value", "expected"), [("工作日", "working_days"), ("自然日", "calendar_days"), ("小时", "hours")]
)
def test_every_time_unit_is_mapped(value: str, expected: str) -> None:
    assert snapshot(base_order(timeUnit=value)).deadlines.time_unit == expected


@pytest.mark.parametrize(("value", "expected"), [(0, Gender.unknown), (1, Gender.male), (2, Gender.female)])
def test_every_gender_is_mapped(value: int, expected: Gender) -> None:
    citizen = {"name": "韩子墨", "phone": "18623057719", "gender": value, "confidential": False}

    assert snapshot(base_order(citizen=citizen)).citizen.gender is expected


# -- notices --------------------------------------------------------------------------------------

NOTICES = [
    (
        "push_order_urged.json",
        NoticeKind.urged,
        {"urge_no": "CB20251124000031", "count": 2, "note": "来电人再次来电催促，请尽快处理并联系来电人。"},
    ),
    (
        "push_order_supervised.json",
        NoticeKind.supervised,
        {
            "supervise_no": "DB20251125000007",
            "level": "leader",
            "note": "该诉求多次重复来电，请局领导督办。",
            "reply_by": datetime(2025, 11, 26, 18, tzinfo=CST),
        },
    ),
    (
        "push_reply_rejected.json",
        NoticeKind.reply_rejected,
        {"reason": "答复未说明处置结果及来电人意见，请补充后重新提交。"},
    ),
    (
        "push_extension_decided.json",
        NoticeKind.extension_decided,
        {
            "approved": True,
            "new_due_at": datetime(2025, 12, 3, 23, 59, 59, tzinfo=CST),
            "note": "同意延期3个工作日。",
        },
    ),
    (
        "push_return_decided.json",
        NoticeKind.return_decided,
        {"approved": False, "note": "该诉求属于公安机关职责范围，不予退回。"},
    ),
    (
        "push_order_callback.json",
        NoticeKind.callback,
        {
            "contacted": True,
            "resolved": Resolution.resolved,
            "satisfaction": "basically_satisfied",
            "valid": True,
            "comment": "晚上安静多了，希望持续管理。",
            "visited_at": datetime(2025, 12, 1, 15, 10, 2, tzinfo=CST),
        },
    ),
    (
        "push_order_reopened.json",
        NoticeKind.reopened,
        {
            "reason": "回访不满意，来电人反映问题仍未解决。",
            "new_due_at": datetime(2025, 12, 9, 23, 59, 59, tzinfo=CST),
        },
    ),
]


@pytest.mark.parametrize(("name", "kind", "data"), NOTICES, ids=[n[0] for n in NOTICES])
def test_every_notice_event_becomes_a_notice_with_checked_data(
    name: str, kind: NoticeKind, data: dict[str, Any]
) -> None:
    envelope = fixture(name)

    notice = mapper.inbound(envelope["event_type"], fixture_text(name))

    assert isinstance(notice, TicketNotice)
    assert (notice.platform, notice.external_id, notice.kind) == ("p12345", "2511221015000123", kind)
    assert notice.occurred_at == datetime.fromisoformat(envelope["occurred_at"])
    assert notice.data == data


def notice(name: str, **data: Any) -> TicketNotice:
    envelope = fixture(name)
    envelope["data"].update(data)
    result = mapper.inbound(envelope["event_type"], json.dumps(envelope, ensure_ascii=False))
    assert isinstance(result, TicketNotice)
    return result


@pytest.mark.parametrize(("value", "expected"), [("平台督办", "platform"), ("领导督办", "leader")])
def test_every_supervision_level_is_mapped(value: str, expected: str) -> None:
    assert notice("push_order_supervised.json", level=value).data["level"] == expected


@pytest.mark.parametrize("value", ["已解决", "部分解决", "未解决"])
def test_every_callback_resolution_is_mapped(value: str) -> None:
    assert notice("push_order_callback.json", resolved=value).data["resolved"] is Resolution(value)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("满意", "satisfied"),
        ("基本满意", "basically_satisfied"),
        ("不满意", "dissatisfied"),
        ("未评价", "unrated"),
    ],
)
def test_every_callback_satisfaction_is_mapped(value: str, expected: str) -> None:
    assert notice("push_order_callback.json", satisfaction=value).data["satisfaction"] == expected


def test_a_refused_extension_may_come_without_a_new_deadline() -> None:
    data = notice("push_extension_decided.json", approved=False, new_due_at=None).data

    assert (data["approved"], data["new_due_at"]) == (False, None)


# -- refusals -------------------------------------------------------------------------------------


def envelope_with(name: str, path: str, value: Any) -> dict[str, Any]:
    """The fixture with one dotted path set (``"<delete>"`` removes the key)."""
    document = copy.deepcopy(fixture(name))
    *parents, last = path.split(".")
    target = document
    for part in parents:
        target = target[part]
    if value == "<delete>":
        del target[last]
    else:
        target[last] = value
    return document


DISPATCHED = "push_order_dispatched.json"
REFUSALS = [
    (DISPATCHED, "data.orderNo", "<delete>", "data.orderNo"),
    (DISPATCHED, "data.version", "3", "data.version"),
    (DISPATCHED, "data.version", True, "data.version"),
    (DISPATCHED, "data.appealType", "求决", "data.appealType"),
    (DISPATCHED, "data.urgency", "加急", "data.urgency"),
    (DISPATCHED, "data.channel", "短信", "data.channel"),
    (DISPATCHED, "data.status", "已归档", "data.status"),
    (DISPATCHED, "data.timeUnit", "月", "data.timeUnit"),
    (DISPATCHED, "data.timeLimit", "5", "data.timeLimit"),
    (DISPATCHED, "data.citizen.gender", 3, "data.citizen.gender"),
    (DISPATCHED, "data.citizen.gender", "1", "data.citizen.gender"),
    (DISPATCHED, "data.citizen.confidential", "否", "data.citizen.confidential"),
    (DISPATCHED, "data.citizen", None, "data.citizen"),
    (DISPATCHED, "data.region", "东湖区", "data.region"),
    (DISPATCHED, "data.respondent", "老街坊烧烤店", "data.respondent"),
    (DISPATCHED, "data.lng", "115.9", "data.lng"),
    (DISPATCHED, "data.lat", False, "data.lat"),
    (DISPATCHED, "data.categoryPath", [], "data.categoryPath"),
    (DISPATCHED, "data.categoryPath", ["a", "b", "c", "d", "e", "f"], "data.categoryPath"),
    (DISPATCHED, "data.attachments", [{"url": "https://x.example/a"}], "data.attachments[0].name"),
    (DISPATCHED, "data.attachments", ["a.jpg"], "data.attachments[0]"),
    (DISPATCHED, "data.needsCallback", 1, "data.needsCallback"),
    (DISPATCHED, "data.content", "扰" * 4001, "data.content"),
    (DISPATCHED, "data.dispatchId", "<delete>", "data.dispatchId"),
    (DISPATCHED, "data.dispatchedAt", "2025-11-22T10:15:00", "data.dispatchedAt"),
    (DISPATCHED, "data.dueAt", "2025-11-28", "data.dueAt"),
    (DISPATCHED, "data.signDeadline", "明天上午", "data.signDeadline"),
    (DISPATCHED, "data.acceptedAt", 1763776691, "data.acceptedAt"),
    (DISPATCHED, "occurred_at", "2025-11-22T10:15:02", "occurred_at"),
    (DISPATCHED, "order_no", "2511221015000999", "order_no"),
    (DISPATCHED, "data", [], "data"),
    ("push_order_urged.json", "data.count", "2", "data.count"),
    ("push_order_urged.json", "data.urge_no", "<delete>", "data.urge_no"),
    ("push_order_supervised.json", "data.level", "市长督办", "data.level"),
    ("push_order_supervised.json", "data.reply_by", "2025-11-26T18:00:00", "data.reply_by"),
    ("push_reply_rejected.json", "data.reason", None, "data.reason"),
    ("push_extension_decided.json", "data.approved", "true", "data.approved"),
    ("push_extension_decided.json", "data.new_due_at", None, "data.new_due_at"),
    ("push_return_decided.json", "data.approved", None, "data.approved"),
    ("push_order_callback.json", "data.resolved", "已处理", "data.resolved"),
    ("push_order_callback.json", "data.satisfaction", "非常满意", "data.satisfaction"),
    ("push_order_callback.json", "data.valid", "是", "data.valid"),
    ("push_order_callback.json", "data.contacted", None, "data.contacted"),
    ("push_order_callback.json", "data.visited_at", "2025-12-01T15:10:02", "data.visited_at"),
    ("push_order_reopened.json", "data.new_due_at", "2025-12-09 23:59:59", "data.new_due_at"),
    ("push_order_reopened.json", "order_no", None, "order_no"),
]


@pytest.mark.parametrize(("name", "path", "value", "field"), REFUSALS, ids=[f"{r[1]}={r[2]!r}"[:60] for r in REFUSALS])
def test_every_malformed_field_is_refused_with_its_name(name: str, path: str, value: Any, field: str) -> None:
    document = envelope_with(name, path, value)

    error = refused(document["event_type"], document)

    assert error.field == field
    assert field in str(error)


def test_a_snapshot_names_fields_without_the_data_prefix() -> None:
    assert refused("order.snapshot", base_order(urgency="加急")).field == "urgency"


@pytest.mark.parametrize(
    ("name", "event_type", "field", "value"),
    [
        ("malformed_truncated.json", "order.dispatched", "payload", None),
        ("malformed_naive_time.json", "order.dispatched", "data.dispatchedAt", "2025-11-22 10:15:00"),
        ("malformed_unknown_appeal_type.json", "order.dispatched", "data.appealType", "求决"),
        ("malformed_unknown_event_type.json", "order.transferred", "event_type", "order.transferred"),
    ],
)
def test_malformed_fixtures_are_refused(name: str, event_type: str, field: str, value: str | None) -> None:
    error = refused(event_type, fixture_text(name))

    assert error.field == field
    if value is not None:
        assert error.value == value


@pytest.mark.parametrize("payload", ["[]", '"order"', "", "null"])
def test_a_payload_that_is_not_a_json_object_is_refused(payload: str) -> None:
    assert refused("order.snapshot", payload).field == "payload"


# -- outbound -------------------------------------------------------------------------------------

UTC_TIME = "2025-11-22T03:20:00+00:00"  # stored in UTC; the platform must see 11:20 at +08:00
ATTACHMENT = {
    "name": "处置照片.jpg",
    "url": "https://evidence.example/a1.jpg",
    "mime": "image/jpeg",
    "size": 20480,
}
REPLY = {
    "is_true": "部分属实",
    "investigation": "经民警现场核查，该烧烤店确有夜间经营至凌晨的情况。",
    "disposition": "已责令店主22时后停止室外经营并撤除音响。",
    "citizen_opinion": "来电人表示认可。",
    "resolved": "已解决",
    "contacted": True,
    "contacted_at": "2025-11-23T09:00:00+08:00",
    "public_reply": "您反映的噪声问题已处理，店家已承诺22时后停止室外经营。",
    "attachments": [ATTACHMENT],
    "approved_by": "王建国",
    "approved_at": "2025-11-24T10:00:00+08:00",
    "unit": "青山派出所",
}
OUTBOUND = [
    (
        "sign",
        {"operator": "市公安局", "signed_at": UTC_TIME},
        {"operator": "市公安局", "signedAt": "2025-11-22T11:20:00+08:00"},
    ),
    (
        "contact",
        {
            "contacted_at": "2025-11-22T11:20:00+08:00",
            "contact_phone": "0791-86000000",
            "note": "已电话联系来电人",
        },
        {
            "contactedAt": "2025-11-22T11:20:00+08:00",
            "contactPhone": "0791-86000000",
            "note": "已电话联系来电人",
        },
    ),
    (
        "contact",
        {"contacted_at": UTC_TIME},
        {"contactedAt": "2025-11-22T11:20:00+08:00", "contactPhone": "", "note": ""},
    ),
    (
        "return",
        {"reason": "不属于公安机关职责", "target": "信访", "attachments": [ATTACHMENT]},
        {"reason": "不属于公安机关职责", "attachments": [ATTACHMENT]},
    ),
    ("return", {"reason": "非本辖区"}, {"reason": "非本辖区", "attachments": []}),
    ("extension", {"days": 3, "reason": "需调取监控核实"}, {"days": 3, "reason": "需调取监控核实"}),
    ("progress", {"note": "已约谈店主"}, {"note": "已约谈店主"}),
    (
        "reply",
        REPLY,
        {
            "isTrue": "部分属实",
            "investigation": "经民警现场核查，该烧烤店确有夜间经营至凌晨的情况。",
            "disposition": "已责令店主22时后停止室外经营并撤除音响。",
            "citizenOpinion": "来电人表示认可。",
            "resolved": "已解决",
            "contacted": True,
            "contactedAt": "2025-11-23T09:00:00+08:00",
            "publicReply": "您反映的噪声问题已处理，店家已承诺22时后停止室外经营。",
            "approvedBy": "王建国",
            "attachments": [ATTACHMENT],
        },
    ),
]


@pytest.mark.parametrize(("action", "payload", "body"), OUTBOUND, ids=[f"{o[0]}-{i}" for i, o in enumerate(OUTBOUND)])
def test_every_write_back_body_is_built_exactly(action: str, payload: dict[str, Any], body: dict[str, Any]) -> None:
    assert mapper.outbound(action, payload) == body


def test_a_reply_without_contact_time_sends_null_and_minimal_attachments_have_null_keys() -> None:
    payload = {**REPLY, "contacted": False, "contacted_at": None, "attachments": [{"name": "说明.pdf"}]}

    body = mapper.outbound("reply", payload)

    assert (body["contacted"], body["contactedAt"]) == (False, None)
    assert body["attachments"] == [{"name": "说明.pdf", "url": None, "mime": None, "size": None}]


@pytest.mark.parametrize("value", ["属实", "部分属实", "不属实"])
def test_every_truthfulness_12345_knows_is_sent(value: str) -> None:
    assert mapper.outbound("reply", {**REPLY, "is_true": value})["isTrue"] == value


@pytest.mark.parametrize(
    ("action", "payload", "field"),
    [
        ("report", {"reason": "x"}, "action"),
        ("transfer", {"reason": "转信访"}, "action"),
        ("close", {}, "action"),
        ("reply", {**REPLY, "is_true": "无法核实"}, "is_true"),
        ("reply", {**REPLY, "approved_by": None}, "approved_by"),
        ("sign", {"operator": "市公安局", "signed_at": "2025-11-22T11:20:00"}, "signed_at"),
        ("sign", {"operator": "市公安局"}, "signed_at"),
        ("contact", {"contacted_at": "昨天"}, "contacted_at"),
        ("extension", {"days": 6, "reason": "需调取监控"}, "days"),
        ("extension", {"days": 0, "reason": "需调取监控"}, "days"),
        ("progress", {"note": ""}, "note"),
        ("return", {"reason": "x"}, "reason"),
    ],
)
def test_an_unmappable_write_back_is_refused_with_its_field(action: str, payload: dict[str, Any], field: str) -> None:
    with pytest.raises(MappingError) as caught:
        mapper.outbound(action, payload)

    assert caught.value.field == field


@pytest.mark.parametrize(
    ("missing", "field"),
    [({"resolved": None}, "resolved"), ({"contacted": None}, "contacted"), ({"public_reply": ""}, "public_reply"),
     ({"public_reply": "   "}, "public_reply")],
)
def test_a_reply_part_the_draft_lacks_is_refused_never_filled_in(missing: dict[str, Any], field: str) -> None:
    """000 责任追究 五: 已解决, "contacted" or a public text nobody approved never go out in the bureau's name."""
    with pytest.raises(MappingError) as caught:
        mapper.outbound("reply", {**REPLY, **missing})

    assert caught.value.field == field
