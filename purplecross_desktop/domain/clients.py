"""Clients (animal owners): contact details, phones, preferred channel, active flag."""

from __future__ import annotations

import dataclasses
import datetime as dt
import enum
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship, validates

from purplecross_desktop.database.base import Base, ClientId, StaffId, UTCDateTime, utcnow
from purplecross_desktop.database.session import SessionFactory
from purplecross_desktop.database.text_order import fold_text, sort_key_column
from purplecross_desktop.domain.columns import enum_type
from purplecross_desktop.domain.query import Page, like_pattern, paginate
from purplecross_desktop.domain.service import (
    ServiceBase,
    UnitOfWork,
    apply_changes,
    get_or_raise,
)
from purplecross_desktop.domain.validation import Checker, normalize_phone, unknown_fields


class ContactChannel(enum.StrEnum):
    """How a client wants to be reminded."""

    EMAIL = "email"
    SMS = "sms"
    NONE = "none"


class PhoneKind(enum.StrEnum):
    """What a phone number is."""

    MOBILE = "mobile"
    HOME = "home"
    WORK = "work"
    OTHER = "other"


class Client(Base):
    """An owner of one or more patients."""

    __tablename__ = "clients"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(120), index=True)
    # fold_text(name): the grids sort by it (same order in memory, SQLite, PostgreSQL)
    name_key: Mapped[str] = sort_key_column("name")

    @validates("name")
    def _keep_name_key(self, _key: str, name: str) -> str:
        self.name_key = fold_text(name)
        return name

    email: Mapped[str | None] = mapped_column(sa.String(254), index=True)
    street: Mapped[str | None] = mapped_column(sa.String(200))
    city: Mapped[str | None] = mapped_column(sa.String(100), index=True)
    postal_code: Mapped[str | None] = mapped_column(sa.String(20), index=True)
    country: Mapped[str | None] = mapped_column(sa.String(60))
    preferred_contact: Mapped[ContactChannel] = mapped_column(
        enum_type(ContactChannel, "preferred_contact"), default=ContactChannel.NONE
    )
    notes: Mapped[str] = mapped_column(sa.Text, default="")
    active: Mapped[bool] = mapped_column(default=True, index=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)

    phones: Mapped[list[ClientPhone]] = relationship(
        back_populates="client",
        lazy="selectin",
        cascade="all, delete-orphan",
        order_by="ClientPhone.position",
    )

    __table_args__ = (sa.Index("ix_clients_name_lower", sa.func.lower(name)),)


class ClientPhone(Base):
    """One phone number of a client (digits only, a leading + kept)."""

    __tablename__ = "client_phones"

    id: Mapped[int] = mapped_column(primary_key=True)
    client_id: Mapped[int] = mapped_column(
        sa.ForeignKey("clients.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[PhoneKind] = mapped_column(enum_type(PhoneKind, "kind"), default=PhoneKind.MOBILE)
    number: Mapped[str] = mapped_column(sa.String(20), index=True)
    position: Mapped[int] = mapped_column(default=0)

    client: Mapped[Client] = relationship(back_populates="phones", lazy="raise")


@dataclass(frozen=True, slots=True)
class Phone:
    """A phone number as entered."""

    number: str
    kind: PhoneKind | str = PhoneKind.MOBILE


@dataclass(frozen=True, slots=True)
class ClientData:
    """The editable fields of a client."""

    name: str
    email: str | None = None
    phones: Sequence[Phone] = ()
    street: str | None = None
    city: str | None = None
    postal_code: str | None = None
    country: str | None = None
    preferred_contact: ContactChannel | str = ContactChannel.NONE
    notes: str = ""
    active: bool = True


EDITABLE = frozenset(f.name for f in dataclasses.fields(ClientData))


class ClientService(ServiceBase):
    """Create, update, deactivate and find clients."""

    ORDER = {
        "name": sa.func.lower(Client.name),
        "email": Client.email,
        "city": Client.city,
        "postal_code": Client.postal_code,
        "created_at": Client.created_at,
        "active": Client.active,
        "id": Client.id,
    }

    def create(self, data: ClientData, *, actor: StaffId | None = None) -> Client:
        """Add a client."""
        checker = Checker()
        values, phones = _validate(data, checker)
        checker.raise_if_any()
        with self._write(actor) as uow:
            client = Client(**values, created_at=uow.now, updated_at=uow.now)
            client.phones = [ClientPhone(kind=k, number=n, position=i) for i, (k, n) in phones]
            uow.session.add(client)
            uow.session.flush()
            audit = {k: [None, v] for k, v in values.items()}
            audit["phones"] = [None, [f"{k}:{n}" for _, (k, n) in phones]]
            uow.audit("created", "client", client.id, audit)
            uow.emit("client.created", client.id, name=client.name)
        return client

    def update(
        self, client_id: ClientId, changes: Mapping[str, object], *, actor: StaffId | None = None
    ) -> Client:
        """Change some fields of a client (``phones`` replaces the whole list)."""
        unknown_fields(dict(changes), EDITABLE)
        with self._write(actor) as uow:
            client = get_or_raise(uow.session, Client, "client", client_id)
            checker = Checker()
            merged = dataclasses.replace(_current(client), **changes)  # type: ignore[arg-type]
            values, phones = _validate(merged, checker)
            checker.raise_if_any()
            was_active = client.active
            changed = apply_changes(client, values)
            old_phones = [f"{p.kind.value}:{p.number}" for p in client.phones]
            new_phones = [f"{k}:{n}" for _, (k, n) in phones]
            if old_phones != new_phones:
                client.phones = [ClientPhone(kind=k, number=n, position=i) for i, (k, n) in phones]
                changed["phones"] = [old_phones, new_phones]
            if changed:
                client.updated_at = uow.now
                uow.audit("updated", "client", client.id, changed)
                uow.emit("client.updated", client.id, fields=sorted(changed))
                if was_active and not client.active:
                    uow.emit("client.deactivated", client.id)
                    _withdraw_reminders(uow, client.id)
        return client

    def deactivate(self, client_id: ClientId, *, actor: StaffId | None = None) -> Client:
        """Mark a client inactive (kept for history; hidden from default lists); their
        pending reminders are withdrawn in the same transaction."""
        return self.update(client_id, {"active": False}, actor=actor)

    def get(self, client_id: ClientId) -> Client:
        """One client with phones, or ``NotFound``."""
        with self._read() as session:
            return get_or_raise(session, Client, "client", client_id)

    def search(
        self,
        text: str | None = None,
        *,
        active: bool | None = True,
        city: str | None = None,
        order: str | Sequence[str] = "name",
        limit: int = 50,
        offset: int = 0,
    ) -> Page[Client]:
        """Clients whose name, email, postal code or a phone number contains ``text``."""
        stmt = sa.select(Client)
        if text and text.strip():
            pattern = like_pattern(text)
            conditions: list[sa.ColumnElement[bool]] = [
                sa.func.lower(Client.name).like(pattern, escape="\\"),
                sa.func.lower(Client.email).like(pattern, escape="\\"),
                sa.func.lower(Client.postal_code).like(pattern, escape="\\"),
            ]
            digits = normalize_phone(text).lstrip("+")
            if len(digits) >= 3:
                conditions.append(
                    sa.exists().where(
                        ClientPhone.client_id == Client.id,
                        ClientPhone.number.like(f"%{digits}%"),
                    )
                )
            stmt = stmt.where(sa.or_(*conditions))
        if active is not None:
            stmt = stmt.where(Client.active == active)
        if city:
            stmt = stmt.where(sa.func.lower(Client.city) == city.strip().lower())
        with self._read() as session:
            return paginate(session, stmt, order, self.ORDER, limit, offset, tiebreak=Client.id)


def _current(client: Client) -> ClientData:
    return ClientData(
        name=client.name,
        email=client.email,
        phones=tuple(Phone(p.number, p.kind) for p in client.phones),
        street=client.street,
        city=client.city,
        postal_code=client.postal_code,
        country=client.country,
        preferred_contact=client.preferred_contact,
        notes=client.notes,
        active=client.active,
    )


def _validate(
    data: ClientData, checker: Checker
) -> tuple[dict[str, object], list[tuple[int, tuple[PhoneKind, str]]]]:
    values: dict[str, object] = {
        "name": checker.text("name", data.name, max_length=120),
        "email": checker.email("email", data.email),
        "street": checker.text("street", data.street, required=False, max_length=200),
        "city": checker.text("city", data.city, required=False, max_length=100),
        "postal_code": checker.text("postal_code", data.postal_code, required=False, max_length=20),
        "country": checker.text("country", data.country, required=False, max_length=60),
        "preferred_contact": checker.choice(
            "preferred_contact", data.preferred_contact, ContactChannel
        ),
        "notes": checker.text("notes", data.notes, required=False, max_length=10_000) or "",
        "active": checker.flag("active", data.active),
    }
    phones: list[tuple[int, tuple[PhoneKind, str]]] = []
    if isinstance(data.phones, str) or not isinstance(data.phones, Sequence):
        checker.add("phones", "must be a list of phone numbers")
    elif len(data.phones) > 10:
        checker.add("phones", "must have at most 10 numbers")
    else:
        for index, phone in enumerate(data.phones):
            if not isinstance(phone, Phone):
                checker.add("phones", "must be a list of phone numbers")
                break
            kind = checker.choice(f"phones[{index}].kind", phone.kind, PhoneKind)
            number = checker.phone(f"phones[{index}].number", phone.number, required=True)
            if kind is not None and number is not None:
                phones.append((index, (kind, number)))
    channel = values["preferred_contact"]
    if channel == ContactChannel.EMAIL and values["email"] is None and checker.ok("email"):
        checker.add("email", "must be given when the preferred contact is email")
    if (
        channel == ContactChannel.SMS
        and not any(k == PhoneKind.MOBILE for _, (k, _n) in phones)
        and checker.ok("phones")
    ):
        checker.add("phones", "must include a mobile number when the preferred contact is SMS")
    return values, phones


def _withdraw_reminders(uow: UnitOfWork, client_id: int) -> None:
    """Cancel the pending and failed reminders of a client who is no longer active."""
    from purplecross_desktop.domain.reminders import Reminder, ReminderState

    pending = uow.session.scalars(
        sa.select(Reminder).where(
            Reminder.client_id == client_id,
            Reminder.state.in_([ReminderState.PENDING, ReminderState.FAILED]),
        )
    )
    for reminder in pending:
        previous = reminder.state
        reminder.state = ReminderState.CANCELLED
        reminder.updated_at = uow.now
        uow.audit("state_changed", "reminder", reminder.id, {"state": [previous, "cancelled"]})
        uow.emit(
            "reminder.updated",
            reminder.id,
            kind=reminder.kind,
            state="cancelled",
            client_id=client_id,
            patient_id=reminder.patient_id,
            previous=previous,
        )


def clinic_is_empty(session_factory: SessionFactory) -> bool:
    """Whether the clinic has no clients yet (the app offers demo data then; the admin
    account made at the first start does not count).

    Here, not in ``demo``: the Today page asks at start, and importing the demo generator
    pulls in every table module and the jobs stack (about a second of work that holds the
    interpreter lock and froze the window for up to half a second).
    """
    with session_factory() as session:
        tables = set(sa.inspect(session.connection()).get_table_names())
        if Client.__tablename__ not in tables:
            return True  # no schema yet: certainly no data
        # Any other failure (a locked file, a refused connection) is an error, not "empty".
        return session.scalar(sa.select(Client.id).limit(1)) is None
