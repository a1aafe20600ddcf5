"""Printable receipts: an invoice with its lines, discount, tax, payments and balance as a PDF.

Qt-free (fpdf2), so it runs on a worker thread or in a job. Amounts come from the stored
invoice (computed by the billing service), never recomputed here.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from fpdf import FPDF

from purplecross_desktop.domain.billing import Invoice, PaymentMethod


@dataclass(frozen=True, slots=True)
class ReceiptParty:
    """Who the receipt is for and from."""

    clinic_name: str
    clinic_address: str
    clinic_phone: str
    client_name: str
    patient_name: str = ""


def _money(value: Decimal, currency: str) -> str:
    sign = "-" if value < 0 else ""
    return f"{sign}{currency}{abs(value):,.2f}"


def _text(value: str) -> str:
    """The core PDF fonts speak Latin-1; anything else becomes '?' rather than an error."""
    return value.encode("latin-1", "replace").decode("latin-1")


def render_receipt(
    invoice: Invoice,
    party: ReceiptParty,
    *,
    currency: str = "£",
    timezone: dt.tzinfo = dt.UTC,
) -> bytes:
    """The receipt of ``invoice`` (with lines and payments loaded) as PDF bytes."""
    pdf = FPDF(format="A4")
    pdf.set_title(_text(f"Receipt {invoice.number}"))
    pdf.set_author(_text(party.clinic_name))
    pdf.add_page()
    pdf.set_auto_page_break(auto=True, margin=15)
    pdf.set_font("Helvetica", "B", 16)
    pdf.cell(0, 9, _text(party.clinic_name), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", "", 9)
    for detail in (party.clinic_address, party.clinic_phone):
        if detail:
            pdf.cell(0, 5, _text(detail), new_x="LMARGIN", new_y="NEXT")
    pdf.ln(4)
    pdf.set_font("Helvetica", "B", 12)
    pdf.cell(0, 7, _text(f"Receipt for invoice {invoice.number}"), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", "", 10)
    pdf.cell(0, 6, _text(f"Issued {invoice.issued_on:%d %B %Y}"), new_x="LMARGIN", new_y="NEXT")
    who = party.client_name + (f" - {party.patient_name}" if party.patient_name else "")
    pdf.cell(0, 6, _text(who), new_x="LMARGIN", new_y="NEXT")
    pdf.ln(4)

    widths = (82, 16, 26, 20, 16, 30)
    headings = ("Item", "Qty", "Unit price", "Discount", "Tax", "Amount")
    pdf.set_font("Helvetica", "B", 9)
    for width, heading in zip(widths, headings, strict=True):
        pdf.cell(width, 7, heading, border="B", align="L" if heading == "Item" else "R")
    pdf.ln()
    pdf.set_font("Helvetica", "", 9)
    for line in invoice.lines:
        cells = (
            _text(line.description),
            f"{line.quantity.normalize():f}",
            _money(line.unit_price, currency),
            f"{line.discount_rate * 100:.0f}%" if line.discount_rate else "",
            f"{line.tax_rate * 100:.0f}%",
            _money(line.net_amount + line.tax_amount, currency),
        )
        for index, (width, cell) in enumerate(zip(widths, cells, strict=True)):
            pdf.cell(width, 6, _text(cell), align="L" if index == 0 else "R")
        pdf.ln()
    pdf.ln(2)

    def total(label: str, value: Decimal, bold: bool = False) -> None:
        pdf.set_font("Helvetica", "B" if bold else "", 10)
        pdf.cell(sum(widths) - 30, 6, _text(label), align="R")
        pdf.cell(30, 6, _text(_money(value, currency)), align="R", new_x="LMARGIN", new_y="NEXT")

    if invoice.discount:
        total("Discount", -invoice.discount)
    total("Subtotal", invoice.subtotal)
    total("Tax", invoice.tax)
    total("Total", invoice.total, bold=True)
    for payment in invoice.payments:
        when = payment.paid_at.astimezone(timezone)
        method = str(PaymentMethod(payment.method).value).replace("_", " ")
        total(f"Paid by {method}, {when:%d %b %Y %H:%M}", payment.amount)
        if payment.tendered is not None and payment.change_due:
            total("Cash tendered", payment.tendered)
            total("Change given", payment.change_due)
    total("Balance due", invoice.balance, bold=True)
    pdf.ln(6)
    pdf.set_font("Helvetica", "I", 9)
    closing = (
        "Paid in full - thank you."
        if invoice.balance <= 0
        else (f"Please pay the balance by {invoice.due_on:%d %B %Y}.")
    )
    pdf.cell(0, 6, _text(closing), new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())
