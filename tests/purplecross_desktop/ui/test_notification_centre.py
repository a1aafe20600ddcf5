"""The notifications centre: unread count per signed-in member, tray message, mark read."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from pytestqt.qtbot import QtBot

from purplecross_desktop.app import build_context, build_window, shutdown
from purplecross_desktop.database.base import StaffId
from purplecross_desktop.domain.notifications import NotificationKind
from purplecross_desktop.domain.roles import StaffRole
from purplecross_desktop.settings import load_settings
from purplecross_desktop.ui.context import AppContext
from purplecross_desktop.ui.main_window import MainWindow
from purplecross_desktop.ui.notifications import InboxModel
from tests.support.staff import sign_in

pytestmark = pytest.mark.gui


@pytest.fixture
def opened(qtbot: QtBot) -> Iterator[tuple[AppContext, MainWindow]]:
    context = build_context(load_settings(), start_jobs=False)
    sign_in(context)
    win = build_window(context)
    win.notification_centre.timer.setInterval(100)
    qtbot.addWidget(win)
    yield context, win
    shutdown(context)


def _deliver(
    context: AppContext,
    staff: int,
    title: str,
    kind: NotificationKind = NotificationKind.PAYMENT_RECEIVED,
    link: str | None = None,
    important: bool = False,
) -> int:
    assert context.services is not None
    row = context.services.notifications.deliver(
        StaffId(staff),
        kind,
        title,
        f"{title}: the details.",
        dedupe_key=f"test:{staff}:{title}",
        link=link,
        important=important,
    )
    assert row is not None
    return row


def test_the_unread_count_shows_on_the_button_and_mark_all_read_clears_it(
    opened: tuple[AppContext, MainWindow], qtbot: QtBot, tmp_path: Path
) -> None:
    context, window = opened
    me = context.staff_session.current
    assert me is not None
    _deliver(context, me.staff_id, "Payment received")
    _deliver(context, me.staff_id, "Invoice due", NotificationKind.INVOICE_DUE)
    qtbot.waitUntil(lambda: window.notifications_button.text() == "Notifications (2)")
    window.toggle_notifications()
    centre = window.notification_centre
    qtbot.waitUntil(lambda: centre.model.rowCount() == 2)
    assert centre.title_label.text() == "Notifications (2 unread)"
    assert [i.title for i in centre.model.items()] == ["Invoice due", "Payment received"]
    window.resize(1280, 800)
    window.grab().save(str(tmp_path / "notifications.png"))
    centre.mark_all_button.click()
    qtbot.waitUntil(lambda: window.notifications_button.text() == "Notifications")
    assert context.services is not None
    assert context.services.notifications.unread_count(me.staff_id) == 0


def test_opening_a_notification_marks_it_read(
    opened: tuple[AppContext, MainWindow], qtbot: QtBot
) -> None:
    context, window = opened
    me = context.staff_session.current
    assert me is not None
    _deliver(context, me.staff_id, "First")
    _deliver(context, me.staff_id, "Second")
    centre = window.notification_centre
    qtbot.waitUntil(lambda: centre.unread == 2)
    centre.view.doubleClicked.emit(centre.model.index(1))  # "First"
    qtbot.waitUntil(lambda: centre.unread == 1)
    assert [(i.title, i.unread) for i in centre.model.items()] == [
        ("Second", True),
        ("First", False),
    ]


def test_an_important_arrival_pops_a_message_that_opens_its_link(
    opened: tuple[AppContext, MainWindow], qtbot: QtBot
) -> None:
    context, window = opened
    me = context.staff_session.current
    assert me is not None
    _deliver(context, me.staff_id, "Old report", NotificationKind.REPORT_READY, important=True)
    centre = window.notification_centre
    qtbot.waitUntil(lambda: centre.unread == 1)  # what was there at sign-in does not pop up
    with qtbot.waitSignal(centre.sig_important, timeout=5000) as blocker:
        _deliver(
            context,
            me.staff_id,
            "Report ready",
            NotificationKind.REPORT_READY,
            link="job:abc",
            important=True,
        )
    assert blocker.args[0].title == "Report ready"
    assert window.statusBar().currentMessage().startswith("Report ready: open — ")
    with qtbot.waitSignal(window.sig_page_changed) as page:
        window.open_link("job:abc")
    assert page.args == ["queues"]


def test_each_member_sees_their_own_count(
    opened: tuple[AppContext, MainWindow], qtbot: QtBot
) -> None:
    context, window = opened
    admin = context.staff_session.current
    assert admin is not None
    _deliver(context, admin.staff_id, "For the admin")
    qtbot.waitUntil(lambda: window.notification_centre.unread == 1)
    desk = sign_in(context, StaffRole.FRONT_DESK)
    qtbot.waitUntil(lambda: window.notifications_button.text() == "Notifications")
    _deliver(context, desk.staff_id, "For the desk")
    _deliver(context, desk.staff_id, "Also for the desk")
    qtbot.waitUntil(lambda: window.notifications_button.text() == "Notifications (2)")
    sign_in(context)  # the admin again: their read state is theirs
    qtbot.waitUntil(lambda: window.notifications_button.text() == "Notifications (1)")


def test_the_inbox_model_passes_the_model_tester(
    opened: tuple[AppContext, MainWindow], qtbot: QtBot, qtmodeltester: object
) -> None:
    context, window = opened
    me = context.staff_session.current
    assert me is not None
    for n in range(3):
        _deliver(context, me.staff_id, f"Note {n}")
    qtbot.waitUntil(lambda: window.notification_centre.model.rowCount() == 3)
    model: InboxModel = window.notification_centre.model
    qtmodeltester.check(model)  # type: ignore[attr-defined]
