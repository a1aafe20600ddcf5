"""Background operations: results and failures arrive on the UI thread, late ones are dropped."""

from __future__ import annotations

import threading

from PySide6.QtCore import QObject, QThread
from pytestqt.qtbot import QtBot

from purplecross_desktop.operations import BackgroundOperation, OperationRunner


def test_success_is_delivered_on_the_ui_thread(qtbot: QtBot) -> None:
    runner = OperationRunner()
    ui_thread = QThread.currentThread()
    seen: dict[str, object] = {}

    def work() -> int:
        seen["worker"] = threading.current_thread().name
        return 42

    def done(value: int) -> None:
        seen["value"] = value
        seen["on_ui"] = QThread.currentThread() is ui_thread

    with qtbot.waitSignal(runner.sig_busy_changed, check_params_cb=lambda n: n == 0):
        BackgroundOperation(None, work, runner).success(done).run_in_background()
    assert seen["value"] == 42
    assert seen["on_ui"] is True
    assert seen["worker"] != threading.current_thread().name
    assert runner.in_flight() == 0


def test_failure_goes_to_the_failure_callback(qtbot: QtBot) -> None:
    runner = OperationRunner()
    errors: list[BaseException] = []
    finished: list[bool] = []

    def work() -> None:
        raise ValueError("email: must be a valid email address")

    with qtbot.waitSignal(runner.sig_busy_changed, check_params_cb=lambda n: n == 0):
        BackgroundOperation(None, work, runner).failure(errors.append).finally_(
            lambda: finished.append(True)
        ).run_in_background()
    assert [str(e) for e in errors] == ["email: must be a valid email address"]
    assert finished == [True]


def test_unhandled_failure_is_reported_not_raised(qtbot: QtBot) -> None:
    runner = OperationRunner()

    def work() -> None:
        raise RuntimeError("database is locked")

    with qtbot.waitSignal(runner.sig_unhandled_error, timeout=5000) as blocker:
        BackgroundOperation(None, work, runner).run_in_background()
    assert blocker.args == ["RuntimeError: database is locked"]


def test_callbacks_are_dropped_when_the_parent_is_gone(qtbot: QtBot) -> None:
    runner = OperationRunner()
    parent = QObject()
    gate = threading.Event()
    called: list[object] = []
    op = BackgroundOperation(parent, lambda: gate.wait(5), runner).success(called.append)
    op.run_in_background()
    parent.deleteLater()
    qtbot.wait(50)
    gate.set()
    qtbot.waitUntil(lambda: runner.in_flight() == 0)
    assert called == []


def test_wait_for_done_waits_for_running_work_and_times_out(qtbot: QtBot) -> None:
    runner = OperationRunner()
    gate = threading.Event()
    BackgroundOperation(None, lambda: gate.wait(5), runner).run_in_background()
    assert runner.wait_for_done(50) is False  # still running
    gate.set()
    assert runner.wait_for_done(5000) is True
    qtbot.waitUntil(lambda: runner.in_flight() == 0)
