"""The base of every page in the main window's navigation."""

from __future__ import annotations

from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget

from purplecross_desktop.ui.context import AppContext


class Page(QWidget):
    """A screen in the main window. Pages are built on first visit, refreshed on each.

    Subclasses set ``title`` and fill ``self.body`` (a vertical layout under the heading);
    ``activate()`` is called every time the page is shown and should start background loads.
    The main window's shortcuts call ``refresh()`` (F5), ``create_new()`` (Ctrl+N) and
    focus ``search_box()`` (Ctrl+F) on the page shown; the defaults do nothing.
    """

    #: What Ctrl+N creates here ("client"), shown in the shortcuts help; "" for nothing.
    creates = ""

    title = "Page"

    def __init__(self, context: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.context = context
        self.setObjectName(f"page-{self.title.lower().replace(' ', '-')}")
        self.setAccessibleName(self.title)
        outer = QVBoxLayout(self)
        outer.setContentsMargins(24, 20, 24, 20)
        outer.setSpacing(12)
        heading = QLabel(self.title)
        heading.setObjectName("pageHeading")
        heading.setAccessibleName(f"{self.title} heading")
        font = heading.font()
        font.setPointSizeF(font.pointSizeF() * 1.6)
        font.setBold(True)
        heading.setFont(font)
        outer.addWidget(heading)
        self.body = QVBoxLayout()
        self.body.setSpacing(12)
        outer.addLayout(self.body, 1)

    def activate(self) -> None:
        """Called each time the page is shown; override to refresh."""

    def refresh(self) -> None:
        """Reload what the page shows (F5), off the UI thread."""

    def create_new(self) -> None:
        """Start creating what this page lists (Ctrl+N); nothing by default."""

    def search_box(self) -> QWidget | None:
        """The page's search field (Ctrl+F focuses it), or None."""
        return None
