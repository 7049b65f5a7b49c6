"""12389 inbound: a case snapshot -> ``TicketDraft``; a reporter's evaluation -> ``TicketNotice(rated)``.

Both payloads are the adapter's envelope ``<snapshot observed="ISO+08:00" version="N"><case>…</case>
</snapshot>``: 12389 cases carry no version and no update time, so ``version`` (the adapter's read
time, strictly increasing per case) is the ``source_version`` that keeps updates from going back.

Confidentiality (RULES.md §5, 001): the reporter (jbr) goes into ``Citizen`` only, always marked
confidential; no error names a reporter's value. The query code ``cxm`` is the reporter's key to the
case on the platform's public site, so it is not copied anywhere (it stays in the raw inbox row).
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from typing import Any

from gateway.errors import MappingError
from gateway.schema import (
    Attachment,
    Citizen,
    MappedEvent,
    NoticeKind,
    PlatformDeadlines,
    Respondent,
    TicketDraft,
    TicketNotice,
)
from mappers.base import lookup_enum
from mappers.p12389.tables import (
    APPEAL_TYPES,
    CHANNELS,
    EVALUATIONS,
    FLAGS,
    KEY,
    LEVELS,
    MAX_CONTENT,
    RATED,
    REPORTER_FIELDS,
    RESPONDENT_FIELDS,
    SNAPSHOT,
    STATUS_HINTS,
    STATUSES,
)
from mappers.p12389.xmlread import (
    REDACTED,
    aware_time,
    element,
    end_of_day,
    leaf,
    load,
    local_time,
    optional_text,
    text,
)


def map_inbound(event_type: str, payload: str) -> MappedEvent:
    """Map one inbox payload of the given event type."""
    if event_type not in (SNAPSHOT, RATED):
        raise MappingError("unknown event_type", field="event_type", value=event_type)
    root = load(payload)
    if root.tag != "snapshot":
        raise MappingError("payload is not a <snapshot> envelope", field="payload", value=root.tag)
    case = element(root, "case")
    if event_type == RATED:
        return _rated(root, case)
    return _case(case, _version(root))


def _version(root: ET.Element) -> int:
    value = root.get("version", "")
    if not value.isascii() or not value.isdigit():
        raise MappingError("envelope version is not a whole number", field="@version", value=value)
    return int(value)


def _rated(root: ET.Element, case: ET.Element) -> TicketNotice:
    fkpj = text(case, "fkpj")
    return TicketNotice(
        platform=KEY,
        external_id=text(case, "jbbh"),
        kind=NoticeKind.rated,
        occurred_at=aware_time(root.get("observed"), "@observed"),
        data={"satisfaction": lookup_enum(EVALUATIONS, fkpj, "fkpj"), "fkpj": fkpj},
    )


def _case(case: ET.Element, version: int) -> TicketDraft:
    jbbh = text(case, "jbbh")
    sxlb = text(case, "sxlb")
    content = text(case, "jbnr")
    if len(content) > MAX_CONTENT:
        raise MappingError(f"longer than {MAX_CONTENT} chars", field="jbnr", value=len(content))
    status = lookup_enum(STATUSES, text(case, "zt"), "zt")
    real_name = lookup_enum(FLAGS, text(case, "sfsm"), "sfsm")
    unit = text(case, "bjbdw", empty_ok=True) or None
    fkpj = optional_text(case, "fkpj")
    if fkpj is not None:
        lookup_enum(EVALUATIONS, fkpj, "fkpj")
    reporter = _reporter(case.find("jbr"), anonymous=not real_name)
    place = text(case, "fsdd", empty_ok=True) or None
    return TicketDraft(
        platform=KEY,
        external_id=jbbh,
        source_version=version,
        platform_status=status,
        status_hint=STATUS_HINTS.get(status),
        appeal_type=lookup_enum(APPEAL_TYPES, sxlb, "sxlb"),
        level=lookup_enum(LEVELS, text(case, "ajdj"), "ajdj"),
        channel=lookup_enum(CHANNELS, text(case, "jbfs"), "jbfs"),
        # 12389 cases have no title: the kind of matter and the unit complained about say what it is
        # without quoting the complaint (which may name the reporter).
        title=f"{sxlb}：{unit or jbbh}",
        content=content,
        citizen=reporter,
        respondent=_respondent(case, unit),
        address=place,
        address_personal=_is_reporters(place, reporter.address),
        attachments=_attachments(case),
        accepted_at=local_time(text(case, "slsj"), "slsj"),
        issued_at=local_time(text(case, "xfsj"), "xfsj"),
        deadlines=PlatformDeadlines(due_at=end_of_day(text(case, "blqx"), "blqx")),
        extra=_extra(case, fkpj),
    )


def _reporter(jbr: ET.Element | None, *, anonymous: bool) -> Citizen:
    """举报人: personal data, for the supervision role only (``gateway.privacy``); never echoed."""
    values: dict[str, str | None] = {}
    for name, (field, longest) in REPORTER_FIELDS.items():
        child = None if jbr is None else jbr.find(name)
        value = None if child is None else leaf(child, f"jbr/{name}", personal=True)
        if value is not None and len(value) > longest:
            raise MappingError(f"longer than {longest} chars", field=f"jbr/{name}", value=REDACTED)
        values[field] = value or None
    if values["id_number"]:
        values["id_number"] = values["id_number"].upper()  # the check digit X is written either case
    # Every 12389 reporter is protected (001 §5), named or not.
    return Citizen(
        name=values["name"],
        id_number=values["id_number"],
        phone=values["phone"],
        address=values["address"],
        confidential=True,
        anonymous=anonymous,
    )


def _is_reporters(place: str | None, home: str | None) -> bool:
    """事发地点 that is (or is part of) the reporter's own address points at the reporter (001 五)."""
    if not place or not home:
        return False
    spot, residence = _compact(place), _compact(home)
    return bool(spot and residence) and (spot in residence or residence in spot)


def _compact(text_value: str) -> str:
    return "".join(text_value.split())


def _respondent(case: ET.Element, unit: str | None) -> Respondent | None:
    officer = case.find("bjbmj")
    fields: dict[str, str | None] = {}
    if officer is not None:
        fields = {key: optional_text(officer, name, "bjbmj/") for name, key in RESPONDENT_FIELDS.items()}
    if unit is None and not any(fields.values()):
        return None
    return Respondent(unit=unit, name=fields.get("name"), badge_no=fields.get("badge_no"),
                      position=fields.get("position"))


def _attachments(case: ET.Element) -> list[Attachment]:
    result = []
    for index, wj in enumerate(case.findall("fj/wj")):
        here = f"fj/wj[{index}]"
        name = (wj.get("mc") or "").strip()
        if not name:
            raise MappingError("attachment without a name", field=f"{here}@mc")
        result.append(Attachment(name=name, url=wj.get("url") or None, mime=wj.get("lx") or None))
    return result


def _extra(case: ET.Element, fkpj: str | None) -> dict[str, Any]:
    """Platform fields with no home in TicketDraft, times made aware; ``cxm`` deliberately left out."""
    fssj = text(case, "fssj", empty_ok=True)
    reports = []
    for index, bg in enumerate(case.findall("bgs/bg")):
        sj = bg.get("sj")
        reports.append(
            {"wbbh": bg.get("wbbh") or "", "sj": None if not sj else local_time(sj, f"bgs/bg[{index}]@sj").isoformat()}
        )
    return {
        "qszt": lookup_enum(FLAGS, text(case, "qszt"), "qszt"),
        "fssj": local_time(fssj, "fssj").isoformat() if fssj else None,
        "blqx": text(case, "blqx"),
        "bgs": reports,
        "fkpj": fkpj,
    }
