"""Swagger UI renders the whole API in a real browser with every request outside the gateway blocked
(the bureau's intranet has no CDN)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from tests.e2e.harness import Stack
from tests.e2e.test_browser import browser as browser

pytestmark = pytest.mark.browser


def test_swagger_ui_renders_every_operation_without_the_internet(
    make_stack: Callable[..., Stack], browser: Any
) -> None:
    stack = make_stack(platforms={"p12345": {}})
    context = browser.new_context()
    outside: list[str] = []

    def only_the_gateway(route: Any) -> None:
        if route.request.url.startswith(stack.url):
            route.continue_()
        else:
            outside.append(route.request.url)
            route.abort()

    context.route("**/*", only_the_gateway)
    page = context.new_page()
    page.goto(f"{stack.url}/docs")
    page.wait_for_selector(".opblock", timeout=20_000)
    assert page.locator(".opblock").count() >= 35
    assert "Authorize" in page.inner_text(".auth-wrapper")  # the bearer scheme is declared
    assert outside == []
    context.close()
