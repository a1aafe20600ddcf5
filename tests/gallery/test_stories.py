"""Every story: renders under qtbot, has controls and a runnable snippet, is accessible."""

from __future__ import annotations

import ast
from collections.abc import Iterator

import pytest
from PySide6.QtGui import QAccessible, QPalette
from PySide6.QtWidgets import (
    QAbstractButton,
    QApplication,
    QLabel,
    QLineEdit,
    QTableWidget,
    QWidget,
)
from pytestqt.qtbot import QtBot

from gallery.render import Stage
from gallery.story import Component, Story
from tests.gallery.conftest import ALL_STORIES, COMPONENTS
from widgets.alert import Alert
from widgets.button import Button
from widgets.card import Card
from widgets.status_chip import StatusChip
from widgets.theme import apply_theme, current_colors
from widgets.tokens import THEME_NAMES, contrast_ratio

pytestmark = [pytest.mark.gui, pytest.mark.qt_log_ignore("propagateSizeHints")]

REQUIRED = {
    "Button": ["Primary", "Secondary", "Danger", "Success", "Small", "Medium", "Large",
               "Loading", "Disabled", "FullWidth", "WithIcon"],
    "Card": ["Basic", "WithTitle", "WithTitleAndSubtitle", "WithActions", "NoPadding",
             "ComplexCard"],
    "Alert": ["Info", "Success", "Warning", "Error", "WithCloseButton", "LongMessage",
              "WithList", "SuccessfulAppointment", "PaymentWarning", "SystemError"],
}  # fmt: skip


def test_the_required_stories_exist() -> None:
    found = {c.name: [s.name for s in c.stories] for c in COMPONENTS}
    for component, names in REQUIRED.items():
        assert found[component][: len(names)] == names
    assert sum(len(c.stories) for c in COMPONENTS) >= 27


def _shown(qtbot: QtBot, story: Story) -> Stage:
    stage = Stage()
    qtbot.addWidget(stage)
    stage.set_content(story.render(story.default_args()))
    stage.resize(story.width + 48, 600)
    stage.show()
    qtbot.waitExposed(stage)
    return stage


@pytest.mark.parametrize(("component", "story"), ALL_STORIES)
def test_every_story_renders(qtbot: QtBot, component: Component, story: Story) -> None:
    stage = _shown(qtbot, story)
    widget = stage.content()
    assert widget is not None
    # The widget itself, or a stand-in host holding it (an overlay needs a table under it).
    shown = widget if isinstance(widget, component.widget) else widget.findChild(component.widget)
    assert isinstance(shown, component.widget)
    assert shown.isVisible()
    assert widget.isVisible()
    assert widget.width() > 0
    assert widget.height() > 0
    assert story.docs


@pytest.mark.parametrize(("component", "story"), ALL_STORIES)
def test_every_arg_has_a_control_and_the_snippet_is_python(
    component: Component, story: Story
) -> None:
    controls = story.controls()
    assert [c.name for c in controls] == list(story.args)
    for control in controls:
        assert control.parse(control.default) == control.default
    snippet = component.snippet(story, story.default_args())
    ast.parse(snippet)
    assert component.widget.__name__ in snippet


def _focusable(root: QWidget) -> Iterator[QWidget]:
    for widget in [root, *root.findChildren(QWidget)]:
        if widget.isVisibleTo(root) and widget.isEnabled() and widget.focusPolicy().value & 1:
            yield widget


@pytest.mark.parametrize(("component", "story"), ALL_STORIES)
def test_focusable_controls_have_accessible_names(
    qtbot: QtBot, component: Component, story: Story
) -> None:
    stage = _shown(qtbot, story)
    unnamed = []
    for widget in _focusable(stage):
        interface = QAccessible.queryAccessibleInterface(widget)
        if not interface.text(QAccessible.Text.Name).strip():
            unnamed.append(type(widget).__name__)
    assert unnamed == []
    widget = stage.content()
    assert widget is not None
    if isinstance(widget, Alert):
        assert QAccessible.queryAccessibleInterface(widget).role() == QAccessible.Role.AlertMessage


def _background(widget: QWidget) -> str:
    """The token colour behind ``widget``'s text, from the nearest styled ancestor."""
    colors = current_colors()
    if isinstance(widget, Button):
        if not widget.isEnabled():
            return colors.disabled
        return str(getattr(colors, widget.get_variant()))
    if isinstance(widget, QLineEdit | QTableWidget):
        return colors.surface
    if isinstance(widget, StatusChip):
        return str(getattr(colors, widget.background_token()))
    parent = widget.parentWidget()
    while parent is not None:
        if isinstance(parent, Alert):
            return str(getattr(colors, f"{parent.get_kind()}_bg"))
        if isinstance(parent, Card):
            return colors.surface
        parent = parent.parentWidget()
    return colors.window


@pytest.mark.parametrize("theme", THEME_NAMES)
@pytest.mark.parametrize(("component", "story"), ALL_STORIES)
def test_text_contrast_meets_wcag_aa(
    qtbot: QtBot, qapp: QApplication, theme: str, component: Component, story: Story
) -> None:
    apply_theme(qapp, theme)
    stage = _shown(qtbot, story)
    failures = []
    checked = 0
    for widget in stage.findChildren(QWidget):
        if not widget.isVisible() or not isinstance(widget, QLabel | QAbstractButton | QLineEdit):
            continue
        if isinstance(widget, QAbstractButton) and not isinstance(widget, Button):
            continue  # the alert's close cross is a graphic, checked in the tokens (3:1)
        role = QPalette.ColorRole.Text if isinstance(widget, QLineEdit) else widget.foregroundRole()
        group = QPalette.ColorGroup.Active if widget.isEnabled() else QPalette.ColorGroup.Disabled
        foreground = widget.palette().color(group, role).name()
        ratio = contrast_ratio(foreground, _background(widget))
        checked += 1
        if ratio < 4.5:
            failures.append(f"{type(widget).__name__} {foreground}: {ratio:.2f}")
    painted = stage.content()
    if hasattr(painted, "text_pairs"):  # widgets that paint their text say which tokens
        colors = current_colors()
        for text, background in painted.text_pairs():
            ratio = contrast_ratio(getattr(colors, text), getattr(colors, background))
            checked += 1
            if ratio < 4.5:
                failures.append(f"{type(painted).__name__} {text}/{background}: {ratio:.2f}")
    assert checked > 0
    assert failures == []
