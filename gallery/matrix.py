"""The state matrix: a component's variants (rows) by states (columns) side by side."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QGridLayout, QLabel, QWidget

from gallery.render import apply_state
from gallery.story import Component
from widgets.tokens import Spacing

_WRAPPING_CELL_WIDTH = 260


class StateMatrix(QWidget):
    """Renders each ``matrix_rows`` entry of a component in each of its ``matrix_states``.

    Hover, pressed and focus are simulated through the widget's ``sim_state`` property
    (the same style rules as the real states), so one image shows them all at once.

    Args:
        component: whose variants and states to show.
        parent: the parent widget.
    """

    def __init__(self, component: Component, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._component = component
        self._cells: dict[tuple[str, str], QWidget] = {}
        grid = QGridLayout(self)
        grid.setHorizontalSpacing(Spacing.LG)
        grid.setVerticalSpacing(Spacing.MD)
        grid.setContentsMargins(0, 0, 0, 0)
        states = list(component.matrix_states)
        for column, state in enumerate(states, start=1):
            header = QLabel(state)
            header.setObjectName("matrix_header")
            grid.addWidget(header, 0, column, Qt.AlignmentFlag.AlignLeft)
        if not component.stories:
            return
        render = component.stories[0].render
        story_width = component.stories[0].width
        for row, (label, args) in enumerate(component.matrix_rows, start=1):
            grid.addWidget(QLabel(label), row, 0, Qt.AlignmentFlag.AlignVCenter)
            for column, state in enumerate(states, start=1):
                widget = render(args)
                if not apply_state(widget, state):
                    widget.deleteLater()
                    widget = QLabel("n/a")
                if widget.hasHeightForWidth():
                    # Wrapping widgets would shrink to a word per line in a grid cell; as
                    # wide as they like up to the story's width, so no title is cut.
                    widget.ensurePolished()
                    wanted = max(_WRAPPING_CELL_WIDTH, widget.sizeHint().width())
                    widget.setFixedWidth(min(wanted, max(story_width, _WRAPPING_CELL_WIDTH)))
                self._cells[(label, state)] = widget
                grid.addWidget(widget, row, column, Qt.AlignmentFlag.AlignLeft)

    def cell(self, row_label: str, state: str) -> QWidget:
        """The widget shown for ``row_label`` in ``state``."""
        return self._cells[(row_label, state)]

    def matrix_width(self) -> int:
        """A width that fits every column (for rendering)."""
        return max(self.sizeHint().width(), 320)
