"""Take payment: a client's open invoices and one payment spread over them, oldest due first
(cash with change, card or other; less than the whole balance is a part payment)."""

from __future__ import annotations

from decimal import Decimal
from typing import Final

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QFormLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QTableWidget,
    QTableWidgetItem,
    QWidget,
)

from purplecross_desktop.database.base import ClientId
from purplecross_desktop.domain.accounts import Account, AccountPayment
from purplecross_desktop.domain.billing import PaymentData
from purplecross_desktop.ui.actor import current_actor
from purplecross_desktop.ui.context import AppContext
from purplecross_desktop.ui.dialogs.checkout import METHODS, parse_amount
from purplecross_desktop.ui.dialogs.desk_dialog import DeskDialog
from purplecross_desktop.ui.pages.labels import money
from widgets.alert import Alert

COLUMNS: Final = ("Invoice", "Issued", "Due", "Total", "Paid", "Owed")
ZERO: Final = Decimal("0.00")


class TakePaymentDialog(DeskDialog):
    """Take a payment on a client's account.

    The amount starts at everything owed; type less for a part payment. Cash handed over
    above the amount shows the change due before anything is saved.

    Signals:
        sig_paid(int): a payment was taken from the client with this id.
    """

    sig_paid = Signal(int)

    def __init__(self, context: AppContext, client_id: int, parent: QWidget | None = None) -> None:
        super().__init__(context, "Take payment", "&Take payment", parent=parent)
        self.setMinimumWidth(620)
        self.client_id = client_id
        self.currency = context.settings.clinic_currency
        self.account: Account | None = None
        self.payment: AccountPayment | None = None

        self.summary = QLabel("Loading…")
        self.summary.setWordWrap(True)
        self.summary.setAccessibleName("What the client owes")
        self.body.addWidget(self.summary)
        self.invoices = QTableWidget(0, len(COLUMNS))
        self.invoices.setAccessibleName("Open invoices, oldest due first")
        self.invoices.setHorizontalHeaderLabels(list(COLUMNS))
        self.invoices.verticalHeader().setVisible(False)
        header = self.invoices.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        self.invoices.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.invoices.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.invoices.setTabKeyNavigation(False)
        self.invoices.setFocusPolicy(Qt.FocusPolicy.NoFocus)  # to read, not to act on
        self.invoices.setMinimumHeight(120)
        self.body.addWidget(self.invoices)

        form = QFormLayout()
        self.method = QComboBox()
        self.method.setAccessibleName("Payment method")
        for key, label in METHODS:
            self.method.addItem(label, key)
        self.method.currentIndexChanged.connect(lambda _i: self._recompute())
        self._row(form, "&Method", self.method)
        form.addRow("", self.field_error_label("method"))
        self.amount = QLineEdit()
        self.amount.setAccessibleName("Amount paid now")
        self.amount.setPlaceholderText("everything owed, or less for a part payment")
        self.amount.textEdited.connect(lambda _t: self._recompute())
        self._row(form, "Am&ount", self.amount)
        form.addRow("", self.field_error_label("amount"))
        self.tendered = QLineEdit()
        self.tendered.setAccessibleName("Cash handed over")
        self.tendered.textEdited.connect(lambda _t: self._recompute())
        self._row(form, "&Cash given", self.tendered)
        form.addRow("", self.field_error_label("tendered"))
        self.change = QLabel("")
        self.change.setAccessibleName("Change due")
        form.addRow("Change due", self.change)
        self.body.addLayout(form)
        self.body.addWidget(self.field_error_label("client_id"))
        self.done_note = Alert("", kind="success", title="Payment taken")
        self.done_note.setVisible(False)
        self.body.addWidget(self.done_note)

        self.primary.setEnabled(False)
        self.amount.setFocus()
        self._load()

    # Public API ---------------------------------------------------------------
    def submit(self) -> None:
        services = self.context.services
        if services is None or self.account is None or self.payment is not None:
            return
        typed = self.amount.text().strip()
        amount = parse_amount(typed)
        if amount is None:
            from purplecross_desktop.domain.errors import ValidationError

            rule = "must be a number" if typed else "is required"
            self.show_errors(ValidationError.single("amount", rule))
            return
        method = str(self.method.currentData())
        tendered = parse_amount(self.tendered.text()) if method == "cash" else None
        data = PaymentData(amount, method, tendered=tendered)
        accounts, client_id = services.accounts, ClientId(self.client_id)
        actor = current_actor(self.context)
        self.run(lambda: accounts.pay(client_id, data, actor=actor), self._paid)

    # Internals ----------------------------------------------------------------
    def _row(self, form: QFormLayout, label: str, field: QWidget) -> None:
        caption = QLabel(label)
        caption.setBuddy(field)
        form.addRow(caption, field)

    def _load(self) -> None:
        services = self.context.services
        assert services is not None
        accounts, client_id = services.accounts, ClientId(self.client_id)
        self.context.background(self, lambda: accounts.account(client_id)).success(
            self._loaded
        ).failure(self.show_errors).run_in_background()

    def _loaded(self, account: Account) -> None:
        self.account = account
        self.heading.setText(f"Take payment from {account.client}")
        self.invoices.setRowCount(len(account.invoices))
        for row, invoice in enumerate(account.invoices):
            cells = (
                invoice.number,
                f"{invoice.issued_on:%d %b %Y}",
                f"{invoice.due_on:%d %b %Y}",
                money(invoice.total, self.currency),
                money(invoice.paid, self.currency),
                money(invoice.balance, self.currency),
            )
            for column, text in enumerate(cells):
                cell = QTableWidgetItem(text)
                if column >= 3:
                    cell.setTextAlignment(
                        Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter
                    )
                self.invoices.setItem(row, column, cell)
        owed = account.balance
        count = len(account.invoices)
        if count:
            self.summary.setText(
                f"{account.client} owes {money(owed, self.currency)} on {count} open "
                f"invoice{'s' if count != 1 else ''}; a payment settles the oldest due first."
            )
            self.amount.setText(f"{owed:.2f}")
            self.primary.setEnabled(True)
        else:
            self.summary.setText(f"{account.client} owes nothing.")
        self._recompute()
        self.amount.selectAll()

    def _recompute(self) -> None:
        owed = self.account.balance if self.account is not None else ZERO
        cash = self.method.currentData() == "cash"
        self.tendered.setEnabled(cash)
        amount = parse_amount(self.amount.text()) or ZERO
        tendered = parse_amount(self.tendered.text()) if cash else None
        change = (tendered - amount) if tendered is not None and tendered > amount else ZERO
        text = money(change, self.currency)
        if ZERO < amount < owed:
            text += f"  ·  {money(owed - amount, self.currency)} still owed after this"
        self.change.setText(text)

    def _paid(self, payment: AccountPayment) -> None:
        self.payment = payment
        paid = ", ".join(
            f"{number} {money(amount, self.currency)}"
            for _id, number, amount in payment.allocations
        )
        text = f"Took {money(payment.amount, self.currency)} ({paid})."
        if payment.change_due:
            text += f" Give {money(payment.change_due, self.currency)} change."
        if payment.balance_left:
            text += f" {money(payment.balance_left, self.currency)} is still owed."
        else:
            text += " The account is settled."
        self.done_note.set_message(text)
        self.done_note.setVisible(True)
        for widget in (self.method, self.amount, self.tendered):
            widget.setEnabled(False)
        self.primary.setVisible(False)
        self.close_button.setText("Done")
        self.close_button.setDefault(True)
        self.close_button.setFocus()
        self.sig_paid.emit(payment.client_id)


def open_take_payment_dialog(
    context: AppContext, parent: QWidget | None, client_id: int
) -> TakePaymentDialog:
    """Open Take payment for ``client_id`` (window-modal) and return it."""
    dialog = TakePaymentDialog(context, client_id, parent)
    dialog.open()
    return dialog
