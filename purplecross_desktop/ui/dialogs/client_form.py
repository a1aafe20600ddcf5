"""The client form: register a new owner or edit one, with the domain's rules shown inline
and a warning when another client already has the phone number or email typed."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QCheckBox, QComboBox, QLineEdit, QPlainTextEdit, QWidget

from purplecross_desktop.database.base import ClientId
from purplecross_desktop.domain.clients import ClientData, ContactChannel, Phone, PhoneKind
from purplecross_desktop.domain.errors import ValidationError
from purplecross_desktop.records import ClientRecord, DuplicateClient, RecordQueries
from purplecross_desktop.ui.context import AppContext
from purplecross_desktop.ui.dialogs.form_dialog import FormDialog
from widgets.alert import Alert
from widgets.button import Button

#: The phone fields, in the order their numbers are saved.
PHONE_FIELDS = (("mobile", "Mobile", PhoneKind.MOBILE), ("home", "Home phone", PhoneKind.HOME))
CHANNEL_LABELS = {
    ContactChannel.EMAIL: "Email",
    ContactChannel.SMS: "Text message (SMS)",
    ContactChannel.NONE: "No reminders",
}


class ClientFormDialog(FormDialog):
    """Create a client (``record`` None) or edit ``record``.

    The phone and email fields are checked against the other clients as soon as the
    receptionist leaves them ("a client with this phone exists"), off the UI thread; the
    warning offers to open that client instead, and never stops a save (two owners may
    share a household phone).

    Signals:
        sig_open_client(int): the receptionist chose to open the existing client instead.
    """

    sig_open_client = Signal(int)

    def __init__(
        self,
        context: AppContext,
        record: ClientRecord | None = None,
        parent: QWidget | None = None,
    ) -> None:
        title = f"Edit {record.name}" if record else "New client"
        super().__init__(
            context, title, save_text="Save client" if record else "Add client", parent=parent
        )
        self.record = record
        self.setMinimumWidth(620)
        self.name = QLineEdit()
        self.email = QLineEdit()
        self.phones: dict[str, QLineEdit] = {key: QLineEdit() for key, _l, _k in PHONE_FIELDS}
        self.street = QLineEdit()
        self.city = QLineEdit()
        self.postal_code = QLineEdit()
        self.country = QLineEdit()
        self.channel = QComboBox()
        for channel, label in CHANNEL_LABELS.items():
            self.channel.addItem(label, channel)
        self.notes = QPlainTextEdit()
        self.notes.setTabChangesFocus(True)  # Tab moves on; it never gets trapped here
        self.notes.setFixedHeight(64)
        self.active = QCheckBox("Active (shown in searches and lists)")

        self.add_field("name", "&Name", self.name, required=True, span=2)
        self.add_field("mobile", "&Mobile", self.phones["mobile"], hint="Any format: 07700 900123")
        self.add_field("home", "&Home phone", self.phones["home"])
        self.add_field("email", "&Email", self.email)
        self.add_field(
            "preferred_contact",
            "&Reminders by",
            self.channel,
            hint="Email needs an email address; SMS a mobile number",
        )
        self.duplicate = Alert("", kind="warning", title="Possible duplicate")
        self.duplicate.setVisible(False)
        self.open_duplicate = Button("Open that client", variant="secondary", button_size="small")
        self.open_duplicate.setVisible(False)
        self.open_duplicate.setAutoDefault(False)
        self.open_duplicate.clicked.connect(self._open_duplicate)
        self.add_widget(self.duplicate)
        self.add_widget(self.open_duplicate, 1)
        self.add_section("Address")
        self.add_field("street", "S&treet", self.street, span=2)
        self.add_field("city", "Ci&ty", self.city)
        self.add_field("postal_code", "&Postcode", self.postal_code)
        self.add_field("country", "C&ountry", self.country)
        self.add_field("notes", "N&otes", self.notes, span=2)
        if record is not None:
            self.add_field("active", "Status", self.active)

        self._duplicates: list[DuplicateClient] = []
        self._checked: tuple[tuple[str, ...], str] | None = None
        for editor in (*self.phones.values(), self.email):
            editor.editingFinished.connect(self.check_duplicates)
        # A new client's reminders follow what is typed (email, else a mobile, else none)
        # until the receptionist picks a channel themselves.
        self._channel_chosen = record is not None
        self.channel.setCurrentIndex(self.channel.findData(ContactChannel.NONE))
        self.channel.activated.connect(self._on_channel_picked)
        for editor in (self.phones["mobile"], self.email):
            editor.textChanged.connect(self._suggest_channel)
        self._queries = RecordQueries(context.session_factory)
        self._shown_kinds = {kind.value for _k, _l, kind in PHONE_FIELDS}
        self._phone_keys: list[str] = []
        if record is not None:
            self._fill(record)
        self.resize(self.sizeHint())

    # Public API ---------------------------------------------------------------
    def duplicates(self) -> list[DuplicateClient]:
        """The clients the last check found."""
        return list(self._duplicates)

    def check_duplicates(self) -> None:
        """Look for other clients with these phones or this email, off the UI thread."""
        numbers = tuple(e.text().strip() for e in self.phones.values() if e.text().strip())
        email = self.email.text().strip()
        if (numbers, email) == self._checked:
            return
        self._checked = (numbers, email)
        exclude = self.record.id if self.record else None
        queries = self._queries
        self.context.background(
            self, lambda: queries.duplicate_clients(numbers, email, exclude_id=exclude)
        ).success(self._show_duplicates).failure(lambda _exc: None).run_in_background()

    def focus_order(self) -> list[QWidget]:
        order = [f.editor() for f in self.fields.values()]
        return [*order, self.open_duplicate, self.cancel_button, self.save_button]

    # Saving -------------------------------------------------------------------
    def save_work(self) -> Callable[[], Any]:
        services = self.context.services
        assert services is not None
        phones = [
            Phone(editor.text(), kind)
            for (key, _label, kind) in PHONE_FIELDS
            if (editor := self.phones[key]).text().strip()
        ]
        self._phone_keys = [key for key, _l, _k in PHONE_FIELDS if self.phones[key].text().strip()]
        if self.record is not None:
            # the numbers this form does not show (a work phone, a second mobile) are kept
            shown: set[str] = set()
            for phone in self.record.phones:
                if phone.kind in self._shown_kinds and phone.kind not in shown:
                    shown.add(phone.kind)
                    continue
                phones.append(Phone(phone.number, phone.kind))
        data = ClientData(
            name=self.name.text(),
            email=self.email.text() or None,
            phones=tuple(phones),
            street=self.street.text() or None,
            city=self.city.text() or None,
            postal_code=self.postal_code.text() or None,
            country=self.country.text() or None,
            preferred_contact=self.channel.currentData(),
            notes=self.notes.toPlainText(),
            active=self.active.isChecked() if self.record is not None else True,
        )
        if self.record is None:
            return lambda: services.clients.create(data)
        client_id = ClientId(self.record.id)
        changes = {
            "name": data.name,
            "email": data.email,
            "phones": data.phones,
            "street": data.street,
            "city": data.city,
            "postal_code": data.postal_code,
            "country": data.country,
            "preferred_contact": data.preferred_contact,
            "notes": data.notes,
            "active": data.active,
        }
        return lambda: services.clients.update(client_id, changes)

    def _failed(self, exc: BaseException) -> None:
        if isinstance(exc, ValidationError):
            exc = self._to_fields(exc)
        super()._failed(exc)

    # Internals ----------------------------------------------------------------
    def _to_fields(self, exc: ValidationError) -> ValidationError:
        """``phones[1].number`` names the second number saved: put it under its field;
        a rule about the phone list as a whole goes under Mobile."""
        keys = self._phone_keys
        errors: dict[str, list[str]] = {}
        for name, rules in exc.errors.items():
            target = name
            if name == "phones":
                target = "mobile"
            elif name.startswith("phones["):
                index = int(name[len("phones[") : name.index("]")])
                target = keys[index] if index < len(keys) else "mobile"
            errors.setdefault(target, []).extend(rules)
        return ValidationError(errors)

    def _on_channel_picked(self, _index: int) -> None:
        self._channel_chosen = True

    def _suggest_channel(self) -> None:
        if self._channel_chosen:
            return
        if self.email.text().strip():
            channel = ContactChannel.EMAIL
        elif self.phones["mobile"].text().strip():
            channel = ContactChannel.SMS
        else:
            channel = ContactChannel.NONE
        self.channel.setCurrentIndex(self.channel.findData(channel))

    def _fill(self, record: ClientRecord) -> None:
        self.name.setText(record.name)
        self.email.setText(record.email or "")
        for key, _label, kind in PHONE_FIELDS:
            number = next((p.number for p in record.phones if p.kind == kind.value), "")
            self.phones[key].setText(number)
        self.street.setText(record.street or "")
        self.city.setText(record.city or "")
        self.postal_code.setText(record.postal_code or "")
        self.country.setText(record.country or "")
        index = self.channel.findData(ContactChannel(record.preferred_contact))
        self.channel.setCurrentIndex(max(index, 0))
        self.notes.setPlainText(record.notes)
        self.active.setChecked(record.active)
        numbers = tuple(e.text().strip() for e in self.phones.values() if e.text().strip())
        self._checked = (numbers, self.email.text().strip())  # its own numbers: no warning

    def _show_duplicates(self, found: list[DuplicateClient]) -> None:
        self._duplicates = found
        if not found:
            self.duplicate.setVisible(False)
            self.open_duplicate.setVisible(False)
            return
        first = found[0]
        what = first.matched.split(" ", 1)[0]
        text = f"A client with this {what} exists: {first.name} (No. {first.id})."
        if len(found) > 1:
            text += f" {len(found) - 1} more share it."
        self.duplicate.set_message(text)
        self.duplicate.setVisible(True)
        self.open_duplicate.setText(f"Open {first.name}")
        self.open_duplicate.setToolTip("Open the existing client instead; or save to add anyway")
        self.open_duplicate.setVisible(True)
        self.adjustSize()  # the warning needs its room, never clipped

    def _open_duplicate(self) -> None:
        if self._duplicates:
            self.sig_open_client.emit(self._duplicates[0].id)
            self.reject()
