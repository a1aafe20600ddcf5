"""Settings → Integrations → Webhooks on the app's real job runtime, driven like an admin:
register (secret shown once), send a test event, watch clinic events arrive verified at a
loopback receiver, read the delivery log, replay; refused for other roles."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from purplecross_desktop.app import build_context, build_window, shutdown
from purplecross_desktop.domain.clients import ClientData
from purplecross_desktop.domain.roles import StaffRole
from purplecross_desktop.settings import load_settings
from purplecross_desktop.ui.context import AppContext
from purplecross_desktop.ui.main_window import MainWindow
from purplecross_desktop.ui.pages.integrations_page import IntegrationsPage
from purplecross_desktop.ui.webhooks.panel import WebhooksPanel
from tests.jobs.webhook_receiver import Receiver
from tests.support.staff import sign_in

pytestmark = [
    pytest.mark.gui,
    pytest.mark.qt_log_ignore("propagateSizeHints", "does not support raise"),
]

TIMEOUT = 20000
# The page's screenshots land in build/ (to look at); with PURPLECROSS_RECORD_SCREENSHOTS=1
# they replace the ones in docs/screenshots (a test run never edits the docs by itself).
_ROOT = Path(__file__).resolve().parents[3]
SHOTS = (
    _ROOT / "docs" / "screenshots"
    if os.environ.get("PURPLECROSS_RECORD_SCREENSHOTS") == "1"
    else _ROOT / "build" / "screenshots"
)


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with Receiver() as server:
        yield server


@pytest.fixture
def context(qtbot: QtBot, monkeypatch: pytest.MonkeyPatch) -> Iterator[AppContext]:
    monkeypatch.setenv("PURPLECROSS_WEBHOOK_RETRY_SCALE", "0.001")
    context = build_context(load_settings())
    yield context
    shutdown(context)


def _page(qtbot: QtBot, context: AppContext) -> tuple[MainWindow, WebhooksPanel]:
    window = build_window(context)
    qtbot.addWidget(window)
    window.resize(1360, 860)
    window.show()
    page = window.show_page("integrations")
    assert isinstance(page, IntegrationsPage)
    return window, page.webhooks


def _register(qtbot: QtBot, panel: WebhooksPanel, url: str, events: str) -> None:
    panel.register_button.click()
    dialog = panel.register_dialog
    dialog.url_edit.setText(url)
    dialog.events_edit.setText(events)
    dialog.description_edit.setText("Lab results bridge")
    dialog.local_box.setChecked(True)
    dialog.save_button.click()


def test_an_admin_registers_tests_watches_and_replays(
    qtbot: QtBot, context: AppContext, receiver: Receiver
) -> None:
    sign_in(context)
    window, panel = _page(qtbot, context)
    qtbot.waitUntil(lambda: panel.list.count() == 0 and not panel.test_button.isEnabled())

    # Bad input: the rule appears under the field, nothing is saved.
    _register(qtbot, panel, "ftp://lab.example.org/hook", "client.*")
    dialog = panel.register_dialog
    qtbot.waitUntil(lambda: "http:// or https://" in dialog.fields["url"].error())
    dialog.url_edit.setText(receiver.url)
    dialog.events_edit.setText("client.eaten")
    dialog.save_button.click()
    qtbot.waitUntil(lambda: "not an event type" in dialog.fields["events"].error())
    assert context.job_runtime().platform.services["webhooks"].endpoints.endpoints() == []

    dialog.events_edit.setText("client.*, appointment.*")
    dialog.save_button.click()
    qtbot.waitUntil(lambda: panel.last_secret_dialog is not None, timeout=TIMEOUT)
    secret_dialog = panel.last_secret_dialog
    assert secret_dialog is not None
    secret = secret_dialog.secret_edit.text()
    assert secret.startswith("whsec_")
    receiver.secrets.append(secret)
    qtbot.waitUntil(lambda: panel.list.count() == 1, timeout=TIMEOUT)
    for theme in ("light", "dark"):
        _shot(window, theme, secret_dialog, f"webhooks-secret-{theme}.png")
    secret_dialog.accept()

    with qtbot.waitSignal(panel.sig_test_finished, timeout=TIMEOUT):
        panel.test_button.click()
    assert "200" in panel.test_summary.text()
    assert "webhook-signature: v1," in panel.test_view.toPlainText()
    assert receiver.received()[-1].verified

    # Real clinic events arrive, verified, and the log shows every attempt.
    assert context.services is not None
    context.services.clients.create(ClientData("Ada Lovelace"))
    qtbot.waitUntil(lambda: len(receiver.received()) == 2, timeout=TIMEOUT)
    event = receiver.received()[-1]
    assert event.verified
    assert b'"type":"client.created"' in event.body
    _logged(qtbot, context, panel, 2)

    # A failing delivery is retried, then replayed from the log by hand.
    receiver.script = lambda n, msg_id: 500 if n == 3 else 200
    context.services.clients.create(ClientData("Grace Hopper"))
    qtbot.waitUntil(lambda: len(receiver.received()) == 4, timeout=TIMEOUT)
    assert receiver.received()[2].msg_id == receiver.received()[3].msg_id
    _logged(qtbot, context, panel, 4)
    rows = [panel.log.row_at(r) for r in range(panel.log.row_count())]
    failures = [r for r in rows if r is not None and r.values["result"] == "failed"]
    assert len(failures) == 1, [
        (r.id, r.values["result"], r.values["status_code"]) for r in rows if r
    ]
    [failed] = failures
    panel.log.select_ids([failed.id])  # the failed attempt: replay its message
    panel.replay_button.click()
    qtbot.waitUntil(lambda: len(receiver.received()) == 5, timeout=TIMEOUT)
    assert receiver.received()[4].msg_id == failed.values["msg_id"]
    assert all(r.verified for r in receiver.received())
    _logged(qtbot, context, panel, 5)
    with qtbot.waitSignal(panel.sig_test_finished, timeout=TIMEOUT):
        panel.test_button.click()
    qtbot.waitUntil(lambda: panel.log.row_count() == 6, timeout=TIMEOUT)
    for theme in ("light", "dark"):
        _shot(window, theme, window, f"webhooks-page-{theme}.png")
    page = window.show_page("integrations")
    assert isinstance(page, IntegrationsPage)
    page.tabs.setCurrentWidget(page.catalogue)
    page.catalogue.list.setCurrentRow(page.catalogue.list.count() - 1)
    assert "staff.updated" in page.catalogue.summary.text()
    assert '"$schema"' in page.catalogue.text.toPlainText()
    for theme in ("light", "dark"):
        _shot(window, theme, window, f"webhooks-catalogue-{theme}.png")


def test_other_roles_do_not_see_the_page_and_the_service_refuses_them(
    qtbot: QtBot, context: AppContext
) -> None:
    sign_in(context, StaffRole.FRONT_DESK)
    window = build_window(context)
    qtbot.addWidget(window)
    window.show()
    assert "integrations" not in [spec.key for spec in window.page_specs()]
    with pytest.raises(KeyError, match="not available"):
        window.show_page("integrations")
    panel = WebhooksPanel(context)
    qtbot.addWidget(panel)
    with qtbot.waitSignal(panel.sig_message, timeout=TIMEOUT) as said:
        panel.reload()
    assert "only admin" in said.args[0]
    assert panel.list.count() == 0


def _logged(qtbot: QtBot, context: AppContext, panel: WebhooksPanel, count: int) -> None:
    """Wait until ``count`` attempts are recorded (the receiver answers before the worker
    writes its log row), then until the log shows them."""
    service = context.job_runtime().platform.services["webhooks"].endpoints
    qtbot.waitUntil(lambda: len(service.attempts()) == count, timeout=TIMEOUT)
    panel.reload()
    panel.log.refresh()

    def shown() -> bool:  # counted, and every row's values loaded (not a placeholder)
        rows = panel.log.row_count()
        return rows == count and all(panel.log.row_at(r) is not None for r in range(rows))

    qtbot.waitUntil(shown, timeout=TIMEOUT)


def _shot(window: MainWindow, theme: str, widget: object, name: str) -> None:
    from widgets.theme import apply_theme

    app = QApplication.instance()
    assert isinstance(app, QApplication)
    apply_theme(app, theme)
    window.apply_chrome(theme)
    QApplication.processEvents()
    SHOTS.mkdir(parents=True, exist_ok=True)
    widget.grab().save(str(SHOTS / name))  # type: ignore[attr-defined]
