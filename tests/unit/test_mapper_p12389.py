"""P12389Mapper: every enum value, every quirk, every refusal (redacted for the reporter), every outbound body."""

from __future__ import annotations

import re
import time
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

from gateway.errors import MappingError
from gateway.schema import AppealType, NoticeKind, TicketDraft, TicketNotice, TicketStatus
from mappers.p12389 import P12389Mapper

FIXTURES = Path(__file__).parents[1] / "fixtures" / "p12389"
CST = timezone(timedelta(hours=8))
mapper = P12389Mapper()
REPORTER = ("周雨欣", "99010119900307002x", "13900001234", "示例市东湖区湖滨街道人民路88号阳光小区3栋2单元")


def fixture_text(name: str) -> str:
    return (FIXTURES / name).read_text(encoding="utf-8")


def wrap(case_xml: str, version: int = 1763778600, observed: str = "2025-11-22T10:30:00+08:00") -> str:
    return f'<snapshot observed="{observed}" version="{version}">{case_xml}</snapshot>'


def base_case(**replace: str | None) -> str:
    """case_base.xml with elements replaced (``None`` removes the element)."""
    text = fixture_text("case_base.xml")
    for name, value in replace.items():
        pattern = re.compile(rf"<{name}>.*?</{name}>|<{name}/>", re.S)
        assert pattern.search(text), name
        text = pattern.sub("" if value is None else f"<{name}>{value}</{name}>", text, count=1)
    return text


def snapshot(case_xml: str, **envelope: Any) -> TicketDraft:
    result = mapper.inbound("case.snapshot", wrap(case_xml, **envelope))
    assert isinstance(result, TicketDraft)
    return result


def refused(case_xml: str, event_type: str = "case.snapshot") -> MappingError:
    with pytest.raises(MappingError) as caught:
        mapper.inbound(event_type, wrap(case_xml))
    return caught.value


# -- the case -------------------------------------------------------------------------------------


def test_the_stored_snapshot_becomes_a_full_ticket_draft() -> None:
    draft = mapper.inbound("case.snapshot", fixture_text("snapshot_base.xml"))

    assert isinstance(draft, TicketDraft)
    assert (draft.platform, draft.external_id, draft.source_version) == ("p12389", "JB2025112200017", 1763778600)
    assert (draft.platform_status, draft.status_hint) == ("核查中", None)
    assert draft.appeal_type is AppealType.report
    assert (draft.level, draft.channel) == ("一般", "网络")
    assert draft.title == "检举控告：示例市公安局东湖分局阳光派出所"
    assert draft.content == (
        "2025年11月20日晚，我到阳光派出所报案称电动车被盗，值班民警郑浩（警号990417）态度生硬，拒绝受理，"
        "让我自己去找监控。请求核查该民警不受理报案的问题。"
    )
    assert draft.address == "示例市东湖区人民路与文化路交叉口"
    assert draft.accepted_at == datetime(2025, 11, 21, 9, 12, 30, tzinfo=CST)
    assert draft.issued_at == datetime(2025, 11, 22, 10, 15, tzinfo=CST)
    assert draft.deadlines.due_at == datetime(2025, 12, 12, 23, 59, 59, tzinfo=CST)
    assert (draft.deadlines.sign_by, draft.deadlines.time_limit, draft.deadlines.time_unit) == (None, None, None)
    assert [(a.name, a.mime) for a in draft.attachments] == [
        ("报案经过.docx", "application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
        ("现场照片.jpg", "image/jpeg"),
    ]
    assert draft.attachments[1].url == "https://files.p12389.example.invalid/JB2025112200017/2"
    assert draft.extra == {"qszt": True, "fssj": "2025-11-20T21:40:00+08:00", "blqx": "2025-12-12",
                           "bgs": [], "fkpj": None}


def test_the_reporter_goes_into_the_citizen_always_confidential_with_the_id_number() -> None:
    citizen = snapshot(fixture_text("case_base.xml")).citizen

    assert (citizen.name, citizen.phone, citizen.address) == (REPORTER[0], REPORTER[2], REPORTER[3])
    assert citizen.id_number == "99010119900307002X"  # the check digit x is upper-cased
    assert (citizen.confidential, citizen.anonymous, citizen.email) == (True, False, None)


def test_the_officer_and_the_unit_complained_about_go_into_the_respondent() -> None:
    respondent = snapshot(fixture_text("case_base.xml")).respondent

    assert respondent is not None
    assert (respondent.unit, respondent.name, respondent.badge_no, respondent.position) == (
        "示例市公安局东湖分局阳光派出所", "郑浩", "990417", "民警")


def test_an_anonymous_case_has_an_empty_confidential_citizen_and_a_unit_only_respondent() -> None:
    draft = snapshot(fixture_text("case_anonymous.xml"))

    assert draft.citizen.model_dump() == {"name": None, "phone": None, "id_number": None, "email": None,
                                          "address": None, "gender": "unknown", "confidential": True,
                                          "anonymous": True}
    assert draft.respondent is not None and draft.respondent.model_dump() == {
        "name": None, "unit": "示例市公安局交通警察支队北苑大队", "badge_no": None, "position": None}
    assert (draft.appeal_type, draft.level, draft.channel) == (AppealType.appeal, "简单", "来信")
    assert draft.attachments == [] and draft.extra["qszt"] is False


def test_a_case_without_unit_or_officer_has_no_respondent_and_its_title_names_the_case() -> None:
    draft = snapshot(base_case(bjbdw="", bjbmj=None))

    assert draft.respondent is None
    assert draft.title == "检举控告：JB2025112200017"


def test_a_closed_rated_case_keeps_its_reports_and_evaluation_and_hints_closed() -> None:
    draft = snapshot(fixture_text("case_closed_rated.xml"))

    assert (draft.platform_status, draft.status_hint, draft.level) == ("已办结", TicketStatus.closed, "重大")
    assert draft.extra["bgs"] == [{"wbbh": "hg3f1c9a0e5b7d4c2a8e6f0b1d3c5a7e9f", "sj": "2025-11-20T16:45:10+08:00"}]
    assert draft.extra["fkpj"] == "满意"


def test_the_query_code_is_not_copied_anywhere() -> None:
    draft = snapshot(fixture_text("case_base.xml"))

    assert "Q7K2M9XA" not in draft.model_dump_json()


@pytest.mark.parametrize(("sxlb", "appeal"), [
    ("检举控告", AppealType.report), ("申诉", AppealType.appeal), ("意见建议", AppealType.suggestion)])
def test_every_matter_type_maps_to_an_appeal_type(sxlb: str, appeal: AppealType) -> None:
    assert snapshot(base_case(sxlb=sxlb)).appeal_type is appeal


@pytest.mark.parametrize("jbfs", ["电话", "网络", "来信", "来访", "上级交办"])
def test_every_channel_is_kept_in_the_platforms_words(jbfs: str) -> None:
    assert snapshot(base_case(jbfs=jbfs)).channel == jbfs


@pytest.mark.parametrize("ajdj", ["简单", "一般", "重大"])
def test_every_case_level_becomes_the_tickets_level_for_the_sla_policy(ajdj: str) -> None:
    assert snapshot(base_case(ajdj=ajdj)).level == ajdj


@pytest.mark.parametrize(("zt", "hint"), [
    ("待签收", None), ("核查中", None), ("已报结", None),
    ("已退回", TicketStatus.returned), ("已办结", TicketStatus.closed)])
def test_every_status_is_kept_and_only_closing_and_returning_hint_our_lifecycle(
    zt: str, hint: TicketStatus | None
) -> None:
    draft = snapshot(base_case(zt=zt))
    assert (draft.platform_status, draft.status_hint) == (zt, hint)


@pytest.mark.parametrize(("qszt", "signed"), [("0", False), ("1", True)])
def test_both_receipt_states_are_read(qszt: str, signed: bool) -> None:
    assert snapshot(base_case(qszt=qszt)).extra["qszt"] is signed


@pytest.mark.parametrize(("sfsm", "anonymous"), [("1", False), ("0", True)])
def test_both_real_name_flags_are_read(sfsm: str, anonymous: bool) -> None:
    assert snapshot(base_case(sfsm=sfsm)).citizen.anonymous is anonymous


@pytest.mark.parametrize("fkpj", ["满意", "基本满意", "不满意"])
def test_every_evaluation_is_kept_on_the_snapshot(fkpj: str) -> None:
    case = base_case().replace("</case>", f"<fkpj>{fkpj}</fkpj></case>")
    assert snapshot(case).extra["fkpj"] == fkpj


@pytest.mark.parametrize(("element", "value"), [
    ("sxlb", "投诉"), ("jbfs", "微信"), ("ajdj", "特大"), ("zt", "办理中"), ("qszt", "2"), ("sfsm", "是")])
def test_an_unknown_enum_value_is_refused_naming_field_and_value(element: str, value: str) -> None:
    error = refused(base_case(**{element: value}))
    assert (error.field, error.value) == (element, value)
    assert element in str(error) and value in str(error)


def test_an_unknown_evaluation_is_refused_naming_fkpj() -> None:
    error = refused(base_case().replace("</case>", "<fkpj>很好</fkpj></case>"))
    assert (error.field, error.value) == ("fkpj", "很好")


@pytest.mark.parametrize("element", ["jbbh", "sxlb", "jbfs", "sfsm", "jbnr", "slsj", "xfsj", "ajdj", "blqx",
                                     "qszt", "zt", "bjbdw", "fsdd", "fssj"])
def test_a_missing_required_element_is_refused_by_name(element: str) -> None:
    error = refused(base_case(**{element: None}))
    assert error.field == element and "missing" in str(error)


@pytest.mark.parametrize(("element", "value"), [
    ("xfsj", "2025-11-22T10:15:00+08:00"), ("xfsj", "2025-11-22 10:15:00"), ("slsj", "2025-02-30T09:00:00"),
    ("fssj", "昨天晚上"), ("blqx", "2025-12-12T23:59:59"), ("blqx", "2025-13-01")])
def test_a_time_not_in_the_platforms_local_format_is_refused(element: str, value: str) -> None:
    error = refused(base_case(**{element: value}))
    assert (error.field, error.value) == (element, value)


def test_every_time_of_a_draft_is_aware_asia_shanghai() -> None:
    draft = snapshot(fixture_text("case_closed_rated.xml"))
    for moment in (draft.issued_at, draft.accepted_at, draft.deadlines.due_at):
        assert moment is not None and moment.utcoffset() == timedelta(hours=8)


def test_content_over_1500_chars_is_refused_with_its_length() -> None:
    error = refused(base_case(jbnr="举" * 1501))
    assert (error.field, error.value) == ("jbnr", 1501)
    assert snapshot(base_case(jbnr="举" * 1500)).content == "举" * 1500


def test_an_attachment_without_a_name_is_refused_by_its_path() -> None:
    case = base_case(fj='<wj mc="a.jpg" url="u" lx="image/jpeg"/><wj url="https://x.invalid/2"/>')
    assert refused(case).field == "fj/wj[1]@mc"


@pytest.mark.parametrize("element", ["xm", "sfzh", "lxdh", "dz"])
def test_a_malformed_reporter_element_is_refused_without_echoing_any_personal_value(element: str) -> None:
    original = dict(zip(("xm", "sfzh", "lxdh", "dz"), REPORTER, strict=True))[element]
    nested = base_case().replace(f"<{element}>{original}</{element}>",
                                 f"<{element}>{original}<i>{original}</i></{element}>")
    too_long = base_case().replace(f"<{element}>{original}</{element}>", f"<{element}>{original * 60}</{element}>")
    for case in (nested, too_long):
        error = refused(case)
        assert error.field == f"jbr/{element}" and error.value == "<redacted>"
        text = f"{error} {error.args} {error.value!r}"
        assert not any(secret in text for secret in REPORTER)


def test_a_payload_that_is_not_xml_is_refused_without_quoting_it() -> None:
    with pytest.raises(MappingError) as caught:
        mapper.inbound("case.snapshot", fixture_text("malformed_truncated.xml"))
    assert caught.value.field == "payload" and caught.value.value is None
    assert "周雨欣" not in str(caught.value)


@pytest.mark.parametrize("name", ["malformed_billion_laughs.xml", "malformed_external_entity.xml"])
def test_a_payload_with_a_dtd_is_refused_before_any_entity_expands(name: str) -> None:
    started = time.monotonic()
    with pytest.raises(MappingError) as caught:
        mapper.inbound("case.snapshot", fixture_text(name))
    assert caught.value.field == "payload" and "unsafe" in str(caught.value)
    assert time.monotonic() - started < 1


@pytest.mark.parametrize(("payload", "field"), [
    ('<snapshot observed="2025-11-22T10:30:00+08:00" version="v3"><case/></snapshot>', "@version"),
    ('<snapshot observed="2025-11-22T10:30:00+08:00" version="-1"><case/></snapshot>', "@version"),
    ('<snapshot version="1"/>', "case"),
    ("<response code=\"0\"><case/></response>", "payload"),
])
def test_an_envelope_that_is_not_ours_is_refused(payload: str, field: str) -> None:
    with pytest.raises(MappingError) as caught:
        mapper.inbound("case.snapshot", payload)
    assert caught.value.field == field


def test_an_unknown_event_type_is_refused() -> None:
    with pytest.raises(MappingError) as caught:
        mapper.inbound("case.updated", fixture_text("snapshot_base.xml"))
    assert (caught.value.field, caught.value.value) == ("event_type", "case.updated")


# -- the reporter's evaluation --------------------------------------------------------------------


def test_an_evaluation_becomes_a_rated_notice_for_the_tickets_callback_result() -> None:
    notice = mapper.inbound("case.rated", fixture_text("snapshot_rated.xml"))

    assert isinstance(notice, TicketNotice)
    assert (notice.platform, notice.external_id, notice.kind) == ("p12389", "JB2025110300004", NoticeKind.rated)
    assert notice.occurred_at == datetime(2025, 11, 25, 8, 0, tzinfo=CST)
    assert notice.data == {"satisfaction": "basically_satisfied", "fkpj": "基本满意"}


@pytest.mark.parametrize(("fkpj", "satisfaction"), [
    ("满意", "satisfied"), ("基本满意", "basically_satisfied"), ("不满意", "dissatisfied")])
def test_every_evaluation_maps_to_a_satisfaction(fkpj: str, satisfaction: str) -> None:
    payload = wrap(f"<case><jbbh>J1</jbbh><fkpj>{fkpj}</fkpj></case>")
    notice = mapper.inbound("case.rated", payload)
    assert isinstance(notice, TicketNotice) and notice.data["satisfaction"] == satisfaction


@pytest.mark.parametrize(("observed", "field"), [("2025-11-25T08:00:00", "@observed"), ("", "@observed")])
def test_a_rating_without_an_aware_observation_time_is_refused(observed: str, field: str) -> None:
    payload = wrap("<case><jbbh>J1</jbbh><fkpj>满意</fkpj></case>", observed=observed)
    with pytest.raises(MappingError) as caught:
        mapper.inbound("case.rated", payload)
    assert caught.value.field == field


@pytest.mark.parametrize(
    ("fsdd", "personal"),
    [
        (REPORTER[3], True),  # 事发地点 is the reporter's own address
        ("示例市东湖区湖滨街道人民路88号", True),  # part of it: still points at the reporter's home
        (" 示例市东湖区湖滨街道人民路88号阳光小区3栋 2单元 ", True),
        ("示例市东湖区人民路与文化路交叉口", False),  # a street corner: the place of the incident
        ("", False),
    ],
)
def test_an_incident_place_that_is_the_reporters_address_is_marked_personal_001_5(fsdd: str, personal: bool) -> None:
    """001 五: the ticket's 地址 is masked like the reporter when the mapper knows it is the reporter's."""
    draft = snapshot(base_case(fsdd=fsdd))
    assert draft.address_personal is personal
    assert draft.citizen.address == REPORTER[3]


def test_an_anonymous_reporters_incident_place_is_not_personal() -> None:
    draft = snapshot(base_case(sfsm="0", jbr="<xm/><sfzh/><lxdh/><dz/>", fsdd=REPORTER[3]))
    assert draft.address_personal is False and draft.citizen.address is None


# -- outbound -------------------------------------------------------------------------------------

SIGNED_AT = "2025-11-22T10:15:00+08:00"
REPLY: dict[str, Any] = {
    "is_true": "属实",
    "investigation": "经调取执法记录仪视频，该民警确有态度生硬问题。",
    "disposition": "已对该民警批评教育并责令书面检查",
    "citizen_opinion": "举报人表示认可",
    "responsibility": "民警郑浩对态度生硬负直接责任",
    "rectification": "已开展文明执法专题培训，所在单位书面整改",
    "approved_by": "督察支队长王某",
    "approved_at": "2025-11-28T16:00:00+08:00",
}


def test_a_sign_off_becomes_a_receipt_with_local_time_without_offset() -> None:
    assert mapper.outbound("sign", {"operator": "值班员甲", "signed_at": SIGNED_AT}) == {
        "qsr": "值班员甲", "qssj": "2025-11-22T10:15:00"}


def test_a_sign_off_time_in_another_zone_is_rendered_in_shanghai_time() -> None:
    signed = datetime(2025, 11, 22, 2, 15, tzinfo=UTC).isoformat()
    assert mapper.outbound("sign", {"operator": "值班员甲", "signed_at": signed})["qssj"] == "2025-11-22T10:15:00"


def test_a_naive_sign_off_time_is_refused() -> None:
    with pytest.raises(MappingError) as caught:
        mapper.outbound("sign", {"operator": "值班员甲", "signed_at": "2025-11-22T10:15:00"})
    assert caught.value.field == "signed_at"


def test_an_extension_becomes_days_and_reason() -> None:
    body = mapper.outbound("extension", {"days": 3, "reason": "需调取异地监控"})
    assert body == {"yqts": 3, "yqly": "需调取异地监控"}


def test_an_extension_of_six_days_is_refused_naming_days() -> None:
    with pytest.raises(MappingError) as caught:
        mapper.outbound("extension", {"days": 6, "reason": "需调取异地监控"})
    assert (caught.value.field, caught.value.value) == ("days", 6)


def test_a_reply_becomes_the_full_verification_report_exactly_as_written() -> None:
    """001 四(四): 责任认定 and 整改情况 go out as the person wrote them."""
    assert mapper.outbound("reply", REPLY) == {
        "hcjl": "属实",
        "hcqk": REPLY["investigation"],
        "zrrd": REPLY["responsibility"],
        "clqk": REPLY["disposition"],
        "zgqk": REPLY["rectification"],
        "fkqk": REPLY["citizen_opinion"],
        "spr": "督察支队长王某",
    }


@pytest.mark.parametrize("part", ["responsibility", "rectification"])
@pytest.mark.parametrize("value", [None, "", "   "])
def test_a_report_without_responsibility_or_rectification_is_refused_never_defaulted(
    part: str, value: str | None
) -> None:
    """001 四(四), 000 责任追究 五: no 核查报告 goes out with a 责任认定/整改情况 nobody wrote."""
    with pytest.raises(MappingError) as caught:
        mapper.outbound("reply", {**REPLY, part: value})
    assert caught.value.field == part
    with pytest.raises(MappingError):
        mapper.outbound("reply", {k: v for k, v in REPLY.items() if k != part})


def test_the_platforms_own_element_names_in_a_payload_are_not_read() -> None:
    """Only the approved draft's parts count: a ``zrrd`` key smuggled into the payload is ignored."""
    body = mapper.outbound("reply", {**REPLY, "zrrd": "经核查无需责任认定", "zgqk": "无"})
    assert (body["zrrd"], body["zgqk"]) == (REPLY["responsibility"], REPLY["rectification"])


@pytest.mark.parametrize("verdict", ["属实", "部分属实", "不属实", "无法核实"])
def test_every_verdict_goes_out_as_the_report_conclusion(verdict: str) -> None:
    assert mapper.outbound("reply", {**REPLY, "is_true": verdict})["hcjl"] == verdict


def test_report_is_the_same_write_back_as_reply() -> None:
    assert mapper.outbound("report", REPLY) == mapper.outbound("reply", REPLY)


def test_a_reply_missing_a_required_part_is_refused_naming_it() -> None:
    with pytest.raises(MappingError) as caught:
        mapper.outbound("reply", {k: v for k, v in REPLY.items() if k != "investigation"})
    assert caught.value.field == "investigation"


@pytest.mark.parametrize("action", ["contact", "progress", "return", "transfer", "callback"])
def test_a_write_back_12389_does_not_have_is_refused_naming_the_action(action: str) -> None:
    with pytest.raises(MappingError) as caught:
        mapper.outbound(action, {"note": "x", "reason": "不属于本单位", "contacted_at": SIGNED_AT})
    assert (caught.value.field, caught.value.value) == ("action", action)
    assert "12389 has no" in str(caught.value)
