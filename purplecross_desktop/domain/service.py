"""What every domain service shares: one transaction per write, audit rows, events after commit."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import replace
from typing import Any, TypeVar

from sqlalchemy import exc as sa_exc
from sqlalchemy.orm import Session

from purplecross_desktop.database.base import Base, StaffId, utcnow
from purplecross_desktop.database.session import SessionFactory
from purplecross_desktop.domain import audit
from purplecross_desktop.domain.errors import Conflict, NotFound, PermissionDenied, ValidationError
from purplecross_desktop.domain.event_log import record_events
from purplecross_desktop.domain.events import DomainEvent, EventBus
from purplecross_desktop.domain.roles import Permission, can, refusal

M = TypeVar("M", bound=Base)

Clock = Callable[[], dt.datetime]

#: Who is acting when a call names no ``actor``: the signed-in staff member of a
#: workstation (it raises ``PermissionDenied`` when nobody is signed in), or None for the
#: system (jobs, the command line, demo data).
CurrentActor = Callable[[], StaffId | None]


def system_actor() -> StaffId | None:
    """The default current actor: the system (no staff member)."""
    return None


class UnitOfWork:
    """The session of one write, plus the audit rows and events that go with it.

    Attributes:
        session: the open session (inside ``begin()``).
        actor: the acting staff member, or None for the system.
        now: the time of this write (aware UTC), the same for every row it touches.
    """

    def __init__(self, session: Session, actor: StaffId | None, now: dt.datetime) -> None:
        self.session = session
        self.actor = actor
        self.now = now
        self.events: list[DomainEvent] = []

    def emit(self, event_name: str, entity_id: int, /, **data: Any) -> None:
        """Queue ``event_name`` (``"<entity>.<verb>"``); published only if the commit succeeds."""
        entity = event_name.split(".", 1)[0]
        payload = {k: audit.json_value(v) for k, v in data.items()}
        self.events.append(DomainEvent(event_name, entity, entity_id, payload, self.now))

    def audit(self, action: str, entity: str, entity_id: int, changes: Mapping[str, Any]) -> None:
        """Write an audit row in this transaction."""
        audit.record(
            self.session,
            actor=self.actor,
            action=action,
            entity=entity,
            entity_id=entity_id,
            changes=changes,
            at=self.now,
        )


class ServiceBase:
    """Base of the domain services.

    Args:
        session_factory: opens one session per call.
        events: the bus that receives events after each committed write.
        clock: the current time (tests pass a fixed one); aware UTC.
        current_actor: who acts when a write names no ``actor`` (the workstation's
            signed-in staff member); the system by default.
    """

    def __init__(
        self,
        session_factory: SessionFactory,
        events: EventBus,
        *,
        clock: Clock = utcnow,
        current_actor: CurrentActor = system_actor,
    ) -> None:
        self._sessions = session_factory
        self._events = events
        self._clock = clock
        self._current_actor = current_actor

    @contextmanager
    def _write(
        self,
        actor: StaffId | None,
        *,
        permission: Permission | None = None,
        as_system: bool = False,
    ) -> Iterator[UnitOfWork]:
        """One transaction: committed whole (then events published) or rolled back whole.

        ``actor`` None means the current actor (the signed-in staff member, or the system);
        ``permission`` is refused (``PermissionDenied``) unless that actor's role has it.
        ``as_system`` ignores the current actor (only for the first admin of a new clinic).
        """
        if actor is None and not as_system:
            actor = self._current_actor()
        with self._sessions() as session:
            try:
                with session.begin():
                    if session.get_bind().dialect.name == "sqlite":
                        # Take the write lock first: a transaction that reads and then writes
                        # would otherwise fail at once if another writer committed meanwhile
                        # (WAL snapshot); this way it waits (busy_timeout) and sees that write.
                        session.connection().exec_driver_sql("BEGIN IMMEDIATE")
                    check_actor(session, actor, permission)
                    uow = UnitOfWork(session, actor, self._clock())
                    yield uow
                    if uow.events and self._events.durable:
                        # The transactional outbox: the events commit with their change.
                        ids = record_events(
                            session,
                            uow.events,
                            workstation=self._events.workstation,
                            staff_id=uow.actor,
                        )
                        pairs = zip(uow.events, ids, strict=True)
                        uow.events = [replace(e, event_id=i) for e, i in pairs]
            except sa_exc.IntegrityError as exc:
                raise Conflict(
                    "the change clashes with data saved meanwhile by someone else; "
                    f"reload and try again ({exc.orig})"
                ) from exc
        for event in uow.events:
            self._events.publish(event)

    def _read(self) -> Session:
        return self._sessions()


def check_actor(
    session: Session, actor: StaffId | None, permission: Permission | None = None
) -> None:
    """Check that ``actor`` (None: the system, which may do anything) is an active staff
    member whose role has ``permission``.

    Raises:
        ValidationError: ``actor`` is not a staff member.
        PermissionDenied: the staff member is inactive, or their role lacks ``permission``.
    """
    if actor is None:
        return
    from purplecross_desktop.domain.staff import Staff

    staff = (
        None if isinstance(actor, bool) or not isinstance(actor, int) else session.get(Staff, actor)
    )
    if staff is None:
        raise ValidationError.single("actor", "must be an existing staff member")
    if not staff.active:
        raise PermissionDenied(f"{staff.name}'s account is inactive; ask an admin")
    if permission is not None and not can(staff.role, permission):
        raise PermissionDenied(refusal(permission, staff.name, staff.role), permission.value)


def get_or_raise(session: Session, model: type[M], entity: str, entity_id: object) -> M:
    """The row with ``entity_id`` or ``NotFound``."""
    row = session.get(model, entity_id) if isinstance(entity_id, int) else None
    if row is None:
        raise NotFound(entity, entity_id)
    return row


def apply_changes(row: Base, values: Mapping[str, Any]) -> dict[str, list[Any]]:
    """Set attributes on ``row`` and return ``{field: [old, new]}`` for those that changed."""
    changed: dict[str, list[Any]] = {}
    for name, new in values.items():
        old = getattr(row, name)
        if old != new:
            changed[name] = [audit.json_value(old), audit.json_value(new)]
            setattr(row, name, new)
    return changed


def exists(session: Session, model: type[Base], entity_id: object) -> bool:
    """Whether a row of ``model`` with this id exists (False for a non-integer id)."""
    if isinstance(entity_id, bool) or not isinstance(entity_id, int):
        return False
    return session.get(model, entity_id) is not None
