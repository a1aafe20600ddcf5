"""Invoices, their line items and payments; every total is computed, never typed in."""

from __future__ import annotations

import datetime as dt
import enum
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship

from purplecross_desktop.database.base import (
    Base,
    ClientId,
    InvoiceId,
    PatientId,
    StaffId,
    UTCDateTime,
    utcnow,
)
from purplecross_desktop.domain.clients import Client
from purplecross_desktop.domain.columns import MONEY, enum_type, to_cents
from purplecross_desktop.domain.query import Page, like_pattern, paginate
from purplecross_desktop.domain.service import ServiceBase, get_or_raise
from purplecross_desktop.domain.validation import Checker, unknown_fields

ZERO = Decimal("0.00")
MAX_AMOUNT = Decimal("1000000")
DEFAULT_PAYMENT_DAYS = 14


class InvoiceStatus(enum.StrEnum):
    """Open until the balance is zero; void ones keep their number but count for nothing."""

    OPEN = "open"
    PAID = "paid"
    VOID = "void"


class PaymentMethod(enum.StrEnum):
    """How a payment was made."""

    CASH = "cash"
    CARD = "card"
    BANK_TRANSFER = "bank_transfer"
    INSURANCE = "insurance"
    OTHER = "other"


class Invoice(Base):
    """A bill to a client; ``subtotal``…``balance`` are kept by the service from the lines
    and payments (stored so list screens can sort and filter by them)."""

    __tablename__ = "invoices"

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(sa.String(20), unique=True)
    client_id: Mapped[int] = mapped_column(sa.ForeignKey("clients.id"), index=True)
    patient_id: Mapped[int | None] = mapped_column(sa.ForeignKey("patients.id"), index=True)
    appointment_id: Mapped[int | None] = mapped_column(sa.ForeignKey("appointments.id"), index=True)
    status: Mapped[InvoiceStatus] = mapped_column(
        enum_type(InvoiceStatus, "status"), default=InvoiceStatus.OPEN, index=True
    )
    issued_on: Mapped[dt.date] = mapped_column(index=True)
    due_on: Mapped[dt.date] = mapped_column(index=True)
    notes: Mapped[str] = mapped_column(sa.Text, default="")
    subtotal: Mapped[Decimal] = mapped_column(MONEY, default=ZERO)
    discount: Mapped[Decimal] = mapped_column(MONEY, default=ZERO, server_default="0")
    tax: Mapped[Decimal] = mapped_column(MONEY, default=ZERO)
    total: Mapped[Decimal] = mapped_column(MONEY, default=ZERO, index=True)
    paid: Mapped[Decimal] = mapped_column(MONEY, default=ZERO)
    balance: Mapped[Decimal] = mapped_column(MONEY, default=ZERO, index=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    void_reason: Mapped[str | None] = mapped_column(sa.String(500))

    lines: Mapped[list[InvoiceLine]] = relationship(
        lazy="selectin", cascade="all, delete-orphan", order_by="InvoiceLine.position"
    )
    payments: Mapped[list[Payment]] = relationship(
        lazy="selectin", cascade="all, delete-orphan", order_by="Payment.paid_at"
    )


class InvoiceLine(Base):
    """One item: ``quantity * unit_price`` less ``discount_rate`` (0.1 = 10 % off), plus tax
    at ``tax_rate`` (0.2 = 20 %) on what is left; ``price_item_id`` is the price list entry it
    was picked from, if any (the line keeps its own copy of the price)."""

    __tablename__ = "invoice_lines"

    id: Mapped[int] = mapped_column(primary_key=True)
    invoice_id: Mapped[int] = mapped_column(
        sa.ForeignKey("invoices.id", ondelete="CASCADE"), index=True
    )
    position: Mapped[int] = mapped_column(default=0)
    description: Mapped[str] = mapped_column(sa.String(200))
    quantity: Mapped[Decimal] = mapped_column(sa.Numeric(10, 3))
    unit_price: Mapped[Decimal] = mapped_column(MONEY)
    tax_rate: Mapped[Decimal] = mapped_column(sa.Numeric(5, 4))
    discount_rate: Mapped[Decimal] = mapped_column(
        sa.Numeric(5, 4), default=Decimal("0"), server_default="0"
    )
    discount_amount: Mapped[Decimal] = mapped_column(MONEY, default=ZERO, server_default="0")
    price_item_id: Mapped[int | None] = mapped_column(sa.ForeignKey("price_items.id"), index=True)
    net_amount: Mapped[Decimal] = mapped_column(MONEY)
    tax_amount: Mapped[Decimal] = mapped_column(MONEY)


class Payment(Base):
    """Money received against an invoice."""

    __tablename__ = "payments"

    id: Mapped[int] = mapped_column(primary_key=True)
    invoice_id: Mapped[int] = mapped_column(
        sa.ForeignKey("invoices.id", ondelete="CASCADE"), index=True
    )
    amount: Mapped[Decimal] = mapped_column(MONEY)
    method: Mapped[PaymentMethod] = mapped_column(enum_type(PaymentMethod, "method"))
    paid_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, index=True)
    reference: Mapped[str | None] = mapped_column(sa.String(100))
    tendered: Mapped[Decimal | None] = mapped_column(MONEY)

    __table_args__ = (sa.CheckConstraint("amount > 0", name="amount_positive"),)

    @property
    def change_due(self) -> Decimal:
        """What was handed back: tendered cash above the amount taken."""
        if self.tendered is None:
            return ZERO
        return max(ZERO, self.tendered - self.amount)


@dataclass(frozen=True, slots=True)
class LineData:
    """A line item as entered."""

    description: str
    quantity: Decimal | str | int
    unit_price: Decimal | str | int
    tax_rate: Decimal | str | int = Decimal("0")
    discount_rate: Decimal | str | int = Decimal("0")
    price_item_id: int | None = None


@dataclass(frozen=True, slots=True)
class InvoiceData:
    """A new invoice; ``issued_on`` defaults to today, ``due_on`` to 14 days later."""

    client_id: ClientId
    lines: Sequence[LineData]
    patient_id: PatientId | None = None
    appointment_id: int | None = None
    issued_on: dt.date | None = None
    due_on: dt.date | None = None
    notes: str = ""


@dataclass(frozen=True, slots=True)
class PaymentData:
    """A payment as entered; ``paid_at`` defaults to now. ``tendered`` is the cash handed
    over when it is more than ``amount`` (the change due is the difference)."""

    amount: Decimal | str | int
    method: PaymentMethod | str
    paid_at: dt.datetime | None = None
    reference: str | None = None
    tendered: Decimal | str | int | None = None


EDITABLE = frozenset({"lines", "due_on", "notes"})


class InvoiceService(ServiceBase):
    """Create and edit invoices, take payments, void, and find invoices."""

    ORDER = {
        "number": Invoice.number,
        "issued_on": Invoice.issued_on,
        "due_on": Invoice.due_on,
        "total": Invoice.total,
        "balance": Invoice.balance,
        "status": Invoice.status,
        "id": Invoice.id,
    }

    def create(
        self,
        data: InvoiceData,
        *,
        payments: Sequence[PaymentData] = (),
        actor: StaffId | None = None,
    ) -> Invoice:
        """Add an invoice numbered ``<year>-<id>``, taking ``payments`` in the same
        transaction (a checkout: the invoice and what was paid at the desk, or nothing)."""
        with self._write(actor) as uow:
            checker = Checker()
            today = uow.now.date()
            issued = checker.date("issued_on", data.issued_on or today)
            due = checker.date(
                "due_on", data.due_on or (issued or today) + dt.timedelta(DEFAULT_PAYMENT_DAYS)
            )
            if issued and due and due < issued:
                checker.add("due_on", "must not be before issued_on")
            notes = checker.text("notes", data.notes, required=False, max_length=10_000) or ""
            _check_links(uow.session, data, checker)
            lines = _check_lines(data.lines, checker)
            _check_price_items(uow.session, lines, checker)
            total = sum((ln.net_amount + ln.tax_amount for ln in lines), start=ZERO)
            taken = [
                _check_payment(f"payments[{i}].", p, total, uow.now, checker)
                for i, p in enumerate(payments)
            ]
            paid = sum((p.amount for p in taken if p is not None), start=ZERO)
            if taken and checker.ok("lines") and paid > total:
                checker.add("payments", f"must not exceed the total of {total}")
            checker.raise_if_any()
            invoice = Invoice(
                number=f"new-{uuid.uuid4().hex[:12]}",  # renumbered once the id is known
                client_id=data.client_id,
                patient_id=data.patient_id,
                appointment_id=data.appointment_id,
                issued_on=issued,
                due_on=due,
                notes=notes,
                created_at=uow.now,
                updated_at=uow.now,
            )
            invoice.lines = lines
            invoice.payments = [p for p in taken if p is not None]
            _recompute(invoice)
            uow.session.add(invoice)
            uow.session.flush()
            assert issued is not None
            invoice.number = f"{issued.year}-{invoice.id:06d}"
            uow.audit("created", "invoice", invoice.id, _totals(invoice, new=True))
            uow.emit("invoice.created", invoice.id, **_payload(invoice))
            self._emit_paid_if_settled(uow, invoice, was=None)
        return invoice

    def update(
        self, invoice_id: InvoiceId, changes: Mapping[str, object], *, actor: StaffId | None = None
    ) -> Invoice:
        """Replace the lines, or change the due date or notes, of an open invoice."""
        unknown_fields(dict(changes), EDITABLE)
        with self._write(actor) as uow:
            invoice = get_or_raise(uow.session, Invoice, "invoice", invoice_id)
            checker = Checker()
            if invoice.status is not InvoiceStatus.OPEN:
                checker.add("status", f"a {invoice.status.value} invoice cannot be changed")
                checker.raise_if_any()
            before = _totals(invoice)
            changed: dict[str, Any] = {}
            if "due_on" in changes:
                due = checker.date("due_on", changes["due_on"])
                if due is not None and due < invoice.issued_on:
                    checker.add("due_on", "must not be before issued_on")
                elif due is not None and due != invoice.due_on:
                    changed["due_on"] = [invoice.due_on, due]
            if "notes" in changes:
                notes = checker.text("notes", changes["notes"], required=False, max_length=10_000)
                if (notes or "") != invoice.notes:
                    changed["notes"] = [invoice.notes, notes or ""]
            lines = _check_lines(changes["lines"], checker) if "lines" in changes else None
            _check_price_items(uow.session, lines or [], checker)
            if lines is not None:
                new_total = sum((ln.net_amount + ln.tax_amount for ln in lines), start=Decimal("0"))
                if new_total < invoice.paid:
                    checker.add(
                        "lines", f"total {new_total} would be less than paid {invoice.paid}"
                    )
            checker.raise_if_any()
            if "due_on" in changed:
                invoice.due_on = changed["due_on"][1]
            if "notes" in changed:
                invoice.notes = changed["notes"][1]
            if lines is not None:
                invoice.lines = lines
                _recompute(invoice)
                changed |= _diff(before, _totals(invoice))
                changed["lines"] = [None, len(lines)]
            if changed:
                invoice.updated_at = uow.now
                uow.audit("updated", "invoice", invoice.id, changed)
                uow.emit("invoice.updated", invoice.id, **_payload(invoice))
                self._emit_paid_if_settled(uow, invoice, was=before["status"])
        return invoice

    def add_payment(
        self, invoice_id: InvoiceId, data: PaymentData, *, actor: StaffId | None = None
    ) -> Payment:
        """Take a payment (positive, at most the balance); settles the invoice at zero."""
        with self._write(actor) as uow:
            invoice = get_or_raise(uow.session, Invoice, "invoice", invoice_id)
            checker = Checker()
            if invoice.status is not InvoiceStatus.OPEN:
                checker.add("status", f"a {invoice.status.value} invoice takes no payments")
                checker.raise_if_any()
            payment = _check_payment("", data, invoice.balance, uow.now, checker)
            checker.raise_if_any()
            assert payment is not None
            amount, method = payment.amount, payment.method
            before = _totals(invoice)
            invoice.payments.append(payment)
            _recompute(invoice)
            invoice.updated_at = uow.now
            uow.session.flush()
            uow.audit(
                "payment_added",
                "invoice",
                invoice.id,
                {"payment": [None, f"{amount} {method}"], **_diff(before, _totals(invoice))},
            )
            uow.emit("invoice.updated", invoice.id, **_payload(invoice), payment_id=payment.id)
            self._emit_paid_if_settled(uow, invoice, was=before["status"])
        return payment

    def void(self, invoice_id: InvoiceId, reason: str, *, actor: StaffId | None = None) -> Invoice:
        """Void an open invoice that has no payments (a reason is required)."""
        with self._write(actor) as uow:
            invoice = get_or_raise(uow.session, Invoice, "invoice", invoice_id)
            checker = Checker()
            text = checker.text("reason", reason, max_length=500)
            if invoice.status is not InvoiceStatus.OPEN:
                checker.add("status", f"a {invoice.status.value} invoice cannot be voided")
            elif invoice.paid > 0:
                checker.add("status", "an invoice with payments cannot be voided")
            checker.raise_if_any()
            invoice.status = InvoiceStatus.VOID
            invoice.void_reason = text
            invoice.balance = ZERO
            invoice.updated_at = uow.now
            uow.audit("voided", "invoice", invoice.id, {"status": ["open", "void"]})
            uow.emit("invoice.updated", invoice.id, **_payload(invoice))
        return invoice

    def get(self, invoice_id: InvoiceId) -> Invoice:
        """One invoice with lines and payments, or ``NotFound``."""
        with self._read() as session:
            return get_or_raise(session, Invoice, "invoice", invoice_id)

    def search(
        self,
        text: str | None = None,
        *,
        client_id: ClientId | None = None,
        status: InvoiceStatus | str | None = None,
        overdue_on: dt.date | None = None,
        issued_from: dt.date | None = None,
        issued_before: dt.date | None = None,
        order: str | Sequence[str] = "-issued_on",
        limit: int = 50,
        offset: int = 0,
    ) -> Page[Invoice]:
        """Invoices by number or client name, client, status, issue window, or those
        still open past their due date on ``overdue_on``."""
        stmt = sa.select(Invoice)
        if text and text.strip():
            pattern = like_pattern(text)
            stmt = stmt.where(
                sa.or_(
                    Invoice.number.like(pattern, escape="\\"),
                    Invoice.client_id.in_(
                        sa.select(Client.id).where(
                            sa.func.lower(Client.name).like(pattern, escape="\\")
                        )
                    ),
                )
            )
        checker = Checker()
        if status is not None:
            stmt = stmt.where(Invoice.status == checker.choice("status", status, InvoiceStatus))
        checker.raise_if_any()
        if client_id is not None:
            stmt = stmt.where(Invoice.client_id == client_id)
        if overdue_on is not None:
            stmt = stmt.where(Invoice.status == InvoiceStatus.OPEN, Invoice.due_on < overdue_on)
        if issued_from is not None:
            stmt = stmt.where(Invoice.issued_on >= issued_from)
        if issued_before is not None:
            stmt = stmt.where(Invoice.issued_on < issued_before)
        with self._read() as session:
            return paginate(session, stmt, order, self.ORDER, limit, offset, tiebreak=Invoice.id)

    @staticmethod
    def _emit_paid_if_settled(uow: Any, invoice: Invoice, *, was: object) -> None:
        if invoice.status is InvoiceStatus.PAID and was != InvoiceStatus.PAID.value:
            uow.emit("invoice.paid", invoice.id, **_payload(invoice))


def line_amounts(
    quantity: Decimal, unit_price: Decimal, tax_rate: Decimal, discount_rate: Decimal = ZERO
) -> tuple[Decimal, Decimal]:
    """Net (after the discount) and tax of one line, each rounded half up to cents."""
    net = to_cents(quantity * unit_price) - line_discount(quantity, unit_price, discount_rate)
    return net, to_cents(net * tax_rate)


def line_discount(quantity: Decimal, unit_price: Decimal, discount_rate: Decimal) -> Decimal:
    """The amount taken off one line by its discount, rounded half up to cents."""
    return to_cents(to_cents(quantity * unit_price) * discount_rate)


def _check_payment(
    prefix: str, data: PaymentData, balance: Decimal, now: dt.datetime, checker: Checker
) -> Payment | None:
    """A valid payment of at most ``balance``, or None (the problems are in ``checker``)."""
    if not isinstance(data, PaymentData):
        checker.add(prefix.rstrip(".") or "payment", "must be a payment")
        return None
    amount = checker.decimal(
        f"{prefix}amount", data.amount, minimum=Decimal(0), exclusive_minimum=True, places=2
    )
    if amount is not None and not prefix and amount > balance:
        checker.add("amount", f"must not exceed the balance of {balance}")
    method = checker.choice(f"{prefix}method", data.method, PaymentMethod)
    paid_at = checker.moment(f"{prefix}paid_at", data.paid_at or now)
    if paid_at is not None and paid_at > now + dt.timedelta(minutes=5):
        checker.add(f"{prefix}paid_at", "must not be in the future")
    reference = checker.text(f"{prefix}reference", data.reference, required=False, max_length=100)
    tendered = checker.decimal(
        f"{prefix}tendered", data.tendered, required=False, minimum=Decimal(0), places=2
    )
    if tendered is not None and amount is not None and tendered < amount:
        checker.add(f"{prefix}tendered", f"must be at least the amount of {amount}")
    if tendered is not None and method is not None and method is not PaymentMethod.CASH:
        checker.add(f"{prefix}tendered", "is only for cash payments")
    if amount is None or method is None or paid_at is None:
        return None
    return Payment(
        amount=amount, method=method, paid_at=paid_at, reference=reference, tendered=tendered
    )


def _recompute(invoice: Invoice) -> None:
    invoice.subtotal = sum((ln.net_amount for ln in invoice.lines), start=ZERO)
    invoice.discount = sum((ln.discount_amount for ln in invoice.lines), start=ZERO)
    invoice.tax = sum((ln.tax_amount for ln in invoice.lines), start=ZERO)
    invoice.total = invoice.subtotal + invoice.tax
    invoice.paid = sum((p.amount for p in invoice.payments), start=ZERO)
    invoice.balance = invoice.total - invoice.paid
    if invoice.status is not InvoiceStatus.VOID:
        settled = invoice.balance <= 0 and invoice.total > 0
        invoice.status = InvoiceStatus.PAID if settled else InvoiceStatus.OPEN


def _check_links(session: Session, data: InvoiceData, checker: Checker) -> None:
    from purplecross_desktop.domain.appointments import Appointment
    from purplecross_desktop.domain.patients import Patient

    client = session.get(Client, data.client_id) if isinstance(data.client_id, int) else None
    if client is None:
        checker.add("client_id", "must be an existing client")
    if data.patient_id is not None:
        patient = (
            session.get(Patient, data.patient_id) if isinstance(data.patient_id, int) else None
        )
        if patient is None:
            checker.add("patient_id", "must be an existing patient")
        elif client is not None and patient.client_id != client.id:
            checker.add("patient_id", "must belong to the client")
    if data.appointment_id is not None:
        appt = (
            session.get(Appointment, data.appointment_id)
            if isinstance(data.appointment_id, int)
            else None
        )
        if appt is None:
            checker.add("appointment_id", "must be an existing appointment")
        elif client is not None and appt.client_id != client.id:
            checker.add("appointment_id", "must be an appointment of the client")
        else:
            other = session.scalar(
                sa.select(Invoice.number).where(
                    Invoice.appointment_id == appt.id, Invoice.status != InvoiceStatus.VOID
                )
            )
            if other is not None:
                checker.add("appointment_id", f"is already invoiced ({other})")


def _check_price_items(session: Session, lines: list[InvoiceLine], checker: Checker) -> None:
    from purplecross_desktop.domain.price_list import PriceItem

    wanted = {ln.price_item_id for ln in lines if ln.price_item_id is not None}
    if not wanted:
        return
    found = set(session.scalars(sa.select(PriceItem.id).where(PriceItem.id.in_(wanted))))
    for ln in lines:
        if ln.price_item_id is not None and ln.price_item_id not in found:
            checker.add(f"lines[{ln.position}].price_item_id", "must be an existing price item")


def _check_lines(lines: object, checker: Checker) -> list[InvoiceLine]:
    if isinstance(lines, str) or not isinstance(lines, Sequence) or not lines:
        checker.add("lines", "must have at least one line item")
        return []
    if len(lines) > 500:
        checker.add("lines", "must have at most 500 line items")
        return []
    result: list[InvoiceLine] = []
    for i, line in enumerate(lines):
        if not isinstance(line, LineData):
            checker.add("lines", "must be a list of line items")
            return []
        description = checker.text(f"lines[{i}].description", line.description, max_length=200)
        quantity = checker.decimal(
            f"lines[{i}].quantity",
            line.quantity,
            minimum=Decimal(0),
            exclusive_minimum=True,
            maximum=Decimal(100_000),
            places=3,
        )
        price = checker.decimal(
            f"lines[{i}].unit_price",
            line.unit_price,
            minimum=Decimal(0),
            maximum=MAX_AMOUNT,
            places=2,
        )
        rate = checker.decimal(
            f"lines[{i}].tax_rate", line.tax_rate, minimum=Decimal(0), maximum=Decimal(1), places=4
        )
        discount = checker.decimal(
            f"lines[{i}].discount_rate",
            line.discount_rate,
            minimum=Decimal(0),
            maximum=Decimal(1),
            places=4,
        )
        item = line.price_item_id
        if item is not None and (isinstance(item, bool) or not isinstance(item, int)):
            checker.add(f"lines[{i}].price_item_id", "must be a price list entry id")
            item = None
        if description is None or quantity is None or price is None:
            continue
        if rate is None or discount is None:
            continue
        net, tax = line_amounts(quantity, price, rate, discount)
        result.append(
            InvoiceLine(
                position=i,
                description=description,
                quantity=quantity,
                unit_price=price,
                tax_rate=rate,
                discount_rate=discount,
                discount_amount=line_discount(quantity, price, discount),
                price_item_id=item,
                net_amount=net,
                tax_amount=tax,
            )
        )
    return result


def _totals(invoice: Invoice, *, new: bool = False) -> dict[str, Any]:
    values = {
        "subtotal": str(invoice.subtotal),
        "discount": str(invoice.discount),
        "tax": str(invoice.tax),
        "total": str(invoice.total),
        "paid": str(invoice.paid),
        "balance": str(invoice.balance),
        "status": invoice.status.value,
    }
    if new:
        return {k: [None, v] for k, v in values.items()} | {"client_id": [None, invoice.client_id]}
    return values


def _diff(before: Mapping[str, Any], after: Mapping[str, Any]) -> dict[str, list[Any]]:
    return {k: [before[k], after[k]] for k in after if before.get(k) != after[k]}


def _payload(invoice: Invoice) -> dict[str, Any]:
    return {
        "client_id": invoice.client_id,
        "patient_id": invoice.patient_id,
        "number": invoice.number,
        "total": str(invoice.total),
        "balance": str(invoice.balance),
        "status": invoice.status.value,
    }
