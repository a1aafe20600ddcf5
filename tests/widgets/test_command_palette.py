"""CommandPalette: local filtering, owner results, keyboard (arrows, Enter, Escape)."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from widgets.command_palette import CommandPalette, PaletteItem, matches

pytestmark = [pytest.mark.gui, pytest.mark.qt_log_ignore("propagateSizeHints")]

COMMANDS = (
    PaletteItem("page:today", "Today", "screen", "Go to", "Ctrl+1"),
    PaletteItem("page:calendar", "Calendar", "screen", "Go to"),
    PaletteItem("action:new_client", "New client", "register an owner", "Actions"),
)


@pytest.fixture
def palette(qtbot: QtBot) -> CommandPalette:
    widget = CommandPalette(COMMANDS)
    qtbot.addWidget(widget)
    widget.show()
    qtbot.waitExposed(widget)
    return widget


def test_matching_ignores_case_accents_and_word_order() -> None:
    item = PaletteItem("client:1", "Zoë Ärger", "07700 900123", "Clients")
    assert matches(item, "zoe")
    assert matches(item, "arger ZOE")
    assert matches(item, "900")
    assert not matches(item, "zoe smith")


def test_commands_are_listed_under_their_group_and_filtered_as_you_type(
    palette: CommandPalette,
) -> None:
    assert [i.key for i in palette.visible_items()] == [c.key for c in COMMANDS]
    assert palette.list.item(0).text() == "GO TO"  # a heading, not choosable
    assert not palette.list.item(0).flags() & Qt.ItemFlag.ItemIsSelectable
    assert palette.current_item() == COMMANDS[0]
    palette.search.setText("new")
    assert [i.key for i in palette.visible_items()] == ["action:new_client"]
    palette.search.setText("zzz")
    assert palette.visible_items() == []
    assert palette.status.text() == "Nothing matches yet."


def test_results_arrive_for_the_text_they_were_asked_for_only(
    qtbot: QtBot, palette: CommandPalette
) -> None:
    with qtbot.waitSignal(palette.sig_query_changed, timeout=2000) as asked:
        palette.search.setText("ada")
    assert asked.args == ["ada"]
    ada = PaletteItem("client:1", "Ada Lovelace", "", "Clients")
    palette.set_results("ad", [ada])  # an older answer: ignored
    assert palette.visible_items() == []
    palette.set_results("ada", [ada])
    assert palette.visible_items() == [ada]
    assert palette.current_item() == ada  # results come first
    palette.search.setText("")
    assert ada not in palette.visible_items()


def test_arrows_move_past_headings_enter_chooses_escape_closes(
    qtbot: QtBot, palette: CommandPalette
) -> None:
    palette.search.setFocus()
    qtbot.keyClick(palette.search, Qt.Key.Key_Down)
    assert palette.current_item() == COMMANDS[1]
    qtbot.keyClick(palette.search, Qt.Key.Key_Down)  # skips the "Actions" heading
    assert palette.current_item() == COMMANDS[2]
    qtbot.keyClick(palette.search, Qt.Key.Key_Down)  # wraps round
    assert palette.current_item() == COMMANDS[0]
    qtbot.keyClick(palette.search, Qt.Key.Key_Up)
    assert palette.current_item() == COMMANDS[2]
    with qtbot.waitSignal(palette.sig_item_chosen, timeout=2000) as chosen:
        qtbot.keyClick(palette.search, Qt.Key.Key_Return)
    assert chosen.args == [COMMANDS[2]]
    assert not palette.isVisible()
    palette.show()
    qtbot.keyClick(palette.search, Qt.Key.Key_Escape)
    assert not palette.isVisible()


def test_every_control_has_an_accessible_name(palette: CommandPalette) -> None:
    assert palette.search.accessibleName()
    assert palette.list.accessibleName()
