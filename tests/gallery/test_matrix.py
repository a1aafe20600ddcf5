"""The state matrix: every component's variants by states, nothing clipped, nothing empty."""

from __future__ import annotations

import pytest
from PySide6.QtWidgets import QLabel
from pytestqt.qtbot import QtBot

from gallery.export import render_matrix
from gallery.render import dispose, grab_widget
from gallery.story import Component
from tests.gallery.conftest import COMPONENTS
from widgets.datagrid.table import GridTable

pytestmark = [pytest.mark.gui, pytest.mark.qt_log_ignore("propagateSizeHints")]

WITH_MATRIX = [pytest.param(c, id=c.name) for c in COMPONENTS if c.matrix_rows]


def needed(label: QLabel) -> int:
    """The width ``label`` needs: all of it, or its longest word when it may wrap."""
    if not label.wordWrap():
        return label.sizeHint().width()
    margins = label.contentsMargins()
    longest = max(label.fontMetrics().horizontalAdvance(w) for w in label.text().split())
    return longest + margins.left() + margins.right()


@pytest.mark.parametrize("component", WITH_MATRIX)
def test_no_text_in_the_matrix_is_clipped(qtbot: QtBot, component: Component) -> None:
    """The Card matrix cut "Vaccinations" (128 px wanted, 110 given)."""
    stage = render_matrix(component)
    try:
        matrix = stage.content()
        assert matrix is not None
        grab_widget(stage, matrix.sizeHint().width() + 48)
        clipped = [
            (label.text(), label.width(), needed(label))
            for label in matrix.findChildren(QLabel)
            if label.isVisible() and label.text() and label.width() < needed(label)
        ]
        assert clipped == []
    finally:
        dispose(stage)


def test_the_datagrid_matrix_shows_rows_not_only_headers() -> None:
    component = next(c for c in COMPONENTS if c.name == "DataGrid")
    assert component.matrix_rows
    stage = render_matrix(component)
    try:
        matrix = stage.content()
        assert matrix is not None
        grab_widget(stage, matrix.sizeHint().width() + 48)
        with_rows = [t for t in matrix.findChildren(GridTable) if t.model().rowCount() > 0]
        assert len(with_rows) == len(component.matrix_states)  # the "Rows" row, every state
        for table in with_rows:
            assert table.viewport().height() >= 3 * table.verticalHeader().defaultSectionSize()
    finally:
        dispose(stage)
