"""Operator actions that are not a step of a ticket's lifecycle: replaying a dead write-back and
acknowledging an alert. Both check the role, do the change and write the audit log in one transaction.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy.orm import Session

from gateway.alerts.store import acknowledge
from gateway.errors import DomainError
from gateway.principal import Principal
from gateway.settings import Role
from gateway.store import outbox
from gateway.store.tables import OutboxRecord
from gateway.store.tables_sla import AlertRecord
from gateway.store.tickets import add_event, get_ticket
from gateway.store.users import add_audit

BULK_MAX = 5000  # one night's flood fits; more is a mistake in the request
NOTE_MAX = 2000


def replay_outbound(
    session: Session, *, row_id: int, principal: Principal, now: datetime, ip: str | None = None
) -> OutboxRecord:
    """重新回传: queue a dead row again (it is read back on the platform before anything is re-sent)."""
    principal.require(Role.duty, Role.admin, action="重新回传")
    row = outbox.replay(session, row_id=row_id, now=now)
    add_event(session, ticket=get_ticket(session, row.ticket_id), actor=principal.name, kind="outbound_replayed",
              at=now, outbox_id=row.id, action=row.action)
    add_audit(session, actor=principal.name, action="outbound_replayed", now=now, ip=ip,
              target=f"outbox:{row.id}", ticket_id=row.ticket_id, platform=row.platform, write_back=row.action)
    return row


def acknowledge_alert(
    session: Session, *, alert_ids: Sequence[int], principal: Principal, now: datetime, note: str = "",
    ip: str | None = None,
) -> tuple[list[AlertRecord], list[AlertRecord]]:
    """确认告警, one or many at once (a flood at midnight): stops their repeats and escalation.

    Who, when and the one note are recorded on each alert's audit entry (``target`` alert:<id>), so
    a bulk acknowledgement reads per alert like single ones. Returns (acknowledged, skipped: someone
    else acknowledged them meanwhile). A unit-scoped caller reaches its own unit's alerts only.
    """
    principal.require(Role.duty, Role.leader, Role.supervisor, action="确认告警")
    if len(note) > NOTE_MAX:
        raise DomainError(f"确认说明不能超过 {NOTE_MAX} 字", code="invalid_input")
    if len(set(alert_ids)) > BULK_MAX:
        raise DomainError(f"一次最多确认 {BULK_MAX} 条告警", code="invalid_input")
    done, skipped = acknowledge(session, alert_ids=alert_ids, by=principal.name, now=now,
                                unit=principal.unit_scope())
    bulk = len(done) + len(skipped) > 1
    for alert in done:
        detail = {"kind": alert.kind, "ticket_id": alert.ticket_id, "note": note.strip() or None}
        if bulk:
            detail["bulk"] = len(done)
        add_audit(session, actor=principal.name, action="alert_acknowledged", now=now, ip=ip,
                  target=f"alert:{alert.id}", **detail)
    return done, skipped
