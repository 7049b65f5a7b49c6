"""Repository functions for the unit directory (承办单位) that tickets are dispatched to."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from gateway.errors import DomainError
from gateway.store.sql import insert_ignore
from gateway.store.tables_dashboard import UnitRecord

BUNDLED = Path(__file__).resolve().parents[1] / "dashboard" / "data" / "units.json"


def list_units(session: Session, *, active_only: bool = True) -> Sequence[UnitRecord]:
    """The directory in display order."""
    stmt = select(UnitRecord)
    if active_only:
        stmt = stmt.where(UnitRecord.active.is_(True))
    return session.scalars(stmt.order_by(UnitRecord.sort, UnitRecord.name)).all()


def load_directory(path: Path | None) -> list[dict[str, Any]]:
    """Units from a JSON file: a list of ``{"name", "kind", "phone", "parent"?}`` (the bundled one when ``path`` is
    None)."""
    data = json.loads((path or BUNDLED).read_text(encoding="utf-8"))
    if not isinstance(data, list) or not all(isinstance(u, dict) and u.get("name") for u in data):
        raise ValueError(f"{path or BUNDLED}: expected a JSON list of objects with a name")
    return data


def seed_units(session: Session, *, units: Sequence[dict[str, Any]], now: datetime) -> int:
    """Fill an empty directory from ``units``; an existing directory is left as the admin edited it."""
    if session.scalar(select(func.count()).select_from(UnitRecord)):
        return 0
    table: Any = UnitRecord.__table__
    added = 0
    for sort, unit in enumerate(units):
        values = {"name": str(unit["name"]).strip(), "kind": str(unit.get("kind", "")),
                  "phone": str(unit.get("phone", "")), "parent": str(unit.get("parent") or "").strip() or None,
                  "area": str(unit.get("area", "")).strip()[:200],
                  "active": True, "sort": sort, "updated_at": now}
        if insert_ignore(session, table, values, conflict=["name"]) is not None:
            added += 1
    return added


def area_names(area: str) -> list[str]:
    """The districts / streets of a unit's 辖区 text ("东湖区、湖滨街道" or comma-separated)."""
    for sep in (",", "，", ";", "；", " "):
        area = area.replace(sep, "、")
    return [part for part in (p.strip() for p in area.split("、")) if len(part) >= 2]


def suggest_units(units: Sequence[UnitRecord], *, places: Sequence[str]) -> list[str]:
    """Units whose 辖区 names one of ``places`` (the ticket's district, street, community or address), best
    match first: a street or community beats a whole district. Only a suggestion: the dispatcher chooses."""
    text = [p for p in places if p]
    scored: list[tuple[int, int, str]] = []
    for order, unit in enumerate(units):
        best = max((len(name) for name in area_names(unit.area or "") if any(name in p for p in text)), default=0)
        if best:
            scored.append((-best, order, unit.name))
    return [name for _, _, name in sorted(scored)]


def check_unit(session: Session, *, name: str) -> None:
    """Refuse a unit that is not active in the directory (an empty directory accepts any name)."""
    known = session.scalars(select(UnitRecord.name).where(UnitRecord.active.is_(True))).all()
    if known and name not in known:
        raise DomainError(f"承办单位“{name}”不在单位名录中", code="unknown_unit",
                          status=422)


def save_unit(
    session: Session, *, unit_id: int | None, name: str, kind: str, phone: str, active: bool, sort: int,
    now: datetime, parent: str | None = None, area: str | None = None,
) -> UnitRecord:
    """Add a unit (``unit_id`` None) or change one; names stay unique. ``parent`` is the unit it belongs to
    (所属单位), which keeps a 12389 case away from a complained-about unit's whole line (001 五)."""
    name, parent = name.strip(), (parent or "").strip() or None
    if not name:
        raise DomainError("单位名称不能为空", code="invalid_request", status=422)
    if parent == name:
        raise DomainError("单位不能隶属于自身", code="invalid_request", status=422)
    clash = session.scalars(select(UnitRecord).where(UnitRecord.name == name)).first()
    if clash is not None and clash.id != unit_id:
        raise DomainError(f"单位“{name}”已存在", code="conflict")
    record = UnitRecord(name=name) if unit_id is None else session.get(UnitRecord, unit_id)
    if record is None:
        raise DomainError("单位不存在", code="not_found", status=404)
    record.name, record.kind, record.phone, record.active, record.sort = name, kind, phone, active, sort
    record.parent = parent
    if area is not None:
        record.area = area.strip()
    record.updated_at = now
    session.add(record)
    session.flush()
    return record
