"""Evidence files (002 §4(4): before/after photos, call records): checked by content, stored under data_dir.

The type is read from the file's first bytes (magic numbers), never from its name or the browser's
Content-Type, and the size is counted while the bytes arrive, so an oversized upload is cut off early.
Files are kept as ``evidence/<ticket id>/<random>.<type>``; the name the user gave is only a label.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, BinaryIO

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from gateway.errors import DomainError, Forbidden, NotFound, PermanentError
from gateway.principal import Principal
from gateway.schema import Attachment
from gateway.settings import Role
from gateway.store.tables import TicketRecord
from gateway.store.tables_dashboard import EvidenceRecord
from gateway.store.tickets import add_event

MIME = {
    "jpeg": "image/jpeg", "png": "image/png", "gif": "image/gif", "webp": "image/webp", "pdf": "application/pdf",
    "mp3": "audio/mpeg", "wav": "audio/wav", "amr": "audio/amr", "m4a": "audio/mp4", "mp4": "video/mp4",
}
CHUNK = 64 * 1024


def sniff(head: bytes) -> str | None:
    """The file type its first bytes announce, or None."""
    if head.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if head[:6] in (b"GIF87a", b"GIF89a"):
        return "gif"
    if head[:4] == b"RIFF" and head[8:12] in (b"WEBP", b"WAVE"):
        return "webp" if head[8:12] == b"WEBP" else "wav"
    if head.startswith(b"%PDF-"):
        return "pdf"
    if head.startswith(b"#!AMR\n"):
        return "amr"
    if head[4:8] == b"ftyp":
        return "m4a" if head[8:11] == b"M4A" else "mp4"
    if head.startswith(b"ID3") or (len(head) > 1 and head[0] == 0xFF and head[1] & 0xE0 == 0xE0):
        return "mp3"
    return None


def clean_name(name: str) -> str:
    """A label safe to show and to send in a header: no path, no control characters, at most 120 chars."""
    base = re.split(r"[\\/]", name or "")[-1]
    base = re.sub(r"[\x00-\x1f\x7f\"<>|:*?]", "", base).strip(" .")
    return base[:120] or "证据文件"


def store_upload(
    session: Session, *, ticket: TicketRecord, stream: BinaryIO, filename: str, note: str, principal: Principal,
    now: datetime, directory: Path, max_bytes: int, allowed: Iterable[str],
) -> EvidenceRecord:
    """Check and keep one uploaded file; refuses an unknown type or an oversized file with a 422/413."""
    principal.require(Role.unit, Role.duty, action="上传证据")
    head = stream.read(CHUNK)
    kind = sniff(head)
    if kind is None or kind not in set(allowed):
        raise DomainError(f"不支持的文件类型，仅接受：{'、'.join(allowed)}",
                          code="unsupported_file", status=422)
    folder = directory / str(ticket.id)
    folder.mkdir(parents=True, exist_ok=True)
    stored = f"{ticket.id}/{uuid.uuid4().hex}.{kind}"
    target, digest, size = directory / stored, hashlib.sha256(), 0
    try:
        with target.open("wb") as out:
            chunk = head
            while chunk:
                size += len(chunk)
                if size > max_bytes:
                    raise DomainError(f"文件超过 {max_bytes // 1_048_576} MB 上限",
                                      code="payload_too_large", status=413)
                digest.update(chunk)
                out.write(chunk)
                chunk = stream.read(CHUNK)
    except BaseException:
        target.unlink(missing_ok=True)
        raise
    record = EvidenceRecord(ticket_id=ticket.id, name=clean_name(filename), kind=kind, mime=MIME[kind], size=size,
                            sha256=digest.hexdigest(), stored_as=stored, note=note[:500], uploaded_by=principal.name,
                            uploaded_at=now, in_reply=False)
    session.add(record)
    session.flush()
    add_event(session, ticket=ticket, actor=principal.name, kind="evidence_uploaded", at=now, evidence_id=record.id,
              name=record.name, file_type=kind, size=size)
    return record


def list_evidence(session: Session, *, ticket_id: int) -> Sequence[EvidenceRecord]:
    """A ticket's evidence files, oldest first."""
    stmt = select(EvidenceRecord).where(EvidenceRecord.ticket_id == ticket_id).order_by(EvidenceRecord.id)
    return session.scalars(stmt).all()


def get_evidence(session: Session, *, evidence_id: int) -> EvidenceRecord:
    """One evidence file record, or ``NotFound``."""
    record = session.get(EvidenceRecord, evidence_id)
    if record is None:
        raise NotFound("证据文件不存在")
    return record


def attach_to_reply(session: Session, *, ticket: TicketRecord, evidence_ids: Sequence[int]) -> list[Attachment]:
    """Mark exactly these files as the reply draft's evidence; returns them as reply attachments."""
    records = list_evidence(session, ticket_id=ticket.id)
    known = {r.id: r for r in records}
    unknown = [i for i in evidence_ids if i not in known]
    if unknown:
        raise DomainError(f"证据文件不属于本工单：{unknown}", code="invalid_request",
                          status=422)
    session.execute(update(EvidenceRecord).where(EvidenceRecord.ticket_id == ticket.id)
                    .values(in_reply=EvidenceRecord.id.in_(list(evidence_ids) or [-1]))
                    .execution_options(synchronize_session="fetch"))
    # "evidence:<id>" names the stored file; at delivery it becomes a signed link (EvidenceLinks).
    return [Attachment(name=known[i].name, url=f"{REF}{i}", mime=known[i].mime, size=known[i].size)
            for i in evidence_ids]


REF = "evidence:"  # how a reply draft names a stored file until delivery


def evidence_root(data_dir: str | Path) -> Path:
    """Where evidence files are kept."""
    return Path(data_dir) / "evidence"


@dataclass(frozen=True)
class EvidenceLinks:
    """Signed, expiring links from which a platform fetches evidence files without a login.

    12345 takes a reply's attachments as URLs (PLATFORMS.md §1), so the file must be reachable by
    the platform: ``{base}/files/evidence/{id}?expires=…&sig=…``. The MAC binds the file and the
    expiry; the expiry is counted from the outbox row's creation, so every re-send of one write-back
    carries the same link.
    """

    base_url: str
    key: bytes
    ttl: timedelta

    def _mac(self, evidence_id: int, expires: int) -> str:
        digest = hmac.new(self.key, f"{evidence_id}.{expires}".encode(), hashlib.sha256).digest()
        return base64.urlsafe_b64encode(digest[:24]).decode().rstrip("=")

    def url(self, evidence_id: int, *, issued: datetime) -> str:
        """The link for one file, valid for ``ttl`` from ``issued``."""
        expires = int((issued + self.ttl).timestamp())
        return (f"{self.base_url.rstrip('/')}/files/evidence/{evidence_id}"
                f"?expires={expires}&sig={self._mac(evidence_id, expires)}")

    def check(self, evidence_id: int, *, expires: int, sig: str, now: datetime) -> None:
        """Raise ``Forbidden`` unless the link was made by us for this file and has not expired."""
        # Bytes, not str: compare_digest refuses non-ASCII text with a TypeError (a 500, not a 403).
        if not hmac.compare_digest(self._mac(evidence_id, expires).encode(), sig.encode()):
            raise Forbidden("链接无效")
        if now.timestamp() > expires:
            raise Forbidden("链接已过期")


def resolve_links(
    payload: Mapping[str, Any], links: EvidenceLinks | None, *, issued: datetime
) -> dict[str, Any]:
    """A write-back payload with its ``evidence:<id>`` attachments turned into signed links.

    Without a public URL the platform could not fetch the files: a permanent error, so the row is
    dead with the reason (and replayable once ``GATEWAY_PUBLIC_URL`` is set), never sent without them.
    """
    attachments = payload.get("attachments") or []
    if not any(str(a.get("url") or "").startswith(REF) for a in attachments):
        return dict(payload)
    if links is None:
        raise PermanentError("GATEWAY_PUBLIC_URL 未配置，平台无法下载证据文件")
    resolved = [
        {**a, "url": links.url(int(str(a["url"])[len(REF):]), issued=issued)}
        if str(a.get("url") or "").startswith(REF) else dict(a)
        for a in attachments
    ]
    return {**payload, "attachments": resolved}
