"""日清月结年归档 (000 统一派单 六: 办公室对每件派单及办理结果都要进行认真登记归档，及时提供查询服务，
做到日清月结年归档).

- 日清 (daily clearing): for a day, what came in, what was finished, and what is **still open tonight** with
  its nearest deadline — the office's list for the next morning. Read only; computed on demand.
- 月结 (monthly close): the office seals a month: every finished ticket (replied, closed, returned) issued
  before the month's end and not yet in a batch goes into one immutable batch — the ticket, its timeline,
  reply, write-backs and evidence metadata (each file's SHA-256), each ticket with the SHA-256 of its canonical
  JSON, the batch with the SHA-256 of the whole export. Those tickets get ``archived_at`` and leave the
  working queue (工单列表); they stay readable by id and are found through the archive search. Tickets still
  open are carried over (结转) and listed in the batch's manifest.
- 年归档 (yearly archive): after the year's twelve months are closed, the months' batches are bound into the
  year's archive (one export, checksummed the same way). Nothing is ever updated: a period is sealed once.

Reading chosen (the article gives the rhythm, not the mechanics): a ticket belongs to the month in which
it was sealed, so a matter issued in March and finished in May is in May's batch; the yearly archive is the
union of its months (docs/dashboard.md "日清月结年归档"). Sealing is the office's (duty) — not an approval,
so one person; downloading an export, which holds citizens' data and 12389 reporters, is for supervision
staff (督察) only; the search returns summaries without personal data, scoped like the queue.
"""

from __future__ import annotations

import hashlib
import json
from collections import defaultdict
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from gateway.errors import DomainError
from gateway.principal import Principal
from gateway.schema import SHANGHAI
from gateway.settings import Role
from gateway.store.tables import ArchiveBatchRecord, OutboxRecord, TicketEventRecord, TicketRecord
from gateway.store.tables_dashboard import EvidenceRecord
from gateway.store.tables_sla import SlaTimerRecord
from gateway.store.tickets import add_event
from gateway.store.users import add_audit

ARTICLE = "000 统一派单 六"
FINISHED = ("replied", "closed", "returned")
OPEN_TIMER = ("running", "breached")


def _day(d: date) -> tuple[datetime, datetime]:
    start = datetime.combine(d, time(), tzinfo=SHANGHAI)
    return start, start + timedelta(days=1)


def _iso(value: datetime | None) -> str | None:
    return None if value is None else value.astimezone(SHANGHAI).isoformat()


def _summary(t: TicketRecord) -> dict[str, Any]:
    return {"ticket_id": t.id, "platform": t.platform, "external_id": t.external_id, "title": t.title,
            "unit": t.unit, "status": t.status, "issued_at": _iso(t.issued_at)}


def daily(session: Session, principal: Principal, *, day: date, now: datetime) -> dict[str, Any]:
    """日清: the day's intake, what was finished that day, and every ticket still open at the day's end."""
    scope = principal.unit_scope()
    if not 2000 <= day.year <= 2999:
        raise DomainError("日期超出范围", code="invalid_day", status=422)
    lo, hi = _day(day)

    def scoped(stmt: Any) -> Any:
        return stmt if scope is None else stmt.where(TicketRecord.unit == scope)

    received = session.scalars(scoped(select(TicketRecord).where(
        TicketRecord.issued_at >= lo, TicketRecord.issued_at < hi)).order_by(TicketRecord.id)).all()
    finished = session.scalars(scoped(select(TicketRecord).where(
        or_(TicketRecord.replied_at.between(lo, hi), TicketRecord.terminated_at.between(lo, hi)),
    )).order_by(TicketRecord.id)).all()
    still_open = session.scalars(scoped(select(TicketRecord).where(
        TicketRecord.issued_at < hi, TicketRecord.status.not_in(FINISHED))).order_by(TicketRecord.id).limit(1000)).all()
    due: dict[int, datetime] = {}
    if still_open:
        for timer in session.scalars(select(SlaTimerRecord).where(
                SlaTimerRecord.ticket_id.in_([t.id for t in still_open]), SlaTimerRecord.met_at.is_(None),
                SlaTimerRecord.state.in_(OPEN_TIMER))):
            if timer.ticket_id not in due or timer.due_at < due[timer.ticket_id]:
                due[timer.ticket_id] = timer.due_at
    horizon = hi if hi <= now else now
    return {
        "day": day.isoformat(), "article": ARTICLE,
        "received": [_summary(t) for t in received],
        "finished": [_summary(t) for t in finished],
        "open": [{**_summary(t), "next_due_at": _iso(due.get(t.id)),
                  "overdue": t.id in due and due[t.id] < horizon} for t in still_open],
    }


def _canonical(data: Any) -> str:
    return json.dumps(data, ensure_ascii=False, sort_keys=True, separators=(",", ":"), default=str)


def _sha(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def ticket_records(session: Session, tickets: list[TicketRecord]) -> list[dict[str, Any]]:
    """Everything the archive keeps of each ticket (the system of record: data as stored, unmasked), loaded
    with one query per kind and chunk rather than per ticket."""
    ids = [t.id for t in tickets]
    events: dict[int, list[TicketEventRecord]] = defaultdict(list)
    writebacks: dict[int, list[OutboxRecord]] = defaultdict(list)
    files: dict[int, list[EvidenceRecord]] = defaultdict(list)
    for start in range(0, len(ids), 500):
        chunk = ids[start:start + 500]
        for e in session.scalars(select(TicketEventRecord).where(TicketEventRecord.ticket_id.in_(chunk))
                                 .order_by(TicketEventRecord.id)):
            events[e.ticket_id].append(e)
        for o in session.scalars(select(OutboxRecord).where(OutboxRecord.ticket_id.in_(chunk))
                                 .order_by(OutboxRecord.id)):
            writebacks[o.ticket_id].append(o)
        for f in session.scalars(select(EvidenceRecord).where(EvidenceRecord.ticket_id.in_(chunk))
                                 .order_by(EvidenceRecord.id)):
            files[f.ticket_id].append(f)
    attrs = [(attr.columns[0].name, attr.key) for attr in TicketRecord.__mapper__.column_attrs]
    out = []
    for ticket in tickets:
        fields = {name: (_iso(v) if isinstance(v, datetime) else v) for name, key in attrs
                  if name not in ("version", "archived_at") for v in [getattr(ticket, key)]}
        out.append({
            "ticket": fields,
            "timeline": [{"at": _iso(e.at), "actor": e.actor, "kind": e.kind, "detail": e.detail}
                         for e in events[ticket.id]],
            "writebacks": [{"action": o.action, "state": o.state, "request_id": o.request_id,
                            "receipt_id": o.receipt_id, "created_by": o.created_by, "sent_at": _iso(o.sent_at),
                            "payload": o.payload} for o in writebacks[ticket.id]],
            "evidence": [{"id": e.id, "name": e.name, "type": e.kind, "size": e.size, "sha256": e.sha256,
                          "stored_as": e.stored_as, "uploaded_by": e.uploaded_by, "uploaded_at": _iso(e.uploaded_at)}
                         for e in files[ticket.id]],
        })
    return out


def _seal(session: Session, *, period: str, key: str, principal: Principal, now: datetime,
          items: list[dict[str, Any]], **manifest: Any) -> ArchiveBatchRecord:
    if session.scalars(select(ArchiveBatchRecord.id).where(ArchiveBatchRecord.period == period,
                                                           ArchiveBatchRecord.key == key)).first() is not None:
        raise DomainError(f"{key} 已封存，不能重复归档", code="already_sealed")
    checksums = {str(item["ticket"]["id"]): _sha(_canonical(item)) for item in items}
    content = _canonical({"period": period, "key": key, "article": ARTICLE, "sealed_at": _iso(now),
                          "sealed_by": principal.name, "tickets": items, "checksums": checksums})
    record = ArchiveBatchRecord(period=period, key=key, created_by=principal.name, created_at=now,
                                ticket_count=len(items), sha256=_sha(content),
                                manifest={"checksums": checksums, **manifest}, content=content)
    session.add(record)
    session.flush()
    add_audit(session, actor=principal.name, action="archive_sealed", now=now, target=f"{period}:{key}",
              batch_id=record.id, tickets=len(items), sha256=record.sha256)
    return record


def batch_view(record: ArchiveBatchRecord) -> dict[str, Any]:
    """One sealed batch as listed (no content)."""
    carried = record.manifest.get("carried_over") or []
    return {"id": record.id, "period": record.period, "key": record.key, "ticket_count": record.ticket_count,
            "sha256": record.sha256, "created_by": record.created_by, "created_at": _iso(record.created_at),
            "carried_over": len(carried), "intact": verify(record)}


def list_batches(session: Session) -> list[ArchiveBatchRecord]:
    """Every sealed batch, newest first."""
    return list(session.scalars(select(ArchiveBatchRecord).order_by(ArchiveBatchRecord.id.desc()).limit(500)))


def export(session: Session, *, principal: Principal, batch_id: int, now: datetime) -> ArchiveBatchRecord:
    """The sealed export itself — citizens' data and 12389 reporters included, so 督察 only; audited."""
    principal.require(Role.supervisor, action="下载归档数据")
    record = session.get(ArchiveBatchRecord, batch_id)
    if record is None:
        from gateway.errors import NotFound

        raise NotFound("归档批次不存在")
    add_audit(session, actor=principal.name, action="archive_exported", now=now, target=f"{record.period}:{record.key}",
              batch_id=record.id)
    return record


def close_month(session: Session, *, principal: Principal, month: str, now: datetime) -> ArchiveBatchRecord:
    """月结: seal the month's finished tickets; they leave the working queue. Only after the month has ended."""
    principal.require(Role.duty, action="月结归档")
    try:
        first = date.fromisoformat(f"{month}-01")
    except ValueError:
        raise DomainError("月份格式为 YYYY-MM", code="invalid_month", status=422) from None
    if not 2000 <= first.year <= 2999:
        raise DomainError("月份超出范围", code="invalid_month", status=422)
    end = (first.replace(day=28) + timedelta(days=4)).replace(day=1)
    end_at = datetime.combine(end, time(), tzinfo=SHANGHAI)
    if now < end_at:
        raise DomainError("当月尚未结束，不能月结", code="too_early", status=422)
    tickets = list(session.scalars(select(TicketRecord).where(
        TicketRecord.issued_at < end_at, TicketRecord.status.in_(FINISHED), TicketRecord.archived_at.is_(None),
    ).order_by(TicketRecord.id).with_for_update()))
    carried = list(session.scalars(select(TicketRecord.id).where(
        TicketRecord.issued_at < end_at, TicketRecord.status.not_in(FINISHED))))
    items = ticket_records(session, tickets)
    record = _seal(session, period="month", key=month, principal=principal, now=now, items=items,
                   carried_over=carried)
    for ticket in tickets:
        ticket.archived_at = now
        add_event(session, ticket=ticket, actor=principal.name, kind="archived", at=now, period="month", key=month,
                  batch_id=record.id)
    return record


def archive_year(session: Session, *, principal: Principal, year: int, now: datetime) -> ArchiveBatchRecord:
    """年归档: bind the year's twelve sealed months into one archive; refused while a month is not closed."""
    principal.require(Role.duty, action="年度归档")
    months = {r.key: r for r in session.scalars(select(ArchiveBatchRecord).where(
        ArchiveBatchRecord.period == "month", ArchiveBatchRecord.key.like(f"{year:04d}-%")))}
    missing = [f"{year:04d}-{m:02d}" for m in range(1, 13) if f"{year:04d}-{m:02d}" not in months]
    if missing:
        raise DomainError(f"以下月份尚未月结：{'、'.join(missing)}", code="months_open",
                          status=422)
    items: list[dict[str, Any]] = []
    for key in sorted(months):
        batch = months[key]
        if _sha(batch.content) != batch.sha256:
            raise DomainError(f"{key} 月结数据校验失败", code="checksum_mismatch", status=409)
        items.extend(json.loads(batch.content)["tickets"])
    return _seal(session, period="year", key=f"{year:04d}", principal=principal, now=now, items=items,
                 months={k: months[k].sha256 for k in sorted(months)})


def verify(record: ArchiveBatchRecord) -> bool:
    """Whether the export and every ticket in it still match their checksums."""
    if _sha(record.content) != record.sha256:
        return False
    data = json.loads(record.content)
    return all(_sha(_canonical(item)) == data["checksums"].get(str(item["ticket"]["id"])) for item in data["tickets"])


def search(session: Session, principal: Principal, *, q: str = "", key: str = "", limit: int = 100
           ) -> list[dict[str, Any]]:
    """查询服务: archived tickets by text (title, content, platform number) and period; summaries only."""
    scope = principal.unit_scope()
    stmt = select(ArchiveBatchRecord).order_by(ArchiveBatchRecord.id)
    stmt = stmt.where(ArchiveBatchRecord.period == "month")  # every ticket is in exactly one month
    if key:
        stmt = stmt.where(ArchiveBatchRecord.key.like(f"{key}%"))
    found: list[dict[str, Any]] = []
    for batch in session.scalars(stmt):
        data = json.loads(batch.content)
        for item in data["tickets"]:
            t = item["ticket"]
            if scope is not None and t.get("unit") != scope:
                continue
            if q and q not in str(t.get("title") or "") and q not in str(t.get("content") or "") \
                    and q != t.get("external_id"):
                continue
            found.append({"ticket_id": t["id"], "platform": t["platform"], "external_id": t["external_id"],
                          "title": t["title"], "unit": t.get("unit"), "status": t["status"],
                          "issued_at": t.get("issued_at"), "batch": batch.key, "batch_id": batch.id,
                          "sha256": data["checksums"].get(str(t["id"]))})
            if len(found) >= limit:
                return found
    return found
