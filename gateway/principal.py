"""Who is acting: a person (dashboard session) or a machine (bearer token), with roles.

Roles fail closed (RULES.md §5 need-to-know): a role grants exactly what it names — the admin role
administers users, units and settings and holds no other role implicitly; a principal with no role
sees nothing; a unit role without a unit sees no unit's tickets.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from gateway.errors import Forbidden
from gateway.settings import UNIT_ROLES, WIDE_ROLES, Role


@dataclass(frozen=True)
class Principal:
    """The caller of a use case; ``name`` is what the timeline records."""

    name: str
    roles: frozenset[Role] = field(default_factory=frozenset)
    unit: str | None = None

    def has(self, *roles: Role) -> bool:
        """True when the caller holds any of ``roles`` itself (no role implies another)."""
        return any(r in self.roles for r in roles)

    def require(self, *roles: Role, action: str) -> None:
        """Raise ``Forbidden`` unless the caller holds one of ``roles``."""
        if not self.has(*roles):
            names = "/".join(ROLE_LABELS[r] for r in roles)
            raise Forbidden(f"无权执行“{action}”，需要角色：{names}")

    def unit_scope(self) -> str | None:
        """The one unit whose tickets this caller may read, None for every unit; ``Forbidden`` for none.

        Duty, leader, supervisor and admin read every unit's tickets (personal data masked per role,
        ``gateway.privacy``); unit and unit head read their own unit's only; no role, or a unit role
        without a unit, reads nothing.
        """
        if self.has(*WIDE_ROLES):
            return None
        if self.has(*UNIT_ROLES) and self.unit:
            return self.unit
        if self.has(*UNIT_ROLES):
            raise Forbidden("承办单位账号未指定所属单位，无权查看工单")
        raise Forbidden("未分配角色，无权查看")

    def require_reader(self) -> None:
        """Every read route: ``Forbidden`` for a caller who may read nothing."""
        self.unit_scope()


ROLE_LABELS: dict[Role, str] = {
    Role.duty: "值班员",
    Role.unit: "承办单位",
    Role.unit_head: "部门负责人",
    Role.leader: "分管领导",
    Role.supervisor: "督察",
    Role.admin: "管理员",
}

# Automatic steps (the auto sign-off safety net) act as a duty officer named "system", nothing more.
SYSTEM = Principal(name="system", roles=frozenset({Role.duty}))
