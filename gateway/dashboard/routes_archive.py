"""日清月结年归档 on the dashboard (000 统一派单 六): the day's clearing list, sealing a month or a year, the sealed
batches with their checksums, the archive search, and (督察 only) the export download."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from typing import Annotated

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy.orm import Session

from gateway.container import Container
from gateway.dashboard.render import back, login_of, page
from gateway.dashboard.security import DASHBOARD
from gateway.errors import DomainError
from gateway.principal import Principal
from gateway.schema import SHANGHAI
from gateway.services import archive
from gateway.store.db import transaction
from gateway.store.tables import ArchiveBatchRecord

router = APIRouter(prefix=f"{DASHBOARD}/archive")
WHERE = f"{DASHBOARD}/archive"


@router.get("", response_class=HTMLResponse)
def archive_page(request: Request, day: Annotated[date | None, Query()] = None,
                 q: Annotated[str, Query(max_length=100)] = "",
                 key: Annotated[str, Query(pattern=r"^(\d{4}(-\d{2})?)?$")] = "") -> Response:
    """日清 for a day (today by default), the sealed batches and the archive search (scoped)."""
    principal = login_of(request).principal
    container: Container = request.app.state.container
    now = container.clock()
    chosen = day or now.astimezone(SHANGHAI).date()
    with container.sessions() as session:
        cleared = archive.daily(session, principal, day=chosen, now=now)
        batches = [archive.batch_view(b) for b in archive.list_batches(session)]
        found = archive.search(session, principal, q=q.strip(), key=key) if (q.strip() or key) else None
    return page(request, "archive.html", active="archive", cleared=cleared, batches=batches, found=found, q=q,
                key=key)


@router.post("/months")
def close_month(request: Request, month: Annotated[str, Form(pattern=r"^\d{4}-\d{2}$")]) -> Response:
    """月结 (duty)."""
    return _seal(request, lambda s, p, now: archive.close_month(s, principal=p, month=month, now=now))


@router.post("/years")
def archive_year(request: Request, year: Annotated[int, Form(ge=2000, le=2999)]) -> Response:
    """年归档 (duty)."""
    return _seal(request, lambda s, p, now: archive.archive_year(s, principal=p, year=year, now=now))


def _seal(request: Request, act: Callable[[Session, Principal, datetime], ArchiveBatchRecord]) -> Response:
    principal = login_of(request).principal
    container: Container = request.app.state.container
    try:
        with transaction(container.sessions) as session:
            record = act(session, principal, container.clock())
            done = f"已封存 {record.key}：{record.ticket_count} 件，SHA-256 {record.sha256[:16]}…"
    except DomainError as exc:
        return back(request, WHERE, error=str(exc))
    return back(request, WHERE, ok=done)


@router.get("/{batch_id}/export")
def export_batch(batch_id: int, request: Request) -> Response:
    """The sealed JSON export (督察 only; audited)."""
    principal = login_of(request).principal
    container: Container = request.app.state.container
    with transaction(container.sessions) as session:
        record = archive.export(session, principal=principal, batch_id=batch_id, now=container.clock())
        content, digest, name = record.content, record.sha256, f"archive-{record.period}-{record.key}.json"
    return Response(content.encode("utf-8"), media_type="application/json",
                    headers={"X-Content-SHA256": digest, "Content-Disposition": f'attachment; filename="{name}"'})
