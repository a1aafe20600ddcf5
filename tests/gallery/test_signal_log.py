"""Signal spy and log: every signal of the story's widgets, with arguments."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from gallery.signal_log import SignalLog, SignalSpy, signal_signatures
from widgets.alert import Alert
from widgets.button import Button
from widgets.card import Card

pytestmark = [pytest.mark.gui, pytest.mark.qt_log_ignore("propagateSizeHints")]


def test_signals_are_discovered_through_the_meta_object(qtbot: QtBot) -> None:
    alert = Alert("x")
    button = Button("x")
    qtbot.addWidget(alert)
    qtbot.addWidget(button)
    assert "sig_closed()" in signal_signatures(alert)
    assert "clicked(bool)" in signal_signatures(button)
    assert "clicked()" not in signal_signatures(button)  # the richest overload only
    assert not any(s.startswith("destroyed") for s in signal_signatures(button))


def test_spy_logs_signals_of_the_root_and_kit_descendants(qtbot: QtBot) -> None:
    save = Button("Save")
    card = Card("Title", actions=[save])
    qtbot.addWidget(card)
    card.show()
    spy, log = SignalSpy(), SignalLog()
    qtbot.addWidget(log)
    spy.sig_emitted.connect(log.add)
    assert spy.watch(card) > 0
    qtbot.mouseClick(save, Qt.MouseButton.LeftButton)
    names = [(source, signature) for source, signature, _ in log.entries()]
    assert ("Button 'Save'", "pressed()") in names
    assert ("Button 'Save'", "clicked(bool)") in names
    clicked = next(args for _, sig, args in log.entries() if sig == "clicked(bool)")
    assert clicked == [False]
    assert "clicked(False)" in log._text.toPlainText()


def test_closing_an_alert_logs_sig_closed_once_and_clear_disconnects(qtbot: QtBot) -> None:
    alert = Alert("Saved", closable=True)
    qtbot.addWidget(alert)
    alert.show()
    spy, log = SignalSpy(), SignalLog()
    qtbot.addWidget(log)
    spy.sig_emitted.connect(log.add)
    spy.watch(alert)
    qtbot.mouseClick(alert._close, Qt.MouseButton.LeftButton)
    alert.dismiss()
    closed = [e for e in log.entries() if e[1] == "sig_closed()"]
    assert len(closed) == 1
    spy.clear()
    log.clear()
    alert.set_title("changed")
    alert.windowTitleChanged.emit("x")
    assert log.entries() == []


# Defects of the review (issue 20) -----------------------------------------------------
MODEL_INTERNALS = (
    "modelReset",
    "dataChanged",
    "layoutChanged",
    "rowsInserted",
    "modelAboutToBeReset",
)


def test_the_grid_models_internals_are_not_logged_and_indexes_read_as_rows(
    qtbot: QtBot,
) -> None:
    """The log showed the grid model's ``modelReset``/``dataChanged`` and raw
    ``<PySide6.QtCore.QModelIndex ...>`` reprs."""
    from gallery.stories.datagrid import COMPONENT
    from widgets.datagrid.table import GridTable

    grid = COMPONENT.story("PatientList").render(COMPONENT.story("PatientList").default_args())
    qtbot.addWidget(grid)
    grid.show()
    spy, log = SignalSpy(), SignalLog()
    qtbot.addWidget(log)
    spy.sig_emitted.connect(log.add)
    spy.watch(grid)
    table = grid.findChild(GridTable)
    assert table is not None
    qtbot.waitUntil(lambda: table.model().rowCount() > 0)
    grid.set_filter("a")  # the model resets and refills
    qtbot.waitUntil(lambda: table.model().rowCount() > 0)
    index = table.model().index(2, 0)
    table.clicked.emit(index)
    names = {signature.split("(", 1)[0] for _, signature, _ in log.entries()}
    assert not names & {*MODEL_INTERNALS, "geometriesChanged"}, names
    text = log._text.toPlainText()
    assert "QModelIndex" not in text
    assert "clicked(row 2, column 0)" in text


def test_a_label_is_read_when_the_signal_comes_not_when_watching_starts(qtbot: QtBot) -> None:
    button = Button("Save")
    qtbot.addWidget(button)
    button.show()
    spy, log = SignalSpy(), SignalLog()
    qtbot.addWidget(log)
    spy.sig_emitted.connect(log.add)
    spy.watch(button)
    button.setText("Saved")
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)
    assert ("Button 'Saved'", "clicked(bool)") in [(s, sig) for s, sig, _ in log.entries()]
