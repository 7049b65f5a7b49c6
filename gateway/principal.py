"""Who is acting: a person (dashboard session) or a machine (bearer token), with roles."""

from __future__ import annotations

from dataclasses import dataclass, field

from gateway.errors import Forbidden
from gateway.settings import Role


@dataclass(frozen=True)
class Principal:
    """The caller of a use case; ``name`` is what the timeline records."""

    name: str
    roles: frozenset[Role] = field(default_factory=frozenset)
    unit: str | None = None

    def has(self, *roles: Role) -> bool:
        """True when the caller holds any of ``roles`` (admin holds all)."""
        return Role.admin in self.roles or any(r in self.roles for r in roles)

    def require(self, *roles: Role, action: str) -> None:
        """Raise ``Forbidden`` unless the caller holds one of ``roles``."""
        if not self.has(*roles):
            names = "/".join(ROLE_LABELS[r] for r in roles)
            raise Forbidden(f"无权执行“{action}”，需要角色：{names} (forbidden: needs {'/'.join(roles)})")


ROLE_LABELS: dict[Role, str] = {
    Role.duty: "值班员",
    Role.unit: "承办单位",
    Role.leader: "分管领导",
    Role.supervisor: "督察",
    Role.admin: "管理员",
}

SYSTEM = Principal(name="system", roles=frozenset({Role.admin}))
