"""Settings: the clinic's details, mail and appearance, saved to the settings file."""

from __future__ import annotations

from typing import Any

from PySide6.QtWidgets import (
    QComboBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QWidget,
)

from purplecross_desktop.settings import (
    Settings,
    SettingsError,
    default_config_file,
    save_settings,
    updated_settings,
)
from purplecross_desktop.ui.context import AppContext
from purplecross_desktop.ui.pages.base import Page

TEXT_FIELDS = (
    ("clinic_name", "Clinic name"),
    ("clinic_address", "Address"),
    ("clinic_phone", "Phone"),
    ("clinic_timezone", "Time zone"),
    ("smtp_host", "SMTP server"),
    ("smtp_port", "SMTP port"),
    ("smtp_user", "SMTP user"),
    ("smtp_sender", "Sender address"),
)
CHOICE_FIELDS = (
    ("smtp_tls", "SMTP security", ("none", "starttls", "ssl")),
    ("theme", "Theme", ("system", "light", "dark")),
)


class SettingsPage(Page):
    """Edits the non-secret settings; environment variables still win over the file.

    Signals: none; saving shows its outcome inline.
    """

    title = "Settings"

    def __init__(self, context: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(context, parent)
        self.form = QFormLayout()
        self.inputs: dict[str, QLineEdit | QComboBox] = {}
        current = context.settings
        for name, label in TEXT_FIELDS:
            edit = QLineEdit(_text(getattr(current, name)))
            edit.setAccessibleName(label)
            edit.setObjectName(name)
            self.inputs[name] = edit
            self.form.addRow(label, edit)
        for name, label, choices in CHOICE_FIELDS:
            combo = QComboBox()
            combo.addItems(list(choices))
            combo.setCurrentText(str(getattr(current, name)))
            combo.setAccessibleName(label)
            combo.setObjectName(name)
            self.inputs[name] = combo
            self.form.addRow(label, combo)
        form_box = QWidget()
        form_box.setLayout(self.form)
        form_box.setMaximumWidth(720)
        self.body.addWidget(form_box)

        self.message = QLabel("")
        self.message.setObjectName("settingsMessage")
        self.message.setWordWrap(True)
        self.message.setAccessibleName("Settings message")
        buttons = QHBoxLayout()
        self.save_button = QPushButton("Save settings")
        self.save_button.setAccessibleName("Save settings")
        self.save_button.clicked.connect(self.save)
        buttons.addWidget(self.save_button)
        buttons.addStretch(1)
        self.body.addLayout(buttons)
        self.body.addWidget(self.message)
        mail_row = QHBoxLayout()
        self.test_address = QLineEdit()
        self.test_address.setPlaceholderText("name@example.org")
        self.test_address.setAccessibleName("Test email address")
        self.test_button = QPushButton("Send test email")
        self.test_button.setAccessibleName("Send test email")
        self.test_button.clicked.connect(self.send_test_email)
        mail_row.addWidget(QLabel("Send a test email to"))
        mail_row.addWidget(self.test_address, 1)
        mail_row.addWidget(self.test_button)
        mail_box = QWidget()
        mail_box.setLayout(mail_row)
        mail_box.setMaximumWidth(720)
        self.body.addWidget(mail_box)
        self.mail_message = QLabel("")
        self.mail_message.setWordWrap(True)
        self.mail_message.setAccessibleName("Test email result")
        self.body.addWidget(self.mail_message)
        note = QLabel(
            f"Settings are saved to {default_config_file()}. Passwords are kept in the "
            "system keyring, never in this file. Environment variables (PURPLECROSS_*) "
            "take precedence."
        )
        note.setWordWrap(True)
        self.body.addWidget(note)
        self.body.addStretch(1)

    def values(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for name, widget in self.inputs.items():
            out[name] = widget.currentText() if isinstance(widget, QComboBox) else widget.text()
        return out

    def save(self) -> Settings | None:
        """Validate every field and save; on a bad value, say which and change nothing."""
        try:
            new = updated_settings(self.context.settings, self.values(), "settings page")
        except SettingsError as exc:
            self.message.setText(f"Not saved. {exc.name}: {exc.rule}.")
            widget = self.inputs.get(exc.name)
            if widget is not None:
                widget.setFocus()
            return None
        changed = [
            name
            for name in self.inputs
            if getattr(new, name) != getattr(self.context.settings, name)
        ]
        path = save_settings(new, changed)
        self.context.settings = new
        self.message.setText(f"Saved to {path}. Some changes apply after a restart.")
        return new

    def send_test_email(self) -> None:
        """Queue a test message on the email queue; the job id (or the refusal) shows inline.

        The mail goes through the same queue, retries and SMTP settings as the clinic's
        real mail; without an SMTP server it lands in the outbox folder as an .eml file.
        """
        address = self.test_address.text().strip()

        def work() -> str:
            return str(
                self.context.job_runtime().email.queue(
                    address,
                    "Purple Cross test message",
                    "test_message",
                    {"sent_by": self.context.settings.clinic_name},
                )
            )

        self.test_button.setEnabled(False)
        self.context.background(self, work).success(self._test_queued).failure(
            self._test_refused
        ).finally_(lambda: self.test_button.setEnabled(True)).run_in_background()

    def _test_queued(self, job_id: object) -> None:
        # The mailer runs with the settings the app started with, not unsaved-yet edits.
        runtime = self.context.jobs
        settings = runtime.settings if runtime is not None else self.context.settings
        where = (
            f"via {settings.smtp_host}"
            if settings.smtp_host
            else f"to the outbox folder {settings.email_outbox_path} (no SMTP server set)"
        )
        self.mail_message.setText(f"Test email queued as job {job_id}; it goes out {where}.")

    def _test_refused(self, exc: BaseException) -> None:
        self.mail_message.setText(f"Not sent. {exc}")


def _text(value: object) -> str:
    return "" if value is None else str(value)
