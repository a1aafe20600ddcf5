"""The sign-in screen: first admin of a new clinic, sign in, and unlock after idling."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QVBoxLayout,
    QWidget,
)

from purplecross_desktop.domain.errors import DomainError, ValidationError
from purplecross_desktop.domain.staff import Staff, StaffData, StaffRole
from purplecross_desktop.staff_session import SignedIn
from purplecross_desktop.ui.context import AppContext
from purplecross_desktop.ui.forms import clear_errors, show_errors
from widgets.alert import Alert
from widgets.button import Button
from widgets.card import Card
from widgets.form_field import FormField
from widgets.tokens import Spacing

#: Wrong passwords in a row before the form pauses; the pause grows with each round.
MAX_FAILURES = 5
PAUSE_SECONDS = 30


class _PanelStack(QWidget):
    """One panel at a time, and exactly as tall as that panel.

    Not a ``QStackedWidget``: its layout answers height-for-width with the tallest page's
    (whatever the size policies), so the locked panel, which has a wrapped label, was
    stretched to the first-run form's height, its few lines spread far apart.
    """

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._pages: list[QWidget] = []
        self._current: QWidget | None = None
        self._layout = QVBoxLayout(self)
        self._layout.setContentsMargins(0, 0, 0, 0)

    def addWidget(self, page: QWidget) -> None:
        self._pages.append(page)
        self._layout.addWidget(page)
        page.setVisible(self._current is None)
        if self._current is None:
            self._current = page

    def setCurrentWidget(self, page: QWidget) -> None:
        self._current = page
        for other in self._pages:
            other.setVisible(other is page)

    def currentWidget(self) -> QWidget | None:
        return self._current

    def count(self) -> int:
        return len(self._pages)

    def widget(self, index: int) -> QWidget | None:
        return self._pages[index] if 0 <= index < len(self._pages) else None


def _password_edit() -> QLineEdit:
    edit = QLineEdit()
    edit.setEchoMode(QLineEdit.EchoMode.Password)
    return edit


class SignInScreen(QWidget):
    """Covers the window until a staff member signs in.

    Three panels: ``first_run`` (no staff yet: create the admin account), ``sign_in``
    (login and password) and ``locked`` (the signed-in staff member's password, or switch
    user). Authentication runs off the UI thread (argon2 is slow on purpose).

    Signals:
        sig_signed_in(object): a staff member (``Staff``) proved who they are.
        sig_switch_user(): the locked screen's "Switch user" was chosen.
    """

    sig_signed_in = Signal(object)
    sig_switch_user = Signal()

    def __init__(self, context: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.context = context
        self.setObjectName("signInScreen")
        self.setAccessibleName("Sign in")
        self._failures = 0
        self._pauses = 0
        self._locked_as: SignedIn | None = None

        self.panels = _PanelStack()
        self.waiting = QLabel("Opening the clinic database…")
        self.waiting.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.panels.addWidget(self.waiting)
        self.panels.addWidget(self._build_first_run())
        self.panels.addWidget(self._build_sign_in())
        self.panels.addWidget(self._build_locked())
        self.message = Alert("", kind="error")
        self.message.setVisible(False)

        body = QWidget()
        column = QVBoxLayout(body)
        column.setContentsMargins(0, 0, 0, 0)
        column.setSpacing(Spacing.MD)
        column.addWidget(self.message)
        column.addWidget(self.panels)
        self.card = Card("Sign in", f"Purple Cross · {context.settings.clinic_name}", body=body)
        self.card.setFixedWidth(440)
        row = QHBoxLayout()
        row.addStretch(1)
        row.addWidget(self.card)
        row.addStretch(1)
        outer = QVBoxLayout(self)
        outer.addStretch(1)
        outer.addLayout(row)
        outer.addStretch(2)

    # Public API ---------------------------------------------------------------
    def start(self) -> None:
        """Ask the database whether the clinic has staff, then show the right panel."""
        self.panels.setCurrentWidget(self.waiting)
        services = self.context.services
        if services is None:
            return
        self.context.background(self, services.staff.has_staff).success(
            lambda has: self.show_sign_in() if has else self.show_first_run()
        ).failure(self._database_failed).run_in_background()

    def show_first_run(self) -> None:
        """Ask for the clinic's first admin account."""
        self._show(self.first_run, "Welcome: create the administrator account")
        self.first_fields["name"].editor().setFocus()

    def show_sign_in(self, login: str = "") -> None:
        """Ask for login and password."""
        self._locked_as = None
        self.login_edit.setText(login)
        self.password_edit.clear()
        self._show(self.sign_in_panel, "Sign in")
        (self.password_edit if login else self.login_edit).setFocus()

    def show_locked(self, signed: SignedIn) -> None:
        """Ask ``signed`` for their password to unlock (or let someone else sign in)."""
        self._locked_as = signed
        self.locked_title.setText(
            f"{signed.name} is signed in. Enter your password to carry on, or switch user."
        )
        self.unlock_edit.clear()
        self._show(self.locked_panel, "Locked")
        self.unlock_edit.setFocus()

    def panel(self) -> str:
        """The panel shown: "waiting", "first_run", "sign_in" or "locked"."""
        current = self.panels.currentWidget()
        if current is self.first_run:
            return "first_run"
        if current is self.sign_in_panel:
            return "sign_in"
        if current is self.locked_panel:
            return "locked"
        return "waiting"

    # Panels -------------------------------------------------------------------
    def _build_first_run(self) -> QWidget:
        self.first_run = QWidget()
        layout = QVBoxLayout(self.first_run)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(Spacing.MD)
        intro = QLabel(
            "This clinic has no staff yet. The administrator adds the rest of the staff "
            "and manages the settings; you sign in with this account from now on."
        )
        intro.setWordWrap(True)
        layout.addWidget(intro)
        edits = {
            "name": QLineEdit(),
            "login": QLineEdit(),
            "email": QLineEdit(),
            "password": _password_edit(),
            "repeat": _password_edit(),
        }
        labels = {
            "name": ("Your &name", True, ""),
            "login": ("&Login", True, "2-40 letters, digits, '.', '_' or '-'"),
            "email": ("&Email", False, ""),
            "password": ("&Password", True, "at least 8 characters"),
            "repeat": ("&Repeat password", True, ""),
        }
        self.first_fields: dict[str, FormField] = {}
        for key, edit in edits.items():
            text, required, hint = labels[key]
            field = FormField(text, edit, hint=hint, required=required)
            self.first_fields[key] = field
            layout.addWidget(field)
            edit.returnPressed.connect(self._create_admin)
        self.create_button = Button("Create admin account and sign in", full_width=True)
        self.create_button.setAccessibleName("Create admin account")
        self.create_button.clicked.connect(self._create_admin)
        layout.addWidget(self.create_button)
        return self.first_run

    def _build_sign_in(self) -> QWidget:
        self.sign_in_panel = QWidget()
        layout = QVBoxLayout(self.sign_in_panel)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(Spacing.MD)
        self.login_edit = QLineEdit()
        self.password_edit = _password_edit()
        self.login_field = FormField("&Login", self.login_edit)
        self.password_field = FormField("&Password", self.password_edit)
        for field in (self.login_field, self.password_field):
            layout.addWidget(field)
            field.editor().returnPressed.connect(self._sign_in)  # type: ignore[attr-defined]
        self.sign_in_button = Button("Sign in", full_width=True)
        self.sign_in_button.clicked.connect(self._sign_in)
        layout.addWidget(self.sign_in_button)
        return self.sign_in_panel

    def _build_locked(self) -> QWidget:
        self.locked_panel = QWidget()
        layout = QVBoxLayout(self.locked_panel)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(Spacing.MD)
        self.locked_title = QLabel("")
        self.locked_title.setWordWrap(True)
        self.locked_title.setAccessibleName("Locked by")
        layout.addWidget(self.locked_title)
        self.unlock_edit = _password_edit()
        self.unlock_field = FormField("&Password", self.unlock_edit)
        self.unlock_edit.returnPressed.connect(self._unlock)
        layout.addWidget(self.unlock_field)
        buttons = QHBoxLayout()
        self.unlock_button = Button("Unlock")
        self.unlock_button.clicked.connect(self._unlock)
        self.switch_button = Button("Switch user", variant="secondary")
        self.switch_button.setAccessibleDescription("Sign out and let someone else sign in")
        self.switch_button.clicked.connect(self.sig_switch_user.emit)
        buttons.addWidget(self.unlock_button, 1)
        buttons.addWidget(self.switch_button, 1)
        layout.addLayout(buttons)
        return self.locked_panel

    # Actions ------------------------------------------------------------------
    def _create_admin(self) -> None:
        services = self.context.services
        if services is None or not self.create_button.isEnabled():
            return
        text = {k: f.editor().text() for k, f in self.first_fields.items()}  # type: ignore[attr-defined]
        clear_errors(self.first_fields)
        if text["repeat"] != text["password"]:
            self.first_fields["repeat"].set_error("must be the same as the password")
            self.first_fields["repeat"].editor().setFocus()
            return
        data = StaffData(
            name=text["name"],
            role=StaffRole.ADMIN,
            login=text["login"],
            email=text["email"] or None,
        )
        self.create_button.set_loading(True)
        self.context.background(
            self, lambda: services.staff.create_first_admin(data, text["password"])
        ).success(self._created).failure(self._create_failed).finally_(
            lambda: self.create_button.set_loading(False)
        ).run_in_background()

    def _created(self, staff: Staff) -> None:
        self._hide_message()
        for field in self.first_fields.values():
            field.editor().clear()  # type: ignore[attr-defined]
        self.sig_signed_in.emit(staff)

    def _create_failed(self, exc: BaseException) -> None:
        if isinstance(exc, ValidationError):
            leftover = show_errors(self.first_fields, exc)
            if leftover:
                self._say("The account was not created. " + "; ".join(leftover))
            else:
                self._hide_message()
        elif isinstance(exc, DomainError):
            self._say(f"{exc}.")
            self.show_sign_in()
        else:
            self._database_failed(exc)

    def _sign_in(self) -> None:
        services = self.context.services
        if services is None or not self.sign_in_button.isEnabled():
            return
        login, password = self.login_edit.text().strip(), self.password_edit.text()
        clear_errors({"login": self.login_field, "password": self.password_field})
        if not login:
            self.login_field.set_error("must not be empty")
            self.login_edit.setFocus()
            return
        self.sign_in_button.set_loading(True)
        self.context.background(self, lambda: services.staff.sign_in(login, password)).success(
            self._checked
        ).failure(self._database_failed).finally_(
            lambda: self.sign_in_button.set_loading(False)
        ).run_in_background()

    def _unlock(self) -> None:
        services = self.context.services
        signed = self._locked_as
        if services is None or signed is None or not self.unlock_button.isEnabled():
            return
        password = self.unlock_edit.text()
        self.unlock_button.set_loading(True)
        self.context.background(
            self, lambda: services.staff.sign_in(signed.login, password)
        ).success(self._checked).failure(self._database_failed).finally_(
            lambda: self.unlock_button.set_loading(False)
        ).run_in_background()

    def _checked(self, staff: Staff | None) -> None:
        locked = self._locked_as
        if staff is None or (locked is not None and staff.id != locked.staff_id):
            self._failures += 1
            self.password_edit.clear()
            self.unlock_edit.clear()
            if self._failures >= MAX_FAILURES:
                self._pause()
            else:
                what = "password" if locked is not None else "login or password"
                self._say(f"That {what} is not right. Check Caps Lock and try again.")
            (self.unlock_edit if locked is not None else self.password_edit).setFocus()
            return
        self._failures = 0
        self._hide_message()
        self.password_edit.clear()
        self.unlock_edit.clear()
        self.sig_signed_in.emit(staff)

    def _pause(self) -> None:
        self._pauses += 1
        seconds = PAUSE_SECONDS * self._pauses
        self._failures = 0
        for button in (self.sign_in_button, self.unlock_button):
            button.setEnabled(False)
        self._say(f"{MAX_FAILURES} wrong attempts in a row. Try again in {seconds} seconds.")
        QTimer.singleShot(seconds * 1000, self, self._resume)

    def _resume(self) -> None:
        for button in (self.sign_in_button, self.unlock_button):
            button.setEnabled(True)
        self._hide_message()

    def _database_failed(self, exc: BaseException) -> None:
        self._say(
            f"The clinic database did not answer ({type(exc).__name__}: {exc}). "
            "Check the network or the server, then try again."
        )

    # Helpers ------------------------------------------------------------------
    def _show(self, panel: QWidget, title: str) -> None:
        self.panels.setCurrentWidget(panel)
        self.card.set_title(title)
        self.card.set_subtitle(f"Purple Cross · {self.context.settings.clinic_name}")

    def _say(self, text: str) -> None:
        self.message.set_message(text)
        self.message.setVisible(True)

    def _hide_message(self, *_: Any) -> None:
        self.message.setVisible(False)
