"""The operations dashboard (总览, 工单, 告警, 回传, 报表, 系统管理), served by the gateway itself.

Server-rendered Jinja2 pages with htmx for live parts (overview polling, queue paging) and a small
script for countdowns and charts; every asset is vendored under ``static/`` (the intranet has no
internet). Pages act through the same use cases as the JSON API (``gateway.services``), so a rule
enforced for one is enforced for both. ``install`` wires it into the app built by ``app.web.create_app``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import Depends, FastAPI, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import RedirectResponse
from fastapi.staticfiles import StaticFiles
from starlette.datastructures import MutableHeaders
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from gateway.dashboard.render import LoginRequired, back, page
from gateway.dashboard.security import DASHBOARD, SessionMiddleware, require_csrf
from gateway.errors import DomainError
from gateway.validation_zh import summary

STATIC = Path(__file__).with_name("static")
# No inline script anywhere: the Content-Security-Policy forbids it, so injected markup cannot run.
SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
                               "img-src 'self' data:; frame-ancestors 'none'; form-action 'self'; base-uri 'none'",
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",  # pages hold personal data: never keep them in a shared cache
}


def install(app: FastAPI) -> None:
    """Add the dashboard's middleware, routes, static files and HTML error pages to ``app``."""
    from gateway.dashboard import (
        routes_accountability,
        routes_actions,
        routes_admin,
        routes_approvals,
        routes_archive,
        routes_auth,
        routes_closing,
        routes_intervention,
        routes_ops,
        routes_pages,
        routes_reports,
        routes_ticket,
    )

    app.add_middleware(SessionMiddleware)
    app.add_middleware(SecurityHeaders)
    app.mount(f"{DASHBOARD}/static", StaticFiles(directory=STATIC), name="dashboard-static")
    for module in (routes_auth, routes_pages, routes_ticket, routes_actions, routes_ops, routes_reports,
                   routes_admin, routes_approvals, routes_closing, routes_archive, routes_accountability,
                   routes_intervention):
        app.include_router(module.router, dependencies=[Depends(require_csrf)], include_in_schema=False)
    app.add_api_route("/", _home, include_in_schema=False)
    _html_errors(app)


def _home() -> RedirectResponse:
    return RedirectResponse(f"{DASHBOARD}/", status_code=307)


class SecurityHeaders:
    """Security headers on dashboard pages (plain ASGI: the API and webhooks pass through untouched)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Add the headers to the response start of a dashboard page."""
        path = scope.get("path", "") if scope["type"] == "http" else ""
        if not path.startswith(DASHBOARD) or path.startswith(f"{DASHBOARD}/static"):
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for key, value in SECURITY_HEADERS.items():
                    if key not in headers:
                        headers[key] = value
            await send(message)

        await self.app(scope, receive, send_with_headers)


def _html_errors(app: FastAPI) -> None:
    # The API keeps its JSON error shape; dashboard paths get a page a person can read.
    json_domain: Any = app.exception_handlers.get(DomainError)
    json_http: Any = app.exception_handlers.get(StarletteHTTPException)

    async def login_required(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, LoginRequired)
        target = f"{DASHBOARD}/login"
        if exc.next_path and exc.next_path != f"{DASHBOARD}/":
            from urllib.parse import quote

            target += "?next=" + quote(exc.next_path, safe="")
        if request.headers.get("hx-request"):
            return Response(status_code=204, headers={"HX-Redirect": target})
        return RedirectResponse(target, status_code=303)

    async def domain(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, DomainError)
        if not request.url.path.startswith(DASHBOARD):
            return await json_domain(request, exc)  # type: ignore[no-any-return]
        return page(request, "error.html", status_code=exc.status, message=str(exc), status=exc.status)

    async def http(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, StarletteHTTPException)
        if not request.url.path.startswith(DASHBOARD):
            return await json_http(request, exc)  # type: ignore[no-any-return]
        text = {404: "页面不存在", 405: "不支持的请求方式"}.get(exc.status_code, str(exc.detail))
        return page(request, "error.html", status_code=exc.status_code, message=text, status=exc.status_code)

    json_invalid: Any = app.exception_handlers.get(RequestValidationError)

    async def invalid(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, RequestValidationError)
        if not request.url.path.startswith(DASHBOARD) or request.method == "GET":
            return await json_invalid(request, exc)  # type: ignore[no-any-return]
        referer = request.headers.get("referer", "")
        where = referer[referer.find(DASHBOARD):] if DASHBOARD in referer else f"{DASHBOARD}/"
        return back(request, where, error=f"表单填写不完整或有误：{summary(exc.errors())}")

    app.add_exception_handler(RequestValidationError, invalid)
    app.add_exception_handler(LoginRequired, login_required)
    app.add_exception_handler(DomainError, domain)
    app.add_exception_handler(StarletteHTTPException, http)
