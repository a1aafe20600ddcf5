"""TaskRunner: the one mechanism that runs work off the UI thread (grid and screens)."""

from __future__ import annotations

import threading

import pytest
from PySide6.QtCore import QThread
from pytestqt.qtbot import QtBot

from widgets.tasks import TaskRunner

pytestmark = pytest.mark.gui


def test_work_runs_on_a_worker_and_results_arrive_on_the_ui_thread(qtbot: QtBot) -> None:
    runner = TaskRunner(threads=2)
    ui_thread = QThread.currentThread()
    seen: dict[str, object] = {}

    def done(value: object) -> None:
        seen["value"] = value
        seen["on_ui"] = QThread.currentThread() is ui_thread

    runner.submit(threading.current_thread, done, pytest.fail)
    qtbot.waitUntil(lambda: "value" in seen)
    assert seen["value"] is not threading.current_thread()
    assert seen["on_ui"] is True
    runner.shutdown()


def test_a_failure_goes_to_on_error(qtbot: QtBot) -> None:
    runner = TaskRunner()
    errors: list[BaseException] = []

    def work() -> None:
        raise ValueError("bad page")

    runner.submit(work, pytest.fail, errors.append)
    qtbot.waitUntil(lambda: bool(errors))
    assert [str(e) for e in errors] == ["bad page"]
    runner.shutdown()


def test_results_after_shutdown_are_dropped(qtbot: QtBot) -> None:
    runner = TaskRunner()
    gate, started = threading.Event(), threading.Event()
    results: list[object] = []

    def work() -> str:
        started.set()
        gate.wait(5)
        return "late"

    runner.submit(work, results.append, results.append)
    assert started.wait(5)
    gate.set()
    runner.shutdown()  # waits for the running task; its result must not be delivered
    qtbot.wait(50)
    assert results == []
