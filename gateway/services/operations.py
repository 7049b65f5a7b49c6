"""Operator actions that are not a step of a ticket's lifecycle: replaying a dead write-back and
acknowledging an alert. Both check the role, do the change and write the audit log in one transaction.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from gateway.alerts.store import acknowledge
from gateway.principal import Principal
from gateway.settings import Role
from gateway.store import outbox
from gateway.store.tables import OutboxRecord
from gateway.store.tables_sla import AlertRecord
from gateway.store.tickets import add_event, get_ticket
from gateway.store.users import add_audit


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
    session: Session, *, alert_id: int, principal: Principal, now: datetime, ip: str | None = None
) -> AlertRecord:
    """确认告警: stops its repeats and escalation; who and when are recorded."""
    principal.require(Role.duty, Role.leader, Role.supervisor, action="确认告警")
    alert = acknowledge(session, alert_id=alert_id, by=principal.name, now=now)
    add_audit(session, actor=principal.name, action="alert_acknowledged", now=now, ip=ip, target=f"alert:{alert.id}",
              kind=alert.kind, ticket_id=alert.ticket_id)
    return alert
