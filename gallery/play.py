"""Play functions (Storybook's ``play``): a story's scripted interaction, run in the
gallery (Play, Ctrl+P) and as a test, with assertions on the signals it emits."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final, Literal

from PySide6.QtCore import Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QWidget

from gallery.signal_log import SignalSpy

StepAction = Literal["click", "type", "key", "expect"]
ACTIONS: Final[tuple[str, ...]] = ("click", "type", "key", "expect")


@dataclass(frozen=True)
class Step:
    """One step of a play function.

    Args:
        action: ``click`` the target, ``type`` ``value`` into it, press the ``key``
            named by ``value`` (``Return``, ``Escape``, ``Tab``...), or ``expect`` that a
            signal named ``value`` came from the target since the previous expect.
        target: the widget, by its accessible name or its text ("" = the story's root);
            for ``expect``, part of the source's label in the signal log
            (``Button 'Save'``: "Save" or "Button"), "" for any source.
        value: the text, key or signal name.
    """

    action: StepAction
    target: str = ""
    value: str = ""

    def __post_init__(self) -> None:
        if self.action not in ACTIONS:
            raise ValueError(f"step action: must be one of {', '.join(ACTIONS)}")
        if self.action in ("type", "key", "expect") and not self.value:
            raise ValueError(f"step {self.action}: needs a value")

    def __str__(self) -> str:
        where = f" {self.target!r}" if self.target else ""
        return f"{self.action}{where}" + (f" {self.value!r}" if self.value else "")


def find_target(root: QWidget, name: str) -> QWidget | None:
    """``root`` for "", else the first visible widget inside it whose accessible name or
    text is ``name``."""
    if not name:
        return root
    for widget in [root, *root.findChildren(QWidget)]:
        if not widget.isVisibleTo(root) and widget is not root:
            continue
        text = getattr(widget, "text", None)
        label = text() if callable(text) else None
        if name in (widget.accessibleName(), label):
            return widget
    return None


def run_play(root: QWidget, steps: Sequence[Step]) -> list[str]:
    """Run ``steps`` on ``root`` (shown); returns what failed ([] when all passed).

    A step whose target is missing fails and stops the play (later steps would act on
    the wrong state).
    """
    spy = SignalSpy()
    seen: list[tuple[str, str]] = []
    spy.sig_emitted.connect(lambda source, signature, _args: seen.append((source, signature)))
    spy.watch(root)
    failures: list[str] = []
    try:
        for number, step in enumerate(steps, start=1):
            # An expectation's target names the signal's source (its label in the log).
            target = root if step.action == "expect" else find_target(root, step.target)
            if target is None:
                failures.append(f"step {number} ({step}): no widget {step.target!r}")
                break
            if step.action == "click":
                QTest.mouseClick(target, Qt.MouseButton.LeftButton)
            elif step.action == "type":
                target.setFocus()
                QTest.keyClicks(target, step.value)
            elif step.action == "key":
                key = getattr(Qt.Key, f"Key_{step.value}", None)
                if key is None:
                    failures.append(f"step {number} ({step}): no key {step.value!r}")
                    break
                QTest.keyClick(target, key)
            else:
                QApplication.processEvents()
                names = [sig.split("(", 1)[0] for source, sig in seen if step.target in source]
                if step.value not in names:
                    failures.append(
                        f"step {number} ({step}): not emitted; saw {', '.join(names) or 'none'}"
                    )
                seen.clear()
            QApplication.processEvents()
    finally:
        spy.clear()
        spy.deleteLater()
    return failures
