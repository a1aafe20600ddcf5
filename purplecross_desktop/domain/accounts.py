"""A client's account at the desk: the open invoices and paying them, oldest first. Qt-free.

The outstanding-balance list shows who owes what; taking a payment there settles the
client's open invoices oldest due first, in one transaction (every invoice it touches, or
none). Cash handed over above the amount is recorded so the change due is on the receipt.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

import sqlalchemy as sa

from purplecross_desktop.database.base import ClientId, StaffId
from purplecross_desktop.domain.billing import (
    Invoice,
    InvoiceStatus,
    Payment,
    PaymentData,
    PaymentMethod,
    _check_payment,
    _diff,
    _payload,
    _recompute,
    _totals,
)
from purplecross_desktop.domain.clients import Client
from purplecross_desktop.domain.service import ServiceBase, get_or_raise
from purplecross_desktop.domain.validation import Checker

ZERO = Decimal("0.00")


@dataclass(frozen=True, slots=True)
class OpenInvoice:
    """An invoice with something left to pay."""

    id: int
    number: str
    issued_on: dt.date
    due_on: dt.date
    total: Decimal
    paid: Decimal
    balance: Decimal


@dataclass(frozen=True, slots=True)
class Account:
    """What a client owes: their open invoices, oldest due first."""

    client_id: int
    client: str
    email: str | None
    invoices: tuple[OpenInvoice, ...]

    @property
    def balance(self) -> Decimal:
        return sum((i.balance for i in self.invoices), start=ZERO)


@dataclass(frozen=True, slots=True)
class AccountPayment:
    """A payment taken on an account and how it was spread over the invoices.

    Attributes:
        allocations: ``(invoice id, invoice number, amount)`` in the order paid.
        change_due: cash handed back.
        balance_left: what the client still owes on open invoices.
    """

    client_id: int
    amount: Decimal
    method: PaymentMethod
    allocations: tuple[tuple[int, str, Decimal], ...]
    change_due: Decimal
    balance_left: Decimal


class AccountService(ServiceBase):
    """Read a client's account and take payments on it."""

    def account(self, client_id: ClientId) -> Account:
        """The client's open invoices, oldest due first, or ``NotFound``."""
        with self._read() as session:
            client = get_or_raise(session, Client, "client", client_id)
            rows = session.execute(
                _open_invoices(client.id).with_only_columns(
                    Invoice.id,
                    Invoice.number,
                    Invoice.issued_on,
                    Invoice.due_on,
                    Invoice.total,
                    Invoice.paid,
                    Invoice.balance,
                )
            ).all()
            return Account(
                client.id, client.name, client.email, tuple(OpenInvoice(*row) for row in rows)
            )

    def pay(
        self, client_id: ClientId, data: PaymentData, *, actor: StaffId | None = None
    ) -> AccountPayment:
        """Take ``data`` against the client's open invoices, oldest due first.

        The amount may not exceed what the client owes. Cash ``tendered`` above the amount
        is change; it is recorded on the last invoice paid, so each payment row's change
        adds up to the change handed back.

        Raises:
            ValidationError: a bad amount, method or tendered cash (``amount``, ``method``,
                ``tendered``), or nothing owed (``client_id``); nothing is changed.
            NotFound: no such client.
        """
        with self._write(actor) as uow:
            session = uow.session
            get_or_raise(session, Client, "client", client_id)
            # Lock the open invoices: two desks paying the same account at once must not
            # both pass the balance check (SQLite already holds the write lock).
            invoices = list(session.scalars(_open_invoices(client_id).with_for_update()))
            owed = sum((i.balance for i in invoices), start=ZERO)
            checker = Checker()
            if owed <= 0:
                checker.add("client_id", "has nothing to pay: no open invoice has a balance")
                checker.raise_if_any()
            taken = _check_payment("", data, owed, uow.now, checker)
            checker.raise_if_any()
            assert taken is not None
            left = taken.amount
            allocations: list[tuple[Invoice, Decimal]] = []
            for invoice in invoices:
                if left <= 0:
                    break
                part = min(left, invoice.balance)
                allocations.append((invoice, part))
                left -= part
            handed_back = taken.change_due
            for number, (invoice, part) in enumerate(allocations):
                last = number == len(allocations) - 1
                payment = Payment(
                    amount=part,
                    method=taken.method,
                    paid_at=taken.paid_at,
                    reference=taken.reference,
                    # cash covering this part and the change, so change_due adds up
                    tendered=(part + handed_back) if last and taken.tendered is not None else None,
                )
                before = _totals(invoice)
                invoice.payments.append(payment)
                _recompute(invoice)
                invoice.updated_at = uow.now
                session.flush()
                uow.audit(
                    "payment_added",
                    "invoice",
                    invoice.id,
                    {
                        "payment": [None, f"{part} {taken.method}"],
                        **_diff(before, _totals(invoice)),
                    },
                )
                payload = _payload(invoice)
                uow.emit("invoice.updated", invoice.id, **payload, payment_id=payment.id)
                if invoice.status is InvoiceStatus.PAID and before["status"] != "paid":
                    uow.emit("invoice.paid", invoice.id, **payload)
            return AccountPayment(
                client_id=client_id,
                amount=taken.amount,
                method=taken.method,
                allocations=tuple((i.id, i.number, part) for i, part in allocations),
                change_due=handed_back,
                balance_left=owed - taken.amount,
            )


def _open_invoices(client_id: int) -> sa.Select[Invoice]:
    return (
        sa.select(Invoice)
        .where(
            Invoice.client_id == client_id,
            Invoice.status == InvoiceStatus.OPEN,
            Invoice.balance > 0,
        )
        .order_by(Invoice.due_on, Invoice.issued_on, Invoice.id)
    )
