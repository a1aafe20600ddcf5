"""Sign-in, roles, lock and switch user on the real window, by keyboard, on SQLite and
PostgreSQL: the first start asks for the admin, other roles never see admin pages, every
change is recorded under the signed-in staff member."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QDialog
from pytestqt.qtbot import QtBot

from purplecross_desktop.app import build_context, build_window, shutdown
from purplecross_desktop.domain.clients import ClientData
from purplecross_desktop.domain.roles import StaffRole
from purplecross_desktop.settings import load_settings
from purplecross_desktop.ui.context import AppContext
from purplecross_desktop.ui.main_window import MainWindow
from purplecross_desktop.ui.pages.settings_page import SettingsPage
from purplecross_desktop.ui.pages.staff_page import StaffPage
from tests.purplecross_desktop.ui.keyboard import activate, focused, press, tab, type_text
from tests.support.staff import PASSWORD, sign_in

pytestmark = [pytest.mark.gui, pytest.mark.qt_log_ignore("propagateSizeHints")]

ADMIN_PAGES = {"queues", "staff", "settings"}


@pytest.fixture
def context(database_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[AppContext]:
    if not database_url.startswith("sqlite"):
        from purplecross_desktop.database.session import upgrade

        upgrade(database_url)  # a clinic server is upgraded once, deliberately
    monkeypatch.setenv("PURPLECROSS_DATABASE_URL", database_url)
    ctx = build_context(load_settings(), start_jobs=False)
    yield ctx
    shutdown(ctx)


def _window(qtbot: QtBot, context: AppContext) -> MainWindow:
    window = build_window(context)
    qtbot.addWidget(window)
    activate(qtbot, window)
    return window


def _visible_pages(window: MainWindow) -> set[str]:
    nav = window.navigation
    return {
        nav.item(row).data(Qt.ItemDataRole.UserRole)
        for row in range(nav.count())
        if not nav.isRowHidden(row)
    }


def test_the_first_start_asks_for_the_admin_account(qtbot: QtBot, context: AppContext) -> None:
    window = _window(qtbot, context)
    screen = window.sign_in_screen
    assert window.is_covered()
    qtbot.waitUntil(lambda: screen.panel() == "first_run", timeout=10000)
    assert focused() is screen.first_fields["name"].editor()
    type_text(qtbot, "Jo Owner")
    tab(qtbot)
    type_text(qtbot, "jo owner")  # a space is not allowed in a login
    tab(qtbot)
    type_text(qtbot, "jo@example.org")
    tab(qtbot)
    type_text(qtbot, "long enough")
    tab(qtbot)
    type_text(qtbot, "long enougH")
    press(qtbot, Qt.Key.Key_Return)
    assert screen.first_fields["repeat"].error() == "must be the same as the password"
    assert focused() is screen.first_fields["repeat"].editor()
    focused().clear()  # type: ignore[attr-defined]
    type_text(qtbot, "long enough")
    press(qtbot, Qt.Key.Key_Return)
    login = screen.first_fields["login"]
    qtbot.waitUntil(lambda: bool(login.error()), timeout=10000)
    assert login.error().startswith("must be 2-40 characters")
    assert focused() is login.editor()
    assert window.is_covered()
    focused().clear()  # type: ignore[attr-defined]
    type_text(qtbot, "jo")
    press(qtbot, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: not window.is_covered(), timeout=10000)
    signed = window.signed_in()
    assert signed is not None
    assert (signed.login, signed.role) == ("jo", StaffRole.ADMIN)
    assert window.user_label.text() == "Jo Owner"
    assert _visible_pages(window) >= ADMIN_PAGES


def test_roles_see_only_their_pages_and_the_services_refuse_the_rest(
    qtbot: QtBot, context: AppContext
) -> None:
    desk = sign_in(context, StaffRole.FRONT_DESK)
    window = _window(qtbot, context)
    assert not window.is_covered()
    assert not (_visible_pages(window) & ADMIN_PAGES)
    assert "today" in _visible_pages(window)
    for key in ADMIN_PAGES:
        with pytest.raises(KeyError):
            window.show_page(key)
    # the page hidden is not the only guard: the services refuse the desk's admin actions
    settings = SettingsPage(context)
    qtbot.addWidget(settings)
    settings.inputs["clinic_name"].setText("Taken over")  # type: ignore[union-attr]
    settings.save()
    qtbot.waitUntil(lambda: settings.message.text().startswith("Not saved."), timeout=10000)
    assert "only admin staff may manage settings" in settings.message.text()
    assert load_settings().clinic_name != "Taken over"
    staff = StaffPage(context)
    qtbot.addWidget(staff)
    staff.create_new()
    dialog = staff.findChild(QDialog)
    assert dialog is not None
    dialog.name_edit.setText("Mallory")  # type: ignore[attr-defined]
    dialog.login_edit.setText("mallory")  # type: ignore[attr-defined]
    dialog.role_combo.setCurrentIndex(3)  # type: ignore[attr-defined]
    dialog.password_edit.setText("long enough")  # type: ignore[attr-defined]
    dialog.repeat_edit.setText("long enough")  # type: ignore[attr-defined]
    dialog.save()  # type: ignore[attr-defined]
    qtbot.waitUntil(lambda: dialog.message.isVisible(), timeout=10000)  # type: ignore[attr-defined]
    assert "only admin staff may manage staff" in dialog.message.get_message()  # type: ignore[attr-defined]
    services = context.services
    assert services is not None
    assert services.staff.authenticate("mallory", "long enough") is None
    # and what the desk may do is recorded under the desk's name
    client = services.clients.create(ClientData(name="Ada Lovelace"))
    entry = services.audit.search(entity="client", entity_id=client.id).items[0]
    assert entry.staff_id == desk.staff_id


def test_lock_unlock_and_switch_user_keep_the_app_open(qtbot: QtBot, context: AppContext) -> None:
    sign_in(context, StaffRole.FRONT_DESK)
    window = _window(qtbot, context)
    dialog = QDialog(window)
    dialog.setWindowTitle("Unsaved form")
    dialog.show()
    focused_before = window.current_page()
    assert focused_before is not None
    window.setFocus()
    press(qtbot, Qt.Key.Key_L, Qt.KeyboardModifier.ControlModifier)
    screen = window.sign_in_screen
    assert window.is_covered()
    assert screen.panel() == "locked"
    assert not dialog.isVisible()  # nothing of the desk's work shows on a locked screen
    qtbot.waitUntil(lambda: QApplication.focusWidget() is screen.unlock_edit, timeout=5000)
    # the card fits the locked panel (it was stretched to the first-run form's height)
    assert screen.panels.height() <= screen.locked_panel.sizeHint().height() + 8
    assert screen.unlock_edit.y() - screen.locked_title.geometry().bottom() < 60
    type_text(qtbot, "wrong password")
    press(qtbot, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: screen.message.isVisible(), timeout=10000)
    assert "not right" in screen.message.get_message()
    assert window.is_covered()
    type_text(qtbot, PASSWORD)
    press(qtbot, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: not window.is_covered(), timeout=10000)
    assert dialog.isVisible()  # unlocked by the same person: the form is back

    window.idle.sig_idle.emit()  # idle for the configured time
    assert window.is_covered()
    assert screen.panel() == "locked"
    screen.switch_button.click()
    assert screen.panel() == "sign_in"
    assert window.signed_in() is None
    qtbot.waitUntil(lambda: QApplication.focusWidget() is screen.login_edit, timeout=5000)
    type_text(qtbot, "admin")
    tab(qtbot)
    type_text(qtbot, PASSWORD)
    press(qtbot, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: not window.is_covered(), timeout=10000)
    signed = window.signed_in()
    assert signed is not None
    assert signed.role == StaffRole.ADMIN
    assert not dialog.isVisible()  # someone else's unsaved form was closed
    assert dialog.result() == QDialog.DialogCode.Rejected
    assert _visible_pages(window) >= ADMIN_PAGES
    assert QApplication.activeWindow() is window


def test_five_wrong_passwords_pause_the_form(qtbot: QtBot, context: AppContext) -> None:
    sign_in(context, StaffRole.FRONT_DESK)
    context.staff_session.sign_out()
    window = _window(qtbot, context)
    screen = window.sign_in_screen
    qtbot.waitUntil(lambda: screen.panel() == "sign_in", timeout=10000)
    for attempt in range(5):
        screen.login_edit.setText("front-desk")
        screen.password_edit.setText(f"guess {attempt}")
        screen.sign_in_button.click()
        qtbot.waitUntil(lambda: not screen.sign_in_button.is_loading(), timeout=10000)
    assert not screen.sign_in_button.isEnabled()
    assert "Try again in 30 seconds" in screen.message.get_message()
    screen.password_edit.setText(PASSWORD)
    screen.sign_in_button.click()  # ignored while paused
    assert window.is_covered()


def test_admins_add_staff_by_keyboard(qtbot: QtBot, context: AppContext) -> None:
    sign_in(context)
    window = _window(qtbot, context)
    page = window.show_page("staff")
    assert isinstance(page, StaffPage)
    qtbot.waitUntil(lambda: page.grid.row_count() == 1, timeout=10000)
    page.create_new()
    dialog = page.findChild(QDialog)
    assert dialog is not None
    qtbot.waitUntil(lambda: focused() is dialog.name_edit, timeout=5000)  # type: ignore[attr-defined]
    type_text(qtbot, "Pat Manager")
    tab(qtbot)
    type_text(qtbot, "pat")
    tab(qtbot)
    press(qtbot, Qt.Key.Key_End)  # the last role in the list: admin
    press(qtbot, Qt.Key.Key_Up)  # practice manager
    tab(qtbot)
    type_text(qtbot, "pat@example.org")
    tab(qtbot, 2)  # past "Can sign in"
    type_text(qtbot, "long enough")
    tab(qtbot)
    type_text(qtbot, "long enough")
    press(qtbot, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: page.grid.row_count() == 2, timeout=10000)
    services = context.services
    assert services is not None
    pat = services.staff.authenticate("pat", "long enough")
    assert pat is not None
    assert pat.role == StaffRole.PRACTICE_MANAGER
