"""系统管理: users and roles, the unit directory, the deadline rules in force, and the audit log (admin; the
audit log also 督察, the deadline rules also leaders and 督察)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, Response

from gateway.container import Container
from gateway.dashboard.render import back, login_of, page, require
from gateway.dashboard.routes_auth import client_ip
from gateway.dashboard.security import DASHBOARD
from gateway.errors import DomainError
from gateway.services import accounts, login_throttle
from gateway.settings import Role
from gateway.sla.deadlines import to_shanghai
from gateway.sla.runtime import runtime_for_engine
from gateway.sla.table import policy_table
from gateway.store import units as unit_repo
from gateway.store import users as user_repo
from gateway.store.db import transaction

router = APIRouter(prefix=f"{DASHBOARD}/admin")
USERS = f"{DASHBOARD}/admin/users"
UNITS = f"{DASHBOARD}/admin/units"


@router.get("/users", response_class=HTMLResponse)
def users(request: Request) -> Response:
    """Every user with roles, unit and state."""
    require(login_of(request).principal, Role.admin, action="用户管理")
    container: Container = request.app.state.container
    with container.sessions() as session:
        rows = user_repo.list_users(session)
        names = [u.name for u in unit_repo.list_units(session)]
    return page(request, "admin_users.html", active="admin", users=rows, units=names, roles=list(Role))


@router.post("/users")
def create_user(
    request: Request,
    username: Annotated[str, Form(min_length=2, max_length=64)],
    display_name: Annotated[str, Form(min_length=1, max_length=100)],
    password: Annotated[str, Form(max_length=256)],
    roles: Annotated[list[str], Form()],
    unit: Annotated[str, Form(max_length=100)] = "",
) -> Response:
    """A new user."""
    principal = login_of(request).principal
    require(principal, Role.admin, action="新建用户")
    container: Container = request.app.state.container
    try:
        with transaction(container.sessions) as session:
            accounts.create_user(session, username=username, display_name=display_name, password=password,
                                 roles=roles, unit=unit or None, actor=principal.name, now=container.clock(),
                                 ip=client_ip(request))
    except (DomainError, ValueError) as exc:
        return back(request, USERS, error=str(exc))
    return back(request, USERS, ok=f"已创建用户 {username}")


@router.post("/users/{user_id}")
def update_user(
    user_id: int,
    request: Request,
    display_name: Annotated[str, Form(min_length=1, max_length=100)],
    roles: Annotated[list[str], Form()],
    unit: Annotated[str, Form(max_length=100)] = "",
    active: Annotated[str, Form()] = "",
) -> Response:
    """Change a user's roles, unit, name or enabled state."""
    principal = login_of(request).principal
    require(principal, Role.admin, action="修改用户")
    container: Container = request.app.state.container
    try:
        with transaction(container.sessions) as session:
            accounts.update_user(session, user_id=user_id, display_name=display_name, roles=roles,
                                 unit=unit or None, active=active == "on", actor=principal.name,
                                 now=container.clock(), ip=client_ip(request))
    except (DomainError, ValueError) as exc:
        return back(request, USERS, error=str(exc))
    return back(request, USERS, ok="用户已更新")


@router.post("/users/{user_id}/password")
def reset_password(user_id: int, request: Request, password: Annotated[str, Form(max_length=256)]) -> Response:
    """Set a user's password (the user is signed out everywhere)."""
    principal = login_of(request).principal
    require(principal, Role.admin, action="重置密码")
    container: Container = request.app.state.container
    try:
        with transaction(container.sessions) as session:
            accounts.set_password(session, user_id=user_id, password=password, actor=principal.name,
                                  now=container.clock(), ip=client_ip(request))
    except DomainError as exc:
        return back(request, USERS, error=str(exc))
    return back(request, USERS, ok="密码已重置")


@router.post("/users/{user_id}/unlock")
def unlock_user(user_id: int, request: Request) -> Response:
    """解锁: lift the login delay of an account after too many failed logins (audited)."""
    principal = login_of(request).principal
    require(principal, Role.admin, action="解锁账号")
    container: Container = request.app.state.container
    with transaction(container.sessions) as session:
        user = user_repo.get_user(session, user_id=user_id)
        login_throttle.unlock(session, user=user, actor=principal.name, now=container.clock(), ip=client_ip(request))
        name = user.username
    return back(request, USERS, ok=f"已解锁 {name}")


@router.get("/units", response_class=HTMLResponse)
def units(request: Request) -> Response:
    """The unit directory, including disabled units."""
    require(login_of(request).principal, Role.admin, action="承办单位管理")
    container: Container = request.app.state.container
    with container.sessions() as session:
        rows = unit_repo.list_units(session, active_only=False)
    return page(request, "admin_units.html", active="admin", units=rows)


@router.post("/units")
def save_unit(
    request: Request,
    name: Annotated[str, Form(min_length=1, max_length=100)],
    kind: Annotated[str, Form(max_length=32)] = "",
    phone: Annotated[str, Form(max_length=32)] = "",
    sort: Annotated[int, Form()] = 0,
    active: Annotated[str, Form()] = "",
    unit_id: Annotated[int | None, Form()] = None,
    parent: Annotated[str, Form(max_length=100)] = "",
    area: Annotated[str | None, Form(max_length=200)] = None,
) -> Response:
    """Add or change a unit (with the unit it belongs to, 所属单位, and its 辖区 that suggests it for dispatch)."""
    principal = login_of(request).principal
    require(principal, Role.admin, action="保存承办单位")
    container: Container = request.app.state.container
    now = container.clock()
    try:
        with transaction(container.sessions) as session:
            record = unit_repo.save_unit(session, unit_id=unit_id, name=name, kind=kind, phone=phone,
                                         active=active == "on", sort=sort, now=now, parent=parent,
                                         area=area)
            user_repo.add_audit(session, actor=principal.name, action="unit_saved", now=now, ip=client_ip(request),
                                target=record.name, active=record.active, new=unit_id is None)
    except DomainError as exc:
        return back(request, UNITS, error=str(exc))
    return back(request, UNITS, ok=f"已保存：{name}")


@router.get("/policy", response_class=HTMLResponse)
def policy(request: Request) -> Response:
    """The deadline rules in force (the regulation profile), each with its article, and the calendar years."""
    require(login_of(request).principal, Role.admin, Role.leader, Role.supervisor, action="期限规则")
    container: Container = request.app.state.container
    runtime = runtime_for_engine(container.engine)
    with container.sessions() as session:
        calendar = runtime.calendar(session)
    today = to_shanghai(container.clock()).date()
    return page(request, "admin_policy.html", active="admin", table=policy_table(runtime.sla),
                years=calendar.years(), missing=calendar.missing_years(today))


@router.get("/audit", response_class=HTMLResponse)
def audit(request: Request, actor: str | None = None, action: str | None = None,
          before: Annotated[int | None, Query(ge=1)] = None) -> Response:
    """The audit log, newest first."""
    require(login_of(request).principal, Role.admin, Role.supervisor, action="审计日志")
    container: Container = request.app.state.container
    with container.sessions() as session:
        rows = user_repo.list_audit(session, limit=101, before_id=before, actor=actor or None, action=action or None)
    return page(request, "audit.html", active="admin", rows=rows[:100], actor=actor or "", action=action or "",
                next_before=rows[99].id if len(rows) > 100 else None)
