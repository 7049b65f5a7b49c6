"""提级介入 (escalated intervention), seed 000 提级介入调查制度 and 001 三(三) 即时快办机制.

000 提级介入调查制度 一 lists when a matter goes up: 久拖不决 (drags on), 影响较大 (large impact), 反复投诉
(complained about again and again), 严重违纪违法 (serious violations) and 其他需要提级介入调查的. 001 三(三) adds
that 重大、敏感 matters are reported to the leader at once (第一时间报告领导). 四 says how: the office fills the
《群众反映问题提级调查审批表》 and the leader in charge (分管领导, ``Role.leader``) signs before it goes out.

Here a rule raises the matter (an ``InterventionRecord``, unique per ticket and rule), the leader hears of it
through the alert path (audience ``leader``), finds it in 待办审批 and on the overview, and records the 批示
(an instruction written by the leader, kept in the timeline), optionally naming a supervising leader (督办领导),
then closes it. Rules, each checked by the scheduler (``sweep``) or raised by a person (``flag``):

- ``overdue`` 久拖不决: the binding resolution deadline (办结, or the granted 延期) passed unmet, plus
  ``overdue_after_s``. The breach's own "超时升级" alert (``sla.housekeeping``) is not sent as well: this is
  that escalation, made a record the leader answers.
- ``repeat`` 反复投诉: the matter was filed ``repeat_complaints`` times, counted through linking (the linked
  case, 000 统一派单 二 合并“一事多投”及“重复投诉”), raised on the newest filing while no raise of the matter is open.
  A 12389 filing counts only with 12389 filings: a count across that line would tell a leader that a 12389
  reporter also called elsewhere (001 五; ``services.linking``).
- ``impact`` 影响较大 / 重大、敏感: a platform field marks it (``impact_levels``, ``impact_urgencies``), or the
  duty officer, 督察 or the unit flags it with a reason.
- ``violation`` 严重违纪违法 and ``other``: flagged by a person with a reason.

Nothing here is sent to a platform or a citizen: no outbox row, and the alert names the ticket and the rule,
never a person's reason or a 批示.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, case, exists, func, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session, aliased

from gateway.alerts import messages
from gateway.alerts.store import NewAlert, Route, emit, enqueue_deliveries
from gateway.errors import DomainError, Forbidden, NotFound
from gateway.principal import Principal
from gateway.privacy import SUPERVISION_ONLY_PLATFORMS
from gateway.settings import InterventionSettings, Role
from gateway.sla.derive import RESOLUTION_KINDS
from gateway.store.tables import TicketEventRecord, TicketRecord
from gateway.store.tables_auth import UserRecord
from gateway.store.tables_dashboard import InterventionRecord
from gateway.store.tables_sla import AlertRecord, SlaTimerRecord
from gateway.store.tickets import add_event, get_ticket

KIND = "intervention"
ARTICLE = "000 提级介入调查制度 一"
RULES: dict[str, tuple[str, str]] = {  # rule -> (label, article)
    "overdue": ("久拖不决", "000 提级介入调查制度 一（久拖不决）；000 限时办结 三"),
    "repeat": ("反复投诉", "000 提级介入调查制度 一（反复投诉）；000 统一派单 二"),
    "impact": ("重大、敏感", "000 提级介入调查制度 一（影响较大）；001 三(三)"),
    "violation": ("严重违纪违法", "000 提级介入调查制度 一（严重违纪违法）"),
    "other": ("其他需提级介入", "000 提级介入调查制度 一（其他）"),
}
FLAGGED = ("impact", "violation", "other")  # what a person may raise by hand, with a reason
FLAGGERS = (Role.duty, Role.supervisor, Role.unit, Role.unit_head)
OPEN_TICKET = ("received", "signed", "dispatched", "responded", "reply_drafted", "approved")
BATCH = 200
URGENCY = {"critical": "特急", "urgent": "紧急", "normal": "一般"}
STATES = {"open": "待领导批示", "instructed": "已批示，督办中", "closed": "已办结"}


# --- raising -------------------------------------------------------------------------------------------------

def _insert(session: Session, row: dict[str, Any]) -> int | None:
    """INSERT … ON CONFLICT (ticket_id, rule) DO NOTHING: the id if this transaction raised it, else None."""
    dialect: Any = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    table: Any = InterventionRecord.__table__
    stmt = dialect.insert(table).values(row).on_conflict_do_nothing(index_elements=["ticket_id", "rule"])
    found = session.execute(stmt.returning(table.c.id)).scalar()
    return None if found is None else int(found)


def raise_matter(session: Session, *, ticket: TicketRecord, rule: str, basis: dict[str, Any], what: str, now: datetime,
                 routes: Sequence[Route], group_max: int, by: str = "system",
                 reason: str = "") -> tuple[int | None, list[int]]:
    """Raise ``ticket`` to the leader under ``rule`` once: the record, the timeline entry and the leader's alert.

    Returns (the new record's id, the alert deliveries to ring after commit); (None, []) when the matter was
    raised under this rule before (by a rival transaction or any earlier one): nothing is written twice.
    """
    label, article = RULES[rule]
    found = _insert(session, {"ticket_id": ticket.id, "rule": rule, "state": "open", "article": article,
                              "basis": basis, "reason": reason, "raised_by": by, "raised_at": now,
                              "instruction_count": 0})
    if found is None:
        return None, []
    add_event(session, ticket=ticket, actor=by, kind="intervention_raised", at=now, intervention_id=found, rule=rule,
              rule_label=label, article=article, basis=basis, **({"reason": reason} if reason else {}))
    alert = NewAlert(dedup_key=f"intervention:{ticket.id}:{rule}", kind=KIND, severity="critical",
                     message=messages.intervention_message(ticket.platform, ticket.external_id, what), fire_at=now,
                     audience="leader", ticket_id=ticket.id, platform=ticket.platform, external_id=ticket.external_id)
    emitted = emit(session, [alert], now=now)
    if emitted:
        session.execute(update(InterventionRecord).where(InterventionRecord.id == found)
                        .values(alert_id=emitted[0][0]).execution_options(synchronize_session=False))
    if rule == "overdue":
        # The leader hears of this breach here: its "超时升级" (housekeeping.escalate_breaches) would say it twice.
        timers = select(SlaTimerRecord.id).where(SlaTimerRecord.ticket_id == ticket.id,
                                                 SlaTimerRecord.kind.in_(RESOLUTION_KINDS))
        session.execute(update(AlertRecord).where(
            AlertRecord.kind == "breach", AlertRecord.escalated_at.is_(None), AlertRecord.timer_id.in_(timers))
            .values(escalated_at=now).execution_options(synchronize_session=False))
    return found, enqueue_deliveries(session, emitted, routes=routes, now=now, group_max=group_max)


def flag(session: Session, *, ticket_id: int, principal: Principal, now: datetime, rule: str, reason: str,
         routes: Sequence[Route], group_max: int) -> list[int]:
    """A person raises the matter with a reason: 重大、敏感 (001 三(三)), 严重违纪违法 or 其他 (000 提级介入 一).

    The duty officer, 督察, or the handling unit for its own ticket. Returns the alert deliveries to ring.
    """
    principal.require(*FLAGGERS, action="提级介入")
    ticket = get_ticket(session, ticket_id)
    if principal.has(Role.unit, Role.unit_head) and not principal.has(Role.duty, Role.supervisor) \
            and ticket.unit != principal.unit_scope():
        raise Forbidden("只能为本单位承办的工单申请提级介入")
    if rule not in FLAGGED:
        raise DomainError(f"提级介入事由须为{'、'.join(RULES[r][0] for r in FLAGGED)}之一",
                          code="invalid_rule", status=422)
    if ticket.status in ("return_requested", "returned"):
        raise DomainError("已退回的工单不能提级介入", code="invalid_state")
    if len(reason.strip()) < 5:
        raise DomainError("须写明提级介入的理由（不少于5字）", code="reason_required",
                          status=422)
    label = RULES[rule][0]
    found, deliveries = raise_matter(session, ticket=ticket, rule=rule, basis={"flagged": True},
                                     what=f"经人工标记为{label}", now=now, routes=routes, group_max=group_max,
                                     by=principal.name, reason=reason.strip())
    if found is None:
        raise DomainError(f"该工单已按“{label}”提级介入", code="invalid_state")
    return deliveries


# --- the scheduler's rules -------------------------------------------------------------------------------------

def _not_raised(ticket: Any, rule: str) -> Any:
    return ~exists().where(InterventionRecord.ticket_id == ticket.id, InterventionRecord.rule == rule)


Found = list[tuple[TicketRecord, dict[str, Any], str]]  # ticket, basis, what the alert says


def _overdue(session: Session, policy: InterventionSettings, now: datetime) -> Found:
    """久拖不决: an open resolution deadline past its due instant by ``overdue_after_s``."""
    cutoff = now - timedelta(seconds=policy.overdue_after_s)
    rows = session.execute(
        select(SlaTimerRecord, TicketRecord).join(TicketRecord, TicketRecord.id == SlaTimerRecord.ticket_id).where(
            SlaTimerRecord.kind.in_(RESOLUTION_KINDS), SlaTimerRecord.met_at.is_(None),
            SlaTimerRecord.state.in_(("running", "breached")), SlaTimerRecord.due_at <= cutoff,
            _not_raised(TicketRecord, "overdue"))
        .order_by(SlaTimerRecord.due_at).limit(BATCH)).all()
    out: dict[int, tuple[TicketRecord, dict[str, Any], str]] = {}
    for timer, ticket in rows:
        if ticket.id in out:
            continue
        late = now - timer.due_at
        basis = {"timer": timer.kind, "cycle": timer.cycle, "due_at": timer.due_at.isoformat(),
                 "overdue_s": int(late.total_seconds()), "rule": timer.rule}
        name = messages.TIMER_LABELS.get(timer.kind, timer.kind)
        out[ticket.id] = (ticket, basis, f"{name}期限已过{messages.remaining(late)}仍未办结（久拖不决）")
    return list(out.values())


def _side(ticket: Any) -> Any:
    """1 for a 12389 (supervision-only) ticket, 0 otherwise: filings are counted within one side only."""
    return case((ticket.platform.in_(list(SUPERVISION_ONLY_PLATFORMS)), 1), else_=0)


def _repeats(session: Session, policy: InterventionSettings) -> Found:
    """反复投诉: the newest open filing of a case filed ``repeat_complaints`` times, no raise of it open."""
    t, sibling, raised = TicketRecord, aliased(TicketRecord), aliased(TicketRecord)
    same = and_(sibling.case_id == t.case_id, _side(sibling) == _side(t))
    filings = select(func.count(sibling.id)).where(same).correlate(t).scalar_subquery()
    newer = exists().where(same, sibling.id > t.id)
    open_raise = exists().where(InterventionRecord.ticket_id == raised.id, raised.case_id == t.case_id,
                                _side(raised) == _side(t), InterventionRecord.rule == "repeat",
                                InterventionRecord.state == "open")
    rows = session.execute(select(t, filings).where(
        t.case_id.is_not(None), t.status.in_(OPEN_TICKET), filings >= policy.repeat_complaints, ~newer, ~open_raise,
        _not_raised(t, "repeat")).order_by(t.id).limit(BATCH)).all()
    return [(ticket, {"filings": int(n), "threshold": policy.repeat_complaints},
             f"同一事项已投诉{int(n)}次（反复投诉）") for ticket, n in rows]


def _impact(session: Session, policy: InterventionSettings) -> Found:
    """重大、敏感 as the platform marks it: a 案件等级 or urgency listed in the settings (001 三(三))."""
    marks = []
    if policy.impact_levels:
        marks.append(TicketRecord.level.in_(policy.impact_levels))
    if policy.impact_urgencies:
        marks.append(TicketRecord.urgency.in_(policy.impact_urgencies))
    if not marks:
        return []
    rows = session.scalars(select(TicketRecord).where(
        TicketRecord.status.in_(OPEN_TICKET), or_(*marks), _not_raised(TicketRecord, "impact"))
        .order_by(TicketRecord.id).limit(BATCH)).all()
    out = []
    for ticket in rows:
        level = ticket.level if ticket.level in policy.impact_levels else None
        urgency = ticket.urgency if ticket.urgency in policy.impact_urgencies else None
        marked = f"案件等级“{level}”" if level else f"紧急程度“{URGENCY.get(urgency or '', urgency)}”"
        out.append((ticket, {"level": level, "urgency": urgency}, f"平台标注{marked}（重大、敏感）"))
    return out


def sweep(session: Session, *, policy: InterventionSettings, routes: Sequence[Route], group_max: int,
          now: datetime) -> list[int]:
    """One scheduler tick: raise what the rules find; returns the alert deliveries to ring after commit.

    Safe to run twice or in two schedulers at once: the unique (ticket, rule) key lets one raise land.
    """
    if not policy.enabled:
        return []
    deliveries: list[int] = []
    for rule, found in (("overdue", _overdue(session, policy, now)), ("repeat", _repeats(session, policy)),
                        ("impact", _impact(session, policy))):
        for ticket, basis, what in found:
            deliveries += raise_matter(session, ticket=ticket, rule=rule, basis=basis, what=what, now=now,
                                       routes=routes, group_max=group_max)[1]
    return deliveries


# --- the leader's part -----------------------------------------------------------------------------------------

def _open_record(session: Session, ticket_id: int, intervention_id: int) -> tuple[TicketRecord, InterventionRecord]:
    ticket = get_ticket(session, ticket_id)
    record = session.scalars(select(InterventionRecord).where(InterventionRecord.id == intervention_id)
                             .with_for_update()).first()
    if record is None or record.ticket_id != ticket.id:
        raise NotFound("提级介入记录不存在")
    if record.state != "open":
        raise DomainError("该提级介入已办结", code="invalid_state")
    return ticket, record


def _leader_named(session: Session, name: str) -> str:
    users = session.scalars(select(UserRecord).where(UserRecord.display_name == name, UserRecord.active)).all()
    if not any(Role.leader.value in (u.roles or []) for u in users):
        raise DomainError(f"督办领导须为在用的分管领导账号：{name}", code="invalid_leader",
                          status=422)
    return name


def instruct(session: Session, *, ticket_id: int, principal: Principal, now: datetime, intervention_id: int,
             text: str, supervising_leader: str = "") -> list[int]:
    """领导批示: the leader's own instruction, kept in the timeline; may name the supervising leader (督办领导).

    Only a leader, never the person who flagged the matter (四眼原则). Nothing goes to a platform or citizen.
    """
    principal.require(Role.leader, action="提级介入批示")
    ticket, record = _open_record(session, ticket_id, intervention_id)
    if record.raised_by == principal.name:
        raise Forbidden("提级介入须由提出人以外的领导批示（四眼原则）")
    if len(text.strip()) < 5:
        raise DomainError("须写明批示内容（不少于5字）", code="instruction_required",
                          status=422)
    leader = _leader_named(session, supervising_leader.strip()) if supervising_leader.strip() else None
    record.instruction_count += 1
    record.instructed_by, record.instructed_at = principal.name, now
    if leader:
        record.supervising_leader = leader
    add_event(session, ticket=ticket, actor=principal.name, kind="intervention_instruction", at=now,
              intervention_id=record.id, rule=record.rule, rule_label=RULES[record.rule][0], text=text.strip(),
              **({"supervising_leader": leader} if leader else {}))
    return []


def close(session: Session, *, ticket_id: int, principal: Principal, now: datetime, intervention_id: int,
          note: str = "") -> list[int]:
    """办结 the intervention: a leader after at least one 批示; the supervising leader when one is named."""
    principal.require(Role.leader, action="提级介入办结")
    ticket, record = _open_record(session, ticket_id, intervention_id)
    if record.instruction_count < 1:
        raise DomainError("须先作出批示再办结提级介入 (a 批示 comes first)", code="instruction_required", status=422)
    if record.supervising_leader and record.supervising_leader != principal.name:
        raise Forbidden(f"该提级介入由{record.supervising_leader}督办，须由其办结")
    record.state, record.closed_by, record.closed_at, record.close_note = "closed", principal.name, now, note.strip()
    add_event(session, ticket=ticket, actor=principal.name, kind="intervention_closed", at=now,
              intervention_id=record.id, rule=record.rule, rule_label=RULES[record.rule][0],
              **({"note": note.strip()} if note.strip() else {}))
    return []


# --- views -----------------------------------------------------------------------------------------------------

def state_of(record: InterventionRecord) -> str:
    """open (待批示), instructed (督办中) or closed."""
    if record.state == "closed":
        return "closed"
    return "instructed" if record.instruction_count else "open"


def view(record: InterventionRecord, instructions: Sequence[TicketEventRecord] = ()) -> dict[str, Any]:
    """One intervention for the API and the pages (the 批示 from the timeline, when given)."""
    label, article = RULES.get(record.rule, (record.rule, ""))
    return {
        "id": record.id, "ticket_id": record.ticket_id, "rule": record.rule, "rule_label": label,
        "article": record.article or article, "state": state_of(record), "state_label": STATES[state_of(record)],
        "basis": record.basis, "reason": record.reason, "raised_by": record.raised_by,
        "raised_at": record.raised_at.isoformat(), "alert_id": record.alert_id,
        "supervising_leader": record.supervising_leader, "instruction_count": record.instruction_count,
        "instructed_by": record.instructed_by,
        "instructed_at": record.instructed_at.isoformat() if record.instructed_at else None,
        "closed_by": record.closed_by, "closed_at": record.closed_at.isoformat() if record.closed_at else None,
        "close_note": record.close_note,
        "instructions": [{"by": e.actor, "at": e.at.isoformat(), "text": e.detail.get("text"),
                          "supervising_leader": e.detail.get("supervising_leader")}
                         for e in instructions if e.detail.get("intervention_id") == record.id],
    }


def for_ticket(session: Session, ticket_id: int) -> list[dict[str, Any]]:
    """The ticket's interventions, oldest first, each with its 批示."""
    records = session.scalars(select(InterventionRecord).where(InterventionRecord.ticket_id == ticket_id)
                              .order_by(InterventionRecord.id)).all()
    if not records:
        return []
    events = session.scalars(select(TicketEventRecord).where(
        TicketEventRecord.ticket_id == ticket_id, TicketEventRecord.kind == "intervention_instruction")
        .order_by(TicketEventRecord.id)).all()
    return [view(r, events) for r in records]


def listing(session: Session, *, unit: str | None, state: str = "open",
            limit: int = BATCH) -> list[tuple[InterventionRecord, TicketRecord]]:
    """Interventions with their tickets, newest first: ``open``, ``closed`` or ``all``; scoped to a unit."""
    stmt = select(InterventionRecord, TicketRecord).join(TicketRecord, TicketRecord.id == InterventionRecord.ticket_id)
    if state in ("open", "closed"):
        stmt = stmt.where(InterventionRecord.state == state)
    if unit is not None:
        stmt = stmt.where(TicketRecord.unit == unit)
    return [(r, t) for r, t in session.execute(stmt.order_by(InterventionRecord.id.desc()).limit(limit)).all()]


def waiting_for(principal: Principal) -> Any:
    """待办: open interventions this leader should act on — not yet instructed and nobody named to supervise,
    or naming them as the supervising leader; never one they raised. None for anyone but a leader."""
    if not principal.has(Role.leader):
        return None
    return select(InterventionRecord, TicketRecord).join(
        TicketRecord, TicketRecord.id == InterventionRecord.ticket_id).where(
        InterventionRecord.state == "open", InterventionRecord.raised_by != principal.name,
        or_(and_(InterventionRecord.supervising_leader.is_(None), InterventionRecord.instruction_count == 0),
            InterventionRecord.supervising_leader == principal.name))
