"""PySide6 6.12.0 on CPython 3.11 corrupts the refcount of None on void Qt calls and
aborts after a few thousand (DESIGN.md, known traps). Make ~20,000 such calls in a
fresh interpreter; a broken PySide6 dies with ``none_dealloc`` instead of printing ok."""

from __future__ import annotations

import os
import subprocess
import sys

CODE = r"""
import sys
from PySide6.QtCore import QObject, QTimer
from PySide6.QtWidgets import QApplication, QLabel
app = QApplication([])
obj = QObject()
label = QLabel()
timer = QTimer()
before = sys.getrefcount(None)
for i in range(5000):
    obj.setObjectName("x")      # void calls, each returning None
    label.setText(str(i))
    timer.setInterval(i)
    label.setToolTip("t")
after = sys.getrefcount(None)
print("ok", before, after)
"""


def test_twenty_thousand_void_qt_calls_keep_the_interpreter_alive() -> None:
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    result = subprocess.run(
        [sys.executable, "-c", CODE], capture_output=True, text=True, env=env, timeout=120
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.startswith("ok")
    _, before, after = result.stdout.split()
    # A leak of one reference per call would take 5,000-20,000 off None's count.
    assert int(after) >= int(before) - 100, result.stdout


def test_pyside6_is_pinned_below_6_12() -> None:
    import PySide6

    major, minor = (int(x) for x in PySide6.__version__.split(".")[:2])
    assert (major, minor) < (6, 12), f"PySide6 {PySide6.__version__} aborts on Python 3.11"
