"""The API documents itself offline: Swagger UI from the package, a login in production, the bearer
scheme declared, every route's 4xx answers listed."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from app.bootstrap import Container
from app.web import create_app
from gateway.settings import Mode
from tests.integration.dashboard_support import Browser, build_container, token
from tests.integration.dashboard_support import cheap_hashes as cheap_hashes


@pytest.fixture
def container(sqlite_url: str, make_settings: Callable[..., Any], tmp_path: Path) -> Iterator[Container]:
    yield from build_container(sqlite_url, make_settings, tmp_path)


def test_swagger_ui_loads_its_assets_from_the_gateway_not_a_cdn(container: Container) -> None:
    client = TestClient(create_app(container))
    page = client.get("/docs")
    assert page.status_code == 200
    sources = re.findall(r'(?:src|href)="([^"]+)"', page.text)
    assert sources and all(s.startswith("/docs/static/") for s in sources), sources
    assert "cdn" not in page.text.lower() and "https://" not in page.text
    for source in sources:
        asset = client.get(source)
        assert asset.status_code == 200 and len(asset.content) > 1000, source
    assert "SwaggerUIBundle" in client.get("/docs/static/swagger-ui-bundle.js").text


def test_in_production_docs_and_the_openapi_description_need_a_login(container: Container) -> None:
    container.settings.mode = Mode.production
    client = TestClient(create_app(container))
    assert client.get("/openapi.json").status_code == 401
    assert client.get("/openapi.json").json()["error"]["code"] == "unauthorized"
    docs = client.get("/docs", follow_redirects=False)
    assert docs.status_code == 303 and docs.headers["location"] == "/dashboard/login"
    assert client.get("/openapi.json", headers=token("unit")).status_code == 200
    browser = Browser(container)  # a person signed in to the dashboard reads them too
    browser.login("duty")
    assert browser.get("/docs").status_code == 200 and browser.get("/openapi.json").status_code == 200


def test_the_bearer_scheme_and_every_routes_4xx_answers_are_documented(container: Container) -> None:
    spec = TestClient(create_app(container)).get("/openapi.json").json()
    bearer = spec["components"]["securitySchemes"]["bearer"]
    assert (bearer["type"], bearer["scheme"]) == ("http", "bearer") and "GATEWAY_API_TOKENS" in bearer["description"]
    error_ref = "#/components/schemas/ErrorBody"
    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            where = f"{method.upper()} {path}"
            codes = set(operation["responses"])
            if path.startswith("/api/v1/"):
                assert operation.get("security") == [{"bearer": []}], where
                assert {"401", "422"} <= codes, where
                for code in codes - {"200"}:
                    schema = operation["responses"][code]["content"]["application/json"]["schema"]
                    assert schema == {"$ref": error_ref}, (where, code)
            if method == "post" and path.startswith("/api/v1/tickets/{ticket_id}/"):
                assert {"403", "404", "409", "413", "422"} <= codes, where
    webhook = spec["paths"]["/inbound/{platform}"]["post"]
    assert {"200", "400", "401", "404", "413"} <= set(webhook["responses"]) and "security" not in webhook
    assert spec["paths"]["/files/evidence/{evidence_id}"]["get"]["responses"].keys() >= {"403", "404"}
