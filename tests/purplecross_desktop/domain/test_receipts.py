"""The receipt PDF parses back with the invoice's lines, totals, payments and change."""

from __future__ import annotations

import io
from decimal import Decimal

from pypdf import PdfReader

from purplecross_desktop.database.base import ClientId
from purplecross_desktop.domain.billing import InvoiceData, LineData, PaymentData
from purplecross_desktop.receipts import ReceiptParty, render_receipt
from tests.purplecross_desktop.domain.conftest import Clinic


def _text(pdf: bytes) -> str:
    reader = PdfReader(io.BytesIO(pdf))
    return "\n".join(page.extract_text() for page in reader.pages)


def test_the_receipt_shows_lines_discount_tax_payments_and_change(sqlite_clinic: Clinic) -> None:
    clinic = sqlite_clinic
    client = clinic.client()
    invoice = clinic.invoices.create(
        InvoiceData(
            client_id=ClientId(client.id),
            lines=[
                LineData("Consultation", 1, "40.00", "0.2", "0.1"),
                LineData("Wormer tablets", 2, "5.00", "0.2"),
            ],
        ),
        payments=[PaymentData("20.00", "card"), PaymentData("10.00", "cash", tendered="20.00")],
    )
    stored = clinic.invoices.get(invoice.id)
    assert stored.total == Decimal("55.20")
    pdf = render_receipt(
        stored,
        ReceiptParty("Purple Cross Vets", "1 High St", "01632 960000", "Ada Lovelace", "Rex"),
    )
    assert pdf.startswith(b"%PDF")
    text = _text(pdf)
    assert f"Receipt for invoice {stored.number}" in text
    for expected in (
        "Consultation",
        "Wormer tablets",
        "-£4.00",  # discount
        "£46.00",  # subtotal
        "£9.20",  # tax
        "£55.20",  # total
        "£20.00",  # card payment
        "£10.00",  # change given
        "Balance due",
        "£25.20",
    ):
        assert expected in text, expected
    assert "Please pay the balance" in text
