"""The event catalogue in the app: every event type, what its data carries, schema, example."""

from __future__ import annotations

import json

from PySide6.QtWidgets import QHBoxLayout, QLabel, QListWidget, QVBoxLayout, QWidget

from purplecross_desktop.domain.webhooks.catalogue import CATALOGUE
from purplecross_desktop.ui.webhooks.dialogs import RequestView
from widgets.tokens import Spacing


class CatalogueView(QWidget):
    """Event types on the left; the chosen one's description, example and schema.

    Args:
        parent: the parent widget.
    """

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, Spacing.MD, 0, 0)
        layout.setSpacing(Spacing.LG)
        self.list = QListWidget()
        self.list.setAccessibleName("Event types")
        self.list.setFixedWidth(260)
        self.list.addItems(list(CATALOGUE))
        layout.addWidget(self.list)
        right = QVBoxLayout()
        self.summary = QLabel("")
        self.summary.setWordWrap(True)
        self.summary.setAccessibleName("Event type summary")
        right.addWidget(self.summary)
        self.text = RequestView()
        self.text.setAccessibleName("Example and schema")
        right.addWidget(self.text, 1)
        layout.addLayout(right, 1)
        self.list.currentTextChanged.connect(self.show_type)
        self.list.setCurrentRow(0)

    def show_type(self, name: str) -> None:
        event = CATALOGUE.get(name)
        if event is None:
            return
        fields = ", ".join(["id", *(f.name for f in event.fields)])
        self.summary.setText(
            f"{event.name} (version {event.version}): sent when {event.description}. "
            f"Its data carries {fields}; nothing else leaves the clinic."
        )
        self.text.setPlainText(
            "Example body\n\n"
            + json.dumps(event.example(), indent=2)
            + "\n\nJSON Schema\n\n"
            + json.dumps(event.schema(), indent=2)
        )
