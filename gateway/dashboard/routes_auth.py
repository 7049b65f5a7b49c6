"""Login, logout and changing one's own password."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from gateway.container import Container
from gateway.dashboard.render import back, login_of, page
from gateway.dashboard.security import (
    DASHBOARD,
    check_login_form,
    clear_session_cookie,
    device_id,
    login_form_token,
    set_device_cookie,
    set_session_cookie,
)
from gateway.errors import DomainError
from gateway.services import accounts
from gateway.services.login_throttle import LoginThrottled
from gateway.store.db import transaction

router = APIRouter(prefix=DASHBOARD)


def client_ip(request: Request) -> str | None:
    """The peer address (the deployment's proxy should set it; we do not trust X-Forwarded-For blindly)."""
    return request.client.host if request.client else None


def _safe_next(value: str | None) -> str:
    # Only a path inside the dashboard: never an open redirect to another site.
    if value and value.startswith(f"{DASHBOARD}/") and not value.startswith("//") and "\\" not in value:
        return value
    return f"{DASHBOARD}/"


@router.get("/login", response_class=HTMLResponse)
def login_form(request: Request, next: str | None = None) -> Response:
    """The login page."""
    if getattr(request.state, "login", None) is not None:
        return RedirectResponse(_safe_next(next), status_code=303)
    carrier = Response()
    token = login_form_token(request.app.state.container, request, carrier)
    return _render_login(request, token, _safe_next(next), None, carrier)


def _render_login(request: Request, token: str, next_path: str, error: str | None,
                  carrier: Response | None = None, status: int = 200) -> Response:
    response = page(request, "login.html", next=next_path, form_token=token, error=error, status_code=status)
    if carrier is not None:
        for key, value in carrier.headers.items():
            if key.lower() == "set-cookie":
                response.headers.append(key, value)
    return response


@router.post("/login")
def login(
    request: Request,
    username: Annotated[str, Form(max_length=64)],
    password: Annotated[str, Form(max_length=256)],
    form_token: Annotated[str, Form()] = "",
    next: Annotated[str, Form()] = "",
) -> Response:
    """Check the password, start a session, set the cookie."""
    container: Container = request.app.state.container
    check_login_form(container, request, form_token)
    now, ip, token, status = container.clock(), client_ip(request), None, 401
    device = device_id(container, request, username)
    with transaction(container.sessions) as session:
        try:
            user = accounts.authenticate(session, username=username, password=password, now=now,
                                         policy=container.settings.dashboard, ip=ip, device=device)
            token = accounts.start_session(session, user=user, now=now, policy=container.settings.dashboard, ip=ip,
                                           user_agent=request.headers.get("user-agent"))
        except (accounts.LoginRefused, LoginThrottled) as exc:
            refused, status = str(exc), exc.status  # the failure count and audit entry are committed all the same
    if token is None:
        return _render_login(request, form_token, _safe_next(next), refused, status=status)
    response = RedirectResponse(_safe_next(next), status_code=303)
    set_session_cookie(response, container, token)
    set_device_cookie(response, container, username)
    return response


@router.post("/logout")
def logout(request: Request) -> Response:
    """End the session in the database and in the browser."""
    container: Container = request.app.state.container
    login = getattr(request.state, "login", None)
    if login is not None:
        with transaction(container.sessions) as session:
            accounts.end_session(session, login=login, now=container.clock(), ip=client_ip(request))
    response = RedirectResponse(f"{DASHBOARD}/login", status_code=303)
    clear_session_cookie(response, container)
    return response


@router.get("/account", response_class=HTMLResponse)
def account(request: Request) -> Response:
    """The signed-in user's account and the password form."""
    login_of(request)
    return page(request, "account.html", active="")


@router.post("/account/password")
def change_password(
    request: Request,
    current: Annotated[str, Form(max_length=256)],
    new: Annotated[str, Form(max_length=256)],
    repeat: Annotated[str, Form(max_length=256)],
) -> Response:
    """A new password for oneself (the current one is asked again); signs out every session."""
    login = login_of(request)
    container: Container = request.app.state.container
    if new != repeat:
        return back(request, f"{DASHBOARD}/account", error="两次输入的新密码不一致")
    now, refused = container.clock(), False
    with transaction(container.sessions) as session:
        try:
            accounts.authenticate(session, username=login.user.username, password=current, now=now,
                                  policy=container.settings.dashboard, ip=client_ip(request),
                                  device=device_id(container, request, login.user.username))
        except (accounts.LoginRefused, LoginThrottled):
            refused = True  # counted towards the lock-out like any wrong password
    if refused:
        return back(request, f"{DASHBOARD}/account", error="当前密码不正确")
    try:
        with transaction(container.sessions) as session:
            accounts.set_password(session, user_id=login.user.id, password=new, actor=login.user.display_name,
                                  now=now, ip=client_ip(request))
    except DomainError as exc:
        return back(request, f"{DASHBOARD}/account", error=str(exc))
    response = RedirectResponse(f"{DASHBOARD}/login", status_code=303)
    clear_session_cookie(response, container)
    return response
