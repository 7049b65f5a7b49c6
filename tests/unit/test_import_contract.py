"""The import contract: the core never imports its edges, and no first-party import cycle exists.

- ``gateway/`` (the core) imports nothing of ``adapters/``, ``mappers/``, ``workers/`` or ``app/``;
  the interfaces it needs from them are ``gateway.ports``.
- ``adapters/`` and ``mappers/`` import only the core's ports, errors, schema, settings and its safe
  XML parser (and their own package); never each other, the workers or the app.
- ``workers/`` never imports ``app/`` (the app composes the workers, not the other way round).
- ``mock_platforms/`` stand in for the outside world: they import nothing of the gateway.
- No cycle among first-party modules, counting every import (also inside functions and under
  ``TYPE_CHECKING``): a cycle is how the core came to know its edges before.

Every import in a file counts, wherever it is written, so a lazy import cannot hide a dependency.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable, Mapping
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
FIRST_PARTY = ("gateway", "app", "adapters", "mappers", "workers", "mock_platforms")
EDGES = ("adapters", "mappers", "workers", "app")
# What an adapter or a mapper may use of the core.
CORE_FOR_EDGES = ("gateway.ports", "gateway.errors", "gateway.schema", "gateway.settings", "gateway.xmlsafe")


def module_files(root: Path = ROOT) -> dict[str, Path]:
    """Every first-party module by dotted name (a package by its own name)."""
    found: dict[str, Path] = {}
    for package in FIRST_PARTY:
        for path in sorted((root / package).rglob("*.py")):
            parts = list(path.relative_to(root).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            found[".".join(parts)] = path
    return found


def imported_names(module: str, source: str, *, is_package: bool, known: Iterable[str]) -> set[str]:
    """The first-party modules ``source`` imports, anywhere in the file (resolved to known modules)."""
    known = set(known)
    names: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = module.split(".") if is_package else module.split(".")[:-1]
                base = base[: len(base) - (node.level - 1)]
                target = ".".join([*base, *([node.module] if node.module else [])])
            else:
                target = node.module or ""
            for alias in node.names:
                candidate = f"{target}.{alias.name}"
                names.add(candidate if candidate in known else target)
    resolved = set()
    for name in names:
        if name.split(".")[0] not in FIRST_PARTY:
            continue
        while name and name not in known:  # an attribute or a module that does not exist: its parent
            name = name.rpartition(".")[0]
        if name and name != module:
            resolved.add(name)
    return resolved


def import_graph(files: Mapping[str, Path]) -> dict[str, set[str]]:
    """Module -> the first-party modules it imports."""
    return {
        name: imported_names(name, path.read_text(encoding="utf-8"), is_package=path.name == "__init__.py",
                             known=files)
        for name, path in files.items()
    }


def cycles(graph: Mapping[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    counter = 0
    for start in graph:
        if start in index:
            continue
        work = [(start, iter(sorted(graph[start])))]
        index[start] = low[start] = counter
        counter += 1
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            advanced = False
            for child in children:
                if child not in graph:
                    continue
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph[child]))))
                    advanced = True
                    break
                if child in on_stack:
                    low[node] = min(low[node], index[child])
            if advanced:
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    found.append(sorted(component))
    return found


def violations(graph: Mapping[str, set[str]]) -> list[str]:
    """Every import that breaks the layering rules, as 'importer -> imported (rule)'."""
    broken = []
    for module, targets in sorted(graph.items()):
        package = module.split(".")[0]
        for target in sorted(targets):
            top = target.split(".")[0]
            if package == "gateway" and top in EDGES:
                broken.append(f"{module} -> {target} (the core imports no edge)")
            elif package in ("adapters", "mappers") and top != package and not any(
                target == allowed or target.startswith(f"{allowed}.") for allowed in CORE_FOR_EDGES
            ):
                broken.append(f"{module} -> {target} (adapters and mappers use only the core's ports)")
            elif package == "workers" and top == "app":
                broken.append(f"{module} -> {target} (the app composes the workers, not the reverse)")
            elif package == "mock_platforms" and top != package:
                broken.append(f"{module} -> {target} (a mock platform imports nothing of the gateway)")
    return broken


@pytest.fixture(scope="module")
def graph() -> dict[str, set[str]]:
    return import_graph(module_files())


def test_the_core_imports_no_edge_and_the_edges_only_the_core_ports(graph: dict[str, set[str]]) -> None:
    assert {"gateway.ports", "gateway.catalogue", "app.bootstrap", "workers.actors"} <= set(graph)
    assert violations(graph) == []


def test_there_is_no_import_cycle_among_first_party_modules(graph: dict[str, set[str]]) -> None:
    assert cycles(graph) == []


# --- the checker itself finds what it must -------------------------------------------------------


def test_the_checker_sees_an_edge_imported_inside_a_function_or_under_type_checking() -> None:
    known = {"gateway.services.x", "gateway.container", "adapters.mayor", "workers.actors", "app.bootstrap"}
    source = (
        "from typing import TYPE_CHECKING\n"
        "if TYPE_CHECKING:\n    from app.bootstrap import Container\n"
        "def f():\n    from workers import actors\n    import adapters.mayor\n"
    )
    graph = {"gateway.services.x": imported_names("gateway.services.x", source, is_package=False, known=known)}
    assert graph["gateway.services.x"] == {"app.bootstrap", "workers.actors", "adapters.mayor"}
    assert len(violations(graph)) == 3


def test_the_checker_refuses_an_adapter_using_the_core_beyond_its_ports() -> None:
    graph = {"adapters.p110": {"gateway.ports", "gateway.errors", "gateway.services.delivery", "mappers.p110"}}
    assert violations(graph) == [
        "adapters.p110 -> gateway.services.delivery (adapters and mappers use only the core's ports)",
        "adapters.p110 -> mappers.p110 (adapters and mappers use only the core's ports)",
    ]


def test_the_checker_finds_a_cycle_through_a_relative_import() -> None:
    known = {"gateway.a", "gateway.b", "gateway.c"}
    graph = {
        "gateway.a": imported_names("gateway.a", "from . import b\n", is_package=False, known=known),
        "gateway.b": imported_names("gateway.b", "from gateway.c import thing\n", is_package=False, known=known),
        "gateway.c": imported_names("gateway.c", "def f():\n    from .a import g\n", is_package=False, known=known),
    }
    assert cycles(graph) == [["gateway.a", "gateway.b", "gateway.c"]]
