"""Registering an endpoint, and the one-time display of its signing secret."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import (
    QCheckBox,
    QDialog,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QVBoxLayout,
    QWidget,
)

from purplecross_desktop.domain.webhooks.model import MAX_DESCRIPTION
from purplecross_desktop.ui.context import AppContext
from purplecross_desktop.ui.dialogs.form_dialog import FormDialog
from widgets.alert import Alert
from widgets.button import Button
from widgets.tokens import Spacing

if TYPE_CHECKING:
    from purplecross_desktop.domain.webhooks import CreatedEndpoint

EVENTS_HINT = "Exact names or entity.*, separated by commas: appointment.*, invoice.paid"


class RegisterEndpointDialog(FormDialog):
    """URL, event filter, description and the local-network switch of a new endpoint.

    Args:
        context: the app context.
        create: the service call ``create(url, events, description, allow_local_network=)``
            (run off the UI thread).
        parent: the parent widget.

    Signals:
        sig_saved(object): the :class:`CreatedEndpoint` (with its secret).
    """

    def __init__(
        self,
        context: AppContext,
        create: Callable[..., CreatedEndpoint],
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(
            context, "Register webhook endpoint", save_text="Register", columns=1, parent=parent
        )
        self._create = create
        self.url_edit = QLineEdit()
        self.url_edit.setPlaceholderText("https://lab.example.org/purplecross/webhooks")
        self.add_field(
            "url",
            "&URL",
            self.url_edit,
            required=True,
            hint="https:// only, unless the receiver is on the clinic's network",
        )
        self.events_edit = QLineEdit()
        self.events_edit.setPlaceholderText("appointment.*, invoice.paid")
        self.add_field("events", "&Events", self.events_edit, required=True, hint=EVENTS_HINT)
        self.description_edit = QLineEdit()
        self.description_edit.setMaxLength(MAX_DESCRIPTION + 100)  # the service says the rule
        self.add_field(
            "description",
            "&Description",
            self.description_edit,
            hint=f"What the receiver is; at most {MAX_DESCRIPTION} characters",
        )
        self.local_box = QCheckBox("Allow local network (http:// and private addresses)")
        self.local_box.setAccessibleName("Allow local network")
        self.add_field(
            "allow_local_network",
            "Network",
            self.local_box,
            hint="Tick only for a receiver on the clinic's own network",
        )
        self.setMinimumWidth(560)

    def save_work(self) -> Callable[[], Any]:
        url = self.url_edit.text()
        events = self.events_edit.text()
        description = self.description_edit.text()
        local = self.local_box.isChecked()
        return lambda: self._create(url, events, description, allow_local_network=local)


class SecretDialog(QDialog):
    """Shows a signing secret once, with Copy; closing it is the last chance to see it.

    Args:
        secret: the ``whsec_…`` secret.
        url: the endpoint it signs for.
        parent: the parent widget.
    """

    def __init__(self, secret: str, url: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Signing secret")
        self.setAccessibleName("Signing secret")
        self.setModal(True)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(Spacing.XL, Spacing.LG, Spacing.XL, Spacing.LG)
        layout.setSpacing(Spacing.MD)
        intro = QLabel(
            f"Give this secret to the receiver at {url}. It verifies every request "
            "with it (webhook-signature)."
        )
        intro.setWordWrap(True)
        layout.addWidget(intro)
        self.secret_edit = QLineEdit(secret)
        self.secret_edit.setReadOnly(True)
        self.secret_edit.setAccessibleName("Secret")
        self.secret_edit.selectAll()
        layout.addWidget(self.secret_edit)
        layout.addWidget(
            Alert(
                "Shown once: it is stored encrypted and cannot be displayed "
                "again. Rotate the secret if it is lost.",
                kind="warning",
            )
        )
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        self.copy_button = Button("Copy", variant="secondary")
        self.copy_button.clicked.connect(self.copy)
        done = Button("Done")
        done.clicked.connect(self.accept)
        buttons.addWidget(self.copy_button)
        buttons.addWidget(done)
        layout.addLayout(buttons)
        self.setMinimumWidth(560)

    def copy(self) -> None:
        QGuiApplication.clipboard().setText(self.secret_edit.text())
        self.copy_button.setText("Copied")


class RequestView(QPlainTextEdit):
    """A read-only, monospaced view of a request or response."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setReadOnly(True)
        self.setLineWrapMode(QPlainTextEdit.LineWrapMode.WidgetWidth)
        font = self.font()
        font.setFamily("monospace")
        self.setFont(font)
