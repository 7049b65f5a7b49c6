"""001 五: a 12389 complaint and its reporter never reach the unit complained about.

不得擅自透露或者向被举报投诉对象泄露举报投诉人信息及举报投诉内容 (001 五); 不得…交至被核查单位自行处理
(001 四(二)). So a 12389 case may not be dispatched to the unit named as complained about (``bjbdw``,
kept as the ticket's ``respondent.unit``), nor to a unit that one belongs to, nor to one of its own
units: the directory's ``parent`` links say which.

The platform writes full names ("某市公安局东城分局城关派出所"), the directory short ones ("城关派出所"),
so a directory unit is the one complained about when its name is the platform's name or a part of it —
which also catches the branch named inside it ("东城分局"). A wrong match refuses a dispatch, it never
lets one through: the supervisor or leader chooses another unit.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from gateway.errors import DomainError
from gateway.privacy import supervision_only
from gateway.store.tables import TicketRecord
from gateway.store.tables_dashboard import UnitRecord

MIN_NAME = 2  # a one-character directory name would match almost anything


def complained_unit(ticket: TicketRecord) -> str | None:
    """The unit a 12389 case complains about (被举报单位), or None."""
    if not supervision_only(ticket.platform):
        return None
    unit = str((ticket.respondent or {}).get("unit") or "").strip()
    return unit or None


def barred_units(session: Session, ticket: TicketRecord) -> list[str]:
    """Directory units this ticket may not be dispatched to (001 五), in directory order."""
    named = complained_unit(ticket)
    if named is None:
        return []
    units = session.scalars(select(UnitRecord).order_by(UnitRecord.sort, UnitRecord.name)).all()
    parent = {u.name: (u.parent or "").strip() or None for u in units}
    barred = {u.name for u in units if u.name == named or (len(u.name) >= MIN_NAME and u.name in named)}
    barred.add(named)
    for name in list(barred):  # the units the complained-about one belongs to
        seen: set[str] = set()
        up = parent.get(name)
        while up and up not in seen:
            seen.add(up)
            barred.add(up)
            up = parent.get(up)
    grew = True
    while grew:  # and the units that belong to it
        below = {u for u, p in parent.items() if p in barred and u not in barred}
        barred |= below
        grew = bool(below)
    return [u.name for u in units if u.name in barred] + sorted(barred - {u.name for u in units})


def check_not_complained(session: Session, ticket: TicketRecord, unit: str) -> None:
    """Refuse (422) dispatching a 12389 case to the unit complained about or a unit of its line (001 五)."""
    barred = barred_units(session, ticket)
    if unit in barred:
        named = complained_unit(ticket)
        raise DomainError(
            f"不得将举报件派给被举报单位“{named}”或其所属、下属单位（{unit}）：举报内容和举报人信息不得泄露给被举报对象"
            f"（001 五） (001 §5: never to the unit complained about or its line)",
            code="complained_unit", status=422)
