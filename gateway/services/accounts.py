"""Dashboard accounts: Argon2 password hashes, login with lock-out, server-side sessions, user admin.

A session cookie holds a random token; the database keeps only its SHA-256, so a copy of the
database gives nobody a usable cookie. Every change here is audited with who, when and from where.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy.orm import Session

from gateway.errors import DomainError
from gateway.principal import Principal
from gateway.services import login_throttle
from gateway.settings import UNIT_ROLES, DashboardSettings, Role, role_problem
from gateway.store import users as repo
from gateway.store.tables_auth import LoginSessionRecord, UserRecord

HASHER = PasswordHasher()
MIN_PASSWORD = 10
# Verified when the user does not exist, so a wrong name costs as long as a wrong password.
_DUMMY_HASH = HASHER.hash(secrets.token_hex(16))


class LoginRefused(DomainError):
    """Wrong name or password, a locked or disabled account: one message for all, never which."""

    def __init__(self, message: str = "用户名或密码错误，或账号已锁定") -> None:
        super().__init__(message, code="login_refused", status=401)


@dataclass(frozen=True)
class LoginSession:
    """A resolved session: who, and the CSRF token of their forms."""

    user: UserRecord
    record: LoginSessionRecord

    @property
    def principal(self) -> Principal:
        """The user as the use cases see them."""
        return principal_of(self.user)


def principal_of(user: UserRecord) -> Principal:
    """A user's principal: the display name is what timelines and approvals record.

    A role the code does not know grants nothing (fail closed); start-up refuses such a user anyway.
    """
    roles = frozenset(Role(r) for r in user.roles or [] if r in Role.__members__)
    return Principal(name=user.display_name, roles=roles, unit=user.unit)


def user_problems(session: Session) -> list[str]:
    """Active users whose roles cannot be granted (empty, unknown, a unit role without a unit), named."""
    return [f"user {user.username!r}: {problem}" for user in repo.list_users(session)
            if user.active and (problem := role_problem(list(user.roles or []), user.unit))]


def token_hash(token: str) -> str:
    """The stored form of a cookie token."""
    return hashlib.sha256(token.encode()).hexdigest()


def check_password_policy(password: str) -> None:
    """At least 10 characters mixing letters and digits."""
    if len(password) < MIN_PASSWORD or password.isdigit() or password.isalpha():
        raise DomainError(f"密码至少 {MIN_PASSWORD} 位，且须同时包含字母和数字",
                          code="weak_password", status=422)


def _check_roles(roles: Iterable[str], unit: str | None) -> list[str]:
    valid = [Role(r).value for r in roles]
    if not valid:
        raise DomainError("至少选择一个角色", code="invalid_request", status=422)
    if any(r in UNIT_ROLES for r in valid) and not unit:
        raise DomainError("承办单位、部门负责人角色须指定所属单位",
                          code="invalid_request", status=422)
    return sorted(set(valid))


def create_user(
    session: Session, *, username: str, display_name: str, password: str, roles: Iterable[str],
    unit: str | None, actor: str, now: datetime, ip: str | None = None,
) -> UserRecord:
    """A new user with a hashed password; names are unique."""
    name = username.strip().lower()
    if not name or not name.replace("_", "").replace("-", "").replace(".", "").isalnum():
        raise DomainError("用户名只能包含字母、数字、点、下划线和连字符", code="invalid_request",
                          status=422)
    if repo.find_user(session, username=name) is not None:
        raise DomainError(f"用户名“{name}”已存在", code="conflict")
    check_password_policy(password)
    user = UserRecord(username=name, display_name=display_name.strip() or name, password_hash=HASHER.hash(password),
                      roles=_check_roles(roles, unit), unit=unit or None, active=True, failed_logins=0,
                      password_changed_at=now, created_at=now, updated_at=now)
    session.add(user)
    session.flush()
    repo.add_audit(session, actor=actor, action="user_created", now=now, target=name, ip=ip,
                   roles=user.roles, unit=user.unit)
    return user


def update_user(
    session: Session, *, user_id: int, display_name: str, roles: Iterable[str], unit: str | None, active: bool,
    actor: str, now: datetime, ip: str | None = None,
) -> UserRecord:
    """Change roles, unit, name or enabled state; disabling signs the user out everywhere."""
    user = repo.get_user(session, user_id=user_id)
    before = {"display_name": user.display_name, "roles": list(user.roles), "unit": user.unit, "active": user.active}
    user.display_name, user.roles = display_name.strip() or user.display_name, _check_roles(roles, unit)
    user.unit, user.active, user.updated_at = unit or None, active, now
    if not active:
        repo.delete_user_sessions(session, user_id=user.id)
    after = {"display_name": user.display_name, "roles": user.roles, "unit": user.unit, "active": user.active}
    repo.add_audit(session, actor=actor, action="user_updated", now=now, target=user.username, ip=ip,
                   before=before, after=after)
    return user


def set_password(
    session: Session, *, user_id: int, password: str, actor: str, now: datetime, ip: str | None = None
) -> None:
    """A new password; every session of the user ends and a lock-out is lifted."""
    check_password_policy(password)
    user = repo.get_user(session, user_id=user_id)
    login_throttle.clear_account(session, username=user.username)
    user.password_hash, user.password_changed_at = HASHER.hash(password), now
    user.failed_logins, user.locked_until, user.updated_at = 0, None, now
    repo.delete_user_sessions(session, user_id=user.id)
    repo.add_audit(session, actor=actor, action="password_set", now=now, target=user.username, ip=ip)


def authenticate(
    session: Session, *, username: str, password: str, now: datetime, policy: DashboardSettings,
    ip: str | None = None, device: str | None = None,
) -> UserRecord:
    """The user when the password is right and the account usable.

    Throttled per account, client address and trusted browser (``login_throttle``): a blocked attempt
    raises ``LoginThrottled`` before the password is looked at; a failure that starts a block raises
    it too (saying until when); any other failure ``LoginRefused``, one message for every reason.
    """
    client = login_throttle.Client(address=ip, device=device)
    login_throttle.check(session, username=username, client=client, now=now)
    user = repo.find_user(session, username=username, for_update=True)
    reason = None
    if user is None or not user.active:
        _verify(_DUMMY_HASH, password)  # as slow as a real check: the time tells nothing either
        reason = "unknown" if user is None else "disabled"
    elif not _verify(user.password_hash, password):
        reason = "password"
    if reason is not None:
        repo.add_audit(session, actor=user.display_name if user else username[:100] or "?", action="login_failed",
                       now=now, ip=ip, reason=reason)
        started = login_throttle.record_failure(session, username=username, client=client, now=now, policy=policy)
        raise started or LoginRefused()
    assert user is not None
    if HASHER.check_needs_rehash(user.password_hash):
        user.password_hash = HASHER.hash(password)
    user.failed_logins, user.locked_until, user.last_login_at = 0, None, now
    login_throttle.record_success(session, username=username, client=client)
    return user


def _verify(stored: str, password: str) -> bool:
    try:
        return HASHER.verify(stored, password)
    except (VerificationError, InvalidHashError):
        return False


def start_session(
    session: Session, *, user: UserRecord, now: datetime, policy: DashboardSettings, ip: str | None,
    user_agent: str | None,
) -> str:
    """A new login session; returns the cookie token (only its hash is stored)."""
    token = secrets.token_urlsafe(32)
    repo.delete_expired_sessions(session, now=now)
    repo.add_login_session(session, record=LoginSessionRecord(
        token_hash=token_hash(token), user_id=user.id, csrf_token=secrets.token_urlsafe(32), created_at=now,
        expires_at=now + timedelta(seconds=policy.session_ttl_s), last_seen_at=now, ip=ip,
        user_agent=(user_agent or "")[:300] or None,
    ))
    repo.add_audit(session, actor=user.display_name, action="login", now=now, target=user.username, ip=ip)
    return token


def resolve_session(session: Session, *, token: str, now: datetime, policy: DashboardSettings) -> LoginSession | None:
    """The live session of a cookie token, touched; None when unknown, expired, idle or the user is disabled."""
    record = repo.get_login_session(session, token_hash=token_hash(token))
    if record is None:
        return None
    idle_limit = record.last_seen_at + timedelta(seconds=policy.session_idle_s)
    user = repo.get_user(session, user_id=record.user_id)
    if record.expires_at <= now or idle_limit <= now or not user.active:
        repo.delete_login_session(session, token_hash=record.token_hash)
        return None
    # Touch at most once a minute: every page view need not be a write.
    if now - record.last_seen_at > timedelta(seconds=60):
        record.last_seen_at = now
    return LoginSession(user=user, record=record)


def end_session(session: Session, *, login: LoginSession, now: datetime, ip: str | None) -> None:
    """Logout: the session row goes, the cookie token is worthless from now on."""
    repo.delete_login_session(session, token_hash=login.record.token_hash)
    repo.add_audit(session, actor=login.user.display_name, action="logout", now=now, target=login.user.username,
                   ip=ip)


def ensure_user(
    session: Session, *, username: str, display_name: str, password: str, roles: Iterable[str], unit: str | None,
    actor: str, now: datetime,
) -> UserRecord:
    """Create the user, or give an existing one these roles, unit and password (the demo's logins)."""
    user = repo.find_user(session, username=username)
    if user is None:
        return create_user(session, username=username, display_name=display_name, password=password, roles=roles,
                           unit=unit, actor=actor, now=now)
    update_user(session, user_id=user.id, display_name=display_name, roles=roles, unit=unit, active=True,
                actor=actor, now=now)
    set_password(session, user_id=user.id, password=password, actor=actor, now=now)
    return user
