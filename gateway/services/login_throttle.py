"""Login throttling that nobody can turn against a user (OWASP "device cookies").

Failed logins are counted per key, each blocked for a growing delay once over its limit
(``login_delay_s``, doubling per further failure up to ``login_lockout_s``):

- ``address:<ip>`` — every failure from one client address, whatever the name: password spraying.
- ``account:<name>`` — failures for one login name from browsers that never signed in to it, named
  or not (an unknown name is throttled the same, so the answer tells nobody whether it exists).
- ``device:<name>:<id>`` — a browser that signed in to that account before carries a signed cookie;
  its attempts count only against itself and ignore the account's and the address's blocks. So a
  stranger who knows a user's name can delay strangers, never the user at their own workstation.

A blocked attempt is refused before the password is checked, saying until when (Chinese); every
block, every refused attempt and every unlock is in the audit log; an admin can unlock an account.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from gateway.errors import DomainError
from gateway.schema import SHANGHAI
from gateway.settings import DashboardSettings
from gateway.store.sql import insert_ignore
from gateway.store.tables_auth import LoginThrottleRecord, UserRecord
from gateway.store.users import add_audit, find_user

SCOPE_LABELS = {"account": "该账号", "address": "本机地址", "device": "本浏览器"}


@dataclass(frozen=True)
class Client:
    """Where an attempt comes from: the peer address and, if any, the browser's verified device id."""

    address: str | None
    device: str | None = None  # set only when the device cookie is valid for the name being tried


class LoginThrottled(DomainError):
    """Logins are paused for this account, address or browser until ``until``."""

    def __init__(self, scope: str, until: datetime) -> None:
        local = until.astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M:%S")
        super().__init__(f"登录失败次数过多，{SCOPE_LABELS[scope]}已暂时锁定，请于 {local}（北京时间）后再试，"
                         f"或联系管理员解锁", code="login_locked", status=429)
        self.scope, self.until = scope, until


def _keys(username: str, client: Client) -> dict[str, str]:
    name = username.strip().lower()[:64]
    if client.device is not None:
        return {"device": f"device:{name}:{client.device}"}
    keys = {"account": f"account:{name}"}
    if client.address:
        keys["address"] = f"address:{client.address}"
    return keys


def _limit(scope: str, policy: DashboardSettings) -> int:
    return policy.login_address_max_failures if scope == "address" else policy.login_max_failures


def check(session: Session, *, username: str, client: Client, now: datetime) -> None:
    """Raise ``LoginThrottled`` (audited) when any key of this attempt is blocked now."""
    keys = _keys(username, client)
    rows = session.scalars(select(LoginThrottleRecord).where(LoginThrottleRecord.key.in_(keys.values())))
    blocked = {r.key: r.blocked_until for r in rows if r.blocked_until is not None and r.blocked_until > now}
    for scope, key in keys.items():
        until = blocked.get(key)
        if until is not None:
            add_audit(session, actor=username.strip()[:100] or "?", action="login_throttled", now=now,
                      ip=client.address, target=key, until=until.isoformat())
            raise LoginThrottled(scope, until)


def record_failure(session: Session, *, username: str, client: Client, now: datetime,
                   policy: DashboardSettings) -> LoginThrottled | None:
    """Count a failed attempt on each of its keys; the block it started, if any (audited)."""
    started: LoginThrottled | None = None
    window = timedelta(seconds=policy.login_failure_window_s)
    for scope, key in _keys(username, client).items():
        insert_ignore(session, LoginThrottleRecord.__table__,  # type: ignore[arg-type]
                      {"key": key, "failures": 0, "last_failure_at": now}, conflict=["key"], returning="key")
        row = session.scalars(select(LoginThrottleRecord).where(LoginThrottleRecord.key == key)
                              .with_for_update()).one()
        if row.failures and row.last_failure_at < now - window:
            row.failures = 0  # a quiet hour forgets old failures
        row.failures += 1
        row.last_failure_at = now
        over = row.failures - _limit(scope, policy)
        if over >= 0:
            delay = min(policy.login_lockout_s, policy.login_delay_s * 2 ** min(over, 30))
            row.blocked_until = now + timedelta(seconds=delay)
            add_audit(session, actor=username.strip()[:100] or "?", action="login_locked", now=now,
                      ip=client.address, target=key, failures=row.failures, until=row.blocked_until.isoformat())
            started = started or LoginThrottled(scope, row.blocked_until)
            if scope == "account":
                _mirror(session, username, row)
    return started


def record_success(session: Session, *, username: str, client: Client) -> None:
    """The right password: the account's (or this browser's) count starts again; the address's does not,
    or one valid account would let a sprayer reset it."""
    keys = _keys(username, client)
    keys.pop("address", None)
    session.execute(delete(LoginThrottleRecord).where(LoginThrottleRecord.key.in_(keys.values())))


def clear_account(session: Session, *, username: str) -> int:
    """Forget the failures and blocks of an account and of its browsers; how many keys there were."""
    name = username.strip().lower()
    stmt = delete(LoginThrottleRecord).where(
        (LoginThrottleRecord.key == f"account:{name}") | LoginThrottleRecord.key.startswith(f"device:{name}:"))
    return int(session.execute(stmt).rowcount or 0)  # type: ignore[attr-defined]


def unlock(session: Session, *, user: UserRecord, actor: str, now: datetime, ip: str | None) -> int:
    """管理员解锁: lift every block of an account (its own and its browsers'); audited. The count lifted."""
    name = user.username
    lifted = clear_account(session, username=name)
    user.failed_logins, user.locked_until = 0, None
    add_audit(session, actor=actor, action="login_unlocked", now=now, ip=ip, target=name, lifted=lifted)
    return lifted


def _mirror(session: Session, username: str, row: LoginThrottleRecord) -> None:
    # The user list shows 已锁定 from the user's own columns.
    user = find_user(session, username=username)
    if user is not None:
        user.failed_logins, user.locked_until = row.failures, row.blocked_until
