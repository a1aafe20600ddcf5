"""Checkout: an invoice from a completed appointment, lines from the price list, a payment
(cash with change, card, other; part payments leave a balance), then the receipt printed
or emailed. The invoice and the payment are saved together or not at all."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any, Final

from PySide6.QtCore import QEvent, QObject, Qt, QUrl, Signal
from PySide6.QtGui import QDesktopServices, QKeyEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QSpinBox,
    QTableWidget,
    QTableWidgetItem,
    QWidget,
)

from purplecross_desktop.database.base import ClientId, InvoiceId, PatientId
from purplecross_desktop.domain.billing import (
    Invoice,
    InvoiceData,
    LineData,
    PaymentData,
    line_amounts,
    line_discount,
)
from purplecross_desktop.domain.front_desk import AppointmentCard
from purplecross_desktop.domain.price_list import PriceItem
from purplecross_desktop.ui.actor import current_actor
from purplecross_desktop.ui.context import AppContext
from purplecross_desktop.ui.dialogs.desk_dialog import DeskDialog
from purplecross_desktop.ui.pages.labels import money
from widgets.alert import Alert
from widgets.button import Button
from widgets.tokens import Spacing

#: What the desk takes (the domain knows more methods: bank transfer, insurance).
METHODS: Final = (("cash", "Cash"), ("card", "Card"), ("other", "Other"))
COLUMNS: Final = ("Item", "Qty", "Unit price", "Discount %", "Tax %", "Amount")
ZERO: Final = Decimal("0.00")


def parse_amount(text: str) -> Decimal | None:
    """A typed amount ("12", "12.50", "£1,200.00") or None when it is not a number."""
    cleaned = text.strip().replace(",", "").lstrip("£$€")
    if not cleaned:
        return None
    try:
        value = Decimal(cleaned)
    except InvalidOperation:
        return None
    return value if value.is_finite() else None


def _beside(field: QWidget, *others: QWidget) -> QWidget:
    """One form row: ``field`` at a short width, then ``others`` to its right."""
    row = QWidget()
    layout = QHBoxLayout(row)
    layout.setContentsMargins(0, 0, 0, 0)
    layout.setSpacing(Spacing.LG)
    field.setMaximumWidth(160)
    layout.addWidget(field)
    for other in others:
        layout.addWidget(other)
    layout.addStretch(1)
    return row


class CheckoutDialog(DeskDialog):
    """Invoice an appointment and take a payment.

    Signals:
        sig_checked_out(int): the new invoice's id.
    """

    sig_checked_out = Signal(int)
    #: Open the printed receipt with the system's viewer (tests turn it off).
    open_receipts = True

    def __init__(
        self, context: AppContext, appointment_id: int, parent: QWidget | None = None
    ) -> None:
        super().__init__(context, "Check out", "Take payment", parent=parent)
        self.setMinimumWidth(720)
        self.appointment_id = appointment_id
        self.currency = context.settings.clinic_currency
        self.card: AppointmentCard | None = None
        self.items: list[PriceItem] = []
        self.invoice: Invoice | None = None
        self.receipt_path: Path | None = None
        self.email_job: str | None = None

        self.summary = QLabel("Loading…")
        self.summary.setWordWrap(True)
        self.summary.setAccessibleName("Checkout summary")
        self.body.addWidget(self.summary)
        self.balance_note = Alert("", kind="warning", title="Earlier unpaid balance")
        self.balance_note.setVisible(False)
        self.body.addWidget(self.balance_note)

        picker_row = QHBoxLayout()
        self.picker = QComboBox()
        self.picker.setEditable(True)
        self.picker.setAccessibleName("Price list item")
        self.picker.setMinimumWidth(320)
        # Enter in the item box adds the line (it never inserts the typed text as an item
        # nor presses "Take payment" with the invoice half typed).
        self.picker.setInsertPolicy(QComboBox.InsertPolicy.NoInsert)
        self.picker.installEventFilter(self)
        self.picker_label = QLabel("&Item")
        self.picker_label.setBuddy(self.picker)
        self.add_button = Button("&Add line", variant="secondary", button_size="small")
        self.add_button.clicked.connect(self.add_selected_item)
        picker_row.addWidget(self.picker_label)
        picker_row.addWidget(self.picker, 1)
        picker_row.addWidget(self.add_button)
        self.body.addLayout(picker_row)

        self.lines = QTableWidget(0, len(COLUMNS))
        self.lines.setAccessibleName("Invoice lines")
        self.lines.setHorizontalHeaderLabels(list(COLUMNS))
        self.lines.verticalHeader().setVisible(False)
        header = self.lines.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        self.lines.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.lines.setTabKeyNavigation(False)
        self.lines.setMinimumHeight(120)  # the header and three lines
        self.lines.itemChanged.connect(lambda _item: self._recompute())
        self.body.addWidget(self.lines)
        self.body.addWidget(self.field_error_label("lines"))

        form = QFormLayout()
        self.discount = QSpinBox()
        self.discount.setRange(0, 100)
        self.discount.setSuffix(" %")
        self.discount.setAccessibleName("Discount on every line, percent")
        self.discount.valueChanged.connect(self._apply_discount)
        self.totals = QLabel("")
        self.totals.setAccessibleName("Totals")
        bold = self.totals.font()
        bold.setBold(True)
        bold.setPointSizeF(bold.pointSizeF() * 1.15)
        self.totals.setFont(bold)
        # the discount and the totals share a row, as do the cash and the change: one row
        # each kept the saved dialog taller than an 800x600 screen
        self._row(form, "&Discount", _beside(self.discount, self.totals), buddy=self.discount)
        self.method = QComboBox()
        self.method.setAccessibleName("Payment method")
        for key, label in METHODS:
            self.method.addItem(label, key)
        self.method.currentIndexChanged.connect(lambda _i: self._recompute())
        self._row(form, "&Method", self.method)
        self.amount = QLineEdit()
        self.amount.setAccessibleName("Amount paid now")
        self.amount.setPlaceholderText("the total, or less for a part payment; 0 to pay later")
        self.amount.textEdited.connect(lambda _t: self._recompute())
        self._row(form, "Am&ount", self.amount)
        form.addRow("", self.field_error_label("payments[0].amount"))
        form.addRow("", self.field_error_label("payments"))
        self.tendered = QLineEdit()
        self.tendered.setAccessibleName("Cash handed over")
        self.tendered.textEdited.connect(lambda _t: self._recompute())
        self.change = QLabel("")
        self.change.setAccessibleName("Change due")
        cash_row = _beside(self.tendered, QLabel("Change due"), self.change)
        self._row(form, "&Cash given", cash_row, buddy=self.tendered)
        form.addRow("", self.field_error_label("payments[0].tendered"))
        self.body.addLayout(form)

        # The note goes under the form; the receipt buttons go at the left of the bottom
        # row (their own row pushed the dialog past an 800x600 screen).
        self.done_note = Alert("", kind="success", title="Saved")
        self.print_button = Button("&Print receipt", variant="secondary", button_size="small")
        self.print_button.clicked.connect(self.print_receipt)
        self.email_button = Button("&Email receipt", variant="secondary", button_size="small")
        self.email_button.clicked.connect(self.email_receipt)
        self.body.addWidget(self.done_note)
        self.button_row.insertWidget(0, self.print_button)
        self.button_row.insertWidget(1, self.email_button)
        for widget in (self.done_note, self.print_button, self.email_button):
            widget.setVisible(False)

        # never squeezed below their text (after saving, the note and the receipt buttons
        # took the room of the amounts, which shrank to a sliver)
        for field in (self.discount, self.method, self.amount, self.tendered):
            field.setMinimumHeight(field.sizeHint().height())
        self.primary.setEnabled(False)
        self.picker.setFocus()
        self._load()

    # Public API ---------------------------------------------------------------
    def add_item(self, item: PriceItem, quantity: Decimal = Decimal(1)) -> None:
        """Append a line for ``item`` (its current price and tax rate)."""
        row = self.lines.rowCount()
        self.lines.blockSignals(True)
        self.lines.insertRow(row)
        cells = (
            item.name,
            f"{quantity.normalize():f}",
            f"{item.unit_price:.2f}",
            str(self.discount.value()),
            f"{(item.tax_rate * 100).normalize():f}",
            "",
        )
        for column, text in enumerate(cells):
            cell = QTableWidgetItem(text)
            if column:
                cell.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            if column in (0, 2, 4, 5):  # price and tax come from the price list
                cell.setFlags(cell.flags() & ~cell.flags().ItemIsEditable)
            self.lines.setItem(row, column, cell)
        first = self.lines.item(row, 0)
        assert first is not None
        first.setData(256, item)
        self.lines.blockSignals(False)
        self._recompute()

    def add_selected_item(self) -> None:
        text = self.picker.currentText().strip().casefold()
        # What was typed may be a prefix of the name or the whole "name  price" label.
        item = next(
            (
                self.picker.itemData(i)
                for i in range(self.picker.count())
                if text and self.picker.itemText(i).casefold().startswith(text)
            ),
            None,
        )
        if not isinstance(item, PriceItem):
            self.show_errors(_single("lines", f"no price list item matches {text!r}"))
            return
        self.clear_errors()
        self.add_item(item)
        self.picker.setCurrentIndex(-1)
        self.picker.setFocus()

    def line_data(self) -> list[LineData]:
        result = []
        for row in range(self.lines.rowCount()):
            first = self.lines.item(row, 0)
            item = first.data(256) if first is not None else None
            assert isinstance(item, PriceItem)
            result.append(
                LineData(
                    description=item.name,
                    quantity=self._cell(row, 1),
                    unit_price=item.unit_price,
                    tax_rate=item.tax_rate,
                    discount_rate=_percent(self._cell(row, 3)),
                    price_item_id=item.id,
                )
            )
        return result

    def total(self) -> Decimal:
        total = ZERO
        for line in self.line_data():
            try:
                quantity = Decimal(str(line.quantity))
                discount = Decimal(str(line.discount_rate))
            except InvalidOperation:
                continue
            net, tax = line_amounts(
                quantity, Decimal(line.unit_price), Decimal(line.tax_rate), discount
            )
            total += net + tax
        return total

    def submit(self) -> None:
        services = self.context.services
        if services is None or self.card is None or self.invoice is not None:
            return
        amount = parse_amount(self.amount.text())
        if self.amount.text().strip() and amount is None:
            self.show_errors(_single("payments[0].amount", "must be a number"))
            return
        method = str(self.method.currentData())
        tendered = parse_amount(self.tendered.text()) if method == "cash" else None
        payments = (
            [PaymentData(amount, method, tendered=tendered)]
            if amount is not None and amount > 0
            else []
        )
        data = InvoiceData(
            client_id=ClientId(self.card.client_id),
            patient_id=PatientId(self.card.patient_id),
            appointment_id=self.card.id,
            lines=self.line_data(),
        )
        actor = current_actor(self.context)
        invoices = services.invoices
        self.run(lambda: invoices.create(data, payments=payments, actor=actor), self._saved)

    def print_receipt(self) -> None:
        """Render the receipt PDF off the UI thread, save it and open it for printing."""
        if self.invoice is None:
            return
        invoice_id = self.invoice.id
        folder = self.context.settings.reports_path / "receipts"
        self.print_button.set_loading(True)

        def render() -> Path:
            pdf = self._render(invoice_id)
            folder.mkdir(parents=True, exist_ok=True)
            path = folder / f"receipt-{self.invoice.number if self.invoice else invoice_id}.pdf"
            path.write_bytes(pdf)
            return path

        self.context.background(self, render).success(self._printed).failure(
            self.show_errors
        ).finally_(lambda: self.print_button.set_loading(False)).run_in_background()

    def email_receipt(self) -> None:
        """Queue the receipt to the owner's email with the ``invoice`` template."""
        if self.invoice is None or self.card is None:
            return
        services = self.context.services
        assert services is not None
        invoice_id, client_id = self.invoice.id, self.card.client_id
        context = self.context
        currency = self.currency
        self.email_button.set_loading(True)

        def send() -> str:
            from jobs.email import Attachment

            client = services.clients.get(ClientId(client_id))
            if not client.email:
                raise ValueError(f"{client.name} has no email address on record")
            invoice = services.invoices.get(InvoiceId(invoice_id))
            pdf = self._render(invoice_id)
            email = context.job_runtime().email
            lines = [
                {
                    "description": ln.description,
                    "amount": money(ln.net_amount + ln.tax_amount, currency),
                }
                for ln in invoice.lines
            ]
            return str(
                email.queue(
                    client.email,
                    f"Your receipt {invoice.number}",
                    "invoice",
                    {
                        "client_name": client.name,
                        "invoice_number": invoice.number,
                        "total": money(invoice.total, currency),
                        "due_date": f"{invoice.due_on:%d %B %Y}" if invoice.balance > 0 else "",
                        "lines": lines,
                    },
                    attachments=(
                        Attachment(f"receipt-{invoice.number}.pdf", pdf, "application/pdf"),
                    ),
                    idempotency_key=f"receipt:invoice:{invoice.id}:{invoice.paid}",
                    record={"invoice": invoice.id, "client": client.id},
                )
            )

        self.context.background(self, send).success(self._emailed).failure(
            self.show_errors
        ).finally_(lambda: self.email_button.set_loading(False)).run_in_background()

    # Internals ----------------------------------------------------------------
    def _row(
        self, form: QFormLayout, label: str, field: QWidget, buddy: QWidget | None = None
    ) -> None:
        caption = QLabel(label)
        caption.setBuddy(buddy or field)
        form.addRow(caption, field)

    def _cell(self, row: int, column: int) -> str:
        cell = self.lines.item(row, column)
        return cell.text().strip() if cell is not None else ""

    def _load(self) -> None:
        services = self.context.services
        assert services is not None
        appointment_id = self.appointment_id

        def load() -> tuple[AppointmentCard, list[PriceItem]]:
            card = services.front_desk.appointment_card(appointment_id)
            return card, services.front_desk.price_items()

        self.context.background(self, load).success(self._loaded).failure(
            self.show_errors
        ).run_in_background()

    def _loaded(self, loaded: tuple[AppointmentCard, list[PriceItem]]) -> None:
        self.card, self.items = loaded
        card = self.card
        self.heading.setText(f"Check out {card.patient} ({card.client})")
        self.summary.setText(f"{card.type.replace('_', ' ').capitalize()} with {card.vet}.")
        if card.balance > 0:
            owed = money(card.balance, self.currency)
            self.balance_note.set_message(f"{card.client} already owes {owed} on earlier invoices.")
            self.balance_note.setVisible(True)
        for item in self.items:
            self.picker.addItem(f"{item.name}  {money(item.unit_price, self.currency)}", item)
        self.picker.setCurrentIndex(-1)
        self.primary.setEnabled(True)
        if card.invoice_ids:
            self.error.set_message("This appointment is already invoiced.")
            self.error.setVisible(True)

    def _apply_discount(self, value: int) -> None:
        self.lines.blockSignals(True)
        for row in range(self.lines.rowCount()):
            cell = self.lines.item(row, 3)
            if cell is not None:
                cell.setText(str(value))
        self.lines.blockSignals(False)
        self._recompute()

    def _recompute(self) -> None:
        self.lines.blockSignals(True)
        discount_total = ZERO
        for row, line in enumerate(self.line_data()):
            try:
                quantity = Decimal(str(line.quantity))
                rate = Decimal(str(line.discount_rate))
                net, tax = line_amounts(
                    quantity, Decimal(line.unit_price), Decimal(line.tax_rate), rate
                )
                discount_total += line_discount(quantity, Decimal(line.unit_price), rate)
                text = money(net + tax, self.currency)
            except InvalidOperation:
                text = "?"
            cell = self.lines.item(row, 5)
            if cell is not None:
                cell.setText(text)
        self.lines.blockSignals(False)
        total = self.total()
        parts = [f"Total {money(total, self.currency)}"]
        if discount_total:
            parts.append(f"after {money(discount_total, self.currency)} discount")
        self.totals.setText(" ".join(parts))
        if not self.amount.isModified():
            self.amount.setText(f"{total:.2f}" if total else "")
        cash = self.method.currentData() == "cash"
        self.tendered.setEnabled(cash)
        amount = parse_amount(self.amount.text()) or ZERO
        tendered = parse_amount(self.tendered.text()) if cash else None
        change = (tendered - amount) if tendered is not None and tendered > amount else ZERO
        left = total - amount
        text = money(change, self.currency)
        if left > 0:
            text += f"  ·  {money(left, self.currency)} left to pay"
        self.change.setText(text)

    def _render(self, invoice_id: int) -> bytes:
        from purplecross_desktop.receipts import ReceiptParty, render_receipt

        services = self.context.services
        assert services is not None
        assert self.card is not None
        settings = self.context.settings
        invoice = services.invoices.get(InvoiceId(invoice_id))
        party = ReceiptParty(
            settings.clinic_name,
            settings.clinic_address,
            settings.clinic_phone,
            self.card.client,
            self.card.patient,
        )
        from zoneinfo import ZoneInfo

        return render_receipt(
            invoice, party, currency=self.currency, timezone=ZoneInfo(settings.clinic_timezone)
        )

    def _saved(self, invoice: Invoice) -> None:
        self.invoice = invoice
        paid = money(invoice.paid, self.currency)
        text = f"Invoice {invoice.number}: total {money(invoice.total, self.currency)}, paid {paid}"
        if invoice.balance > 0:
            text += (
                f", {money(invoice.balance, self.currency)} still to pay by {invoice.due_on:%d %B}"
            )
        change = sum((p.change_due for p in invoice.payments), start=ZERO)
        if change:
            text += f". Give {money(change, self.currency)} change"
        self.done_note.set_message(text + ".")
        for shown in (self.done_note, self.print_button, self.email_button):
            shown.setVisible(True)
        # the invoice is saved: no more lines (the item row's room goes to the note)
        for hidden in (self.picker_label, self.picker, self.add_button):
            hidden.setVisible(False)
        for widget in (self.lines, self.discount, self.method):
            widget.setEnabled(False)
        self.amount.setReadOnly(True)
        self.tendered.setReadOnly(True)
        self.primary.setVisible(False)
        self.close_button.setText("Done")
        self.close_button.setDefault(True)
        self.print_button.setFocus()
        self.adjustSize()  # room for the note and the receipt buttons
        self.sig_checked_out.emit(invoice.id)

    def _printed(self, path: Path) -> None:
        self.receipt_path = path
        self.done_note.set_message(f"{self.done_note.get_message()} Receipt saved to {path}.")
        self.close_button.setFocus()  # Enter now closes; it never prints the receipt twice
        self.adjustSize()  # the note grew by a line
        if self.open_receipts:
            QDesktopServices.openUrl(QUrl.fromLocalFile(str(path)))

    def _emailed(self, job_id: str) -> None:
        self.email_job = job_id
        self.done_note.set_message(f"{self.done_note.get_message()} Receipt emailed.")
        self.close_button.setFocus()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if (
            watched is self.picker
            and event.type() == QEvent.Type.KeyPress
            and isinstance(event, QKeyEvent)
            and event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter)
        ):
            if self.picker.currentText().strip():
                self.add_selected_item()
            else:  # nothing typed: Enter takes the payment, as anywhere else in the form
                self.primary.click()
            return True
        return super().eventFilter(watched, event)

    def keyPressEvent(self, event: Any) -> None:
        if event.key() == Qt.Key.Key_Delete and self.lines.hasFocus() and self.invoice is None:
            row = self.lines.currentRow()
            if row >= 0:
                self.lines.removeRow(row)
                self._recompute()
            return
        super().keyPressEvent(event)


def _percent(text: str) -> Decimal | str:
    try:
        return Decimal(text or "0") / 100
    except InvalidOperation:
        return text


def _single(field: str, rule: str) -> Exception:
    from purplecross_desktop.domain.errors import ValidationError

    return ValidationError.single(field, rule)


def open_checkout_dialog(
    context: AppContext, parent: QWidget | None, appointment_id: int
) -> CheckoutDialog:
    """Open the checkout for a completed ``appointment_id`` (window-modal) and return it."""
    dialog = CheckoutDialog(context, appointment_id, parent)
    dialog.open()
    return dialog
