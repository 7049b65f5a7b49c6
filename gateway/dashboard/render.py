"""Templates and the context every page gets: who is signed in, the CSRF token, navigation, flash."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.templating import Jinja2Templates
from sqlalchemy import update

from gateway.api.views import local
from gateway.catalogue import label as platform_label
from gateway.container import Container
from gateway.dashboard import labels
from gateway.errors import Forbidden
from gateway.principal import Principal
from gateway.services.accounts import LoginSession
from gateway.services.deadlines import basis
from gateway.settings import Role
from gateway.sla.deadlines import to_shanghai
from gateway.store.db import transaction
from gateway.store.tables_auth import LoginSessionRecord

TEMPLATES = Jinja2Templates(directory=str(Path(__file__).with_name("templates")))
NAV = (
    ("overview", "/dashboard/", "总览", None),
    ("queue", "/dashboard/queue", "工单列表", None),
    ("approvals", "/dashboard/approvals", "待办审批", (Role.unit_head, Role.leader)),
    ("alerts", "/dashboard/alerts", "告警", (Role.duty, Role.leader, Role.supervisor)),
    ("delivery", "/dashboard/delivery", "回传", (Role.duty, Role.leader, Role.supervisor, Role.admin)),
    ("closing", "/dashboard/closing", "结案管理", None),  # issue 16: 终结、终审、甄别、通报
    ("archive", "/dashboard/archive", "归档", None),  # issue 16: 日清月结年归档 (000 统一派单 六)
    # issue 16: 问责 (000 责任追究制度, 001 四(五)); admin administers and reads none of it
    ("accountability", "/dashboard/accountability", "问责记录",
     (Role.supervisor, Role.leader, Role.duty, Role.unit, Role.unit_head)),
    ("reports", "/dashboard/reports", "报表", None),
    ("admin", "/dashboard/admin/users", "系统管理", (Role.admin,)),
)


def when(value: datetime | str | None, fmt: str = "%Y-%m-%d %H:%M") -> str:
    """A time in Shanghai for people; '—' when there is none."""
    if value is None or value == "":
        return "—"
    moment = datetime.fromisoformat(value) if isinstance(value, str) else value
    return to_shanghai(moment).strftime(fmt)


def local_iso(value: datetime | str | None) -> str | None:
    """ISO-8601 in +08:00 for the page's scripts (countdowns); API views already give strings."""
    if value is None or isinstance(value, str):
        return value
    return local(value)


def pct(value: float | None) -> str:
    """0.953 → 95.3%; None → —."""
    return "—" if value is None else f"{value * 100:.1f}%"


def span(seconds: float | int | None) -> str:
    """A duration in words: 2小时05分, 3天4小时."""
    if seconds is None:
        return "—"
    total = int(abs(seconds))
    days, rest = divmod(total, 86400)
    hours, rest = divmod(rest, 3600)
    minutes = rest // 60
    text = f"{days}天{hours}小时" if days else (f"{hours}小时{minutes:02d}分" if hours else f"{minutes}分钟")
    return ("超时" + text) if seconds < 0 else text


TEMPLATES.env.filters.update(when=when, pct=pct, span=span, local=local_iso, platform=platform_label, zh=labels.zh,
                             platform_status=labels.platform_status)
TEMPLATES.env.globals.update(L=labels, Role=Role, basis=basis)


def login_of(request: Request) -> LoginSession:
    """The signed-in user, or a redirect to the login page (raised)."""
    login = getattr(request.state, "login", None)
    if not isinstance(login, LoginSession):
        raise LoginRequired(request.url.path + (f"?{request.url.query}" if request.url.query else ""))
    return login


class LoginRequired(Exception):
    """Raised by pages when nobody is signed in; answered with a redirect to the login page."""

    def __init__(self, next_path: str) -> None:
        super().__init__(next_path)
        self.next_path = next_path


def allowed(principal: Principal, roles: tuple[Role, ...] | None) -> bool:
    """Whether a navigation entry or page is open to this principal."""
    return roles is None or principal.has(*roles)


def require(principal: Principal, *roles: Role, action: str) -> None:
    """Forbidden unless the principal holds one of ``roles`` (no role implies another)."""
    if not principal.has(*roles):
        raise Forbidden(f"无权访问“{action}”")


def page(request: Request, name: str, *, active: str = "", status_code: int = 200, **context: Any) -> HTMLResponse:
    """Render a full page with the shared context."""
    login = getattr(request.state, "login", None)
    container: Container = request.app.state.container
    flash = None
    if isinstance(login, LoginSession) and login.record.flash:
        flash = login.record.flash
        _store_flash(container, login, None)
    principal = login.principal if isinstance(login, LoginSession) else None
    nav = [(key, href, text) for key, href, text, roles in NAV if principal and allowed(principal, roles)]
    waiting: dict[str, int] = {}
    if principal is not None and principal.has(Role.unit_head, Role.leader):
        from gateway.dashboard.approvals import counts

        with container.sessions() as session:
            waiting = counts(session, principal, review=container.settings.dashboard.unit_head_review)
    base = {"waiting": waiting, "waiting_total": sum(waiting.values()),
            "login": login, "principal": principal, "csrf": login.record.csrf_token if login else "", "nav": nav,
            "active": active, "flash": flash, "now": container.clock(),
            "refresh_s": container.settings.dashboard.refresh_s}
    return TEMPLATES.TemplateResponse(request, name, base | context, status_code=status_code)


def fragment(request: Request, name: str, **context: Any) -> HTMLResponse:
    """Render a partial for htmx (no layout)."""
    login = getattr(request.state, "login", None)
    principal = login.principal if isinstance(login, LoginSession) else None
    container: Container = request.app.state.container
    base = {"login": login, "principal": principal, "csrf": login.record.csrf_token if login else "",
            "now": container.clock()}
    return TEMPLATES.TemplateResponse(request, name, base | context)


def back(request: Request, path: str, *, ok: str | None = None, error: str | None = None) -> RedirectResponse:
    """Post/Redirect/Get with a one-time message shown on the next page, next to the form that was sent.

    The message remembers the form by its action (the path posted to); the page shows it inside
    that form (``app.js`` moves it there and scrolls to it; without scripts it stays at the top).
    A refused form also keeps what was typed into it (text fields, no files, no secrets: see
    ``security.entered``), which the page puts back, so nothing entered is lost (issue 13.2).
    """
    login = getattr(request.state, "login", None)
    if isinstance(login, LoginSession) and (ok or error):
        flash: dict[str, Any] = {"kind": "error" if error else "ok", "text": error or ok}
        if request.method == "POST":  # which form (and, among forms of one action, its hidden fields)
            flash["form"] = request.url.path
            flash["values"] = getattr(request.state, "form_values", None) or {}
        _store_flash(request.app.state.container, login, flash)
    return RedirectResponse(path, status_code=303)


def _store_flash(container: Container, login: LoginSession, flash: dict[str, Any] | None) -> None:
    with transaction(container.sessions) as session:
        session.execute(update(LoginSessionRecord).where(LoginSessionRecord.token_hash == login.record.token_hash)
                        .values(flash=flash))
    login.record.flash = flash
