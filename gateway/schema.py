"""The internal schema: one shape for a ticket from any platform.

Mappers produce these models from foreign payloads; the store persists them; the API renders them.
Fields holding a citizen's personal data carry ``json_schema_extra={"personal": True}`` so that
masking (``gateway.privacy``) and the OpenAPI document both know which they are.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from enum import StrEnum
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

PERSONAL: dict[str, Any] = {"personal": True}

# The one time zone of the gateway and every platform: Asia/Shanghai, which has kept +08:00 without
# daylight saving since 1991. A fixed offset, so a time reads the same for any date a platform sends.
SHANGHAI = timezone(timedelta(hours=8))


class AppealType(StrEnum):
    """诉求类型, the union of every platform's categories."""

    consultation = "consultation"  # 咨询
    help = "help"  # 求助 / 求决
    complaint = "complaint"  # 投诉
    report = "report"  # 举报 / 检举控告 / 揭发控告
    suggestion = "suggestion"  # 建议 / 意见建议
    praise = "praise"  # 表扬
    appeal = "appeal"  # 申诉
    other = "other"  # 其他


APPEAL_TYPE_LABELS: dict[AppealType, str] = {
    AppealType.consultation: "咨询",
    AppealType.help: "求助",
    AppealType.complaint: "投诉",
    AppealType.report: "举报",
    AppealType.suggestion: "建议",
    AppealType.praise: "表扬",
    AppealType.appeal: "申诉",
    AppealType.other: "其他",
}


class Urgency(StrEnum):
    """紧急程度."""

    normal = "normal"  # 一般
    urgent = "urgent"  # 紧急
    critical = "critical"  # 特急


class TicketStatus(StrEnum):
    """The bureau's lifecycle (RULES.md §2); the platform's own status is kept beside it."""

    received = "received"  # 已接收, waiting for 签收
    signed = "signed"  # 已签收
    dispatched = "dispatched"  # 已派单 to a handling unit
    responded = "responded"  # 已响应 (先行联系)
    reply_drafted = "reply_drafted"  # 答复待审批
    approved = "approved"  # 领导已审批
    replied = "replied"  # 已办结反馈
    return_requested = "return_requested"  # 退回申请中
    returned = "returned"  # 已退回
    closed = "closed"  # 已办结/已关闭


class Gender(StrEnum):
    """诉求人性别."""

    unknown = "unknown"
    male = "male"
    female = "female"


class Citizen(BaseModel):
    """诉求人/举报人: every field is personal data."""

    name: str | None = Field(default=None, json_schema_extra=PERSONAL)
    phone: str | None = Field(default=None, json_schema_extra=PERSONAL)
    id_number: str | None = Field(default=None, json_schema_extra=PERSONAL)
    email: str | None = Field(default=None, json_schema_extra=PERSONAL)
    address: str | None = Field(default=None, json_schema_extra=PERSONAL)
    gender: Gender = Gender.unknown
    confidential: bool = Field(default=False, description="The citizen asked for 保密")
    anonymous: bool = Field(default=False, description="No identity given (匿名)")


class Respondent(BaseModel):
    """被反映对象: the person or unit complained about."""

    name: str | None = None
    unit: str | None = None
    badge_no: str | None = None
    position: str | None = None


class Region(BaseModel):
    """所属区域."""

    district: str | None = None
    subdistrict: str | None = None
    community: str | None = None


class Attachment(BaseModel):
    """Attachment metadata; the file stays on the platform until fetched."""

    name: str
    url: str | None = None
    mime: str | None = None
    size: int | None = None


class PlatformDeadlines(BaseModel):
    """The deadlines the platform itself sent, if any."""

    sign_by: datetime | None = None
    due_at: datetime | None = None
    time_limit: int | None = None
    time_unit: Literal["working_days", "calendar_days", "hours"] | None = None


class TicketDraft(BaseModel):
    """A ticket as one platform describes it, mapped to our vocabulary (mapper output)."""

    model_config = ConfigDict(frozen=True)

    platform: str
    external_id: str
    source_version: int = Field(description="Platform's order version; updates never go backwards")
    platform_status: str
    appeal_type: AppealType
    urgency: Urgency = Urgency.normal
    level: str | None = Field(default=None, description="案件等级 where the platform grades cases")
    channel: str | None = None
    category: list[str] = Field(default_factory=list)
    title: str
    content: str
    citizen: Citizen = Field(default_factory=Citizen)
    respondent: Respondent | None = None
    region: Region = Field(default_factory=Region)
    address: str | None = None
    address_personal: bool = Field(
        default=False, description="The mapper knows the address is the citizen's own: masked like personal data"
    )
    lng: float | None = None
    lat: float | None = None
    attachments: list[Attachment] = Field(default_factory=list)
    accepted_at: datetime | None = None
    issued_at: datetime = Field(description="When the platform issued it to us; starts the sign-off clock")
    deadlines: PlatformDeadlines = Field(default_factory=PlatformDeadlines)
    needs_callback: bool = False
    parent_external_id: str | None = None
    status_hint: TicketStatus | None = Field(
        default=None, description="What the platform's status means for our lifecycle (closed, returned…)"
    )
    extra: dict[str, Any] = Field(default_factory=dict, description="Platform fields with no internal home")


class NoticeKind(StrEnum):
    """Platform notices about a ticket that are not a full snapshot."""

    urged = "urged"  # 催办
    supervised = "supervised"  # 督办
    reply_rejected = "reply_rejected"  # 审核退回
    extension_decided = "extension_decided"  # 延期审批结果
    return_decided = "return_decided"  # 退回审批结果
    callback = "callback"  # 回访结果
    reopened = "reopened"  # 重办
    rated = "rated"  # 评价


class TicketNotice(BaseModel):
    """A notice about a ticket (mapper output), applied after the ticket exists."""

    model_config = ConfigDict(frozen=True)

    platform: str
    external_id: str
    kind: NoticeKind
    occurred_at: datetime
    data: dict[str, Any] = Field(default_factory=dict)


MappedEvent = TicketDraft | TicketNotice


class OutboundAction(StrEnum):
    """Write-backs to a platform (DESIGN.md API: ``outbound.action``)."""

    sign = "sign"
    contact = "contact"
    return_ = "return"
    extension = "extension"
    progress = "progress"
    reply = "reply"
    report = "report"
    transfer = "transfer"


class OutboundState(StrEnum):
    """Delivery state of one outbox row."""

    pending = "pending"
    in_flight = "in_flight"
    retry = "retry"
    unknown = "unknown"
    sent = "sent"
    dead = "dead"


class Truthfulness(StrEnum):
    """是否属实."""

    true = "属实"
    partly = "部分属实"
    false = "不属实"
    unverifiable = "无法核实"


class Resolution(StrEnum):
    """办理结果."""

    resolved = "已解决"
    partly = "部分解决"
    unresolved = "未解决"


class ReplyDraft(BaseModel):
    """A reply with the four parts the regulations require (002 §4(5)), and what some platforms add.

    Nothing here defaults to a statement in the bureau's name: a platform that needs a part (12345
    ``resolved``; 12389 ``responsibility`` and ``rectification``, 001 四(四)) gets it from the person who
    drafts, or the draft is refused (``gateway.services.replies``). What the leader approves is what goes out.
    """

    is_true: Truthfulness = Field(description="是否属实")
    investigation: str = Field(min_length=5, max_length=4000, description="调查情况")
    disposition: str = Field(min_length=2, max_length=4000, description="处置结果")
    citizen_opinion: str = Field(min_length=2, max_length=1000, description="反映人意见")
    resolved: Resolution | None = Field(default=None, description="办理结果 (required by 12345)")
    contacted: bool | None = Field(
        default=None, description="Whether the citizen was contacted; unset = whether 先行联系 was recorded"
    )
    contacted_at: datetime | None = None
    public_reply: str = Field(
        default="", max_length=4000,
        description="Text the citizen will read; unset = the 处置结果, written into the draft before approval",
    )
    responsibility: str | None = Field(
        default=None, max_length=2000, description="责任认定 (12389 核查报告, required there: 001 四(四))"
    )
    rectification: str | None = Field(
        default=None, max_length=2000, description="整改情况 (12389 核查报告, required there: 001 四(四))"
    )
    attachments: list[Attachment] = Field(default_factory=list)


# Internal write-back payloads, as stored on outbox rows (JSON). Mappers turn them into each
# platform's body at send time, so a mapping fix applies to rows still waiting to go out.


class SignPayload(BaseModel):
    """签收."""

    operator: str
    signed_at: datetime


class ContactPayload(BaseModel):
    """先行联系 / 响应."""

    contacted_at: datetime
    contact_phone: str = ""
    note: str = ""


class ReturnPayload(BaseModel):
    """退回 / 转办 with a reason."""

    reason: str = Field(min_length=2)
    target: str | None = None  # mailbox transfer target: 信访 | 其他单位
    attachments: list[Attachment] = Field(default_factory=list)


class ExtensionPayload(BaseModel):
    """延期申请."""

    days: int = Field(ge=1, le=5)
    reason: str = Field(min_length=2)


class ProgressPayload(BaseModel):
    """阶段反馈."""

    note: str = Field(min_length=1)


class ReplyPayload(ReplyDraft):
    """办结反馈: the approved draft plus who approved it."""

    approved_by: str
    approved_at: datetime
    unit: str | None = None
