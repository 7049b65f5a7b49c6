"""MayorMapper: every enum value, every quirk (naive times, GBK, no title, no version), every refusal,
every outbound form body."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

from gateway.errors import MappingError
from gateway.schema import AppealType, NoticeKind, TicketDraft, TicketNotice, TicketStatus, Urgency
from mappers.mayor import MayorMapper

FIXTURES = Path(__file__).parents[1] / "fixtures" / "mayor"
CST = timezone(timedelta(hours=8))
mapper = MayorMapper()


def fixture(name: str) -> dict[str, Any]:
    document: dict[str, Any] = json.loads((FIXTURES / name).read_text(encoding="utf-8"))
    return document


def row(**changes: Any) -> dict[str, Any]:
    return {**fixture("row_base.json"), **changes}


def snapshot(data: dict[str, Any]) -> TicketDraft:
    result = mapper.inbound("order.snapshot", json.dumps(data, ensure_ascii=False))
    assert isinstance(result, TicketDraft)
    return result


def refused(event_type: str, payload: str | dict[str, Any]) -> MappingError:
    text = payload if isinstance(payload, str) else json.dumps(payload, ensure_ascii=False)
    with pytest.raises(MappingError) as caught:
        mapper.inbound(event_type, text)
    return caught.value


# -- rows -----------------------------------------------------------------------------------------


def test_a_waiting_row_becomes_a_full_ticket_draft_with_aware_shanghai_times() -> None:
    draft = snapshot(fixture("row_base.json"))

    assert (draft.platform, draft.external_id) == ("mayor", "SZ2511220000123")
    assert (draft.platform_status, draft.status_hint) == ("待签收", None)
    assert (draft.appeal_type, draft.urgency, draft.channel) == (AppealType.report, Urgency.normal, "电话")
    assert draft.content.startswith("来电人反映：示例市东湖区湖滨街道人民路58号阳光小区门口")
    assert draft.title == "来电人反映：示例市东湖区湖滨街道人民路58号阳光小区门口每晚…"  # 30 chars + …
    assert (draft.citizen.name, draft.citizen.phone, draft.citizen.anonymous) == ("周文博", "13951736402", False)
    assert draft.address == "示例市东湖区湖滨街道人民路58号阳光小区"
    assert draft.accepted_at == datetime(2025, 11, 22, 9, 48, 12, tzinfo=CST)
    assert draft.issued_at == datetime(2025, 11, 22, 10, 15, tzinfo=CST)
    assert draft.issued_at.utcoffset() == timedelta(hours=8)
    assert (draft.deadlines.time_limit, draft.deadlines.time_unit) == (5, "working_days")
    assert (draft.deadlines.sign_by, draft.deadlines.due_at) == (None, None)
    assert draft.extra == {"fkxx": None, "hfjg": None, "zt": "01", "gxsj": "2025-11-22 10:15:00"}


def test_source_version_is_gxsj_in_epoch_seconds_then_zt() -> None:
    draft = snapshot(fixture("row_base.json"))

    assert draft.source_version == int(datetime(2025, 11, 22, 10, 15, tzinfo=CST).timestamp()) * 100 + 1


def test_a_sign_in_the_same_second_as_the_dispatch_is_still_a_newer_version() -> None:
    dispatched = snapshot(row(zt="01"))
    signed = snapshot(row(zt="02"))
    fed_back = snapshot(row(zt="03", fkxx={"fksj": "2025-11-22 10:15:00", "bljg": "已处理"}))

    assert dispatched.source_version < signed.source_version < fed_back.source_version


def test_any_later_gxsj_is_newer_even_when_zt_goes_back() -> None:
    fed_back = snapshot(row(zt="03", gxsj="2025-11-24 16:20:05"))
    handled_again = snapshot(row(zt="02", gxsj="2025-11-24 16:20:06"))

    assert handled_again.source_version > fed_back.source_version


@pytest.mark.parametrize(
    ("sqlb", "appeal"),
    [
        ("求决", AppealType.help),
        ("咨询", AppealType.consultation),
        ("揭发控告", AppealType.report),
        ("意见建议", AppealType.suggestion),
        ("申诉", AppealType.appeal),
        ("其他", AppealType.other),
    ],
)
def test_every_appeal_category_maps(sqlb: str, appeal: AppealType) -> None:
    assert snapshot(row(sqlb=sqlb)).appeal_type is appeal


@pytest.mark.parametrize(
    ("jjcd", "urgency"),
    [
        ("1", Urgency.normal),
        ("2", Urgency.urgent),
        ("3", Urgency.critical),
        (1, Urgency.normal),
        (2, Urgency.urgent),
        (3, Urgency.critical),
    ],
)
def test_every_urgency_maps_whether_written_as_text_or_number(jjcd: str | int, urgency: Urgency) -> None:
    assert snapshot(row(jjcd=jjcd)).urgency is urgency


@pytest.mark.parametrize(
    ("zt", "status", "hint"),
    [
        ("01", "待签收", None),
        ("02", "办理中", None),
        ("03", "已反馈", None),
        ("04", "已办结", TicketStatus.closed),
        ("05", "已退回", TicketStatus.returned),
    ],
)
def test_every_status_code_maps_to_its_label_and_only_04_and_05_move_the_lifecycle(
    zt: str, status: str, hint: TicketStatus | None
) -> None:
    draft = snapshot(row(zt=zt))

    assert (draft.platform_status, draft.status_hint, draft.extra["zt"]) == (status, hint, zt)


def test_a_row_with_feedback_keeps_fkxx_as_received() -> None:
    draft = snapshot(fixture("row_feedback.json"))

    assert (draft.platform_status, draft.appeal_type, draft.urgency) == ("已反馈", AppealType.help, Urgency.urgent)
    assert draft.extra["fkxx"] == fixture("row_feedback.json")["fkxx"]


def test_an_anonymous_caller_has_no_name_phone_or_address() -> None:
    draft = snapshot(fixture("row_anonymous.json"))

    citizen = draft.citizen
    assert (citizen.name, citizen.phone, citizen.anonymous, draft.address) == (None, None, True, None)
    assert draft.title == "咨询办理居住证需要哪些材料，在哪里办理。"
    assert draft.urgency is Urgency.normal


def test_fields_the_spec_does_not_name_are_kept_in_extra() -> None:
    draft = snapshot(row(cbcs=2, bz="备注"))

    assert (draft.extra["cbcs"], draft.extra["bz"]) == (2, "备注")


# -- row refusals ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "changes", "field", "value"),
    [
        ("unknown sqlb", fixture("malformed_unknown_sqlb.json"), "sqlb", "投诉"),
        ("ISO time with offset", fixture("malformed_iso_time.json"), "gxsj", "2025-11-22T10:15:00+08:00"),
        ("date only", row(pdsj="2025-11-22"), "pdsj", "2025-11-22"),
        ("time as a number", row(ldsj=1763777700), "ldsj", 1763777700),
        ("unknown urgency", row(jjcd="4"), "jjcd", "4"),
        ("urgency as a boolean", row(jjcd=True), "jjcd", True),
        ("unknown status", row(zt="06"), "zt", "06"),
        ("status as a number", row(zt=2), "zt", 2),
        ("time limit as text", row(blsx="5"), "blsx", "5"),
        ("negative time limit", row(blsx=-1), "blsx", -1),
        ("empty serial number", row(lsh=" "), "lsh", " "),
        ("caller name as a number", row(ldrxm=7), "ldrxm", 7),
    ],
    ids=lambda v: v.replace(" ", "-") if isinstance(v, str) and " " in v else "",
)
def test_a_malformed_row_is_refused_naming_the_field_and_value(
    name: str, changes: dict[str, Any], field: str, value: Any
) -> None:
    error = refused("order.snapshot", changes)

    assert (error.field, error.value) == (field, value)
    assert field in str(error)


@pytest.mark.parametrize("field", ["lsh", "ldsj", "pdsj", "ldnr", "sqlb", "jjcd", "blsx", "zt", "gxsj"])
def test_a_row_missing_a_required_field_is_refused_naming_it(field: str) -> None:
    data = fixture("row_base.json")
    del data[field]

    assert refused("order.snapshot", data).field == field


@pytest.mark.parametrize(("payload", "value"), [("{not json", "{not json"), ("[1, 2]", "list")])
def test_a_payload_that_is_not_a_json_object_is_refused(payload: str, value: str) -> None:
    error = refused("order.snapshot", payload)

    assert (error.field, error.value) == ("payload", value)


def test_an_unknown_event_type_is_refused() -> None:
    error = refused("order.dispatched", fixture("row_base.json"))

    assert (error.field, error.value) == ("event_type", "order.dispatched")


# -- callback -------------------------------------------------------------------------------------


def test_the_callback_result_of_a_closed_row_becomes_a_callback_notice() -> None:
    notice = mapper.inbound("order.callback", json.dumps(fixture("row_closed_callback.json"), ensure_ascii=False))

    assert isinstance(notice, TicketNotice)
    assert (notice.platform, notice.external_id, notice.kind) == ("mayor", "SZ2511220000125", NoticeKind.callback)
    assert notice.occurred_at == datetime(2025, 11, 26, 10, 30, tzinfo=CST)
    assert notice.data == {
        "satisfaction": "basically_satisfied",
        "visited_at": datetime(2025, 11, 26, 10, 30, tzinfo=CST),
        "comment": "民警联系及时，车辆尚未找回",
    }


@pytest.mark.parametrize(
    ("myd", "satisfaction"), [("满意", "satisfied"), ("基本满意", "basically_satisfied"), ("不满意", "dissatisfied")]
)
def test_every_satisfaction_maps(myd: str, satisfaction: str) -> None:
    data = fixture("row_closed_callback.json")
    data["hfjg"] = {"myd": myd, "hfsj": "2025-11-26 10:30:00", "hfyj": ""}

    notice = mapper.inbound("order.callback", json.dumps(data, ensure_ascii=False))

    assert isinstance(notice, TicketNotice)
    assert (notice.data["satisfaction"], notice.data["comment"]) == (satisfaction, None)


def test_the_closed_row_itself_is_a_closed_snapshot_with_its_callback_kept_in_extra() -> None:
    draft = snapshot(fixture("row_closed_callback.json"))

    assert (draft.status_hint, draft.urgency) == (TicketStatus.closed, Urgency.critical)
    assert draft.extra["hfjg"]["myd"] == "基本满意"


@pytest.mark.parametrize(
    ("data", "field", "value"),
    [
        (fixture("malformed_callback_myd.json"), "hfjg.myd", "一般"),
        (row(hfjg=None), "hfjg", None),
        (row(hfjg="满意"), "hfjg", "满意"),
        (row(hfjg={"myd": "满意", "hfsj": "2025/11/26 10:30"}), "hfjg.hfsj", "2025/11/26 10:30"),
        (row(hfjg={"myd": "满意", "hfsj": "2025-11-26 10:30:00", "hfyj": 5}), "hfjg.hfyj", 5),
    ],
)
def test_a_malformed_callback_is_refused_naming_the_field(data: dict[str, Any], field: str, value: Any) -> None:
    error = refused("order.callback", data)

    assert (error.field, error.value) == (field, value)


# -- outbound -------------------------------------------------------------------------------------

REPLY: dict[str, Any] = {
    "is_true": "属实",
    "investigation": "经民警现场核查，反映情况属实。",
    "disposition": "已联合交警查处非法营运车辆3辆。",
    "citizen_opinion": "来电人表示认可。",
    "resolved": "已解决",
    "contacted": True,
    "contacted_at": "2025-11-23T09:00:00+08:00",
    "public_reply": "您反映的非法营运问题已查处，感谢监督。",
    "attachments": [],
    "approved_by": "王建国",
    "approved_at": "2025-11-23T10:00:00+08:00",
    "unit": "湖滨派出所",
}


def test_a_sign_is_the_signer_only() -> None:
    body = mapper.outbound("sign", {"operator": "值班员甲", "signed_at": "2025-11-22T10:20:00+08:00"})

    assert body == {"qsr": "值班员甲"}


def test_a_reply_becomes_the_feedback_form_with_the_public_reply_as_bljg() -> None:
    assert mapper.outbound("reply", REPLY) == {
        "sfss": "1",
        "dcqk": "经民警现场核查，反映情况属实。",
        "czjg": "已联合交警查处非法营运车辆3辆。",
        "ldryj": "来电人表示认可。",
        "bljg": "您反映的非法营运问题已查处，感谢监督。",
        "shr": "王建国",
    }


@pytest.mark.parametrize(("is_true", "sfss"), [("属实", "1"), ("不属实", "0"), ("部分属实", "2")])
def test_every_verdict_has_its_sfss_code(is_true: str, sfss: str) -> None:
    assert mapper.outbound("reply", {**REPLY, "is_true": is_true})["sfss"] == sfss


@pytest.mark.parametrize("text", ["", "  "])
def test_without_an_approved_public_reply_nothing_is_made_up_for_the_caller(text: str) -> None:
    """000 责任追究 五: bljg is the approved text or nothing (the draft service writes it before approval)."""
    with pytest.raises(MappingError) as caught:
        mapper.outbound("reply", {**REPLY, "public_reply": text})
    assert caught.value.field == "public_reply"


def test_an_unverifiable_verdict_has_no_code_on_this_platform() -> None:
    with pytest.raises(MappingError) as caught:
        mapper.outbound("reply", {**REPLY, "is_true": "无法核实"})

    assert (caught.value.field, caught.value.value) == ("is_true", "无法核实")


def test_a_return_is_the_reason_only_and_an_extension_sends_days_as_text() -> None:
    assert mapper.outbound("return", {"reason": "不属于公安机关职责", "target": None}) == {"thyy": "不属于公安机关职责"}
    extension = mapper.outbound("extension", {"days": 3, "reason": "需调取监控核实"})

    assert extension == {"yqts": "3", "yqly": "需调取监控核实"}


@pytest.mark.parametrize("action", ["contact", "progress", "report", "transfer", "feedback"])
def test_a_write_back_the_platform_does_not_have_is_refused_naming_the_action(action: str) -> None:
    with pytest.raises(MappingError) as caught:
        mapper.outbound(action, {"note": "已联系来电人"})

    assert (caught.value.field, caught.value.value) == ("action", action)


@pytest.mark.parametrize(
    ("changes", "field", "value"),
    [
        ({"public_reply": "已处理完毕😀请放心"}, "bljg", "😀"),
        ({"investigation": "经核查，涉事人𠮷某已被约谈𠮷"}, "dcqk", "𠮷"),
        ({"approved_by": "王喆\u200d"}, "shr", "\u200d"),
    ],
)
def test_text_gbk_cannot_encode_is_refused_naming_the_field_and_the_characters(
    changes: dict[str, Any], field: str, value: str
) -> None:
    with pytest.raises(MappingError) as caught:
        mapper.outbound("reply", {**REPLY, **changes})

    assert (caught.value.field, caught.value.value) == (field, value)
    assert "GBK" in str(caught.value)


@pytest.mark.parametrize(
    ("action", "payload", "field"),
    [
        ("extension", {"days": 9, "reason": "复杂"}, "days"),
        ("return", {"reason": ""}, "reason"),
        ("sign", {"signed_at": "2025-11-22T10:20:00+08:00"}, "operator"),
        ("reply", {**REPLY, "approved_by": None}, "approved_by"),
    ],
)
def test_an_invalid_internal_payload_is_refused_naming_the_field(
    action: str, payload: dict[str, Any], field: str
) -> None:
    with pytest.raises(MappingError) as caught:
        mapper.outbound(action, payload)

    assert caught.value.field == field
