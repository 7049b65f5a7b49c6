"""MailboxMapper: every enum value, every quirk (epoch ms, limits, ratings), every refusal, every outbound body."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

from gateway.catalogue import compose_answer
from gateway.errors import MappingError
from gateway.schema import (
    AppealType,
    Attachment,
    NoticeKind,
    ReplyDraft,
    ReplyPayload,
    TicketDraft,
    TicketNotice,
    TicketStatus,
    Truthfulness,
    Urgency,
)
from mappers.mailbox import MailboxMapper
from mappers.mailbox.times import from_epoch_ms, to_epoch_ms

FIXTURES = Path(__file__).parents[1] / "fixtures" / "mailbox"
CST = timezone(timedelta(hours=8))
mapper = MailboxMapper()


def fixture_text(name: str) -> str:
    return (FIXTURES / name).read_text(encoding="utf-8")


def letter(name: str = "letter_pending.json", **changes: Any) -> dict[str, Any]:
    document: dict[str, Any] = json.loads(fixture_text(name))
    document.update(changes)
    return document


def snapshot(document: dict[str, Any]) -> TicketDraft:
    result = mapper.inbound("letter.snapshot", json.dumps(document, ensure_ascii=False))
    assert isinstance(result, TicketDraft)
    return result


def rated(document: dict[str, Any]) -> TicketNotice:
    result = mapper.inbound("letter.rated", json.dumps(document, ensure_ascii=False))
    assert isinstance(result, TicketNotice)
    return result


def refused(event_type: str, payload: str | dict[str, Any]) -> MappingError:
    text = payload if isinstance(payload, str) else json.dumps(payload, ensure_ascii=False)
    with pytest.raises(MappingError) as caught:
        mapper.inbound(event_type, text)
    return caught.value


# -- letters --------------------------------------------------------------------------------------


def test_a_pending_letter_becomes_a_full_ticket_draft() -> None:
    draft = snapshot(letter())

    assert draft.platform == "mailbox"
    assert draft.external_id == "JZ2025112400318"
    assert draft.source_version == 1763947800000
    assert draft.platform_status == "pending_review"
    assert draft.status_hint is None
    assert draft.appeal_type is AppealType.complaint
    assert draft.urgency is Urgency.normal  # §4 has no urgency field
    assert draft.title == "滨江大道夜间飙车噪音扰民"
    assert draft.content.startswith("局长您好！近两个月以来")
    assert draft.citizen.name == "欧阳晓梅"
    assert draft.citizen.phone == "13907914826"
    assert draft.citizen.email == "xiaomei.oy@example.com"
    assert draft.citizen.address == "示例市东湖区翠园街道滨江大道166号怡景花园3栋2单元"
    assert (draft.citizen.anonymous, draft.citizen.confidential) == (False, False)
    assert draft.attachments == [
        Attachment(name="凌晨飙车视频.mp4", url="https://files.mailbox.example/att/JZ2025112400318/1", size=18734512),
        Attachment(name="报警记录截图.png", url="https://files.mailbox.example/att/JZ2025112400318/2", size=402311),
    ]
    assert draft.accepted_at == datetime(2025, 11, 23, 22, 41, 7, 512_000, tzinfo=CST)
    assert draft.issued_at == datetime(2025, 11, 24, 9, 30, tzinfo=CST)
    assert draft.deadlines.due_at is None and draft.deadlines.sign_by is None
    assert draft.needs_callback is False
    assert draft.extra == {
        "query_code": "0471958236",
        "target_dept": "示例市公安局",
        "wants_public": True,
        "answer": None,
        "rating": None,
    }


def test_epoch_milliseconds_become_aware_shanghai_times_to_the_millisecond() -> None:
    draft = snapshot(letter())

    for moment in (draft.accepted_at, draft.issued_at):
        assert moment is not None and moment.utcoffset() == timedelta(hours=8)
    assert draft.accepted_at == datetime(2025, 11, 23, 14, 41, 7, 512_000, tzinfo=UTC)


def test_the_version_is_the_update_time_in_milliseconds_so_every_change_is_newer() -> None:
    pending, accepted = snapshot(letter()), snapshot(letter("letter_accepted.json"))

    assert accepted.source_version - pending.source_version == (32 * 60 + 15) * 1000 + 88
    assert accepted.platform_status == "accepted"


@pytest.mark.parametrize(
    ("word", "appeal"),
    [
        ("咨询", AppealType.consultation),
        ("投诉", AppealType.complaint),
        ("建议", AppealType.suggestion),
        ("求助", AppealType.help),
    ],
)
def test_every_letter_type_maps_to_an_appeal_type(word: str, appeal: AppealType) -> None:
    assert snapshot(letter(letter_type=word)).appeal_type is appeal


@pytest.mark.parametrize(
    ("status", "hint"),
    [
        ("pending_review", None),
        ("accepted", None),
        ("answered", None),
        ("transferred", TicketStatus.returned),
        ("invalid", TicketStatus.closed),
        ("duplicate", TicketStatus.closed),
    ],
)
def test_every_status_is_kept_and_only_the_platform_s_own_endings_hint_our_lifecycle(
    status: str, hint: TicketStatus | None
) -> None:
    draft = snapshot(letter(status=status))

    assert (draft.platform_status, draft.status_hint) == (status, hint)


@pytest.mark.parametrize(
    ("name", "status", "hint"),
    [
        ("letter_transferred.json", "transferred", TicketStatus.returned),
        ("letter_invalid.json", "invalid", TicketStatus.closed),
        ("letter_duplicate.json", "duplicate", TicketStatus.closed),
    ],
)
def test_the_status_fixtures_map_to_their_hints(name: str, status: str, hint: TicketStatus) -> None:
    draft = snapshot(letter(name))

    assert (draft.platform_status, draft.status_hint) == (status, hint)


def test_an_answered_letter_keeps_the_platform_s_answer_with_an_iso_time() -> None:
    draft = snapshot(letter("letter_answered.json"))

    assert draft.extra["answer"] == {
        "text": letter("letter_answered.json")["answer"]["text"],
        "dept": "交警支队",
        "answered_at": "2025-12-01T16:20:45.003000+08:00",
        "published": True,
    }
    assert draft.extra["rating"] is None


def test_a_rated_letter_snapshot_is_a_newer_version_carrying_the_rating() -> None:
    answered, with_rating = snapshot(letter("letter_answered.json")), snapshot(letter("letter_rated.json"))

    assert with_rating.source_version > answered.source_version
    assert with_rating.extra["rating"] == {
        "score": 2,
        "comment": "周末还是有人飙车，希望持续整治",
        "rated_at": "2025-12-06T20:05:31.777000+08:00",
    }


def test_a_blank_writer_is_an_anonymous_citizen_without_personal_fields() -> None:
    citizen = snapshot(letter("letter_writer_blank.json")).citizen

    assert (citizen.name, citizen.phone, citizen.email, citizen.address) == (None, None, None, None)
    assert citizen.anonymous is True


def test_a_writer_with_only_a_phone_is_not_anonymous() -> None:
    citizen = snapshot(letter(writer={"name": None, "phone": "13907914826"})).citizen

    assert citizen.anonymous is False and citizen.phone == "13907914826"


def test_a_letter_without_a_query_code_still_maps() -> None:
    document = letter()
    del document["query_code"]

    assert "query_code" not in snapshot(document).extra


def test_unknown_letter_fields_are_kept_in_extra() -> None:
    assert snapshot(letter(channel_hint="wechat")).extra["channel_hint"] == "wechat"


@pytest.mark.parametrize(("field", "limit"), [("title", 25), ("body", 600)])
def test_title_and_body_at_their_limit_map(field: str, limit: int) -> None:
    draft = snapshot(letter(**{field: "字" * limit}))

    assert len(draft.title if field == "title" else draft.content) == limit


@pytest.mark.parametrize(("field", "limit"), [("title", 25), ("body", 600)])
def test_title_or_body_over_the_limit_is_refused_naming_the_field_and_length(field: str, limit: int) -> None:
    error = refused("letter.snapshot", letter(**{field: "字" * (limit + 1)}))

    assert (error.field, error.value) == (field, limit + 1)


# -- ratings --------------------------------------------------------------------------------------


def test_a_rating_becomes_a_rated_notice_with_score_comment_and_time() -> None:
    notice = rated(letter("letter_rated.json"))

    assert notice.platform == "mailbox" and notice.external_id == "JZ2025112400318"
    assert notice.kind is NoticeKind.rated
    assert notice.occurred_at == datetime(2025, 12, 6, 20, 5, 31, 777_000, tzinfo=CST)
    assert notice.data == {
        "score": 2,
        "satisfaction": "dissatisfied",
        "comment": "周末还是有人飙车，希望持续整治",
        "rated_at": datetime(2025, 12, 6, 20, 5, 31, 777_000, tzinfo=CST),
    }


@pytest.mark.parametrize(
    ("score", "satisfaction"),
    [(5, "satisfied"), (4, "satisfied"), (3, "basically_satisfied"), (2, "dissatisfied"), (1, "dissatisfied")],
)
def test_every_score_maps_to_a_satisfaction(score: int, satisfaction: str) -> None:
    document = letter("letter_rated.json")
    document["rating"]["score"] = score

    assert rated(document).data["satisfaction"] == satisfaction


def test_a_rating_without_a_comment_maps_with_none() -> None:
    document = letter("letter_rated.json")
    document["rating"]["comment"] = None

    assert rated(document).data["comment"] is None


def test_a_rated_event_for_a_letter_without_a_rating_is_refused() -> None:
    assert refused("letter.rated", letter("letter_answered.json")).field == "rating"


@pytest.mark.parametrize(("score"), [0, 6, True, 4.5, "5"])
def test_a_score_outside_one_to_five_is_refused(score: object) -> None:
    document = letter("letter_rated.json")
    document["rating"]["score"] = score

    assert refused("letter.rated", document).field == "rating.score"
    assert refused("letter.snapshot", document).field == "rating.score"


# -- refusals -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "event_type", "field", "value"),
    [
        ("malformed_seconds_not_ms.json", "letter.snapshot", "forwarded_at", 1763947800),
        ("malformed_title_too_long.json", "letter.snapshot", "title", 28),
        ("malformed_body_too_long.json", "letter.snapshot", "body", 670),
        ("malformed_unknown_letter_type.json", "letter.snapshot", "letter_type", "举报"),
        ("malformed_unknown_status.json", "letter.snapshot", "status", "archived"),
        ("malformed_query_code_number.json", "letter.snapshot", "query_code", 471958236),
        ("malformed_rating_score.json", "letter.rated", "rating.score", 6),
    ],
)
def test_each_malformed_fixture_is_refused_naming_field_and_value(
    name: str, event_type: str, field: str, value: object
) -> None:
    error = refused(event_type, fixture_text(name))

    assert (error.field, error.value) == (field, value)
    assert field in str(error)


def test_a_truncated_payload_is_refused_as_not_json() -> None:
    assert refused("letter.snapshot", fixture_text("malformed_truncated.json")).field == "payload"


def test_a_payload_that_is_not_an_object_is_refused() -> None:
    error = refused("letter.snapshot", "[1, 2]")

    assert (error.field, error.value) == ("payload", "list")


def test_an_unknown_event_type_is_refused() -> None:
    error = refused("letter.deleted", letter())

    assert (error.field, error.value) == ("event_type", "letter.deleted")


@pytest.mark.parametrize(
    "field", ["letter_no", "letter_type", "title", "body", "writer", "attachments", "forwarded_at", "updated_at"]
)
def test_a_missing_required_field_is_refused_naming_it(field: str) -> None:
    document = letter()
    del document[field]

    assert refused("letter.snapshot", document).field == field


@pytest.mark.parametrize(
    ("field", "value"), [("updated_at", 1763947800.5), ("submitted_at", "1763947800000"), ("forwarded_at", True)]
)
def test_a_time_that_is_not_integer_milliseconds_is_refused(field: str, value: object) -> None:
    error = refused("letter.snapshot", letter(**{field: value}))

    assert (error.field, error.value) == (field, value)


def test_an_empty_letter_number_is_refused() -> None:
    assert refused("letter.snapshot", letter(letter_no="  ")).field == "letter_no"


def test_an_attachment_without_a_file_name_is_refused_naming_its_index() -> None:
    error = refused("letter.snapshot", letter(attachments=[{"url": "https://x.example/1", "size": 1}]))

    assert error.field == "attachments[0].file_name"


def test_an_answer_with_a_seconds_time_is_refused_naming_the_nested_field() -> None:
    document = letter("letter_answered.json")
    document["answer"]["answered_at"] = 1764577245

    assert refused("letter.snapshot", document).field == "answer.answered_at"


def test_times_round_trip_between_epoch_ms_and_datetimes_exactly() -> None:
    for value in (100_000_000_000, 1763947800000, 1763947800001, 1765022731777):
        assert to_epoch_ms(from_epoch_ms(value, "t"), "t") == value


# -- outbound -------------------------------------------------------------------------------------

APPROVED = datetime(2025, 12, 1, 16, 0, tzinfo=CST)


def reply_payload(**changes: Any) -> dict[str, Any]:
    payload = ReplyPayload(
        is_true=Truthfulness.true,
        investigation="经交警支队夜间蹲守核查，反映情况属实。",
        disposition="已增设噪音抓拍设备并开展专项整治",
        citizen_opinion="反映人表示认可",
        public_reply="您反映的夜间飙车问题已整治，感谢监督。",
        approved_by="分管领导丙",
        approved_at=APPROVED,
        unit="交警支队",
    ).model_dump(mode="json")
    return payload | changes


def test_sign_becomes_an_acceptance_with_epoch_milliseconds() -> None:
    body = mapper.outbound("sign", {"operator": "值班员甲", "signed_at": "2025-11-24T10:02:15.088+08:00"})

    assert body == {"accepted_by": "值班员甲", "accepted_at": 1763949735088}


def test_a_sign_time_in_another_zone_gives_the_same_instant() -> None:
    body = mapper.outbound("sign", {"operator": "值班员甲", "signed_at": "2025-11-24T02:02:15.088+00:00"})

    assert body["accepted_at"] == 1763949735088


def test_a_naive_sign_time_is_refused() -> None:
    with pytest.raises(MappingError) as caught:
        mapper.outbound("sign", {"operator": "值班员甲", "signed_at": "2025-11-24T10:02:15"})

    assert caught.value.field == "signed_at"


def test_a_sign_payload_without_an_operator_is_refused_naming_it() -> None:
    with pytest.raises(MappingError) as caught:
        mapper.outbound("sign", {"signed_at": "2025-11-24T10:02:15+08:00"})

    assert caught.value.field == "operator"


def test_reply_becomes_the_answer_with_the_public_reply_as_text() -> None:
    assert mapper.outbound("reply", reply_payload()) == {
        "text": "您反映的夜间飙车问题已整治，感谢监督。",
        "dept": "交警支队",
        "publish": False,
        "approved_by": "分管领导丙",
    }


def test_a_reply_without_an_approved_answer_text_is_refused_never_composed_at_send_time() -> None:
    """000 责任追究 五: the answer is the approved text; composing happens before approval, not here."""
    with pytest.raises(MappingError) as caught:
        mapper.outbound("reply", reply_payload(public_reply="  "))
    assert caught.value.field == "public_reply"


@pytest.mark.parametrize("verdict", list(Truthfulness))
def test_the_answer_composed_for_a_draft_without_public_text_holds_the_four_parts(verdict: Truthfulness) -> None:
    draft = ReplyDraft.model_validate(reply_payload(public_reply="", is_true=verdict.value))

    assert compose_answer(draft) == (
        f"是否属实：{verdict.value}\n"
        "调查情况：经交警支队夜间蹲守核查，反映情况属实。\n"
        "处置结果：已增设噪音抓拍设备并开展专项整治\n"
        "反映人意见：反映人表示认可"
    )


def test_a_reply_without_a_unit_leaves_the_department_to_the_adapter() -> None:
    assert mapper.outbound("reply", reply_payload(unit=None))["dept"] is None


def test_a_reply_is_published_only_when_the_payload_says_so_explicitly() -> None:
    assert mapper.outbound("reply", reply_payload(publish=True))["publish"] is True
    assert mapper.outbound("reply", reply_payload(publish="yes"))["publish"] is False


def test_a_reply_missing_a_required_part_is_refused_naming_it() -> None:
    payload = reply_payload()
    del payload["citizen_opinion"]

    with pytest.raises(MappingError) as caught:
        mapper.outbound("reply", payload)

    assert caught.value.field == "citizen_opinion"


@pytest.mark.parametrize(
    ("target", "to"), [(None, "其他单位"), ("其他单位", "其他单位"), ("信访", "信访"), ("", "其他单位")]
)
@pytest.mark.parametrize("action", ["return", "transfer"])
def test_return_becomes_a_transfer_to_petitions_or_another_unit(action: str, target: str | None, to: str) -> None:
    body = mapper.outbound(action, {"reason": "不属于公安机关职责", "target": target})

    assert body == {"reason": "不属于公安机关职责", "to": to}


def test_a_transfer_to_an_unknown_target_is_refused_naming_it() -> None:
    with pytest.raises(MappingError) as caught:
        mapper.outbound("return", {"reason": "不属于公安机关职责", "target": "市场监管局"})

    assert (caught.value.field, caught.value.value) == ("target", "市场监管局")


@pytest.mark.parametrize("action", ["contact", "extension", "progress", "report", "urge"])
def test_an_action_the_mailbox_does_not_have_is_refused_naming_it(action: str) -> None:
    with pytest.raises(MappingError) as caught:
        mapper.outbound(action, {"note": "阶段进展", "days": 3, "reason": "需要调查取证"})

    assert (caught.value.field, caught.value.value) == ("action", action)
