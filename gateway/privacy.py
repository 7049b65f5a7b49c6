"""Masking of a citizen's personal data (RULES.md §5): need-to-know, per role and platform."""

from __future__ import annotations

from typing import Any

from gateway.principal import Principal
from gateway.schema import Citizen
from gateway.settings import Role

# 12389 tickets are complaints about police officers: the reporter is seen by supervision only.
SUPERVISION_ONLY_PLATFORMS = frozenset({"p12389"})
PERSONAL_FIELDS = tuple(k for k, f in Citizen.model_fields.items() if (f.json_schema_extra or {}) == {"personal": True})


def mask_phone(phone: str) -> str:
    """138****1234."""
    digits = phone.strip()
    return digits[:3] + "****" + digits[-4:] if len(digits) >= 8 else "****"


def mask_name(name: str) -> str:
    """张*, 欧阳**."""
    return name[:1] + "*" * max(len(name) - 1, 1) if name else name


def mask_value(key: str, value: Any) -> Any:
    """Mask one personal field."""
    if not isinstance(value, str) or not value:
        return value
    if key == "phone":
        return mask_phone(value)
    if key == "name":
        return mask_name(value)
    if key == "id_number":
        return value[:4] + "*" * 10 + value[-4:] if len(value) >= 8 else "****"
    if key == "email":
        user, _, domain = value.partition("@")
        return (user[:1] + "***@" + domain) if domain else "***"
    return value[:6] + "****" if len(value) > 6 else "****"


def may_see_citizen(principal: Principal, *, platform: str, confidential: bool) -> bool:
    """Whether this caller may see the citizen's identity unmasked."""
    if Role.supervisor in principal.roles:
        return True
    if platform in SUPERVISION_ONLY_PLATFORMS:
        return False
    if confidential:
        return Role.leader in principal.roles or Role.admin in principal.roles
    return principal.has(Role.duty, Role.unit, Role.leader)


def citizen_view(citizen: dict[str, Any], principal: Principal, *, platform: str) -> dict[str, Any]:
    """The citizen as this caller may see it."""
    if may_see_citizen(principal, platform=platform, confidential=bool(citizen.get("confidential"))):
        return dict(citizen) | {"masked": False}
    masked = {k: (mask_value(k, v) if k in PERSONAL_FIELDS else v) for k, v in citizen.items()}
    return masked | {"masked": True}
