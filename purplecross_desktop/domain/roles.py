"""Staff roles and what each may do: the one table the services and the screens both read.

The services refuse an action whose permission the acting staff member's role lacks
(``PermissionDenied``); the screens hide what the signed-in role may not use. Both read
``ROLE_PERMISSIONS``, so hiding and refusing never disagree.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from typing import Final


class StaffRole(enum.StrEnum):
    """What a staff member does (and may do in the app)."""

    FRONT_DESK = "front_desk"
    VETERINARIAN = "veterinarian"
    PRACTICE_MANAGER = "practice_manager"
    ADMIN = "admin"

    @property
    def label(self) -> str:
        """The role as people say it: "Front desk", "Practice manager"."""
        return self.value.replace("_", " ").capitalize()


class Permission(enum.StrEnum):
    """An action only some roles may take (everything else every signed-in role may do)."""

    MANAGE_STAFF = "manage_staff"
    MANAGE_SETTINGS = "manage_settings"
    MONITOR_QUEUES = "monitor_queues"
    MANAGE_INTEGRATIONS = "manage_integrations"
    MANAGE_PRICE_LIST = "manage_price_list"
    MANAGE_WORKFLOWS = "manage_workflows"

    @property
    def label(self) -> str:
        """What the permission allows, for messages: "manage staff"."""
        return self.value.replace("_", " ")


#: The admin pages of the issue (staff, settings, queue monitor, integrations) and the
#: price list belong to admins only; workflows to admins and practice managers (issue 14);
#: the other roles share the front-desk work.
ROLE_PERMISSIONS: Final[Mapping[StaffRole, frozenset[Permission]]] = {
    StaffRole.FRONT_DESK: frozenset(),
    StaffRole.VETERINARIAN: frozenset(),
    StaffRole.PRACTICE_MANAGER: frozenset({Permission.MANAGE_WORKFLOWS}),
    StaffRole.ADMIN: frozenset(Permission),
}


def can(role: StaffRole | str, permission: Permission) -> bool:
    """Whether ``role`` may take the action ``permission`` (an unknown role may not)."""
    try:
        member = StaffRole(role)
    except ValueError:
        return False
    return permission in ROLE_PERMISSIONS[member]


def roles_with(permission: Permission) -> list[StaffRole]:
    """The roles that may take the action ``permission``, in role order."""
    return [role for role in StaffRole if permission in ROLE_PERMISSIONS[role]]


def refusal(permission: Permission, name: str, role: StaffRole | str) -> str:
    """Why ``name`` (signed in as ``role``) may not: names the rule and who may."""
    who = " or ".join(r.label.lower() for r in roles_with(permission)) or "nobody"
    shown = StaffRole(role).label.lower() if role in set(StaffRole) else str(role)
    return f"only {who} staff may {permission.label}; {name} is signed in as {shown}"
