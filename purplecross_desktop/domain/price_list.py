"""The price list: the services and products an invoice line is picked from, with tax rates."""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, Session, mapped_column

from purplecross_desktop.database.base import Base, StaffId, UTCDateTime, utcnow
from purplecross_desktop.domain.columns import MONEY, enum_type
from purplecross_desktop.domain.query import Page, like_pattern, paginate
from purplecross_desktop.domain.service import ServiceBase, apply_changes, get_or_raise
from purplecross_desktop.domain.validation import Checker, unknown_fields

MAX_PRICE = Decimal("1000000")
#: Staff roles allowed to change prices (stored values; the manager role may not exist yet).
MANAGER_ROLES = frozenset({"admin", "practice_manager"})


class PriceKind(enum.StrEnum):
    """What the clinic sells: its time and skill, or goods."""

    SERVICE = "service"
    PRODUCT = "product"


class PriceItem(Base):
    """One entry of the price list; inactive entries stay for old invoices but are not offered."""

    __tablename__ = "price_items"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(120), unique=True)
    kind: Mapped[PriceKind] = mapped_column(enum_type(PriceKind, "kind"), index=True)
    unit_price: Mapped[Decimal] = mapped_column(MONEY)
    tax_rate: Mapped[Decimal] = mapped_column(sa.Numeric(5, 4))
    active: Mapped[bool] = mapped_column(default=True, index=True)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)

    __table_args__ = (
        sa.CheckConstraint("unit_price >= 0", name="unit_price_not_negative"),
        sa.CheckConstraint("tax_rate >= 0 AND tax_rate <= 1", name="tax_rate_fraction"),
    )


@dataclass(frozen=True, slots=True)
class PriceItemData:
    """A price list entry as entered; ``tax_rate`` is a fraction (0.2 = 20 %)."""

    name: str
    kind: PriceKind | str
    unit_price: Decimal | str | int
    tax_rate: Decimal | str | int = Decimal("0")
    active: bool = True


EDITABLE = frozenset({"name", "kind", "unit_price", "tax_rate", "active"})


class PriceListService(ServiceBase):
    """Add, change and retire price list entries; list them for checkout."""

    ORDER = {
        "name": sa.func.lower(PriceItem.name),
        "kind": PriceItem.kind,
        "unit_price": PriceItem.unit_price,
        "id": PriceItem.id,
    }

    def create(self, data: PriceItemData, *, actor: StaffId | None = None) -> PriceItem:
        """Add an entry (names are unique, ignoring case)."""
        with self._write(actor) as uow:
            checker = Checker()
            _require_manager(uow.session, actor, checker)
            values = _validate(uow.session, data, None, checker)
            checker.raise_if_any()
            item = PriceItem(**values, updated_at=uow.now)
            uow.session.add(item)
            uow.session.flush()
            uow.audit("created", "price_item", item.id, {k: [None, v] for k, v in values.items()})
            uow.emit("price_item.created", item.id, name=item.name)
        return item

    def update(
        self, item_id: int, changes: Mapping[str, object], *, actor: StaffId | None = None
    ) -> PriceItem:
        """Change some fields of an entry (invoices already issued keep their prices)."""
        unknown_fields(dict(changes), EDITABLE)
        with self._write(actor) as uow:
            item = get_or_raise(uow.session, PriceItem, "price item", item_id)
            current = PriceItemData(
                item.name, item.kind, item.unit_price, item.tax_rate, item.active
            )
            merged = PriceItemData(**{**_as_dict(current), **changes})
            checker = Checker()
            _require_manager(uow.session, actor, checker)
            values = _validate(uow.session, merged, item.id, checker)
            checker.raise_if_any()
            changed = apply_changes(item, values)
            if changed:
                item.updated_at = uow.now
                uow.audit("updated", "price_item", item.id, changed)
                uow.emit("price_item.updated", item.id, fields=sorted(changed))
        return item

    def get(self, item_id: int) -> PriceItem:
        """One entry, or ``NotFound``."""
        with self._read() as session:
            return get_or_raise(session, PriceItem, "price item", item_id)

    def search(
        self,
        text: str | None = None,
        *,
        kind: PriceKind | str | None = None,
        active: bool | None = True,
        order: str = "name",
        limit: int = 1000,
        offset: int = 0,
    ) -> Page[PriceItem]:
        """Entries whose name contains ``text`` (active ones by default)."""
        stmt = sa.select(PriceItem)
        if text and text.strip():
            stmt = stmt.where(sa.func.lower(PriceItem.name).like(like_pattern(text), escape="\\"))
        if kind is not None:
            checker = Checker()
            member = checker.choice("kind", kind, PriceKind)
            checker.raise_if_any()
            stmt = stmt.where(PriceItem.kind == member)
        if active is not None:
            stmt = stmt.where(PriceItem.active == active)
        with self._read() as session:
            return paginate(session, stmt, order, self.ORDER, limit, offset, tiebreak=PriceItem.id)

    def last_changed(self) -> dt.datetime | None:
        """When any entry last changed (a cheap probe for screens that cache the list)."""
        with self._read() as session:
            return session.scalar(sa.select(sa.func.max(PriceItem.updated_at)))


def _require_manager(session: Session, actor: StaffId | None, checker: Checker) -> None:
    """Only an admin (or a practice manager, where that role exists) edits prices; the
    system (``actor=None``: imports, demo data) may too."""
    if actor is None:
        return
    from purplecross_desktop.domain.staff import Staff

    staff = session.get(Staff, actor)
    role = getattr(getattr(staff, "role", None), "value", None)
    if role not in MANAGER_ROLES:
        checker.add("actor", "must be an admin or practice manager to change the price list")


def _as_dict(data: PriceItemData) -> dict[str, Any]:
    return {name: getattr(data, name) for name in EDITABLE}


def _validate(
    session: Session, data: PriceItemData, own_id: int | None, checker: Checker
) -> dict[str, Any]:
    name = checker.text("name", data.name, max_length=120)
    if name is not None:
        other = session.scalar(
            sa.select(PriceItem.id).where(sa.func.lower(PriceItem.name) == name.lower())
        )
        if other is not None and other != own_id:
            checker.add("name", f"is already used by price item {other}")
    return {
        "name": name,
        "kind": checker.choice("kind", data.kind, PriceKind),
        "unit_price": checker.decimal(
            "unit_price", data.unit_price, minimum=Decimal(0), maximum=MAX_PRICE, places=2
        ),
        "tax_rate": checker.decimal(
            "tax_rate", data.tax_rate, minimum=Decimal(0), maximum=Decimal(1), places=4
        ),
        "active": checker.flag("active", data.active),
    }
