"""Card: a surface with an optional title, subtitle and actions above its body."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TypeVar

from PySide6.QtCore import Property, Qt
from PySide6.QtGui import QAccessible
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QVBoxLayout, QWidget

from widgets.accessibility import set_accessible_role
from widgets.tokens import Spacing

_W = TypeVar("_W", bound=QWidget)


def _named(widget: _W, name: str) -> _W:
    """``widget`` with its object name set (the style sheet selects on it)."""
    widget.setObjectName(name)
    return widget


class Card(QFrame):
    """A bordered surface grouping related content.

    Args:
        title: heading text ("" hides it); also the card's accessible name.
        subtitle: smaller muted text under the title ("" hides it).
        body: the content widget (a form, a grid, a summary...); can be set later.
        actions: widgets (usually Buttons) shown at the right of the header.
        padded: inner padding around the body; False lets a table reach the border.
        accessible_name: overrides the accessible name taken from the title.
        parent: the parent widget.

    Properties (Qt):
        title (str), subtitle (str), padded (bool).

    Signals:
        None: a card only arranges content; its children emit their own signals.
    """

    def __init__(
        self,
        title: str = "",
        subtitle: str = "",
        *,
        body: QWidget | None = None,
        actions: Sequence[QWidget] = (),
        padded: bool = True,
        accessible_name: str = "",
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        set_accessible_role(self, QAccessible.Role.Grouping)
        self._accessible_name = accessible_name
        self._padded = True
        self._body: QWidget | None = None

        self._title = _named(QLabel(), "card_title")
        self._title.setTextFormat(Qt.TextFormat.PlainText)
        self._title.setWordWrap(True)
        self._subtitle = _named(QLabel(), "card_subtitle")
        self._subtitle.setTextFormat(Qt.TextFormat.PlainText)
        self._subtitle.setWordWrap(True)
        heading = QVBoxLayout()
        heading.setSpacing(Spacing.XS)
        heading.addWidget(self._title)
        heading.addWidget(self._subtitle)

        self._actions = QHBoxLayout()
        self._actions.setSpacing(Spacing.SM)
        self._header = _named(QWidget(), "card_header")
        header_layout = QHBoxLayout(self._header)
        header_layout.setContentsMargins(Spacing.LG, Spacing.LG, Spacing.LG, Spacing.SM)
        header_layout.addLayout(heading, 1)
        header_layout.addLayout(self._actions)
        header_layout.setAlignment(self._actions, Qt.AlignmentFlag.AlignTop)

        self._body_layout = QVBoxLayout()
        self._body_layout.setSpacing(Spacing.MD)
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.setSpacing(0)
        outer.addWidget(self._header)
        outer.addLayout(self._body_layout, 1)

        self.set_title(title)
        self.set_subtitle(subtitle)
        for action in actions:
            self.add_action(action)
        self.set_padded(padded)
        if body is not None:
            self.set_body(body)

    # Properties -----------------------------------------------------------------------
    def get_title(self) -> str:
        """The heading text."""
        return self._title.text()

    def set_title(self, title: str) -> None:
        """Change the heading ("" hides it)."""
        self._title.setText(title)
        self._title.setVisible(bool(title))
        self.setAccessibleName(self._accessible_name or title)
        self._update_header()

    def get_subtitle(self) -> str:
        """The text under the heading."""
        return self._subtitle.text()

    def set_subtitle(self, subtitle: str) -> None:
        """Change the subtitle ("" hides it)."""
        self._subtitle.setText(subtitle)
        self._subtitle.setVisible(bool(subtitle))
        self.setAccessibleDescription(subtitle)
        self._update_header()

    def is_padded(self) -> bool:
        """Whether the body has inner padding."""
        return self._padded

    def set_padded(self, padded: bool) -> None:
        """Pad the body (True) or let it touch the card's border (False, for tables)."""
        self._padded = bool(padded)
        pad = Spacing.LG if self._padded else 0
        top = pad if self._header.isHidden() else (Spacing.SM if self._padded else 0)
        self._body_layout.setContentsMargins(pad, top, pad, pad)

    title = Property(str, get_title, set_title)
    subtitle = Property(str, get_subtitle, set_subtitle)
    padded = Property(bool, is_padded, set_padded)

    # Content --------------------------------------------------------------------------
    def body(self) -> QWidget | None:
        """The content widget, if any."""
        return self._body

    def set_body(self, widget: QWidget) -> None:
        """Replace the content with ``widget`` (the previous one is deleted)."""
        if self._body is not None:
            self._body_layout.removeWidget(self._body)
            self._body.deleteLater()
        self._body = widget
        self._body_layout.addWidget(widget)

    def add_action(self, widget: QWidget) -> None:
        """Add ``widget`` to the header's actions, right-aligned after earlier ones."""
        self._actions.addWidget(widget)
        self._update_header()

    def actions_count(self) -> int:
        """How many action widgets the header holds."""
        return self._actions.count()

    def _update_header(self) -> None:
        if not hasattr(self, "_body_layout"):
            return
        has_header = bool(self._title.text() or self._subtitle.text() or self._actions.count())
        self._header.setVisible(has_header)
        self.set_padded(self._padded)
