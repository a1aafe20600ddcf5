"""Invoice totals computed from lines and payments, settlement, voiding, searches."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from purplecross_desktop.database.base import ClientId, InvoiceId, PatientId
from purplecross_desktop.domain.billing import (
    InvoiceData,
    InvoiceStatus,
    LineData,
    PaymentData,
    line_amounts,
)
from purplecross_desktop.domain.errors import ValidationError
from tests.purplecross_desktop.domain.conftest import Clinic


def _invoice(clinic: Clinic, *lines: LineData, client_id: int | None = None) -> InvoiceId:
    if client_id is None:
        client_id = clinic.client().id
    invoice = clinic.invoices.create(InvoiceData(client_id=ClientId(client_id), lines=lines))
    return InvoiceId(invoice.id)


def test_totals_are_computed_from_the_lines(clinic: Clinic) -> None:
    iid = _invoice(
        clinic,
        LineData("Consultation", 1, "45.00", "0.2"),
        LineData("Dog food, by the kg", "0.335", "12.50", "0.2"),
        LineData("Nail clip", 1, "0", "0"),
    )
    invoice = clinic.invoices.get(iid)
    # 0.335 * 12.50 = 4.1875 -> 4.19; its tax 0.838 -> 0.84 (each line rounds half up)
    assert invoice.subtotal == Decimal("49.19")
    assert invoice.tax == Decimal("9.84")
    assert invoice.total == Decimal("59.03")
    assert invoice.paid == Decimal("0.00")
    assert invoice.balance == Decimal("59.03")
    assert invoice.status is InvoiceStatus.OPEN
    assert invoice.number == f"{clinic.clock.now.year}-{iid:06d}"
    assert invoice.due_on == clinic.clock.now.date() + dt.timedelta(days=14)
    assert [line.net_amount for line in invoice.lines] == [
        Decimal("45.00"),
        Decimal("4.19"),
        Decimal("0.00"),
    ]


def test_line_rounding_is_half_up_to_cents() -> None:
    assert line_amounts(Decimal("1"), Decimal("0.05"), Decimal("0.1")) == (
        Decimal("0.05"),
        Decimal("0.01"),
    )
    assert line_amounts(Decimal("3"), Decimal("3.335"), Decimal("0")) == (
        Decimal("10.01"),
        Decimal("0.00"),
    )


def test_payments_reduce_the_balance_and_settle_the_invoice(clinic: Clinic) -> None:
    iid = _invoice(clinic, LineData("Consultation", 1, "50", "0.2"))
    clinic.invoices.add_payment(iid, PaymentData("20", "card", reference="POS 1"))
    partly = clinic.invoices.get(iid)
    assert (partly.paid, partly.balance, partly.status) == (
        Decimal("20.00"),
        Decimal("40.00"),
        InvoiceStatus.OPEN,
    )
    assert "invoice.paid" not in [e.name for e in clinic.events]
    clinic.invoices.add_payment(iid, PaymentData("40.00", "cash"))
    paid = clinic.invoices.get(iid)
    assert (paid.paid, paid.balance, paid.status) == (
        Decimal("60.00"),
        Decimal("0.00"),
        InvoiceStatus.PAID,
    )
    assert [e.name for e in clinic.events][-2:] == ["invoice.updated", "invoice.paid"]
    assert len(paid.payments) == 2
    with pytest.raises(ValidationError, match="status: a paid invoice takes no payments"):
        clinic.invoices.add_payment(iid, PaymentData("1", "cash"))
    with pytest.raises(ValidationError, match="status: a paid invoice cannot be changed"):
        clinic.invoices.update(iid, {"notes": "late"})


def test_replacing_lines_recomputes_and_never_below_what_was_paid(clinic: Clinic) -> None:
    iid = _invoice(clinic, LineData("Consultation", 1, "50"))
    clinic.invoices.add_payment(iid, PaymentData("30", "card"))
    updated = clinic.invoices.update(
        iid, {"lines": [LineData("Consultation", 1, "50"), LineData("Vaccine", 1, "25")]}
    )
    assert (updated.total, updated.balance) == (Decimal("75.00"), Decimal("45.00"))
    with pytest.raises(
        ValidationError, match=r"lines: total 20\.00 would be less than paid 30\.00"
    ):
        clinic.invoices.update(iid, {"lines": [LineData("Discounted", 1, "20")]})
    # paying exactly the rest by changing the lines settles it
    settled = clinic.invoices.update(iid, {"lines": [LineData("Agreed", 1, "30")]})
    assert settled.status is InvoiceStatus.PAID
    assert clinic.events[-1].name == "invoice.paid"


def test_void_only_without_payments(clinic: Clinic) -> None:
    iid = _invoice(clinic, LineData("Consultation", 1, "50"))
    voided = clinic.invoices.void(iid, "issued twice")
    assert (voided.status, voided.balance, voided.void_reason) == (
        InvoiceStatus.VOID,
        Decimal("0.00"),
        "issued twice",
    )
    other = _invoice(clinic, LineData("Consultation", 1, "50"))
    clinic.invoices.add_payment(other, PaymentData("10", "cash"))
    with pytest.raises(ValidationError, match="status: an invoice with payments cannot be voided"):
        clinic.invoices.void(other, "mistake")


def test_search_and_overdue(clinic: Clinic) -> None:
    client = clinic.client("Grace Hopper", email="grace@example.org")
    patient = clinic.patient(client.id)
    first = clinic.invoices.create(
        InvoiceData(
            client_id=ClientId(client.id),
            patient_id=PatientId(patient.id),
            lines=[LineData("A", 1, "10")],
            due_on=clinic.clock.now.date() + dt.timedelta(days=1),
        )
    )
    second = _invoice(clinic, LineData("B", 1, "99"), client_id=client.id)
    _invoice(clinic, LineData("C", 1, "5"))
    assert clinic.invoices.search("hopper").total == 2
    assert clinic.invoices.search(first.number).items[0].id == first.id
    assert clinic.invoices.search(order="-total").items[0].id == second
    later = clinic.clock.now.date() + dt.timedelta(days=2)
    assert [i.id for i in clinic.invoices.search(overdue_on=later).items] == [first.id]
    clinic.invoices.add_payment(InvoiceId(first.id), PaymentData("10", "card"))
    assert clinic.invoices.search(overdue_on=later).total == 0
    assert clinic.invoices.search(status="paid").total == 1
