"""Staff dialogs: add or edit a staff member, and set a password (admins only)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtWidgets import QCheckBox, QComboBox, QLineEdit, QWidget

from purplecross_desktop.database.base import StaffId
from purplecross_desktop.domain.errors import ValidationError
from purplecross_desktop.domain.roles import StaffRole
from purplecross_desktop.domain.staff import Staff, StaffData
from purplecross_desktop.ui.context import AppContext
from purplecross_desktop.ui.dialogs.form_dialog import FormDialog


def _password() -> QLineEdit:
    edit = QLineEdit()
    edit.setEchoMode(QLineEdit.EchoMode.Password)
    return edit


class StaffDialog(FormDialog):
    """New staff member (with a first password) or an edit of one (``staff`` given)."""

    def __init__(
        self, context: AppContext, staff: Staff | None = None, parent: QWidget | None = None
    ) -> None:
        title = "New staff member" if staff is None else f"Edit {staff.name}"
        super().__init__(context, title, parent=parent)
        self.staff = staff
        self.name_edit = QLineEdit(staff.name if staff else "")
        self.login_edit = QLineEdit(staff.login if staff else "")
        self.role_combo = QComboBox()
        for role in StaffRole:
            self.role_combo.addItem(role.label, role.value)
        self.role_combo.setCurrentIndex(
            list(StaffRole).index(StaffRole(staff.role) if staff else StaffRole.FRONT_DESK)
        )
        self.email_edit = QLineEdit((staff.email or "") if staff else "")
        self.active_box = QCheckBox("Can sign in")
        self.active_box.setChecked(staff.active if staff else True)
        self.add_field("name", "&Name", self.name_edit, required=True)
        self.add_field(
            "login",
            "&Login",
            self.login_edit,
            required=True,
            hint="2-40 letters, digits, '.', '_' or '-'",
        )
        self.add_field("role", "&Role", self.role_combo, required=True)
        self.add_field("email", "&Email", self.email_edit)
        self.add_field("active", "Account", self.active_box)
        self.password_edit = _password()
        self.repeat_edit = _password()
        if staff is None:
            self.add_section("First password (they can change it later)")
            self.add_field(
                "password",
                "&Password",
                self.password_edit,
                required=True,
                hint="at least 8 characters",
            )
            self.add_field("repeat", "Re&peat password", self.repeat_edit, required=True)

    def data(self) -> StaffData:
        """The staff member as typed."""
        return StaffData(
            name=self.name_edit.text(),
            role=str(self.role_combo.currentData()),
            login=self.login_edit.text(),
            email=self.email_edit.text() or None,
            active=self.active_box.isChecked(),
        )

    def save_work(self) -> Callable[[], Any]:
        services = self.context.services
        assert services is not None
        data = self.data()
        if self.staff is None:
            password = self.password_edit.text()
            if password != self.repeat_edit.text():
                raise ValidationError.single("repeat", "must be the same as the password")
            return lambda: services.staff.create(data, password)
        staff_id = StaffId(self.staff.id)
        changes = {
            "name": data.name,
            "role": data.role,
            "login": data.login,
            "email": data.email,
            "active": data.active,
        }
        return lambda: services.staff.update(staff_id, changes)


class PasswordDialog(FormDialog):
    """Set a staff member's password (their own, or anyone's for an admin)."""

    def __init__(self, context: AppContext, staff: Staff, parent: QWidget | None = None) -> None:
        super().__init__(
            context,
            f"Set the password of {staff.name}",
            save_text="Set password",
            columns=1,
            parent=parent,
        )
        self.staff = staff
        self.password_edit = _password()
        self.repeat_edit = _password()
        self.add_field(
            "password",
            "New &password",
            self.password_edit,
            required=True,
            hint="at least 8 characters",
        )
        self.add_field("repeat", "Re&peat password", self.repeat_edit, required=True)

    def save_work(self) -> Callable[[], Any]:
        services = self.context.services
        assert services is not None
        password = self.password_edit.text()
        if password != self.repeat_edit.text():
            raise ValidationError.single("repeat", "must be the same as the password")
        staff_id = StaffId(self.staff.id)
        return lambda: services.staff.set_password(staff_id, password)
