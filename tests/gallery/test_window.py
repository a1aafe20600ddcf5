"""The gallery window end to end: tree → canvas, live controls, log, docs, toolbar, matrix."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QComboBox
from pytestqt.qtbot import QtBot

from gallery.matrix import StateMatrix
from gallery.story import Component
from gallery.window import GalleryWindow
from widgets.alert import Alert
from widgets.button import Button
from widgets.theme import ThemeManager, current_theme

pytestmark = [pytest.mark.gui, pytest.mark.qt_log_ignore("propagateSizeHints")]


@pytest.fixture
def window(
    qtbot: QtBot, qapp: QApplication, components: list[Component]
) -> Iterator[GalleryWindow]:
    manager = ThemeManager(qapp, "light")
    window = GalleryWindow(components, manager)
    qtbot.addWidget(window)
    window.show()
    qtbot.waitExposed(window)
    yield window
    manager.deleteLater()


def _button(window: GalleryWindow) -> Button:
    widget = window.stage().content()
    assert isinstance(widget, Button)
    return widget


def test_opens_on_the_first_story_and_switches_from_the_tree(window: GalleryWindow) -> None:
    component, story, _ = window.current()
    assert component is not None
    assert story is not None
    assert (component.name, story.name) == ("Alert", "Info")
    index = window.tree_model().story_index("Button", "Danger")
    window._tree.setCurrentIndex(index)
    assert _button(window).get_variant() == "danger"
    assert "Danger" in window.docs_text()


def test_control_edits_re_render_live(window: GalleryWindow) -> None:
    window.show_story("Button", "Primary")
    window.controls().set_value("variant", "success")
    window.controls().set_value("text", "Check in")
    button = _button(window)
    assert button.get_variant() == "success"
    assert button.text() == "Check in"
    assert "variant='success'" in window.docs_text()
    window.controls().reset_all()
    assert _button(window).get_variant() == "primary"


def test_signals_from_the_canvas_reach_the_log(qtbot: QtBot, window: GalleryWindow) -> None:
    window.show_story("Button", "Primary")
    qtbot.mouseClick(_button(window), Qt.MouseButton.LeftButton)
    signatures = [signature for _, signature, _ in window.signal_log().entries()]
    assert "clicked(bool)" in signatures


def test_loading_and_disabled_stories_log_no_click(qtbot: QtBot, window: GalleryWindow) -> None:
    for story in ("Loading", "Disabled"):
        window.show_story("Button", story)
        qtbot.mouseClick(_button(window), Qt.MouseButton.LeftButton)
        signatures = [signature for _, signature, _ in window.signal_log().entries()]
        assert "clicked(bool)" not in signatures, story


def test_closing_the_alert_story_logs_sig_closed_once(qtbot: QtBot, window: GalleryWindow) -> None:
    window.show_story("Alert", "WithCloseButton")
    alert = window.stage().content()
    assert isinstance(alert, Alert)
    qtbot.mouseClick(alert._close, Qt.MouseButton.LeftButton)
    entries = [e for e in window.signal_log().entries() if e[1] == "sig_closed()"]
    assert len(entries) == 1


def test_toolbar_theme_scale_disable_and_background(window: GalleryWindow) -> None:
    window.show_story("Button", "Primary")
    theme_box = window._theme_box
    assert isinstance(theme_box, QComboBox)
    theme_box.setCurrentIndex(theme_box.findData("dark"))
    assert current_theme() == "dark"
    small = _button(window).sizeHint().height()
    window.set_scale(2.0)
    assert _button(window).sizeHint().height() > 1.6 * small
    window.set_disabled_all(True)
    assert not _button(window).isEnabled()
    window.set_disabled_all(False)
    assert _button(window).isEnabled()
    window.set_background("checker")
    with pytest.raises(ValueError, match="background: must be one of"):
        window.set_background("plaid")
    theme_box.setCurrentIndex(theme_box.findData("light"))


def test_search_filters_the_tree(qtbot: QtBot, window: GalleryWindow) -> None:
    qtbot.keyClicks(window._search, "payment")
    model = window.tree_model()
    assert model.rowCount() == 1
    assert model.index(0, 0).data() == "Alert"


def test_state_matrix_tab_shows_variants_by_states(window: GalleryWindow) -> None:
    window.show_story("Button", "Primary")
    window._tabs.setCurrentIndex(2)
    matrix = window._matrix_stage.content()
    assert isinstance(matrix, StateMatrix)
    hover = matrix.cell("Danger", "hover")
    assert isinstance(hover, Button)
    assert hover.get_sim_state() == "hover"
    assert not matrix.cell("Primary", "disabled").isEnabled()
    loading = matrix.cell("Primary", "loading")
    assert isinstance(loading, Button)
    assert loading.is_loading()


def test_docs_tab_lists_docstring_properties_and_snippet(window: GalleryWindow) -> None:
    window.show_story("Alert", "WithList")
    text = window.docs_text()
    assert "sig_closed" in text
    assert "timeout_ms" in text
    assert "from widgets.alert import Alert" in text
    assert "Pick a veterinarian" in text


def test_a_render_error_is_shown_not_raised(window: GalleryWindow) -> None:
    window.show_story("Button", "Primary")
    window._args["variant"] = "ghost"  # bypass the controls' validation
    window._render()
    shown = window.stage().content()
    assert isinstance(shown, Alert)
    assert "variant: must be one of" in shown.get_message()


def test_ctrl_f_focuses_the_search(qtbot: QtBot, window: GalleryWindow) -> None:
    window.activateWindow()
    window._tree.setFocus()
    qtbot.keyClick(window, Qt.Key.Key_F, Qt.KeyboardModifier.ControlModifier)
    assert window._search.hasFocus()


# Defects of the review (issue 20) -----------------------------------------------------
def test_a_scale_the_toolbar_does_not_offer_is_refused_and_changes_nothing(
    window: GalleryWindow,
) -> None:
    """``set_scale(0.75)`` raised TypeError in the combo's slot and blanked the combo."""
    window.show_story("Button", "Primary")
    box = window._scale_box
    before = (box.currentIndex(), box.currentText(), window._scale)
    with pytest.raises(ValueError, match="scale: must be one of 100 %, 125 %, 150 %, 200 %"):
        window.set_scale(0.75)
    assert (box.currentIndex(), box.currentText(), window._scale) == before


def test_changing_the_scale_renders_once(window: GalleryWindow) -> None:
    """2.0 rendered the story twice (the combo's echo of ``set_scale`` rendered again)."""
    window.show_story("Button", "Primary")
    renders: list[object] = []
    original = window._render

    def counting() -> None:
        renders.append(None)
        original()

    window._render = counting  # type: ignore[method-assign]
    window.set_scale(2.0)
    assert len(renders) == 1
    window._scale_box.setCurrentIndex(window._scale_box.findData(1.5))  # from the toolbar
    assert len(renders) == 2


@pytest.mark.parametrize("scale", [1.5, 2.0])
def test_grid_rows_grow_with_the_scale(window: GalleryWindow, scale: float) -> None:
    """At 150-200 % the DataGrid's rows kept their 100 % height and clipped the text."""
    from widgets.datagrid.table import GridTable

    window.show_story("DataGrid", "PatientList")
    table = window.stage().findChild(GridTable)
    assert table is not None
    at_100 = table.verticalHeader().defaultSectionSize()
    window.set_scale(scale)
    table = window.stage().findChild(GridTable)
    assert table is not None
    row = table.verticalHeader().defaultSectionSize()
    assert row >= table.fontMetrics().height() * 1.6
    assert row >= at_100 * scale * 0.9


def test_the_docs_tab_after_a_render_error_shows_the_args_not_none(
    window: GalleryWindow,
) -> None:
    """After a render error every property was listed as ``None`` (those of the Alert
    shown instead): the Docs tab now says the story could not render and lists its args."""
    window.show_story("Button", "Primary")
    window._args["variant"] = "ghost"
    window._render()
    text = window.docs_text()
    assert "could not render" in text
    assert "variant = 'ghost'" in text
    assert "<code>None</code>" not in window._docs.toHtml()


def test_the_datagrid_width_control_sets_the_canvas_width(window: GalleryWindow) -> None:
    """The DataGrid story's ``width`` control did nothing."""
    window.show_story("DataGrid", "PatientList")
    window._controls.set_value("width", 520)
    content = window.stage().content()
    assert content is not None
    assert content.maximumWidth() == 520
    assert content.width() <= 520


def test_a_huge_label_does_not_make_a_huge_stage(window: GalleryWindow) -> None:
    """A 5,000-character label made a 45,000-pixel stage for a 300-pixel button."""
    window.show_story("Button", "Primary")
    window._controls.set_value("text", "x" * 5000)
    _component, story, _args = window.current()
    assert story is not None
    assert window.stage().minimumWidth() <= story.width + 2 * 24 + 64


def test_typing_a_row_count_renders_once_and_keeps_few_datasets(
    qtbot: QtBot, window: GalleryWindow
) -> None:
    """Typing 654321 into ``rows`` rendered six grids (6, 65, 654, ...) and cached every
    dataset (1.1 GB): the spin box commits on Enter, and the story keeps two datasets."""
    from PySide6.QtWidgets import QSpinBox

    from gallery.stories import datagrid

    window.show_story("DataGrid", "HundredThousandRows")
    renders: list[object] = []
    original = window._render

    def counting() -> None:
        renders.append(None)
        original()

    window._render = counting  # type: ignore[method-assign]
    spin = window._controls.editor("rows")
    assert isinstance(spin, QSpinBox)
    spin.setFocus()
    spin.selectAll()
    qtbot.keyClicks(spin, "654321")
    assert renders == []
    qtbot.keyClick(spin, Qt.Key.Key_Return)
    assert len(renders) == 1
    assert window.current()[2]["rows"] == 654321
    assert datagrid._many.cache_info().currsize <= 2


# Viewport and measure (issue 20's daily comforts) --------------------------------------
def test_the_viewport_shows_the_story_at_a_real_size(window: GalleryWindow) -> None:
    window.show_story("Card", "WithActions")
    window.set_viewport(480, 300)
    content = window.stage().content()
    assert content is not None
    assert (content.width(), content.height()) == (480, 300)
    window.set_scale(2.0)
    content = window.stage().content()
    assert content is not None
    assert (content.width(), content.height()) == (960, 600)
    window.set_viewport(0, 0)
    assert window.stage().content().height() != 600  # type: ignore[union-attr]


@pytest.mark.parametrize(("width", "height"), [(50, 0), (0, 5000), (-1, 0)])
def test_a_viewport_out_of_range_is_refused(window: GalleryWindow, width: int, height: int) -> None:
    window.set_viewport(480, 0)
    with pytest.raises(
        ValueError, match=r"viewport (width|height): must be 0 \(auto\) or 120-4000"
    ):
        window.set_viewport(width, height)
    assert window.viewport() == (480, 0)


def test_measure_outlines_every_widget_with_its_size(qtbot: QtBot, window: GalleryWindow) -> None:
    window.show_story("Card", "WithActions")
    window.set_measuring(True)
    qtbot.wait(50)  # the story is laid out
    overlay = window.measure_overlay()
    assert overlay.isVisible()
    sizes = [size for _rect, size in overlay.outlines()]
    button = next(w for w in window.stage().findChildren(Button) if w.text() == "Print")
    assert f"{button.width()}x{button.height()}" in sizes
    window.set_measuring(False)
    assert not overlay.isVisible()


def test_typing_a_search_renders_once_when_typing_pauses(
    qtbot: QtBot, window: GalleryWindow
) -> None:
    """Each keystroke in the DataGrid's ``search`` re-rendered the grid (a million rows in
    one story): text args are committed once typing pauses, or on Enter."""
    from PySide6.QtWidgets import QLineEdit

    window.show_story("DataGrid", "PatientList")
    renders: list[object] = []
    original = window._render

    def counting() -> None:
        renders.append(None)
        original()

    window._render = counting  # type: ignore[method-assign]
    line = window._controls.editor("search")
    assert isinstance(line, QLineEdit)
    qtbot.keyClicks(line, "bella")
    assert renders == []
    qtbot.waitUntil(lambda: len(renders) == 1)
    qtbot.wait(400)
    assert len(renders) == 1
    assert window.current()[2]["search"] == "bella"
    qtbot.keyClicks(line, "x")
    qtbot.keyClick(line, Qt.Key.Key_Return)
    assert len(renders) == 2  # Enter commits at once
