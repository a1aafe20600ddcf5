"""Permission checks for actions that are not database writes (settings, the job queues).

A write checks its permission inside its own transaction (``ServiceBase._write``); an
admin action on something else (the settings file, Huey's queues) asks here first, so
it is refused by the same rule and with the same message as a write would be.
"""

from __future__ import annotations

from purplecross_desktop.database.base import StaffId
from purplecross_desktop.database.session import SessionFactory
from purplecross_desktop.domain.roles import Permission
from purplecross_desktop.domain.service import CurrentActor, check_actor, system_actor


class AccessService:
    """Checks that the acting staff member may take an action.

    Args:
        session_factory: opens a session per check (the role is read from the database,
            so a role changed on another workstation counts at once).
        current_actor: who acts when a check names no ``actor``.
    """

    def __init__(
        self, session_factory: SessionFactory, current_actor: CurrentActor = system_actor
    ) -> None:
        self._sessions = session_factory
        self._current_actor = current_actor

    def require(self, permission: Permission, *, actor: StaffId | None = None) -> None:
        """Return if the actor may take ``permission``'s action.

        Raises:
            PermissionDenied: the actor's role lacks it, the account is inactive, or
                nobody is signed in.
            ValidationError: ``actor`` is not a staff member.
        """
        if actor is None:
            actor = self._current_actor()
        with self._sessions() as session:
            check_actor(session, actor, permission)
