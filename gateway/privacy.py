"""Masking of a citizen's personal data (RULES.md §5): need-to-know, per role and platform.

- A 12389 reporter (举报人) is seen by supervision staff (督察) only (001 五: 不得擅自透露或者向被举报投诉
  对象泄露举报投诉人信息; RULES.md §5). Everyone else gets ``保密`` for every reporter field — nothing of
  the value, not a surname or four digits — and for the ticket's own address when the mapper knows it
  is the reporter's.
- Other platforms: the handling roles (duty, unit, leader) see the citizen; a citizen who asked for
  保密 is seen by the leader only; everyone else (admin included: it administers, it does not handle
  tickets) gets a partial mask.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from gateway.principal import Principal
from gateway.schema import Citizen
from gateway.settings import Role

# 12389 tickets are complaints about police officers: the reporter is seen by supervision only.
SUPERVISION_ONLY_PLATFORMS = frozenset({"p12389"})
PERSONAL_FIELDS = tuple(k for k, f in Citizen.model_fields.items() if (f.json_schema_extra or {}) == {"personal": True})
SECRET = "保密"
# A 12389 reporter's every field but the confidentiality flag itself: even gender or "named or not"
# narrows down who reported (001 五).
REPORTER_FIELDS = tuple(k for k in Citizen.model_fields if k != "confidential")


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


def supervision_only(platform: str) -> bool:
    """Whether this platform's citizen is seen by supervision staff only (12389)."""
    return platform in SUPERVISION_ONLY_PLATFORMS


def may_see_citizen(principal: Principal, *, platform: str, confidential: bool) -> bool:
    """Whether this caller may see the citizen's identity unmasked."""
    if Role.supervisor in principal.roles:
        return True
    if supervision_only(platform):
        return False  # 001 五: nobody but 督察, whatever else they hold
    if confidential:
        return Role.leader in principal.roles
    return principal.has(Role.duty, Role.unit, Role.leader)


@dataclass(frozen=True)
class PhoneSearch:
    """Whose stored phone numbers a caller may search by digits (issue 13, point 8).

    A match on a number reveals as much as the number itself, so the search covers exactly the citizens
    ``may_see_citizen`` shows this caller: 12389 reporters only for 督察 (001 五), citizens who asked for
    保密 only for leaders (and 督察), others for the handling roles."""

    reporters: bool
    confidential: bool


def phone_search(principal: Principal) -> PhoneSearch | None:
    """The citizens whose phone this caller may search, or None when it may search none (admin)."""
    if Role.supervisor in principal.roles:
        return PhoneSearch(reporters=True, confidential=True)
    if not principal.has(Role.duty, Role.unit, Role.leader):
        return None
    return PhoneSearch(reporters=False, confidential=Role.leader in principal.roles)


def phone_digits(text: str | None) -> str | None:
    """The digits of a search that looks like (part of) a phone number: 4 to 15 digits, spaces and dashes allowed."""
    if not text:
        return None
    digits = text.replace(" ", "").replace("-", "")
    return digits if digits.isdigit() and 4 <= len(digits) <= 15 else None


def citizen_view(citizen: dict[str, Any], principal: Principal, *, platform: str) -> dict[str, Any]:
    """The citizen as this caller may see it."""
    if may_see_citizen(principal, platform=platform, confidential=bool(citizen.get("confidential"))):
        return dict(citizen) | {"masked": False}
    if supervision_only(platform):
        return {k: SECRET for k in REPORTER_FIELDS} | {"confidential": True, "masked": True}
    masked = {k: (mask_value(k, v) if k in PERSONAL_FIELDS else v) for k, v in citizen.items()}
    return masked | {"masked": True}


def address_view(address: str | None, principal: Principal, *, platform: str, personal: bool,
                 citizen: dict[str, Any]) -> str | None:
    """The ticket's address: masked like the citizen's own when the mapper knows it is theirs."""
    if not personal or address is None:
        return address
    if may_see_citizen(principal, platform=platform, confidential=bool(citizen.get("confidential"))):
        return address
    return SECRET if supervision_only(platform) else mask_value("address", address)
