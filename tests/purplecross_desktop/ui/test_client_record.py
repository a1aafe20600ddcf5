"""Clients: the record (phones, pets, balance, invoices, visits, messages), the create and
edit forms with inline rules and the duplicate warning, and the list's phone search."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import sqlalchemy as sa
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from jobs.models import EmailLog, Job
from purplecross_desktop.database.base import ClientId
from purplecross_desktop.domain.audit import AuditEntry
from purplecross_desktop.domain.clients import Client, Phone
from purplecross_desktop.records import RecordQueries
from purplecross_desktop.ui.dialogs.client_form import ClientFormDialog
from purplecross_desktop.ui.pages.clients_page import ClientsPage
from purplecross_desktop.ui.records.client_record import ClientRecordDialog
from tests.purplecross_desktop.ui.desk_support import SeededDesk, seed_desk
from tests.purplecross_desktop.ui.keyboard import activate, focused, type_text

pytestmark = [pytest.mark.gui, pytest.mark.qt_log_ignore("propagateSizeHints")]


@pytest.fixture
def desk(database_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[SeededDesk]:
    seeded = seed_desk(database_url, monkeypatch)
    services = seeded.context.services
    assert services is not None
    services.clients.update(
        ClientId(seeded.client_id),
        {"phones": (Phone("07700 900123"), Phone("020 7946 0000", "home"))},
    )
    yield seeded
    seeded.close()


def _add_message_jobs(desk: SeededDesk) -> None:
    """Two emails to Ada in the job registry, one sent and one failed for good."""
    with desk.context.session_factory() as session, session.begin():
        for seq, (job_id, state, error) in enumerate(
            (("job-sent", "completed", None), ("job-dead", "dead", "550 mailbox unavailable")),
            start=1,
        ):
            session.add(
                Job(
                    id=job_id,
                    queue="email",
                    task="email.send",
                    state=state,
                    token="t",
                    seq=seq,
                    client_id=desk.client_id,
                    error_message=error,
                )
            )
            session.add(
                EmailLog(
                    idempotency_key=job_id,
                    message_id=f"<{job_id}@x>",
                    job_id=job_id,
                    to="ada@example.org",
                    subject=f"Appointment booked ({job_id})",
                    template="appointment_confirmation",
                    status="sent" if state == "completed" else "failed",
                )
            )


def test_the_record_shows_phones_pets_balance_visits_and_messages(
    qtbot: QtBot, desk: SeededDesk
) -> None:
    _add_message_jobs(desk)
    dialog = ClientRecordDialog(desk.context, desk.client_id)
    qtbot.addWidget(dialog)
    with qtbot.waitSignal(dialog.sig_loaded, timeout=10000):
        dialog.show()
    assert dialog.heading.text() == "Ada Lovelace"
    assert "07700900123 (mobile)" in dialog.details["phones"].text()
    assert dialog.balance.text() == "Owes £42.50"
    assert [dialog.pets.text(r, 0) for r in range(dialog.pets.row_count())] == ["Bella", "Rex"]
    assert "Bites" in dialog.pets.text(1, 3)
    assert dialog.invoices.row_count() == 1
    assert dialog.visits.row_count() == 2  # Rex 09:00, Bella 09:30
    outcomes = {dialog.messages.text(r, 4) for r in range(dialog.messages.row_count())}
    assert outcomes == {"sent", "failed"}
    failed = next(r for r in range(2) if dialog.messages.text(r, 4) == "failed")
    assert dialog.messages.text(failed, 5) == "550 mailbox unavailable"
    assert dialog.messages.text(failed, 3) == "ada@example.org"
    assert dialog.tabs.tabText(3) == "Messages (2)"


def test_phone_search_finds_any_part_of_a_number(qtbot: QtBot, desk: SeededDesk) -> None:
    page = ClientsPage(desk.context)
    qtbot.addWidget(page)
    page.show()
    qtbot.waitUntil(lambda: page.grid.row_count() == 2, timeout=10000)
    page.grid.set_filter("900 12")  # spaces typed differently from the stored number
    qtbot.waitUntil(lambda: page.grid.row_count() == 1, timeout=10000)
    row = page.grid.row_at(0)
    assert row is not None
    assert row.id == desk.client_id
    found = RecordQueries(desk.context.session_factory).find("7946")
    assert [(f.kind, f.title) for f in found] == [("client", "Ada Lovelace")]


def test_new_client_by_keyboard_shows_rules_inline_then_saves_as_the_signed_in_staff(
    qtbot: QtBot, desk: SeededDesk
) -> None:
    page = ClientsPage(desk.context)
    qtbot.addWidget(page)
    dialog = page.create_new()
    activate(qtbot, dialog)
    assert focused() is dialog.name  # the first field starts
    type_text(qtbot, "Grace Hopper")
    dialog.email.setText("not-an-email")
    assert dialog.channel.currentText() == "Email"  # follows the email typed
    dialog.channel.setCurrentIndex(dialog.channel.findText("Text message (SMS)"))
    dialog.channel.activated.emit(dialog.channel.currentIndex())  # as a pick by hand
    qtbot.keyClick(dialog.name, Qt.Key.Key_Return)  # Enter saves
    qtbot.waitUntil(lambda: bool(dialog.fields["email"].error()), timeout=10000)
    assert "valid email" in dialog.fields["email"].error()
    assert "mobile" in dialog.fields["mobile"].error()  # SMS needs a mobile number
    assert dialog.isVisible()
    with desk.context.session_factory() as session:
        assert session.scalar(sa.select(Client.id).where(Client.name == "Grace Hopper")) is None
    dialog.email.setText("grace@example.org")
    dialog.phones["mobile"].setText("07700 900999")
    assert dialog.channel.currentText() == "Text message (SMS)"  # the pick is kept
    with qtbot.waitSignal(dialog.sig_saved, timeout=10000) as saved:
        qtbot.keyClick(dialog.name, Qt.Key.Key_Return)
    client = saved.args[0]
    signed = desk.context.staff_session.current
    assert signed is not None
    with desk.context.session_factory() as session:
        entry = session.scalars(
            sa.select(AuditEntry).where(
                AuditEntry.entity == "client", AuditEntry.entity_id == client.id
            )
        ).one()
    assert entry.staff_id == signed.staff_id  # not "system"
    records = [w for w in QApplication.topLevelWidgets() if isinstance(w, ClientRecordDialog)]
    assert any(r.client_id == client.id for r in records)  # the new record opens
    for record in records:
        record.close()


def test_a_known_phone_warns_of_a_duplicate_and_offers_the_existing_client(
    qtbot: QtBot, desk: SeededDesk
) -> None:
    dialog = ClientFormDialog(desk.context)
    qtbot.addWidget(dialog)
    activate(qtbot, dialog)
    dialog.name.setText("A. Lovelace")
    dialog.phones["mobile"].setFocus()
    type_text(qtbot, "+44 7700 900123"[4:])  # "7700 900123" without the leading zero
    dialog.phones["mobile"].setText("07700-900-123")
    dialog.check_duplicates()
    qtbot.waitUntil(lambda: dialog.duplicate.isVisible(), timeout=10000)
    assert "A client with this phone exists: Ada Lovelace" in dialog.duplicate.get_message()
    with qtbot.waitSignal(dialog.sig_open_client, timeout=5000) as opened:
        dialog.open_duplicate.click()
    assert opened.args == [desk.client_id]


def test_editing_keeps_numbers_the_form_does_not_show(qtbot: QtBot, desk: SeededDesk) -> None:
    services = desk.context.services
    assert services is not None
    services.clients.update(
        ClientId(desk.client_id),
        {
            "phones": (
                Phone("07700 900123"),
                Phone("020 7946 0000", "home"),
                Phone("0161 496 0000", "work"),
            )
        },
    )
    record = RecordQueries(desk.context.session_factory).client_record(desk.client_id)
    dialog = ClientFormDialog(desk.context, record)
    qtbot.addWidget(dialog)
    assert dialog.phones["home"].text() == "02079460000"
    dialog.city.setText("London")
    with qtbot.waitSignal(dialog.sig_saved, timeout=10000):
        dialog.save()
    client = services.clients.get(ClientId(desk.client_id))
    assert client.city == "London"
    assert [p.kind.value for p in client.phones] == ["mobile", "home", "work"]


def test_enter_on_the_list_opens_the_record(qtbot: QtBot, desk: SeededDesk) -> None:
    page = ClientsPage(desk.context)
    qtbot.addWidget(page)
    activate(qtbot, page)
    qtbot.waitUntil(lambda: page.grid.row_count() == 2, timeout=10000)
    qtbot.waitUntil(lambda: not page.grid.is_loading(), timeout=10000)
    table = page.grid.table_view()
    table.setFocus()
    table.setCurrentIndex(page.grid.model().index(0, 1))
    assert table.currentIndex().isValid()
    with qtbot.waitSignal(page.grid.sig_row_activated, timeout=5000):
        qtbot.keyClick(table, Qt.Key.Key_Return)
    found: list[ClientRecordDialog] = []
    qtbot.waitUntil(
        lambda: bool(
            found.extend(
                w for w in QApplication.topLevelWidgets() if isinstance(w, ClientRecordDialog)
            )
            or found
        ),
        timeout=10000,
    )
    dialog = found[0]
    qtbot.waitUntil(lambda: dialog.record is not None, timeout=10000)
    assert dialog.record is not None
    assert dialog.record.name == "Ada Lovelace"
    qtbot.keyClick(dialog, Qt.Key.Key_Escape)  # Escape closes a dialog
    qtbot.waitUntil(lambda: not dialog.isVisible(), timeout=5000)


def test_the_jobs_tab_lists_jobs_linked_to_the_client_or_caused_by_its_events(
    qtbot: QtBot, desk: SeededDesk
) -> None:
    from purplecross_desktop.domain.event_log import EventRow

    with desk.context.session_factory() as session, session.begin():
        event_id = session.scalar(
            sa.select(sa.func.max(EventRow.id)).where(
                EventRow.entity == "client", EventRow.entity_id == desk.client_id
            )
        )
        assert event_id is not None  # the fixture updated Ada's phones
        rows = (
            ("job-linked", "reminders.send", "completed", {"client_id": desk.client_id}),
            ("job-caused", "webhooks.deliver", "dead", {"event_id": event_id}),
            ("job-other", "reminders.send", "completed", {"client_id": desk.client_id + 1000}),
        )
        for seq, (job_id, task, state, link) in enumerate(rows, start=1):
            session.add(
                Job(
                    id=job_id,
                    queue="reminders",
                    task=task,
                    state=state,
                    token="t",
                    seq=seq,
                    attempts=1,
                    error_message="410 gone" if state == "dead" else None,
                    **link,
                )
            )
    dialog = ClientRecordDialog(desk.context, desk.client_id)
    qtbot.addWidget(dialog)
    with qtbot.waitSignal(dialog.sig_loaded, timeout=10000):
        dialog.show()
    jobs = dialog.jobs
    assert dialog.tabs.tabText(dialog.tabs.indexOf(jobs)) == "Jobs (2)"
    shown = {jobs.job_id(r): [jobs.text(r, c) for c in (1, 2, 5, 6)] for r in range(2)}
    assert shown == {
        "job-linked": ["reminders.send", "Completed", "linked", ""],
        "job-caused": ["webhooks.deliver", "Dead", "client.updated", "410 gone"],
    }
