"""Who is signed in at this workstation (Qt-free): the actor of every write the screens make.

The composition root builds the services with ``current_actor=session.actor``, so each
change a screen makes is recorded in the audit log under the signed-in staff member and
checked against their role; with nobody signed in, writes are refused.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass

from purplecross_desktop.database.base import StaffId
from purplecross_desktop.domain.errors import PermissionDenied
from purplecross_desktop.domain.roles import Permission, StaffRole, can
from purplecross_desktop.domain.staff import Staff

Listener = Callable[["SignedIn | None"], None]


@dataclass(frozen=True, slots=True)
class SignedIn:
    """The staff member signed in at this workstation.

    Attributes:
        staff_id: their id (the actor of their writes).
        name: their display name.
        login: their login.
        role: their role when they signed in (the services re-read it on every check).
    """

    staff_id: StaffId
    name: str
    login: str
    role: StaffRole

    @classmethod
    def of(cls, staff: Staff) -> SignedIn:
        """The signed-in view of a staff row."""
        return cls(StaffId(staff.id), staff.name, staff.login, StaffRole(staff.role))

    def can(self, permission: Permission) -> bool:
        """Whether their role may take ``permission``'s action (for hiding screens)."""
        return can(self.role, permission)


class StaffSession:
    """The sign-in state of one workstation; thread-safe (``actor`` runs on worker threads).

    Locking keeps the staff member signed in (their unsaved work stays) but covers the
    screen until they type their password again; switching user signs them out.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._current: SignedIn | None = None
        self._locked = False
        self._listeners: list[Listener] = []

    @property
    def current(self) -> SignedIn | None:
        """The staff member signed in, or None."""
        return self._current

    @property
    def locked(self) -> bool:
        """Whether the screen is locked (someone is signed in but must re-enter the password)."""
        return self._locked

    def actor(self) -> StaffId:
        """The actor of a write made now (the services' ``current_actor``).

        Raises:
            PermissionDenied: nobody is signed in at this workstation.
        """
        current = self._current
        if current is None:
            raise PermissionDenied("nobody is signed in at this workstation; sign in first")
        return current.staff_id

    def sign_in(self, staff: Staff) -> SignedIn:
        """Make ``staff`` (already authenticated) the signed-in staff member; unlocks."""
        signed = SignedIn.of(staff)
        with self._lock:
            self._current = signed
            self._locked = False
        self._notify(signed)
        return signed

    def sign_out(self) -> None:
        """Nobody is signed in any more (switching user starts here)."""
        with self._lock:
            self._current = None
            self._locked = False
        self._notify(None)

    def lock(self) -> None:
        """Cover the screen until the signed-in staff member enters their password."""
        with self._lock:
            if self._current is not None:
                self._locked = True

    def subscribe(self, listener: Listener) -> None:
        """Call ``listener`` with the new ``current`` after each sign-in and sign-out."""
        self._listeners.append(listener)

    def _notify(self, current: SignedIn | None) -> None:
        for listener in list(self._listeners):
            listener(current)
