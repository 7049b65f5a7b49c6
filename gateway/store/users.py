"""Repository functions for dashboard users, login sessions, the audit log and generated keys."""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from gateway.errors import NotFound
from gateway.store.sql import insert_ignore
from gateway.store.tables_auth import AuditRecord, KeyRecord, LoginSessionRecord, UserRecord


def get_user(session: Session, *, user_id: int) -> UserRecord:
    """One user by id, or ``NotFound``."""
    user = session.get(UserRecord, user_id)
    if user is None:
        raise NotFound("用户不存在")
    return user


def find_user(session: Session, *, username: str, for_update: bool = False) -> UserRecord | None:
    """One user by login name (case-insensitive on the way in: names are stored lower-case)."""
    stmt = select(UserRecord).where(UserRecord.username == username.strip().lower())
    if for_update:
        stmt = stmt.with_for_update()
    return session.scalars(stmt).first()


def list_users(session: Session) -> Sequence[UserRecord]:
    """Every user, by login name."""
    return session.scalars(select(UserRecord).order_by(UserRecord.username)).all()


def add_login_session(session: Session, *, record: LoginSessionRecord) -> None:
    """Store a new login session."""
    session.add(record)


def get_login_session(session: Session, *, token_hash: str) -> LoginSessionRecord | None:
    """A login session by the hash of its cookie token."""
    return session.get(LoginSessionRecord, token_hash)


def delete_login_session(session: Session, *, token_hash: str) -> None:
    """Forget one login session (logout)."""
    session.execute(delete(LoginSessionRecord).where(LoginSessionRecord.token_hash == token_hash))


def delete_user_sessions(session: Session, *, user_id: int) -> None:
    """Sign a user out everywhere (password change, disabled account)."""
    session.execute(delete(LoginSessionRecord).where(LoginSessionRecord.user_id == user_id))


def delete_expired_sessions(session: Session, *, now: datetime) -> None:
    """Drop sessions past their lifetime."""
    session.execute(delete(LoginSessionRecord).where(LoginSessionRecord.expires_at < now))


def add_audit(
    session: Session, *, actor: str, action: str, now: datetime, target: str | None = None,
    ip: str | None = None, **detail: Any,
) -> AuditRecord:
    """Append one entry to the audit log (never updated, never deleted)."""
    record = AuditRecord(at=now, actor=actor, action=action, target=target, ip=ip, detail=detail)
    session.add(record)
    return record


def list_audit(
    session: Session, *, limit: int, before_id: int | None = None, actor: str | None = None,
    action: str | None = None,
) -> list[AuditRecord]:
    """Newest first, keyset paging on id."""
    stmt = select(AuditRecord)
    if before_id is not None:
        stmt = stmt.where(AuditRecord.id < before_id)
    if actor:
        stmt = stmt.where(AuditRecord.actor == actor)
    if action:
        stmt = stmt.where(AuditRecord.action == action)
    return list(session.scalars(stmt.order_by(AuditRecord.id.desc()).limit(limit)))


def shared_key(session: Session, *, name: str, now: datetime) -> str:
    """A random key stored once and read by every process afterwards (first writer wins)."""
    existing = session.get(KeyRecord, name)
    if existing is not None:
        return existing.value
    table: Any = KeyRecord.__table__
    insert_ignore(session, table, {"name": name, "value": secrets.token_urlsafe(48), "created_at": now},
                  conflict=["name"], returning="name")
    value = session.scalar(select(KeyRecord.value).where(KeyRecord.name == name))
    assert value is not None
    return value
