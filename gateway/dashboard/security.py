"""Session cookies, CSRF, and the middleware that turns a dashboard login into the request's principal.

- The cookie holds a random token plus an HMAC of it (so a forged cookie never reaches the database);
  HttpOnly, SameSite=Lax, Secure when configured, path ``/`` so that the JSON API sees it too.
- The middleware sets ``request.state.principal`` from the session: ``gateway.api.deps.get_principal``
  takes it when there is no bearer token, so the dashboard and the API share one authorisation.
- CSRF: every unsafe request made with the cookie must carry the session's token, in the
  ``X-CSRF-Token`` header (htmx, scripts) or a ``csrf_token`` form field (plain forms, checked by
  ``require_csrf`` on every dashboard router). The login form, made before any session, uses a
  signed double-submit cookie.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from typing import Any

from fastapi import Request, Response
from starlette.concurrency import run_in_threadpool
from starlette.types import ASGIApp, Receive, Scope, Send

from gateway.api.errors import error_response
from gateway.container import Container
from gateway.errors import Forbidden
from gateway.services import accounts
from gateway.services.signing import signing_key
from gateway.store import units
from gateway.store.db import transaction

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
LOGIN_COOKIE = "hg_login"
DEVICE_COOKIE = "hg_device"  # a browser that signed in before (services/login_throttle.py)
DASHBOARD = "/dashboard"


def sign(key: bytes, value: str) -> str:
    """A short MAC of ``value``."""
    digest = hmac.new(key, value.encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest[:18]).decode()


def cookie_value(key: bytes, token: str) -> str:
    """What the session cookie holds: token and its MAC."""
    return f"{token}.{sign(key, token)}"


def token_from_cookie(key: bytes, value: str | None) -> str | None:
    """The session token of a cookie whose MAC is right, else None."""
    token, _, mac = (value or "").rpartition(".")
    if not token or not hmac.compare_digest(sign(key, token), mac):
        return None
    return token


def set_session_cookie(response: Response, container: Container, token: str) -> None:
    """Send the session cookie with the flags a login cookie must have."""
    policy = container.settings.dashboard
    response.set_cookie(policy.cookie_name, cookie_value(signing_key(container), token), httponly=True,
                        samesite="lax", secure=policy.cookie_secure, path="/", max_age=int(policy.session_ttl_s))


def clear_session_cookie(response: Response, container: Container) -> None:
    """Forget the session cookie in the browser."""
    policy = container.settings.dashboard
    response.delete_cookie(policy.cookie_name, path="/", httponly=True, samesite="lax", secure=policy.cookie_secure)


def _device_mac(container: Container, value: str) -> str:
    return sign(signing_key(container), "device:" + value)


def set_device_cookie(response: Response, container: Container, username: str) -> None:
    """After a login: this browser is known to this account from now on (its own failure count only)."""
    policy = container.settings.dashboard
    value = f"{username.strip().lower()}:{secrets.token_urlsafe(16)}"
    response.set_cookie(DEVICE_COOKIE, f"{value}.{_device_mac(container, value)}", httponly=True, samesite="strict",
                        secure=policy.cookie_secure, path=DASHBOARD, max_age=policy.device_cookie_days * 86_400)


def device_id(container: Container, request: Request, username: str) -> str | None:
    """The id of this browser when its device cookie is ours and was set for ``username``, else None."""
    value, _, mac = request.cookies.get(DEVICE_COOKIE, "").rpartition(".")
    name, _, device = value.partition(":")
    if not device or name != username.strip().lower() or not hmac.compare_digest(_device_mac(container, value), mac):
        return None
    return device


def login_form_token(container: Container, request: Request, response: Response) -> str:
    """A nonce cookie for the login form and the signed value its hidden field must echo."""
    nonce = request.cookies.get(LOGIN_COOKIE) or secrets.token_urlsafe(24)
    response.set_cookie(LOGIN_COOKIE, nonce, httponly=True, samesite="lax",
                        secure=container.settings.dashboard.cookie_secure, path=DASHBOARD, max_age=3600)
    return sign(signing_key(container), "login:" + nonce)


def check_login_form(container: Container, request: Request, field: str) -> None:
    """Refuse a login POST whose hidden field does not match its nonce cookie."""
    nonce = request.cookies.get(LOGIN_COOKIE, "")
    expected = sign(signing_key(container), "login:" + nonce)
    if not nonce or not hmac.compare_digest(expected, field or ""):
        raise Forbidden("表单已失效，请刷新页面后重试")


KEEP_OUT = ("csrf_token", "password", "secret", "token")  # never kept for a refused form's redo


def entered(items: list[tuple[str, Any]]) -> dict[str, str | list[str]]:
    """What a person typed into a form (text only, no files, no secrets), to put back if it is refused."""
    values: dict[str, str | list[str]] = {}
    for name, value in items:
        if not isinstance(value, str) or any(word in name.lower() for word in KEEP_OUT):
            continue
        if name in values:
            prior = values[name]
            values[name] = [*prior, value] if isinstance(prior, list) else [prior, value]
        else:
            values[name] = value
    return values


async def require_csrf(request: Request) -> None:
    """Dependency of every dashboard router: unsafe requests carry the session's CSRF token."""
    if request.method in SAFE_METHODS:
        return
    login = getattr(request.state, "login", None)
    if login is None:
        return  # no session: the route's own login check answers (the login form has its own token)
    sent = request.headers.get("x-csrf-token")
    if sent is None:
        content_type = request.headers.get("content-type", "")
        if content_type.startswith(("application/x-www-form-urlencoded", "multipart/form-data")):
            form = await request.form()
            sent = str(form.get("csrf_token") or "")
            request.state.form_values = entered(form.multi_items())
    if not hmac.compare_digest(login.record.csrf_token, sent or ""):
        raise Forbidden("表单已失效，请刷新页面后重试")


class SessionMiddleware:
    """Resolve the session cookie into ``request.state.principal`` / ``request.state.login``.

    A plain ASGI middleware, not ``BaseHTTPMiddleware``: that one re-wraps ``receive`` and breaks
    streamed request bodies (the webhook reads its body with a size limit) and costs every request.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Attach the login, refuse cookie-authenticated API writes without the CSRF header."""
        if scope["type"] != "http" or scope.get("path", "").startswith("/inbound/"):
            await self.app(scope, receive, send)  # platforms' webhooks carry no session
            return
        request = Request(scope)  # headers and state only: the body is left to the endpoint
        container: Container = request.app.state.container
        request.state.login = None
        if not container.units_seeded:
            await run_in_threadpool(_seed_units, container)
        raw = request.cookies.get(container.settings.dashboard.cookie_name)
        bearer = request.headers.get("authorization", "").lower().startswith("bearer ")
        if raw and not bearer:
            login = await run_in_threadpool(_resolve, container, raw)
            if login is not None:
                request.state.login, request.state.principal = login, login.principal
                if request.method not in SAFE_METHODS and not request.url.path.startswith(DASHBOARD):
                    sent = request.headers.get("x-csrf-token", "")
                    if not hmac.compare_digest(login.record.csrf_token, sent):
                        response = error_response(403, "forbidden", "缺少或错误的 CSRF 令牌")
                        await response(scope, receive, send)
                        return
        await self.app(scope, receive, send)


def _resolve(container: Container, raw: str) -> accounts.LoginSession | None:
    token = token_from_cookie(signing_key(container), raw)
    if token is None:
        return None
    with transaction(container.sessions) as session:
        # Objects stay readable after the session closes (expire_on_commit=False).
        return accounts.resolve_session(session, token=token, now=container.clock(),
                                        policy=container.settings.dashboard)


def _seed_units(container: Container) -> None:
    # The directory is seeded once from the configured file; afterwards the admin edits it in the UI.
    try:
        with transaction(container.sessions) as session:
            units.seed_units(session, units=units.load_directory(container.settings.dashboard.units_file),
                             now=container.clock())
        container.units_seeded = True
    except Exception:  # a database not migrated yet: try again on the next request
        container.units_seeded = False
