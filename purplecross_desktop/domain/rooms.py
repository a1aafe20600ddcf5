"""Rooms: the consulting rooms, theatre and kennels that appointments occupy."""

from __future__ import annotations

from collections.abc import Mapping

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, Session, mapped_column

from purplecross_desktop.database.base import Base, RoomId, StaffId
from purplecross_desktop.domain.service import ServiceBase, apply_changes, get_or_raise
from purplecross_desktop.domain.validation import Checker, unknown_fields


class Room(Base):
    """A place where one appointment happens at a time."""

    __tablename__ = "rooms"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(60), unique=True)
    active: Mapped[bool] = mapped_column(default=True)


EDITABLE = frozenset({"name", "active"})


class RoomService(ServiceBase):
    """Add, rename, retire and list rooms."""

    def create(self, name: str, *, actor: StaffId | None = None) -> Room:
        """Add a room (names are unique, ignoring case)."""
        with self._write(actor) as uow:
            checker = Checker()
            clean = _check_name(uow.session, name, None, checker)
            checker.raise_if_any()
            room = Room(name=clean, active=True)
            uow.session.add(room)
            uow.session.flush()
            uow.audit("created", "room", room.id, {"name": [None, clean]})
            uow.emit("room.created", room.id, name=clean)
        return room

    def update(
        self, room_id: RoomId, changes: Mapping[str, object], *, actor: StaffId | None = None
    ) -> Room:
        """Rename a room, or retire it (``active=False``: no new bookings)."""
        unknown_fields(dict(changes), EDITABLE)
        with self._write(actor) as uow:
            room = get_or_raise(uow.session, Room, "room", room_id)
            checker = Checker()
            values: dict[str, object] = {}
            if "name" in changes:
                values["name"] = _check_name(uow.session, changes["name"], room.id, checker)
            if "active" in changes:
                values["active"] = checker.flag("active", changes["active"])
            checker.raise_if_any()
            changed = apply_changes(room, values)
            if changed:
                uow.audit("updated", "room", room.id, changed)
                uow.emit("room.updated", room.id, fields=sorted(changed))
        return room

    def list(self, *, active: bool | None = True) -> list[Room]:
        """Rooms by name."""
        stmt = sa.select(Room).order_by(Room.name)
        if active is not None:
            stmt = stmt.where(Room.active == active)
        with self._read() as session:
            return [*session.scalars(stmt)]


def _check_name(session: Session, name: object, own_id: int | None, checker: Checker) -> str | None:
    clean = checker.text("name", name, max_length=60)
    if clean is not None:
        other = session.scalar(sa.select(Room.id).where(sa.func.lower(Room.name) == clean.lower()))
        if other is not None and other != own_id:
            checker.add("name", "is already used by another room")
    return clean


def check_room(session: Session, room_id: object, checker: Checker) -> None:
    """Check that ``room_id`` is an existing, active room (for bookings)."""
    room = session.get(Room, room_id) if isinstance(room_id, int) else None
    if room is None:
        checker.add("room_id", "must be an existing room")
    elif not room.active:
        checker.add("room_id", "must be an active room")
