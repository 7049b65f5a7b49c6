"""Helpers every mapper shares: enum tables, required fields, write-back payloads.

The mapper seam itself (``Mapper``) is a port of the core: ``gateway.ports``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from gateway.errors import MappingError

T = TypeVar("T")


def lookup_enum(table: Mapping[str, T], value: object, field: str) -> T:
    """Translate through an enum table, or raise a ``MappingError`` naming the field and value."""
    if not isinstance(value, str) or value not in table:
        raise MappingError(f"unknown value for {field}", field=field, value=value)
    return table[value]


def require(data: Mapping[str, Any], key: str, kind: type | tuple[type, ...], path: str = "") -> Any:
    """Fetch a required field of the given type, or raise a ``MappingError`` naming it."""
    name = f"{path}{key}"
    if key not in data or data[key] is None:
        raise MappingError("missing required field", field=name)
    value = data[key]
    if isinstance(value, bool) and bool not in (kind if isinstance(kind, tuple) else (kind,)):
        raise MappingError("wrong type", field=name, value=value)
    if not isinstance(value, kind):
        raise MappingError("wrong type", field=name, value=value)
    return value


M = TypeVar("M", bound=BaseModel)


def parse_payload(model: type[M], payload: Mapping[str, Any]) -> M:
    """An outbox payload as its write-back model; ``MappingError`` names the first bad field."""
    try:
        return model.model_validate(dict(payload))
    except ValidationError as exc:
        first = exc.errors()[0]
        field = ".".join(str(part) for part in first["loc"])
        raise MappingError(first["msg"], field=field, value=first.get("input")) from exc
