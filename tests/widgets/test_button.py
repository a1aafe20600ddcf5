"""Button: variants, sizes, loading keeps width and swallows clicks, disabled, focus, a11y."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QAccessible
from PySide6.QtWidgets import QSizePolicy
from pytestqt.qtbot import QtBot

from widgets.button import SIZES, VARIANTS, Button

# The offscreen platform warns when a top-level window gets size constraints.
pytestmark = [pytest.mark.gui, pytest.mark.qt_log_ignore("propagateSizeHints")]


@pytest.mark.parametrize("variant", VARIANTS)
@pytest.mark.parametrize("size", SIZES)
def test_every_variant_and_size_is_a_qt_property(qtbot: QtBot, variant: str, size: str) -> None:
    button = Button("Save", variant=variant, button_size=size)
    qtbot.addWidget(button)
    assert button.property("variant") == variant
    assert button.property("button_size") == size
    assert button.get_variant() == variant


def test_sizes_grow(qtbot: QtBot) -> None:
    heights = []
    for size in SIZES:
        button = Button("Save", button_size=size)
        qtbot.addWidget(button)
        button.ensurePolished()
        heights.append(button.sizeHint().height())
    assert heights == sorted(heights)
    assert len(set(heights)) == 3


def test_clicking_a_normal_button_emits_clicked(qtbot: QtBot) -> None:
    button = Button("Save")
    qtbot.addWidget(button)
    button.show()
    with qtbot.waitSignal(button.clicked, timeout=1000):
        qtbot.mouseClick(button, Qt.MouseButton.LeftButton)


@pytest.mark.parametrize("how", ["mouse", "space", "enter"])
def test_a_loading_button_emits_nothing(qtbot: QtBot, how: str) -> None:
    button = Button("Save", loading=True)
    qtbot.addWidget(button)
    button.show()
    button.setFocus()
    with qtbot.assertNotEmitted(button.clicked), qtbot.assertNotEmitted(button.pressed):
        if how == "mouse":
            qtbot.mouseClick(button, Qt.MouseButton.LeftButton)
        elif how == "space":
            qtbot.keyClick(button, Qt.Key.Key_Space)
        else:
            qtbot.keyClick(button, Qt.Key.Key_Return)
    assert button.accessibleDescription() == "Loading…"


def test_a_disabled_button_emits_nothing(qtbot: QtBot) -> None:
    button = Button("Save")
    button.setEnabled(False)
    qtbot.addWidget(button)
    button.show()
    with qtbot.assertNotEmitted(button.clicked):
        qtbot.mouseClick(button, Qt.MouseButton.LeftButton)
    assert button.focusPolicy() != Qt.FocusPolicy.NoFocus
    assert not button.isEnabled()


def test_loading_keeps_the_width_and_clicks_work_again_after(qtbot: QtBot) -> None:
    button = Button("Save the invoice")
    qtbot.addWidget(button)
    button.show()
    width = button.sizeHint().width()
    button.set_loading(True)
    assert button.sizeHint().width() == width
    button.set_loading(False)
    with qtbot.waitSignal(button.clicked, timeout=1000):
        qtbot.mouseClick(button, Qt.MouseButton.LeftButton)


def test_the_spinner_only_runs_while_loading_and_visible(qtbot: QtBot) -> None:
    button = Button("Save", loading=True)
    qtbot.addWidget(button)
    assert not button._spinner.isActive()
    button.show()
    assert button._spinner.isActive()
    button.set_loading(False)
    assert not button._spinner.isActive()


def test_keyboard_activates_and_focus_is_reachable(qtbot: QtBot) -> None:
    button = Button("Save")
    qtbot.addWidget(button)
    assert button.focusPolicy() == Qt.FocusPolicy.StrongFocus
    button.show()
    button.setFocus()
    with qtbot.waitSignal(button.clicked, timeout=1000):
        qtbot.keyClick(button, Qt.Key.Key_Space)
    with qtbot.waitSignal(button.clicked, timeout=1000):
        qtbot.keyClick(button, Qt.Key.Key_Return)


def test_full_width_expands(qtbot: QtBot) -> None:
    button = Button("Save", full_width=True)
    qtbot.addWidget(button)
    assert button.sizePolicy().horizontalPolicy() == QSizePolicy.Policy.Expanding
    button.set_full_width(False)
    assert button.sizePolicy().horizontalPolicy() == QSizePolicy.Policy.Fixed


def test_icon_left_or_right(qtbot: QtBot) -> None:
    button = Button("Next", icon="arrow_right", icon_position="right")
    qtbot.addWidget(button)
    assert not button.icon().isNull()
    assert button.layoutDirection() == Qt.LayoutDirection.RightToLeft
    button.set_icon_name("")
    assert button.icon().isNull()


def test_accessible_name_and_role(qtbot: QtBot) -> None:
    button = Button("Save")
    icon_only = Button(icon="trash", accessible_name="Delete patient")
    qtbot.addWidget(button)
    qtbot.addWidget(icon_only)
    assert QAccessible.queryAccessibleInterface(button).text(QAccessible.Text.Name) == "Save"
    button.setText("Save invoice")
    assert (
        QAccessible.queryAccessibleInterface(button).text(QAccessible.Text.Name) == "Save invoice"
    )
    interface = QAccessible.queryAccessibleInterface(icon_only)
    assert interface.role() == QAccessible.Role.Button
    assert interface.text(QAccessible.Text.Name) == "Delete patient"


@pytest.mark.parametrize(
    ("field", "kwargs"),
    [
        ("variant", {"variant": "ghost"}),
        ("button_size", {"button_size": "huge"}),
        ("icon", {"icon": "rocket"}),
        ("icon_position", {"icon_position": "top"}),
    ],
)
def test_bad_arguments_name_the_field(qtbot: QtBot, field: str, kwargs: dict[str, str]) -> None:
    with pytest.raises(ValueError, match=f"^{field}: must be one of"):
        Button("Save", **kwargs)  # type: ignore[arg-type]


def test_bad_setter_changes_nothing(qtbot: QtBot) -> None:
    button = Button("Save", variant="danger")
    qtbot.addWidget(button)
    with pytest.raises(ValueError, match="variant"):
        button.set_variant("ghost")
    assert button.get_variant() == "danger"


def test_icon_gap_follows_the_label(qtbot: QtBot) -> None:
    button = Button(icon="plus", accessible_name="Add")
    qtbot.addWidget(button)
    assert button.iconSize().width() == button.iconSize().height()  # icon-only: centred
    button.setText("Add patient")
    assert button.iconSize().width() > button.iconSize().height()
