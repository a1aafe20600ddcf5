"""Staff (admins only): who may sign in, with which role; add, edit, set passwords."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from PySide6.QtWidgets import QHBoxLayout, QLabel, QWidget
from sqlalchemy import select

from purplecross_desktop.database.base import StaffId
from purplecross_desktop.domain.roles import StaffRole
from purplecross_desktop.domain.staff import Staff
from purplecross_desktop.ui.context import AppContext
from purplecross_desktop.ui.dialogs.staff_dialog import PasswordDialog, StaffDialog
from purplecross_desktop.ui.grid_sql_source import SqlSource
from purplecross_desktop.ui.pages.grid_page import GridPage
from purplecross_desktop.ui.pages.labels import enum_label
from widgets.button import Button
from widgets.datagrid import ChoiceFilter, Column, GridRow, SavedView


class StaffPage(GridPage):
    """The staff list; the services refuse every change unless the actor is an admin."""

    title = "Staff"
    grid_id = "staff"
    empty_text = "No staff yet"

    def __init__(self, context: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(context, parent)
        bar = QHBoxLayout()
        self.new_button = Button("New staff member", icon="plus")
        self.new_button.setToolTip("New staff member (Ctrl+N)")
        self.new_button.clicked.connect(self.create_new)
        self.edit_button = Button("Edit", variant="secondary")
        self.edit_button.setToolTip("Edit the selected staff member (Enter)")
        self.edit_button.clicked.connect(lambda: self._open(self.current_id(), "edit"))
        self.password_button = Button("Set password", variant="secondary")
        self.password_button.clicked.connect(lambda: self._open(self.current_id(), "password"))
        for button in (self.new_button, self.edit_button, self.password_button):
            bar.addWidget(button)
        bar.addStretch(1)
        self.message = QLabel("")
        self.message.setObjectName("staffMessage")
        self.message.setAccessibleName("Staff message")
        self.message.setWordWrap(True)
        self.body.insertLayout(0, bar)
        self.body.insertWidget(1, self.message)

    def columns(self) -> Sequence[Column]:
        return [
            Column("id", "No.", kind="number", width=70, visible=False),
            Column("name", "Name", kind="text", width=220),
            Column("login", "Login", kind="text", width=160),
            Column(
                "role",
                "Role",
                filter_mode="choice",
                choices=tuple(StaffRole),
                formatter=enum_label,
                width=150,
            ),
            Column("email", "Email", kind="text", width=240),
            Column("active", "Can sign in", kind="bool", filter_mode="choice", width=100),
            Column("last_sign_in_at", "Last signed in", formatter=self._when, width=160),
        ]

    def source(self) -> SqlSource:
        return SqlSource(
            select(Staff),
            self.context.session_factory,
            {
                "id": Staff.id,
                "name": Staff.name,
                "login": Staff.login,
                "role": Staff.role,
                "email": Staff.email,
                "active": Staff.active,
                "last_sign_in_at": Staff.last_sign_in_at,
            },
            id_column=Staff.id,
            sort_columns={"name": Staff.name_key},
            searchable=["name", "login", "email"],
        )

    def saved_views(self) -> Sequence[SavedView]:
        return (
            SavedView("Everyone"),
            SavedView("Can sign in", filters=(("active", ChoiceFilter(frozenset({True}))),)),
        )

    def create_new(self) -> None:
        """Open the New staff member dialog."""
        dialog = StaffDialog(self.context, parent=self)
        dialog.sig_saved.connect(lambda staff: self._saved(f"{staff.name} added."))
        dialog.open()

    def open_row(self, row: GridRow) -> None:
        self._open(row.id, "edit")

    def _open(self, staff_id: Any, what: str) -> None:
        services = self.context.services
        if staff_id is None or services is None:
            self.message.setText("Select a staff member first.")
            return
        self.context.background(self, lambda: services.staff.get(StaffId(int(staff_id)))).success(
            lambda staff: self._show_dialog(staff, what)
        ).failure(lambda exc: self.message.setText(f"Could not open: {exc}")).run_in_background()

    def _show_dialog(self, staff: Staff, what: str) -> None:
        if what == "password":
            dialog: StaffDialog | PasswordDialog = PasswordDialog(self.context, staff, self)
            dialog.sig_saved.connect(lambda _: self._saved(f"Password of {staff.name} set."))
        else:
            dialog = StaffDialog(self.context, staff, self)
            dialog.sig_saved.connect(lambda saved: self._saved(f"{saved.name} saved."))
        dialog.open()

    def _saved(self, text: str) -> None:
        self.message.setText(text)
        self.grid.refresh()

    def _when(self, value: Any) -> str:
        """A sign-in time on the clinic's clock; "never" when there was none."""
        return "never" if value is None else self.clinic_time.format_datetime(value)
