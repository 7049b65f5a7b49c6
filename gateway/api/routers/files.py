"""``GET /files/evidence/{id}``: a reply's evidence file, fetched by the platform from its signed link.

No login: the link's MAC (over the file and the expiry) is the permission, and it is only ever put
in a write-back to the platform. Each download is audited with the caller's address.
"""

from __future__ import annotations

from urllib.parse import quote

from fastapi import APIRouter, Query, Request
from fastapi.responses import FileResponse

from gateway.api.deps import ContainerDep
from gateway.api.errors import documented
from gateway.api.params import RowId
from gateway.errors import NotFound
from gateway.services import evidence
from gateway.services.signing import evidence_links
from gateway.store.db import transaction
from gateway.store.users import add_audit

router = APIRouter(tags=["files"], responses=documented(403, 404, 422))
# The type is the one sniffed at upload: no browser may guess another (a "PNG" that is HTML), and
# were one to render it anyway, it runs in a sandbox with nothing allowed.
FILE_HEADERS = {"X-Content-Type-Options": "nosniff", "Content-Security-Policy": "default-src 'none'; sandbox"}


@router.get("/files/evidence/{evidence_id}", summary="证据文件（平台凭签名链接下载）")
def evidence_file(
    evidence_id: RowId, request: Request, container: ContainerDep,
    expires: int = Query(description="Unix time the link expires"), sig: str = Query(max_length=64),
) -> FileResponse:
    """The file, when the link is ours, for this file, and not expired (else 403)."""
    links = evidence_links(container)
    if links is None:
        raise NotFound("证据文件不对外提供")
    links.check(evidence_id, expires=expires, sig=sig, now=container.clock())
    with transaction(container.sessions) as session:
        record = evidence.get_evidence(session, evidence_id=evidence_id)
        add_audit(session, actor="平台（签名链接）", action="evidence_fetched", now=container.clock(),
                  target=f"ticket:{record.ticket_id}", ip=request.client.host if request.client else None,
                  evidence_id=evidence_id)
    path = evidence.evidence_root(container.settings.data_dir) / record.stored_as
    if not path.is_file():
        raise NotFound("证据文件不存在")
    disposition = f"attachment; filename=\"evidence-{record.id}.{record.kind}\"; filename*=UTF-8''{quote(record.name)}"
    return FileResponse(path, media_type=record.mime, headers={"Content-Disposition": disposition, **FILE_HEADERS})
