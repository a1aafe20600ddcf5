"""Who is acting: the signed-in staff member's id for the services' ``actor=`` argument.

Sign-in is built separately; until the context carries a signed-in staff member, every
change is recorded as the system's (None).
"""

from __future__ import annotations

from typing import Any

from purplecross_desktop.database.base import StaffId


def current_actor(context: Any) -> StaffId | None:
    """The id of the staff member signed in on ``context``, or None."""
    for name in ("current_staff", "staff", "signed_in"):
        staff = getattr(context, name, None)
        if staff is None:
            continue
        staff_id = getattr(staff, "id", staff)
        if isinstance(staff_id, int) and not isinstance(staff_id, bool):
            return StaffId(staff_id)
    return None
