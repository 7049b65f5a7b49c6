"""``/docs`` and ``/openapi.json``, offline and, in production, behind a login.

The bureau's intranet reaches no CDN, so Swagger UI's script and stylesheet are served from an
installed package (``fastapi-offline`` ships them) under ``/docs/static``. In production the API's
description is for signed-in users and token holders only; elsewhere (dev, demo) it is open.
"""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles

from gateway.api.deps import get_principal
from gateway.container import Container
from gateway.settings import Mode

DOCS, SPEC, STATIC = "/docs", "/openapi.json", "/docs/static"
SWAGGER_ASSETS = Path(str(files("fastapi_offline") / "static"))


def install_docs(app: FastAPI, container: Container) -> None:
    """Add the three routes (the app is built with FastAPI's own docs switched off)."""
    app.mount(STATIC, StaticFiles(directory=SWAGGER_ASSETS), name="docs-static")

    async def signed_in(request: Request) -> bool:
        if container.settings.mode is not Mode.production:
            return True
        try:
            await get_principal(request, container, None)
        except Exception:
            return False
        return True

    async def spec(request: Request) -> Response:
        if not await signed_in(request):
            return JSONResponse({"error": {"code": "unauthorized", "message": "请先登录"}},
                                status_code=401, headers={"WWW-Authenticate": "Bearer"})
        return JSONResponse(app.openapi())

    async def swagger(request: Request) -> Response:
        if not await signed_in(request):
            return RedirectResponse("/dashboard/login", status_code=303)
        page: HTMLResponse = get_swagger_ui_html(
            openapi_url=SPEC, title=f"{app.title} · API", swagger_js_url=f"{STATIC}/swagger-ui-bundle.js",
            swagger_css_url=f"{STATIC}/swagger-ui.css", swagger_favicon_url=f"{STATIC}/favicon.png",
            swagger_ui_parameters={"persistAuthorization": False},
        )
        page.headers["Cache-Control"] = "no-store"
        return page

    routes: list[tuple[str, Any]] = [(SPEC, spec), (DOCS, swagger)]
    for path, endpoint in routes:
        app.add_api_route(path, endpoint, methods=["GET"], include_in_schema=False)
