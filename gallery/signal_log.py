"""The signal log (Storybook's actions): every signal a story's widgets emit, with args."""

from __future__ import annotations

import time
from typing import Any, Final

from PySide6.QtCore import (
    SIGNAL,
    QMetaMethod,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    Signal,
)
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPlainTextEdit, QPushButton, QVBoxLayout, QWidget

#: Signals that only report the widget's own teardown or bookkeeping (a header view's
#: geometry and section sizes change on every layout pass, not because of the user).
IGNORED: Final = frozenset(
    {
        "destroyed",
        "objectNameChanged",
        "geometriesChanged",
        "sectionCountChanged",
        "sectionResized",
        "windowIconChanged",
        "windowIconTextChanged",
        "windowTitleChanged",
    }
)
#: Widgets from these packages are watched inside a story (stock Qt children are not, nor
#: non-widget objects such as a grid's model, whose resets and data changes are plumbing).
WATCHED_PACKAGES: Final = ("widgets.", "gallery.")


def signal_signatures(obj: QObject) -> list[str]:
    """The signals of ``obj`` as C++ signatures, one overload per name (the richest).

    Discovered through ``QMetaObject``, so Qt's own signals (``clicked(bool)``) and
    ours (``sig_closed()``) are found alike.
    """
    meta = obj.metaObject()
    best: dict[str, tuple[int, str]] = {}
    for i in range(meta.methodCount()):
        method = meta.method(i)
        if method.methodType() != QMetaMethod.MethodType.Signal:
            continue
        name = bytes(method.name().data()).decode()
        if name in IGNORED:
            continue
        signature = bytes(method.methodSignature().data()).decode()
        arity = method.parameterCount()
        if name not in best or arity > best[name][0]:
            best[name] = (arity, signature)
    return [signature for _, signature in best.values()]


def describe(obj: QObject) -> str:
    """A short label for a widget in the log: class and accessible name or text."""
    label = ""
    for getter in ("accessibleName", "text", "objectName"):
        value = getattr(obj, getter, None)
        if callable(value):
            text = value()
            if isinstance(text, str) and text:
                label = text
                break
    return f"{type(obj).__name__} '{label}'" if label else type(obj).__name__


def format_arg(arg: Any) -> str:
    """One signal argument as the log shows it: an index as its row and column, a widget
    by its label, anything else by ``repr``."""
    if isinstance(arg, QModelIndex | QPersistentModelIndex):
        return f"row {arg.row()}, column {arg.column()}" if arg.isValid() else "no row"
    if isinstance(arg, QObject):
        return describe(arg)
    return repr(arg)


class SignalSpy(QObject):
    """Connects to every signal of a widget and its kit descendants.

    Args:
        parent: the QObject parent.

    Signals:
        sig_emitted(str, str, list): source label, signal signature, the arguments.
    """

    sig_emitted = Signal(str, str, list)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        # QMetaObject.Connection handles (PySide6 exposes no public type name for them).
        self._connections: list[Any] = []

    def watch(self, root: QObject) -> int:
        """Stop watching the previous tree and watch ``root``; returns signals connected."""
        self.clear()
        targets = [root] + [
            child
            for child in root.findChildren(QObject)
            if child.isWidgetType() and type(child).__module__.startswith(WATCHED_PACKAGES)
        ]
        for target in targets:
            for signature in signal_signatures(target):
                connection = QObject.connect(
                    target,
                    SIGNAL(signature),
                    # The label is read as the signal comes: a button's text may change.
                    lambda *args, s=signature, src=target: self._emitted(describe(src), s, args),
                )
                self._connections.append(connection)
        return len(self._connections)

    def clear(self) -> None:
        """Disconnect from everything watched."""
        for connection in self._connections:
            QObject.disconnect(connection)
        self._connections.clear()

    def _emitted(self, source: str, signature: str, args: tuple[Any, ...]) -> None:
        self.sig_emitted.emit(source, signature, list(args))


class SignalLog(QWidget):
    """A read-only log of emitted signals with a Clear button.

    Signals:
        None.
    """

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._entries: list[tuple[str, str, list[Any]]] = []
        self._text = QPlainTextEdit()
        self._text.setReadOnly(True)
        self._text.setAccessibleName("Signal log")
        self._text.setMaximumBlockCount(2000)
        self._count = QLabel()
        clear = QPushButton("Clear log")
        clear.clicked.connect(self.clear)
        header = QHBoxLayout()
        header.addWidget(QLabel("Signals"))
        header.addWidget(self._count, 1)
        header.addWidget(clear)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(header)
        layout.addWidget(self._text)
        self._update_count()

    def entries(self) -> list[tuple[str, str, list[Any]]]:
        """Every (source, signature, args) logged since the last clear."""
        return list(self._entries)

    def add(self, source: str, signature: str, args: list[Any]) -> None:
        """Log one emission."""
        self._entries.append((source, signature, args))
        stamp = time.strftime("%H:%M:%S")
        shown = ", ".join(format_arg(arg) for arg in args)
        name = signature.split("(", 1)[0]
        self._text.appendPlainText(f"{stamp}  {source} · {name}({shown})")
        self._update_count()

    def clear(self) -> None:
        """Forget every entry."""
        self._entries.clear()
        self._text.clear()
        self._update_count()

    def _update_count(self) -> None:
        count = len(self._entries)
        self._count.setText(f"({count} emitted)" if count else "")
