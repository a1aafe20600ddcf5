"""Who is acting: the signed-in staff member's id for the services' ``actor=`` argument.

The services already act as the workstation's signed-in staff member when no actor is
given (``current_actor=staff_session.actor``); screens that name the actor explicitly
get the same id here, read once on the UI thread when the action starts.
"""

from __future__ import annotations

from typing import Any

from purplecross_desktop.database.base import StaffId


def current_actor(context: Any) -> StaffId | None:
    """The id of the staff member signed in on ``context`` (None: let the service ask
    the staff session, which refuses the write when nobody is signed in)."""
    session = getattr(context, "staff_session", None)
    signed = getattr(session, "current", None)
    staff_id = getattr(signed, "staff_id", None)
    if isinstance(staff_id, int) and not isinstance(staff_id, bool):
        return StaffId(staff_id)
    return None
