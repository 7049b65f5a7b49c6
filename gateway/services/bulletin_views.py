"""Reading the stored bulletins: the list on the reports page, one bulletin to open, print or download.

Who reads what: duty, leader, supervisor and admin read every weekly, monthly and daily bulletin; a 12389
analysis is for supervision staff and leaders (001 三(五) 警务督察部门…向本级公安机关领导…上报). A unit (unit,
unit head) reads the daily reminders only, and in them its own section only (its tickets, never another
unit's); it gets no workbook, which holds every unit's.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from gateway.errors import Forbidden, NotFound
from gateway.principal import Principal
from gateway.services.bulletin_periods import DAILY, KIND_LABELS
from gateway.services.bulletins import SUPERVISION
from gateway.settings import Role
from gateway.store.tables_sla import AlertDeliveryRecord, BulletinRecord

READERS = (Role.duty, Role.leader, Role.supervisor, Role.admin)
ANALYSTS = (Role.supervisor, Role.leader)


def _may_read(principal: Principal, audience: str, kind: str) -> bool:
    if audience == SUPERVISION:
        return principal.has(*ANALYSTS)
    return principal.has(*READERS) or (kind == DAILY and principal.unit_scope() is not None)


def may_download(principal: Principal, audience: str) -> bool:
    """Whether ``principal`` may have a bulletin's workbook (it holds every unit's figures)."""
    return principal.has(*(ANALYSTS if audience == SUPERVISION else READERS))


def list_bulletins(session: Session, principal: Principal, *, limit: int = 60) -> list[dict[str, Any]]:
    """The newest bulletins ``principal`` may read, with how their deliveries went."""
    stmt = select(BulletinRecord.id, BulletinRecord.kind, BulletinRecord.period, BulletinRecord.title,
                  BulletinRecord.audience, BulletinRecord.generated_at).order_by(BulletinRecord.generated_at.desc(),
                                                                                 BulletinRecord.id.desc())
    if not principal.has(*READERS):
        stmt = stmt.where(BulletinRecord.kind == DAILY)
    if not principal.has(*ANALYSTS):
        stmt = stmt.where(BulletinRecord.audience != SUPERVISION)
    rows = [r for r in session.execute(stmt.limit(limit)) if _may_read(principal, r.audience, r.kind)]
    states: dict[int, list[tuple[str, str]]] = {}
    if rows and principal.has(*READERS):
        for bulletin_id, sink, state in session.execute(
                select(AlertDeliveryRecord.bulletin_id, AlertDeliveryRecord.sink, AlertDeliveryRecord.state)
                .where(AlertDeliveryRecord.bulletin_id.in_([r.id for r in rows])).order_by(AlertDeliveryRecord.id)):
            if bulletin_id is not None:
                states.setdefault(int(bulletin_id), []).append((sink, state))
    return [{"id": r.id, "kind": r.kind, "kind_label": KIND_LABELS.get(r.kind, r.kind), "period": r.period,
             "title": r.title, "generated_at": r.generated_at, "deliveries": states.get(r.id, []),
             "download": may_download(principal, r.audience)} for r in rows]


def get_bulletin(session: Session, principal: Principal, *, bulletin_id: int) -> tuple[BulletinRecord, dict[str, Any]]:
    """The bulletin and the document ``principal`` may see of it (a unit: its own section of a reminder)."""
    record = session.get(BulletinRecord, bulletin_id)
    if record is None:
        raise NotFound("通报不存在")
    if not _may_read(principal, record.audience, record.kind):
        raise Forbidden("无权查看该通报")
    document = dict(record.document)
    if not principal.has(*READERS):  # a unit: its own section, and its own counts
        scope = principal.unit_scope()
        mine = [s for s in document.get("sections", []) if s.get("unit") == scope]
        today = sum(1 for s in mine for row in s["rows"] if row[-1] != "明日到期")
        upcoming = sum(len(s["rows"]) for s in mine) - today
        document["paragraphs"] = [f"{scope}：今日到期（含已超时） {today} 件，下一工作日到期 {upcoming} 件。"]
        document["sections"] = mine or [{"heading": scope, "headers": [], "rows": [], "links": [], "unit": scope,
                                         "empty": "本单位今日及下一工作日无到期工单"}]
    return record, document

