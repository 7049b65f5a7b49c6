"""问责 (accountability records), 000 责任追究制度 and 001 四(五), counted in the unit's yearly assessment (002 四(二):
旗局已将工单办理纳入部门实绩考核).

- A record holds one or more **measures** (``MEASURES``) on a unit, or on a named person of it, for one **cause**
  (``CAUSES``), linked to the ticket(s) that caused it, with the facts as supervision wrote them:
  000 责任追究制度 三: 超期办理、超期未办理、退回重办、群众重复投诉的，分别视情给予全市通报批评，
  并在年度绩效考核中扣除相应分值;
  四: 推诿扯皮、敷衍塞责、态度蛮横…造成群众不满意的…对责任领导、责任民警进行批评教育；
  对存在违法违纪行为的，移交纪检监察部门;
  五: 对于虚假回复…对责任单位、以及具办人、审核人及相关责任人进行通报批评、约谈；情节严重的，给予党政纪律处分;
  000 不满意件甄别 三(一): 因前三类原因造成不满意的，查实后…批评教育 (a screening that found the unit at fault);
  001 四(五): 执法过错…停止执行职务、禁闭…纪律处分或者降低警衔、取消警衔…提出具体建议移送有关部门…
  涉嫌犯罪的，移送司法机关;
  001 五: 推诿扯皮、故意拖延…泄露举报投诉人信息…对相关责任单位或者个人追究责任; 004 二: 启动问责约谈机制.
- **Who**: supervision staff (督察, ``supervisor``) propose (001 四(五): 督察部门…提出具体建议); a leader other than
  the proposer — and other than the person it falls on — approves or rejects it (四眼原则). Only approved
  records count (yearly figures, the export).
- **Suggestions**: the gateway lists candidates — tickets with a missed deadline, screened as the unit's fault,
  sent back to be done again, repeated complaints — for supervision to judge; it never records a measure itself.
- The causes the gateway can check on the ticket (a missed deadline, a 重办/退回, a repeated complaint, a screening
  at fault) are checked when proposed; 虚假回复, 推诿扯皮 and misconduct are supervision's finding.
- A 12389 reporter (001 五: 不得…泄露举报投诉人信息) never appears here: the linked tickets are shown without the
  citizen, and facts naming the reporter of a linked 12389 ticket are refused.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session

from gateway.errors import DomainError, Forbidden, NotFound
from gateway.principal import Principal
from gateway.privacy import supervision_only
from gateway.schema import SHANGHAI
from gateway.services.reports import period_bounds, timer_outcome
from gateway.settings import Role
from gateway.store.tables import TicketEventRecord, TicketRecord
from gateway.store.tables_dashboard import AccountabilityRecord, AccountabilityTicketRecord
from gateway.store.tables_sla import SlaTimerRecord
from gateway.store.tickets import add_event
from gateway.store.units import check_unit
from gateway.store.users import add_audit

ARTICLE = "000 责任追究制度"
ASSESSMENT = "002 四(二)"  # 旗局已将工单办理纳入部门实绩考核
# cause -> (中文, article)
CAUSES: dict[str, tuple[str, str]] = {
    "overdue": ("超期办理", "000 责任追究制度 三"),
    "overdue_open": ("超期未办理", "000 责任追究制度 三"),
    "sent_back": ("退回重办", "000 责任追究制度 三"),
    "repeat": ("群众重复投诉", "000 责任追究制度 三"),
    "shirking": ("推诿扯皮、敷衍塞责、态度蛮横造成群众不满意", "000 责任追究制度 四"),
    "false_reply": ("虚假回复", "000 责任追究制度 五"),
    "screening": ("不满意件甄别查实（前三类原因）", "000 不满意件甄别及跟踪制度 三(一)"),
    "misconduct": ("执法过错、违法违纪", "001 四(五)"),
    "discipline": ("违反工作纪律（推诿拖延、泄露举报投诉人信息等）", "001 五"),
}
# measure -> (中文, article, falls on a person only)
MEASURES: dict[str, tuple[str, str, bool]] = {
    "circular": ("通报批评", "000 责任追究制度 三、五", False),
    "deduction": ("年度绩效考核扣分", "000 责任追究制度 三", False),
    "talk": ("约谈", "000 责任追究制度 五；004 二", False),
    "education": ("批评教育", "000 责任追究制度 四；000 不满意件甄别 三(一)", True),
    "party_discipline": ("党政纪律处分", "000 责任追究制度 五", True),
    "to_discipline_body": ("移交纪检监察部门", "000 责任追究制度 四", True),
    "suspend_duty": ("停止执行职务", "001 四(五)", True),
    "confinement": ("禁闭", "001 四(五)", True),
    "rank_proposal": ("建议纪律处分或降低、取消警衔", "001 四(五)", True),
    "to_judiciary": ("移送司法机关", "001 四(五)", True),
}
PERSON_ROLES: dict[str, str] = {"chief": "主要负责人", "leader": "责任领导", "handler": "具办人", "reviewer": "审核人",
                                "officer": "责任民警", "other": "相关责任人"}
STATES: dict[str, str] = {"proposed": "待审批", "approved": "已批准", "rejected": "已驳回"}
READERS = (Role.supervisor, Role.leader, Role.duty, Role.unit, Role.unit_head)
MAX_POINTS = 100.0
MIN_SEND_BACKS = 2  # internal send-backs (部门负责人/领导退回修改) that make a ticket a 反复返工 candidate
LIMIT = 200
SEND_BACK_EVENTS = ("reply_sent_back", "reply_review_sent_back")
ANSWERED = ("replied", "closed", "returned")


def _clean(value: str | None) -> str:
    return (value or "").strip()


def _reader(principal: Principal) -> str | None:
    """The unit this caller is limited to (None: every unit); admin and the role-less read nothing."""
    principal.require(*READERS, action="查看问责记录")
    return principal.unit_scope()


def ticket_facts(session: Session, ticket_ids: Sequence[int], now: datetime) -> dict[int, dict[str, Any]]:
    """What the gateway can check of each ticket: missed deadlines, 重办/退回, repeat complaints, the screening."""
    ids = list(ticket_ids)
    out: dict[int, dict[str, Any]] = {
        i: {"late": False, "late_open": False, "reopened": 0, "send_backs": 0, "repeat": False, "fault": False}
        for i in ids}
    if not ids:
        return out
    for timer in session.scalars(select(SlaTimerRecord).where(SlaTimerRecord.ticket_id.in_(ids))):
        if timer_outcome(timer, now) == "late":
            out[timer.ticket_id]["late"] = True
            out[timer.ticket_id]["late_open"] |= timer.met_at is None and timer.state in ("running", "breached")
    for event in session.scalars(select(TicketEventRecord).where(
            TicketEventRecord.ticket_id.in_(ids),
            TicketEventRecord.kind.in_(("reopened", "repeat_complaint", *SEND_BACK_EVENTS)))):
        facts = out[event.ticket_id]
        if event.kind == "reopened":
            facts["reopened"] += 1
        elif event.kind == "repeat_complaint":
            facts["repeat"] |= int(event.detail.get("with_ticket") or 0) < event.ticket_id
        else:
            facts["send_backs"] += 1
    for tid, screening in session.execute(select(TicketRecord.id, TicketRecord.screening).where(
            TicketRecord.id.in_(ids))):
        out[tid]["fault"] = bool((screening or {}).get("tracking"))  # classes 1–3, signed by the leader
    return out


def _shown(facts: dict[str, Any], cause: str) -> bool:
    """Whether the ticket bears out a cause the gateway can check (the others are supervision's finding)."""
    if cause in ("overdue", "overdue_open"):
        return bool(facts["late"])
    if cause == "sent_back":
        return bool(facts["reopened"] or facts["send_backs"])
    if cause == "repeat":
        return bool(facts["repeat"])
    if cause == "screening":
        return bool(facts["fault"])
    return True


def _reporter_named(tickets: Sequence[TicketRecord], *texts: str) -> bool:
    """Whether any text names the reporter of a linked 12389 ticket (001 五)."""
    for ticket in tickets:
        if not supervision_only(ticket.platform):
            continue
        for key in ("name", "phone", "id_number", "email", "address"):
            value = str((ticket.citizen or {}).get(key) or "").strip()
            if len(value) >= 2 and any(value in text for text in texts):
                return True
    return False


def propose(
    session: Session, *, principal: Principal, now: datetime, unit: str, cause: str, measures: Sequence[str],
    facts: str, ticket_ids: Sequence[int], person: str = "", person_role: str = "", points: float = 0.0,
    year: int | None = None,
) -> AccountabilityRecord:
    """督察 proposes a measure (001 四(五): 督察部门…提出具体建议); it waits for a leader and counts only then."""
    principal.require(Role.supervisor, action="提出问责建议")
    unit, person, facts = _clean(unit), _clean(person), _clean(facts)
    if not unit:
        raise DomainError("须写明责任单位", code="unit_required", status=422)
    check_unit(session, name=unit)
    if cause not in CAUSES:
        raise DomainError(f"问责事由须为{'、'.join(c[0] for c in CAUSES.values())}之一",
                          code="invalid_cause", status=422)
    chosen = list(dict.fromkeys(measures))
    if not chosen or any(m not in MEASURES for m in chosen):
        raise DomainError(f"须选择问责措施：{'、'.join(m[0] for m in MEASURES.values())}",
                          code="invalid_measure", status=422)
    personal = [MEASURES[m][0] for m in chosen if MEASURES[m][2]]
    if personal and not person:
        raise DomainError(f"“{'、'.join(personal)}”须写明责任人",
                          code="person_required", status=422)
    if person and person_role not in PERSON_ROLES:
        raise DomainError(f"责任人身份须为{'、'.join(PERSON_ROLES.values())}之一",
                          code="invalid_person_role", status=422)
    if ("deduction" in chosen) != (points > 0) or not 0 <= points <= MAX_POINTS:
        raise DomainError(f"扣分须在0至{MAX_POINTS:g}分之间，且仅在选择“年度绩效考核扣分”时填写（000 责任追究制度 三）"
                          "(points go with the deduction, 0 < points ≤ 100)", code="invalid_points", status=422)
    year = year or now.astimezone(SHANGHAI).year
    if not 2000 <= year <= 2999:
        raise DomainError("考核年度无效", code="invalid_year", status=422)
    if len(facts) < 10:
        raise DomainError("须写明问责事实（不少于10字）", code="facts_required", status=422)
    ids = sorted({int(i) for i in ticket_ids})
    if not ids or len(ids) > 50:
        raise DomainError("须关联引起问责的工单（1至50件）", code="tickets_required", status=422)
    tickets = list(session.scalars(select(TicketRecord).where(TicketRecord.id.in_(ids))
                                   .order_by(TicketRecord.id).with_for_update()))
    if len(tickets) != len(ids):
        missing = sorted(set(ids) - {t.id for t in tickets})
        raise DomainError(f"工单不存在：{missing}", code="tickets_not_found", status=422)
    others = [t.id for t in tickets if t.unit != unit]
    if others:
        raise DomainError(f"工单{others}不是“{unit}”承办的", code="tickets_of_other_unit",
                          status=422)
    checked = ticket_facts(session, ids, now)
    unfounded = [tid for tid in ids if not _shown(checked[tid], cause)]
    if unfounded:
        raise DomainError(f"工单{unfounded}没有“{CAUSES[cause][0]}”的记录（{CAUSES[cause][1]}）",
                          code="cause_not_shown", status=422)
    if _reporter_named(tickets, facts, person):
        raise DomainError("问责事实不得写入举报投诉人信息（001 五）",
                          code="reporter_named", status=422)
    record = AccountabilityRecord(
        unit=unit, person=person or None, person_role=person_role if person else None, cause=cause,
        measures=chosen, points=round(float(points), 2) if "deduction" in chosen else 0.0, year=year, facts=facts,
        state="proposed", proposed_by=principal.name, proposed_at=now)
    session.add(record)
    session.flush()
    session.add_all([AccountabilityTicketRecord(accountability_id=record.id, ticket_id=tid) for tid in ids])
    _trail(session, record, tickets, principal, now, "accountability_proposed")
    return record


def _trail(session: Session, record: AccountabilityRecord, tickets: Sequence[TicketRecord], principal: Principal,
           now: datetime, kind: str, **extra: Any) -> None:
    """Each linked ticket's timeline (no person named there) and the audit log (with the person)."""
    summary = {"accountability_id": record.id, "cause": record.cause, "cause_label": CAUSES[record.cause][0],
               "measures": [MEASURES[m][0] for m in record.measures], "points": record.points, "year": record.year,
               "article": CAUSES[record.cause][1]}
    for ticket in tickets:
        add_event(session, ticket=ticket, actor=principal.name, kind=kind, at=now, **summary, **extra)
    detail: dict[str, Any] = {**summary, **extra, "unit": record.unit, "person": record.person,
                              "tickets": [t.id for t in tickets]}
    add_audit(session, actor=principal.name, action=kind, now=now, target=f"accountability:{record.id}", **detail)


def _pending(session: Session, record_id: int) -> tuple[AccountabilityRecord, list[TicketRecord]]:
    record = session.get(AccountabilityRecord, record_id, with_for_update=True)
    if record is None:
        raise NotFound("问责记录不存在")
    if record.state != "proposed":
        raise DomainError(f"该问责建议已{STATES.get(record.state, record.state)}",
                          code="invalid_state")
    return record, linked_tickets(session, record.id)


def _other_leader(principal: Principal, record: AccountabilityRecord, action: str) -> None:
    principal.require(Role.leader, action=action)
    if principal.name == record.proposed_by:
        raise Forbidden("不能审批本人提出的问责建议（四眼原则）")
    if record.person and principal.name == record.person:
        raise Forbidden("不能审批对本人的问责（回避）")


def approve(session: Session, *, principal: Principal, now: datetime, record_id: int,
            note: str = "") -> AccountabilityRecord:
    """A leader other than the proposer approves: from now on it counts (全市通报, 年度绩效考核)."""
    record, tickets = _pending(session, record_id)
    _other_leader(principal, record, "审批问责建议")
    record.state, record.decided_by, record.decided_at = "approved", principal.name, now
    record.decision_note = _clean(note) or None
    _trail(session, record, tickets, principal, now, "accountability_approved", proposed_by=record.proposed_by)
    return record


def reject(session: Session, *, principal: Principal, now: datetime, record_id: int,
           reason: str) -> AccountabilityRecord:
    """A leader other than the proposer rejects, with the reason; nothing counts."""
    record, tickets = _pending(session, record_id)
    _other_leader(principal, record, "驳回问责建议")
    if len(_clean(reason)) < 2:
        raise DomainError("须写明驳回理由", code="reason_required", status=422)
    record.state, record.decided_by, record.decided_at = "rejected", principal.name, now
    record.decision_note = _clean(reason)
    _trail(session, record, tickets, principal, now, "accountability_rejected", reason=record.decision_note)
    return record


def linked_tickets(session: Session, record_id: int) -> list[TicketRecord]:
    """The tickets that caused a record, oldest first."""
    return list(session.scalars(select(TicketRecord).join(
        AccountabilityTicketRecord, AccountabilityTicketRecord.ticket_id == TicketRecord.id).where(
        AccountabilityTicketRecord.accountability_id == record_id).order_by(TicketRecord.id)))


def _ticket_row(ticket: TicketRecord) -> dict[str, Any]:
    """A linked ticket without its citizen: never a 12389 reporter (001 五), nor anyone else's data."""
    return {"ticket_id": ticket.id, "platform": ticket.platform, "external_id": ticket.external_id,
            "title": ticket.title, "unit": ticket.unit, "status": ticket.status}


def _when(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat()


def view(record: AccountabilityRecord, tickets: Sequence[TicketRecord]) -> dict[str, Any]:
    """One record as the API and the page show it."""
    return {
        "id": record.id, "unit": record.unit, "person": record.person, "person_role": record.person_role,
        "person_role_label": PERSON_ROLES.get(record.person_role or ""), "cause": record.cause,
        "cause_label": CAUSES[record.cause][0], "article": CAUSES[record.cause][1],
        "measures": list(record.measures), "measure_labels": [MEASURES[m][0] for m in record.measures],
        "points": record.points, "year": record.year, "facts": record.facts, "state": record.state,
        "state_label": STATES[record.state], "proposed_by": record.proposed_by,
        "proposed_at": _when(record.proposed_at), "decided_by": record.decided_by,
        "decided_at": _when(record.decided_at), "decision_note": record.decision_note,
        "tickets": [_ticket_row(t) for t in tickets],
    }


def list_records(session: Session, principal: Principal, *, unit: str = "", year: int | None = None,
                 state: str = "", ticket_id: int | None = None) -> list[dict[str, Any]]:
    """Records newest first, filtered; a unit reads its own approved records only (not proposals)."""
    scope = _reader(principal)
    stmt = select(AccountabilityRecord)
    if scope is not None:
        stmt = stmt.where(AccountabilityRecord.unit == scope, AccountabilityRecord.state == "approved")
    if unit:
        stmt = stmt.where(AccountabilityRecord.unit == unit)
    if year:
        stmt = stmt.where(AccountabilityRecord.year == year)
    if state:
        stmt = stmt.where(AccountabilityRecord.state == state)
    if ticket_id is not None:
        stmt = stmt.where(AccountabilityRecord.id.in_(select(AccountabilityTicketRecord.accountability_id).where(
            AccountabilityTicketRecord.ticket_id == ticket_id)))
    records = list(session.scalars(stmt.order_by(AccountabilityRecord.id.desc()).limit(LIMIT)))
    links: dict[int, list[TicketRecord]] = defaultdict(list)
    if records:
        for link, ticket in session.execute(select(AccountabilityTicketRecord, TicketRecord).join(
                TicketRecord, TicketRecord.id == AccountabilityTicketRecord.ticket_id).where(
                AccountabilityTicketRecord.accountability_id.in_([r.id for r in records])).order_by(TicketRecord.id)):
            links[link.accountability_id].append(ticket)
    return [view(r, links[r.id]) for r in records]


def get_record(session: Session, principal: Principal, record_id: int) -> dict[str, Any]:
    """One record, scoped like the list (404 for what the caller may not read)."""
    scope = _reader(principal)
    record = session.get(AccountabilityRecord, record_id)
    if record is None or (scope is not None and (record.unit != scope or record.state != "approved")):
        raise NotFound("问责记录不存在")
    return view(record, linked_tickets(session, record.id))


def suggestions(session: Session, principal: Principal, *, year: int, now: datetime,
                min_send_backs: int = MIN_SEND_BACKS) -> list[dict[str, Any]]:
    """Candidates for supervision to judge — never recorded by the gateway itself.

    Tickets issued in ``year`` (Beijing) with a unit: a missed deadline (超期办理, or 超期未办理 while still open),
    a 不满意件甄别 at the unit's fault (classes 1–3), a 重办 (退回重办) or ``min_send_backs`` internal send-backs
    (反复返工), a repeated complaint (群众重复投诉) — less those already proposed or approved for that cause.
    """
    principal.require(Role.supervisor, Role.leader, action="查看问责线索")
    lo, hi = period_bounds(date(year, 1, 1), date(year, 12, 31))
    in_year = select(TicketRecord.id).where(TicketRecord.issued_at >= lo, TicketRecord.issued_at < hi,
                                            TicketRecord.unit.is_not(None))
    late = select(SlaTimerRecord.ticket_id).where(SlaTimerRecord.ticket_id.in_(in_year), or_(
        SlaTimerRecord.state == "breached", and_(SlaTimerRecord.met_at.is_not(None),
                                                 SlaTimerRecord.met_at > SlaTimerRecord.due_at),
        and_(SlaTimerRecord.state == "running", SlaTimerRecord.due_at < now)))
    flagged = select(TicketEventRecord.ticket_id).where(
        TicketEventRecord.ticket_id.in_(in_year),
        TicketEventRecord.kind.in_(("reopened", "repeat_complaint", *SEND_BACK_EVENTS)))
    tickets = list(session.scalars(select(TicketRecord).where(TicketRecord.id.in_(in_year), or_(
        TicketRecord.id.in_(late), TicketRecord.id.in_(flagged), TicketRecord.screening.is_not(None),
    )).order_by(TicketRecord.id).limit(LIMIT * 2)))
    facts = ticket_facts(session, [t.id for t in tickets], now)
    taken = {(tid, cause) for tid, cause in session.execute(
        select(AccountabilityTicketRecord.ticket_id, AccountabilityRecord.cause).join(
            AccountabilityRecord, AccountabilityRecord.id == AccountabilityTicketRecord.accountability_id).where(
            AccountabilityRecord.state.in_(("proposed", "approved")),
            AccountabilityTicketRecord.ticket_id.in_([t.id for t in tickets])))}
    out: list[dict[str, Any]] = []
    for ticket in tickets:
        f = facts[ticket.id]
        found: list[tuple[str, str]] = []
        if f["late"]:
            open_ = f["late_open"] and ticket.status not in ANSWERED
            found.append(("overdue_open", "超期仍未办结") if open_ else ("overdue", "有环节超期"))
        if f["fault"]:
            found.append(("screening", f"甄别结果：{(ticket.screening or {}).get('label', '')}"))
        if f["reopened"] or f["send_backs"] >= min_send_backs:
            found.append(("sent_back", f"重办 {f['reopened']} 次，退回修改 {f['send_backs']} 次"))
        if f["repeat"]:
            found.append(("repeat", "群众重复投诉"))
        for cause, why in found:
            if (ticket.id, cause) in taken:
                continue
            out.append({**_ticket_row(ticket), "cause": cause, "cause_label": CAUSES[cause][0],
                        "article": CAUSES[cause][1], "why": why, "handled_by": ticket.reply_drafted_by,
                        "reviewed_by": ticket.reply_reviewed_by})
    return out[:LIMIT]


def yearly(session: Session, principal: Principal, *, year: int) -> dict[str, Any]:
    """The year's approved measures per unit (002 四(二): 纳入部门实绩考核): counts per measure and cause, the
    people concerned, and the score deducted; a unit reads its own row only."""
    scope = _reader(principal)
    stmt = select(AccountabilityRecord).where(AccountabilityRecord.year == year,
                                              AccountabilityRecord.state == "approved")
    if scope is not None:
        stmt = stmt.where(AccountabilityRecord.unit == scope)
    records = list(session.scalars(stmt.order_by(AccountabilityRecord.unit, AccountabilityRecord.id)))
    rows: dict[str, dict[str, Any]] = {}

    def blank(unit: str) -> dict[str, Any]:
        return {"unit": unit, "records": 0, "persons": set(), "points": 0.0,
                "measures": dict.fromkeys(MEASURES, 0), "causes": dict.fromkeys(CAUSES, 0)}

    total = blank("合计")
    for record in records:
        row = rows.setdefault(record.unit, blank(record.unit))
        for target in (row, total):
            target["records"] += 1
            target["points"] += record.points
            target["causes"][record.cause] += 1
            for measure in record.measures:
                target["measures"][measure] += 1
            if record.person:
                target["persons"].add((record.unit, record.person))
    ordered = sorted(rows.values(), key=lambda r: (-r["points"], -r["records"], r["unit"]))
    for row in [*ordered, total]:
        row["persons"] = len(row["persons"])
        row["points"] = round(row["points"], 2)
    people = [{"unit": r.unit, "person": r.person, "person_role": PERSON_ROLES.get(r.person_role or "", ""),
               "cause": CAUSES[r.cause][0], "measures": "、".join(MEASURES[m][0] for m in r.measures),
               "points": r.points, "decided_at": _when(r.decided_at), "id": r.id} for r in records if r.person]
    return {"year": year, "rows": ordered, "total": total, "people": people,
            "records": [view(r, linked_tickets(session, r.id)) for r in records[:LIMIT]],
            "measure_labels": {k: v[0] for k, v in MEASURES.items()},
            "cause_labels": {k: v[0] for k, v in CAUSES.items()}, "article": ASSESSMENT}
