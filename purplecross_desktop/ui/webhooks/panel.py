"""The Webhooks tab: endpoints on the left; details, test event and delivery log on the right.

Every call goes through the webhook service off the UI thread, so a slow receiver or
database never freezes the window, and the service refuses staff who are not admins
(the panel then shows the refusal instead of the endpoints).
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QDate, QDateTime, Qt, QTime, QTimeZone, Signal
from PySide6.QtWidgets import (
    QDateTimeEdit,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QMessageBox,
    QVBoxLayout,
    QWidget,
)

from purplecross_desktop.clinic_time import ClinicTime
from purplecross_desktop.domain.errors import DomainError
from purplecross_desktop.ui.context import AppContext
from purplecross_desktop.ui.webhooks import log_grid
from purplecross_desktop.ui.webhooks.dialogs import (
    RegisterEndpointDialog,
    RequestView,
    SecretDialog,
)
from widgets.alert import Alert
from widgets.button import Button
from widgets.status_chip import StatusChip
from widgets.tokens import Spacing

if TYPE_CHECKING:
    from jobs.webhooks import TestResult, WebhookDelivery
    from purplecross_desktop.domain.webhooks import CreatedEndpoint, EndpointInfo

ENDPOINT_ROLE = Qt.ItemDataRole.UserRole


class WebhooksPanel(QWidget):
    """Register, inspect, test and replay webhook endpoints.

    Args:
        context: the app context (the job runtime holds the webhook family).
        parent: the parent widget.

    Signals:
        sig_endpoints_loaded(list): the endpoints shown (``EndpointInfo``).
        sig_test_finished(object): the ``TestResult`` of "Send test event".
        sig_message(str): an outcome or refusal shown to the admin.
    """

    sig_endpoints_loaded = Signal(list)
    sig_test_finished = Signal(object)
    sig_message = Signal(str)

    def __init__(self, context: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.context = context
        # Times shown and typed here are on the clinic's clock, whatever the workstation's.
        self.clinic = ClinicTime(context.settings.clinic_timezone)
        self.endpoints: list[EndpointInfo] = []
        self.confirmation: QMessageBox | None = None
        self.last_secret_dialog: SecretDialog | None = None
        self._delivery: WebhookDelivery | None = None
        self._log_endpoint: int | None = -1
        outer = QHBoxLayout(self)
        outer.setContentsMargins(0, Spacing.MD, 0, 0)
        outer.setSpacing(Spacing.LG)
        outer.addWidget(self._build_list())
        outer.addLayout(self._build_details(), 1)
        self._show_endpoint(None)

    # Building ---------------------------------------------------------------------------
    def _build_list(self) -> QWidget:
        box = QWidget()
        box.setFixedWidth(320)
        layout = QVBoxLayout(box)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(Spacing.SM)
        heading = QLabel("Endpoints")
        heading.setObjectName("formSection")
        layout.addWidget(heading)
        self.list = QListWidget()
        self.list.setAccessibleName("Webhook endpoints")
        self.list.setWordWrap(True)
        self.list.currentItemChanged.connect(lambda *_: self._on_select())
        layout.addWidget(self.list, 1)
        self.register_button = Button("Register endpoint…", accessible_name="Register endpoint")
        self.register_button.clicked.connect(self.register)
        layout.addWidget(self.register_button)
        return box

    def _build_details(self) -> QVBoxLayout:
        layout = QVBoxLayout()
        layout.setSpacing(Spacing.SM)
        self.message = Alert("", kind="info")
        self.message.setVisible(False)
        layout.addWidget(self.message)
        title_row = QHBoxLayout()
        self.url_label = QLabel("")
        self.url_label.setObjectName("formSection")
        self.url_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.state_chip = StatusChip("")
        title_row.addWidget(self.url_label, 1)
        title_row.addWidget(self.state_chip)
        layout.addLayout(title_row)
        self.detail_label = QLabel("")
        self.detail_label.setWordWrap(True)
        self.detail_label.setAccessibleName("Endpoint details")
        layout.addWidget(self.detail_label)
        self.disabled_alert = Alert("", kind="warning")
        self.disabled_alert.setVisible(False)
        layout.addWidget(self.disabled_alert)
        actions = QHBoxLayout()
        self.test_button = Button("Send test event", variant="secondary")
        self.test_button.clicked.connect(self.send_test)
        self.toggle_button = Button("Disable", variant="secondary")
        self.toggle_button.clicked.connect(self.toggle_enabled)
        self.rotate_button = Button("Rotate secret", variant="secondary")
        self.rotate_button.clicked.connect(self.rotate_secret)
        self.remove_button = Button("Remove", variant="danger")
        self.remove_button.clicked.connect(self.remove)
        for button in (self.test_button, self.toggle_button, self.rotate_button):
            actions.addWidget(button)
        actions.addStretch(1)
        actions.addWidget(self.remove_button)
        layout.addLayout(actions)
        self.test_summary = QLabel("")
        self.test_summary.setAccessibleName("Test event result")
        self.test_view = RequestView()
        self.test_view.setAccessibleName("Test request and response")
        self.test_view.setMaximumHeight(140)
        self.test_summary.setVisible(False)
        self.test_view.setVisible(False)
        layout.addWidget(self.test_summary)
        layout.addWidget(self.test_view)
        log_row = QHBoxLayout()
        log_heading = QLabel("Delivery log")
        log_heading.setObjectName("formSection")
        log_row.addWidget(log_heading)
        log_row.addStretch(1)
        self.replay_button = Button("Replay selected", variant="secondary", button_size="small")
        self.replay_button.clicked.connect(self.replay_selected)
        log_row.addWidget(self.replay_button)
        log_row.addWidget(QLabel("Failed since"))
        # The edit holds the clinic's wall-clock date and time (in Qt's UTC, which has no
        # gaps, so no workstation zone shifts what is typed); recover_since() reads it.
        self.since_edit = QDateTimeEdit()
        self.since_edit.setTimeZone(QTimeZone(QTimeZone.Initialization.UTC))
        self.since_edit.setCalendarPopup(True)
        self.since_edit.setDisplayFormat("yyyy-MM-dd HH:mm")
        self.since_edit.setAccessibleName("Recover failed since")
        self.since_zone = QLabel("")
        self.since_zone.setAccessibleName("Recover since: time zone")
        self.since_edit.dateTimeChanged.connect(lambda _v: self._show_since_zone())
        self.set_recover_since(self.clinic.now() - dt.timedelta(days=1))
        log_row.addWidget(self.since_edit)
        log_row.addWidget(self.since_zone)
        self.recover_button = Button("Recover", variant="secondary", button_size="small")
        self.recover_button.clicked.connect(self.recover)
        log_row.addWidget(self.recover_button)
        layout.addLayout(log_row)
        self.log = log_grid.make_grid(self.context)
        layout.addWidget(self.log, 1)
        return layout

    # Loading ----------------------------------------------------------------------------
    def delivery(self) -> WebhookDelivery:
        """The webhook family (off the UI thread only: it may wait for the job runtime)."""
        if self._delivery is None:
            self._delivery = self.context.job_runtime().platform.services["webhooks"]
        return self._delivery

    def reload(self, select: int | None = None) -> None:
        """Read the endpoints again (keeping or moving the selection)."""
        keep = select if select is not None else self.current_id()
        self._run(
            lambda: self.delivery().endpoints.endpoints(),
            lambda found: self._loaded(found, keep),
        )

    def _loaded(self, endpoints: list[EndpointInfo], keep: int | None) -> None:
        self.endpoints = endpoints
        self.list.blockSignals(True)
        self.list.clear()
        chosen = 0
        for index, info in enumerate(endpoints):
            item = QListWidgetItem(_list_text(info))
            item.setData(ENDPOINT_ROLE, info.id)
            item.setToolTip(info.url)
            self.list.addItem(item)
            if info.id == keep:
                chosen = index
        self.list.blockSignals(False)
        if endpoints:
            self.list.setCurrentRow(chosen)
        self._on_select()
        self.sig_endpoints_loaded.emit(endpoints)

    def current_id(self) -> int | None:
        item = self.list.currentItem()
        return None if item is None else int(item.data(ENDPOINT_ROLE))

    def current(self) -> EndpointInfo | None:
        wanted = self.current_id()
        return next((e for e in self.endpoints if e.id == wanted), None)

    def _on_select(self) -> None:
        self._show_endpoint(self.current())

    def _show_endpoint(self, info: EndpointInfo | None) -> None:
        has = info is not None
        for button in (
            self.test_button,
            self.toggle_button,
            self.rotate_button,
            self.remove_button,
            self.replay_button,
            self.recover_button,
        ):
            button.setEnabled(has)
        self.test_summary.setVisible(False)
        self.test_view.setVisible(False)
        shown = info.id if info else None
        if shown != self._log_endpoint or info is None:
            # A reload of the same endpoint keeps the log's page, sort and selection.
            self._log_endpoint = shown
            self.log.set_source(log_grid.source(self.context, shown))
        if info is None:
            self.url_label.setText("No endpoint selected")
            self.state_chip.setVisible(False)
            self.detail_label.setText(
                "Register an endpoint to send the clinic's events to another system (a lab, "
                "an SMS provider, accounting). Each request is signed (Standard Webhooks)."
            )
            self.disabled_alert.setVisible(False)
            return
        self.url_label.setText(info.url)
        self.state_chip.setVisible(True)
        if not info.enabled:
            self.state_chip.set_text("Disabled")
            self.state_chip.set_tone("error")
        elif info.failing_since is not None:
            self.state_chip.set_text("Failing")
            self.state_chip.set_tone("warning")
        else:
            self.state_chip.set_text("Enabled")
            self.state_chip.set_tone("success")
        self.toggle_button.setText("Enable" if not info.enabled else "Disable")
        counts = ", ".join(f"{n} {state}" for state, n in sorted(info.counts.items()))
        lines = [
            info.description or "(no description)",
            "Events: " + ", ".join(info.event_types),
            "Messages: " + (counts or "none yet"),
        ]
        if info.allow_local_network:
            lines.append("Local network allowed")
        if info.rotating_until is not None and info.rotating_until > dt.datetime.now(dt.UTC):
            lines.append(
                f"Old secret also signs until {self.clinic.format_moment(info.rotating_until)}"
            )
        self.detail_label.setText("\n".join(lines))
        if not info.enabled:
            self.disabled_alert.set_message(
                f"Disabled: {info.disabled_reason}. Enable it, then recover what failed."
            )
        self.disabled_alert.setVisible(not info.enabled)

    # Actions ----------------------------------------------------------------------------
    def register(self) -> None:
        def create(*args: Any, **kwargs: Any) -> CreatedEndpoint:
            return self.delivery().endpoints.create(*args, **kwargs)

        dialog = RegisterEndpointDialog(self.context, create, self)
        dialog.sig_saved.connect(self._registered)
        self.register_dialog = dialog
        dialog.open()

    def _registered(self, created: CreatedEndpoint) -> None:
        self.say(f"Endpoint {created.endpoint.id} registered.")
        self.reload(select=created.endpoint.id)
        self._show_secret(created.secret, created.endpoint.url)

    def _show_secret(self, secret: str, url: str) -> None:
        dialog = SecretDialog(secret, url, self)
        self.last_secret_dialog = dialog
        dialog.open()

    def send_test(self) -> None:
        endpoint = self.current_id()
        if endpoint is None:
            return
        self.test_button.set_loading(True)
        self._run(
            lambda: self.delivery().send_test(endpoint),
            self._tested,
            finally_=lambda: self.test_button.set_loading(False),
        )

    def _tested(self, result: TestResult) -> None:
        outcome = result.outcome
        status = f"{outcome.status_code}" if outcome.status_code is not None else "no response"
        verdict = "delivered" if outcome.succeeded else f"failed: {outcome.error}"
        self.test_summary.setText(
            f"Test event {result.msg_id}: {status} in {outcome.duration_ms:.0f} ms ({verdict})"
        )
        headers = outcome.request.get("headers", {})
        lines = [f"POST {outcome.request.get('url', '')}"]
        lines += [f"{k}: {v}" for k, v in headers.items()]
        lines += ["", json.dumps(json.loads(result.body), indent=2), "", f"← {status}"]
        if outcome.excerpt:
            lines.append(outcome.excerpt[:1000])
        self.test_view.setPlainText("\n".join(lines))
        self.test_summary.setVisible(True)
        self.test_view.setVisible(True)
        self.log.refresh()
        self.sig_test_finished.emit(result)

    def toggle_enabled(self) -> None:
        info = self.current()
        if info is None:
            return
        if info.enabled:
            self._run(
                lambda: self.delivery().endpoints.disable(info.id),
                lambda _: self._done("disabled", info.id),
            )
        else:
            self._run(
                lambda: self.delivery().endpoints.enable(info.id),
                lambda _: self._enabled(info.id),
            )

    def _enabled(self, endpoint_id: int) -> None:
        self._done("enabled", endpoint_id)
        self.say(f"Endpoint {endpoint_id} enabled. Use Recover to re-send what failed meanwhile.")

    def rotate_secret(self) -> None:
        info = self.current()
        if info is None:
            return
        self._confirm(
            f"Rotate the signing secret of {info.url}? The old secret keeps signing for "
            "24 hours, so the receiver can switch in that time.",
            lambda: self._run(
                lambda: self.delivery().endpoints.rotate_secret(info.id),
                lambda secret: self._rotated(secret, info.url),
            ),
        )

    def remove(self) -> None:
        info = self.current()
        if info is None:
            return
        self._confirm(
            f"Remove {info.url} with its messages and delivery log?",
            lambda: self._run(
                lambda: self.delivery().endpoints.remove(info.id),
                lambda _: self._report(f"Endpoint {info.id} removed."),
            ),
        )

    def replay_selected(self) -> None:
        ids = set(self.log.selected_ids())
        rows = [self.log.row_at(r) for r in range(self.log.row_count())]
        messages = sorted({r.values["msg_id"] for r in rows if r is not None and r.id in ids})
        if not messages:
            self.say("Select one or more deliveries in the log first.")
            return

        def work() -> int:
            for msg_id in messages:
                self.delivery().replay(msg_id)
            return len(messages)

        self._run(work, lambda n: self._report(f"{n} message(s) queued again."))

    def recover_since(self) -> dt.datetime:
        """The "Failed since" input as an aware UTC instant: typed on the clinic's clock."""
        day = self.since_edit.date().toPython()
        time = self.since_edit.time().toPython()
        assert isinstance(day, dt.date)
        assert isinstance(time, dt.time)
        return self.clinic.at(day, time.replace(second=0, microsecond=0)).astimezone(dt.UTC)

    def set_recover_since(self, moment: dt.datetime) -> None:
        """Show ``moment`` (aware) in the "Failed since" input, on the clinic's clock."""
        local = self.clinic.local(moment)
        self.since_edit.setDateTime(
            QDateTime(
                QDate(local.year, local.month, local.day),
                QTime(local.hour, local.minute),
                QTimeZone(QTimeZone.Initialization.UTC),
            )
        )
        self._show_since_zone()

    def _show_since_zone(self) -> None:
        # The zone's abbreviation at the chosen time ("GMT", "BST"), as spans show it.
        self.since_zone.setText(f"{self.clinic.local(self.recover_since()):%Z}")

    def recover(self) -> None:
        info = self.current()
        if info is None:
            return
        since = self.recover_since()
        self._run(
            lambda: self.delivery().recover(info.id, since),
            lambda n: self._report(f"{n} failed or missed message(s) queued again."),
        )

    # Helpers ----------------------------------------------------------------------------
    def _rotated(self, secret: str, url: str) -> None:
        self._show_secret(secret, url)
        self.reload()

    def _report(self, text: str) -> None:
        """Say ``text``, then read the endpoints and the log again."""
        self.say(text)
        self.reload()
        self.log.refresh()

    def _done(self, what: str, endpoint_id: int) -> None:
        self.say(f"Endpoint {endpoint_id} {what}.")
        self.reload(select=endpoint_id)

    def say(self, text: str, kind: str = "info") -> None:
        self.message.set_kind(kind)
        self.message.set_message(text)
        self.message.setVisible(True)
        self.sig_message.emit(text)

    def _confirm(self, text: str, then: Callable[[], None]) -> None:
        box = QMessageBox(
            QMessageBox.Icon.Question,
            "Webhooks",
            text,
            QMessageBox.StandardButton.Ok | QMessageBox.StandardButton.Cancel,
            self,
        )
        box.accepted.connect(then)
        self.confirmation = box
        box.open()

    def _run(
        self,
        work: Callable[[], Any],
        success: Callable[[Any], Any],
        finally_: Callable[[], None] | None = None,
    ) -> None:
        operation = self.context.background(self, work).success(success).failure(self._failed)
        if finally_ is not None:
            operation = operation.finally_(finally_)
        operation.run_in_background()

    def _failed(self, exc: BaseException) -> None:
        if isinstance(exc, DomainError):
            self.say(str(exc), "error")
        else:
            self.say(f"The webhook service did not answer ({type(exc).__name__}: {exc}).", "error")


def _list_text(info: EndpointInfo) -> str:
    state = "disabled" if not info.enabled else "failing" if info.failing_since else "enabled"
    failed = info.counts.get("failed", 0)
    waiting = sum(info.counts.get(s, 0) for s in ("pending", "queued", "sending"))
    return (
        f"{info.url}\n{state} · {', '.join(info.event_types)} · {waiting} waiting, {failed} failed"
    )
