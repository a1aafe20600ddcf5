"""Card: title, subtitle, actions, body, padding and composition."""

from __future__ import annotations

import pytest
from PySide6.QtGui import QAccessible
from PySide6.QtWidgets import QLabel, QTableWidget
from pytestqt.qtbot import QtBot

from widgets.button import Button
from widgets.card import Card

# The offscreen platform warns when a top-level window gets size constraints.
pytestmark = [pytest.mark.gui, pytest.mark.qt_log_ignore("propagateSizeHints")]


def test_header_hidden_without_title_subtitle_or_actions(qtbot: QtBot) -> None:
    card = Card(body=QLabel("Body"))
    qtbot.addWidget(card)
    assert card._header.isHidden()
    card.set_title("Patient")
    assert not card._header.isHidden()
    assert card.accessibleName() == "Patient"


def test_title_subtitle_and_actions(qtbot: QtBot) -> None:
    edit = Button("Edit", variant="secondary")
    card = Card("Bella", "Labrador, 4 years", actions=[edit], body=QLabel("Healthy"))
    qtbot.addWidget(card)
    assert card.property("title") == "Bella"
    assert card.property("subtitle") == "Labrador, 4 years"
    assert card.actions_count() == 1
    assert edit.parent() is not None
    assert card.accessibleDescription() == "Labrador, 4 years"
    assert QAccessible.queryAccessibleInterface(card).role() == QAccessible.Role.Grouping


def test_no_padding_lets_a_table_touch_the_border(qtbot: QtBot) -> None:
    table = QTableWidget(3, 2)
    card = Card(body=table, padded=False)
    qtbot.addWidget(card)
    margins = card._body_layout.contentsMargins()
    assert (margins.left(), margins.top(), margins.right(), margins.bottom()) == (0, 0, 0, 0)
    card.set_padded(True)
    assert card._body_layout.contentsMargins().left() > 0


def test_set_body_replaces_the_previous_one(qtbot: QtBot) -> None:
    first, second = QLabel("one"), QLabel("two")
    card = Card(body=first)
    qtbot.addWidget(card)
    card.set_body(second)
    assert card.body() is second
    assert card._body_layout.indexOf(first) == -1
