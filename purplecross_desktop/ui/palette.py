"""The clinic's command palette (Ctrl+K): jump to any screen, client or patient by name or
phone, or run a common action (book, new client, new patient, check in)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from PySide6.QtCore import Qt

from purplecross_desktop.records import FoundItem, RecordQueries
from widgets.command_palette import CommandPalette, PaletteItem

if TYPE_CHECKING:
    from purplecross_desktop.ui.main_window import MainWindow

#: (key, title, detail, shortcut): what the palette can do besides going to a screen.
ACTIONS = (
    ("action:book", "Book an appointment", "for any patient", ""),
    ("action:new_client", "New client", "register an owner", "Ctrl+N on Clients"),
    ("action:new_patient", "New patient", "register a pet", "Ctrl+N on Patients"),
    ("action:check_in", "Check in", "the appointment selected on Today", ""),
    ("action:shortcuts", "Keyboard shortcuts", "every key the desk uses", "F1"),
    ("action:lock", "Lock the screen", "your password unlocks it", "Ctrl+L"),
)


def found_item(found: FoundItem) -> PaletteItem:
    group = "Clients" if found.kind == "client" else "Patients"
    return PaletteItem(f"{found.kind}:{found.id}", found.title, found.detail, group)


class PaletteController:
    """Builds the palette for ``window``, looks records up off the UI thread and carries
    out the choice."""

    def __init__(self, window: MainWindow) -> None:
        self.window = window
        self._queries = RecordQueries(window.context.session_factory)

    def commands(self) -> list[PaletteItem]:
        """The screens the signed-in role may use, then the actions."""
        items = [
            PaletteItem(
                f"page:{spec.key}", spec.title, "screen", "Go to", f"Ctrl+{n}" if n < 10 else ""
            )
            for n, spec in enumerate(self.window.page_specs(), start=1)
        ]
        items += [
            PaletteItem(key, title, detail, "Actions", keys) for key, title, detail, keys in ACTIONS
        ]
        return items

    def open(self) -> CommandPalette:
        palette = CommandPalette(
            self.commands(),
            placeholder="Go to a screen, find a client or patient (name, phone), or an action…",
            parent=self.window,
        )
        palette.sig_query_changed.connect(lambda text: self._search(palette, text))
        palette.sig_item_chosen.connect(self.run)
        palette.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        palette.open()
        return palette

    def run(self, item: PaletteItem) -> Any:
        """Carry out ``item``: show a page, open a record or start an action."""
        kind, _, value = item.key.partition(":")
        window = self.window
        if kind == "page":
            return window.show_page(value)
        if kind == "client":
            from purplecross_desktop.ui.records.client_record import open_client_record

            return open_client_record(window.context, window, int(value))
        if kind == "patient":
            from purplecross_desktop.ui.records.patient_record import open_patient_record

            return open_patient_record(window.context, window, int(value))
        return self._action(value)

    def _action(self, name: str) -> Any:
        window = self.window
        if name == "book":
            from purplecross_desktop.ui.dialogs.booking import open_booking_dialog

            return open_booking_dialog(window.context, window)
        if name == "new_client":
            return window.show_page("clients").create_new()
        if name == "new_patient":
            return window.show_page("patients").create_new()
        if name == "check_in":
            page = window.show_page("today")
            run_action = getattr(page, "run_action", None)
            if run_action is not None:
                run_action("check_in")
            return page
        if name == "shortcuts":
            return window.show_shortcuts()
        if name == "lock":
            window.lock()
        return None

    def _search(self, palette: CommandPalette, text: str) -> None:
        if len(text.strip()) < 2:
            return
        queries = self._queries
        palette.set_status("Searching…")
        self.window.context.background(palette, lambda: queries.find(text)).success(
            lambda found: palette.set_results(text, [found_item(f) for f in found])
        ).failure(
            lambda exc: palette.set_status(f"Clients and patients could not be searched: {exc}")
        ).run_in_background()
