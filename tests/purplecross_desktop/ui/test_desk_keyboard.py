"""The desk's keys on the real window: Ctrl+K palette, Ctrl+F, Ctrl+N, F5, F1, Escape;
every form field has an accessible name; the empty clinic's banner adds a client."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QDialog, QWidget
from pytestqt.qtbot import QtBot

from purplecross_desktop.app import build_context, build_window, shutdown
from purplecross_desktop.database.base import ClientId
from purplecross_desktop.domain.clients import Phone
from purplecross_desktop.settings import load_settings
from purplecross_desktop.ui.dialogs.client_form import ClientFormDialog
from purplecross_desktop.ui.dialogs.patient_form import PatientFormDialog
from purplecross_desktop.ui.dialogs.shortcuts import ShortcutsDialog
from purplecross_desktop.ui.main_window import MainWindow
from purplecross_desktop.ui.pages.clients_page import ClientsPage
from purplecross_desktop.ui.pages.today_page import TodayPage
from purplecross_desktop.ui.records.client_record import ClientRecordDialog
from purplecross_desktop.ui.records.patient_record import PatientRecordDialog
from tests.purplecross_desktop.ui.desk_support import SeededDesk, seed_desk
from tests.purplecross_desktop.ui.keyboard import activate, focused, press, type_text
from widgets.command_palette import CommandPalette

pytestmark = [pytest.mark.gui, pytest.mark.qt_log_ignore("propagateSizeHints")]


@pytest.fixture
def desk(sqlite_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[SeededDesk]:
    seeded = seed_desk(sqlite_url, monkeypatch)
    services = seeded.context.services
    assert services is not None
    services.clients.update(ClientId(seeded.client_id), {"phones": (Phone("07700 900123"),)})
    yield seeded
    seeded.close()


@pytest.fixture
def window(qtbot: QtBot, desk: SeededDesk) -> MainWindow:
    win = build_window(desk.context)
    qtbot.addWidget(win)
    activate(qtbot, win)
    return win


def _dialogs(kind: type[QDialog]) -> list[QDialog]:
    return [w for w in QApplication.topLevelWidgets() if isinstance(w, kind) and w.isVisible()]


def _wait_dialog(qtbot: QtBot, kind: type[QDialog]) -> QDialog:
    qtbot.waitUntil(lambda: bool(_dialogs(kind)), timeout=10000)
    return _dialogs(kind)[0]


def test_ctrl_k_finds_a_client_by_part_of_the_phone_and_opens_the_record(
    qtbot: QtBot, window: MainWindow, desk: SeededDesk
) -> None:
    press(qtbot, Qt.Key.Key_K, Qt.KeyboardModifier.ControlModifier)
    palette = _wait_dialog(qtbot, CommandPalette)
    assert isinstance(palette, CommandPalette)
    qtbot.waitUntil(lambda: focused() is palette.search, timeout=5000)
    type_text(qtbot, "900 12")
    qtbot.waitUntil(
        lambda: any(i.key == f"client:{desk.client_id}" for i in palette.visible_items()),
        timeout=10000,
    )
    assert palette.current_item() is not None
    assert palette.current_item().title == "Ada Lovelace"  # type: ignore[union-attr]
    press(qtbot, Qt.Key.Key_Return)
    record = _wait_dialog(qtbot, ClientRecordDialog)
    assert isinstance(record, ClientRecordDialog)
    assert record.client_id == desk.client_id
    qtbot.waitUntil(lambda: record.record is not None, timeout=10000)
    record.reject()


def test_palette_jumps_to_a_screen_and_finds_patients(
    qtbot: QtBot, window: MainWindow, desk: SeededDesk
) -> None:
    palette = window.open_palette()
    qtbot.waitUntil(lambda: focused() is palette.search, timeout=5000)
    type_text(qtbot, "calend")
    assert palette.visible_items()[0].key == "page:calendar"
    with qtbot.waitSignal(window.sig_page_changed, timeout=5000) as shown:
        press(qtbot, Qt.Key.Key_Return)
    assert shown.args == ["calendar"]
    palette = window.open_palette()
    qtbot.waitUntil(lambda: focused() is palette.search, timeout=5000)
    type_text(qtbot, "rex")
    qtbot.waitUntil(
        lambda: any(i.key.startswith("patient:") for i in palette.visible_items()), timeout=10000
    )
    item = palette.current_item()
    assert item is not None
    assert item.group == "Patients"
    assert "owner Ada Lovelace" in item.detail
    press(qtbot, Qt.Key.Key_Down)  # arrows move the highlight, the typing stays put
    assert focused() is palette.search
    press(qtbot, Qt.Key.Key_Up)
    press(qtbot, Qt.Key.Key_Return)
    record = _wait_dialog(qtbot, PatientRecordDialog)
    record.reject()
    palette = window.open_palette()
    qtbot.waitUntil(lambda: focused() is palette.search, timeout=5000)
    press(qtbot, Qt.Key.Key_Escape)  # Escape closes without doing anything
    qtbot.waitUntil(lambda: not palette.isVisible(), timeout=5000)


def test_palette_runs_new_client(qtbot: QtBot, window: MainWindow) -> None:
    palette = window.open_palette()
    qtbot.waitUntil(lambda: focused() is palette.search, timeout=5000)
    type_text(qtbot, "new client")
    assert palette.current_item().key == "action:new_client"  # type: ignore[union-attr]
    press(qtbot, Qt.Key.Key_Return)
    form = _wait_dialog(qtbot, ClientFormDialog)
    assert isinstance(window.current_page(), ClientsPage)
    form.reject()


def test_ctrl_f_ctrl_n_and_f5_act_on_the_page_shown(qtbot: QtBot, window: MainWindow) -> None:
    page = window.show_page("clients")
    assert isinstance(page, ClientsPage)
    qtbot.waitUntil(lambda: page.grid.row_count() == 2, timeout=10000)
    page.grid.table_view().setFocus()
    press(qtbot, Qt.Key.Key_F, Qt.KeyboardModifier.ControlModifier)
    assert focused() is page.search_box()
    type_text(qtbot, "bob")
    qtbot.waitUntil(lambda: page.grid.row_count() == 1, timeout=10000)
    press(qtbot, Qt.Key.Key_N, Qt.KeyboardModifier.ControlModifier)
    form = _wait_dialog(qtbot, ClientFormDialog)
    activate(qtbot, form)
    press(qtbot, Qt.Key.Key_Escape)
    qtbot.waitUntil(lambda: not form.isVisible(), timeout=5000)
    services = window.context.services
    assert services is not None
    from purplecross_desktop.domain.clients import ClientData

    services.clients.create(ClientData(name="Bobby Tables"))
    activate(qtbot, window)
    page.grid.table_view().setFocus()
    press(qtbot, Qt.Key.Key_F5)
    qtbot.waitUntil(lambda: page.grid.row_count() == 2, timeout=10000)  # Bob and Bobby

    patients = window.show_page("patients")
    patients.setFocus()
    press(qtbot, Qt.Key.Key_N, Qt.KeyboardModifier.ControlModifier)
    form = _wait_dialog(qtbot, PatientFormDialog)
    form.reject()


def test_f5_reloads_today_and_ctrl_f_there_opens_the_palette(
    qtbot: QtBot, window: MainWindow, desk: SeededDesk, monkeypatch: pytest.MonkeyPatch
) -> None:
    today = window.show_page("today")
    assert isinstance(today, TodayPage)
    loads: list[int] = []
    today.sig_board_loaded.connect(lambda *_: loads.append(1))
    today.table.setFocus()
    with qtbot.waitSignal(today.sig_board_loaded, timeout=10000):
        press(qtbot, Qt.Key.Key_F5)
    assert loads
    press(qtbot, Qt.Key.Key_F, Qt.KeyboardModifier.ControlModifier)
    palette = _wait_dialog(qtbot, CommandPalette)
    palette.reject()


def test_f1_lists_the_shortcuts_and_escape_closes_it(qtbot: QtBot, window: MainWindow) -> None:
    window.navigation.setFocus()
    press(qtbot, Qt.Key.Key_F1)
    dialog = _wait_dialog(qtbot, ShortcutsDialog)
    assert isinstance(dialog, ShortcutsDialog)
    keys = {dialog.table.item(r, 1).text() for r in range(dialog.table.rowCount())}  # type: ignore[union-attr]
    assert {"Ctrl+K", "Ctrl+F", "Ctrl+N", "F5", "Escape", "Enter"} <= keys
    activate(qtbot, dialog)
    press(qtbot, Qt.Key.Key_Escape)
    qtbot.waitUntil(lambda: not dialog.isVisible(), timeout=5000)


def test_the_keys_do_nothing_while_the_screen_is_locked(qtbot: QtBot, window: MainWindow) -> None:
    window.lock()
    assert window.open_palette() is None
    assert window.show_shortcuts() is None


def _editors(dialog: QWidget) -> list[QWidget]:
    return [f.editor() for f in dialog.fields.values()]  # type: ignore[attr-defined]


def test_every_form_field_has_an_accessible_name_and_tab_visits_them_in_order(
    qtbot: QtBot, desk: SeededDesk
) -> None:
    for dialog in (ClientFormDialog(desk.context), PatientFormDialog(desk.context)):
        qtbot.addWidget(dialog)
        for editor in _editors(dialog):
            assert editor.accessibleName(), f"{type(dialog).__name__}: {editor!r} has no name"
        activate(qtbot, dialog)
        visited = [focused()]
        for _ in range(len(_editors(dialog)) + 3):
            press(qtbot, Qt.Key.Key_Tab)
            visited.append(focused())
        editors = _editors(dialog)
        order = [w for w in visited if w in editors]
        assert order[: len(editors)] == editors  # every input, in reading order
        assert dialog.save_button in visited  # Tab reaches the buttons: never trapped
        dialog.reject()


def test_the_empty_clinic_banner_adds_the_first_client(
    qtbot: QtBot, tmp_path: object, monkeypatch: pytest.MonkeyPatch
) -> None:
    context = build_context(load_settings(), start_jobs=False)
    from tests.support.staff import sign_in

    sign_in(context)
    try:
        page = TodayPage(context)
        qtbot.addWidget(page)
        page.show()
        page.activate()
        qtbot.waitUntil(lambda: page.welcome.isVisible(), timeout=10000)
        assert page.welcome.add_client_button.isVisible()
        form = page.welcome.add_client()
        form.name.setText("First Owner")
        with qtbot.waitSignal(page.welcome.sig_client_added, timeout=10000):
            form.save()
        assert not page.welcome.isVisible()
        record = _wait_dialog(qtbot, ClientRecordDialog)
        qtbot.waitUntil(lambda: record.record is not None, timeout=10000)  # type: ignore[attr-defined]
        assert record.record.name == "First Owner"  # type: ignore[attr-defined]
        assert record.pet_button.isEnabled()  # type: ignore[attr-defined]
        record.reject()
    finally:
        shutdown(context)


def test_palette_commands_follow_the_role(
    qtbot: QtBot, window: MainWindow, desk: SeededDesk
) -> None:
    from purplecross_desktop.domain.roles import StaffRole
    from purplecross_desktop.ui.palette import PaletteController
    from tests.support.staff import sign_in

    admin_keys = {c.key for c in PaletteController(window).commands()}
    assert "page:staff" in admin_keys
    sign_in(desk.context, StaffRole.FRONT_DESK)
    desk_keys = {c.key for c in PaletteController(window).commands()}
    assert "page:staff" not in desk_keys
    assert "page:clients" in desk_keys
