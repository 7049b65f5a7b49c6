"""Fixtures of the end-to-end tests."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from tests.e2e.harness import Stack, start_stack


@pytest.fixture
def make_stack(sqlite_url: str) -> Iterator[Callable[..., Stack]]:
    """Start a gateway + mocks (on SQLite unless ``database_url`` is given); stopped after the test."""
    stacks: list[Stack] = []

    def make(**kwargs: Any) -> Stack:
        kwargs.setdefault("database_url", sqlite_url)
        stack = start_stack(**kwargs)
        stacks.append(stack)
        return stack

    yield make
    for stack in stacks:
        stack.stop()
