"""The Docs tab and export pages: docstring, Qt properties, signals and a code snippet."""

from __future__ import annotations

import html
import inspect
from collections.abc import Mapping
from typing import Any

from PySide6.QtCore import QMetaMethod, QMetaObject
from PySide6.QtWidgets import QWidget

from gallery.story import Component, Control, Story


def _meta(widget_class: type[QWidget]) -> QMetaObject:
    return widget_class.staticMetaObject  # type: ignore[attr-defined,no-any-return]


def widget_properties(
    widget_class: type[QWidget], instance: QWidget | None = None
) -> list[tuple[str, str, str]]:
    """(name, type, current value) of the Qt properties ``widget_class`` itself declares."""
    meta = _meta(widget_class)
    rows = []
    for i in range(meta.propertyOffset(), meta.propertyCount()):
        prop = meta.property(i)
        name = str(prop.name())
        value = repr(instance.property(name)) if instance is not None else ""
        rows.append((name, str(prop.typeName()), value))
    return rows


def widget_signals(widget_class: type[QWidget]) -> list[str]:
    """Signatures of the signals ``widget_class`` adds to QWidget (``clicked(bool)``, ...)."""
    meta = _meta(widget_class)
    start = _meta(QWidget).methodCount()
    return [
        bytes(meta.method(i).methodSignature().data()).decode()
        for i in range(start, meta.methodCount())
        if meta.method(i).methodType() == QMetaMethod.MethodType.Signal
    ]


def args_table(component: Component, story: Story, args: Mapping[str, Any]) -> str:
    """Storybook's args table: each arg's control, default, current value and meaning."""
    if not story.args:
        return ""
    esc = html.escape
    rows = "".join(
        f"<tr><td><code>{esc(c.name)}</code></td><td>{esc(_control_text(c))}</td>"
        f"<td><code>{esc(_short(c.default))}</code></td>"
        f"<td><code>{esc(_short(args.get(c.name, c.default)))}</code></td>"
        f"<td>{esc(component.arg_docs.get(c.name, ''))}</td></tr>"
        for c in story.controls()
    )
    return (
        "<h4>Args</h4><table cellpadding='4' cellspacing='0' border='1'>"
        "<tr><th align='left'>Arg</th><th align='left'>Control</th>"
        "<th align='left'>Default</th><th align='left'>Now</th>"
        f"<th align='left'>Description</th></tr>{rows}</table>"
    )


def _control_text(control: Control) -> str:
    if control.kind == "enum":
        return " | ".join(choice or "(none)" for choice in control.choices)
    if control.kind in ("int", "float"):
        return f"{control.kind} {control.minimum:g}-{control.maximum:g}"
    return control.kind


def _short(value: Any, limit: int = 60) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def docs_html(
    component: Component,
    story: Story | None,
    args: Mapping[str, Any] | None = None,
    instance: QWidget | None = None,
    *,
    error: str | None = None,
) -> str:
    """An HTML fragment documenting ``component`` (and ``story`` with ``args``); with
    ``error`` (the story could not render ``args``) it says so and lists the args."""
    esc = html.escape
    doc = inspect.getdoc(component.widget) or ""
    parts = [f"<h2>{esc(component.name)}</h2>"]
    if story is not None:
        parts.append(f"<h3>{esc(story.name)}</h3><p>{esc(story.docs)}</p>")
        if error is not None:
            given = "".join(
                f"<li><code>{esc(name)} = {esc(repr(value))}</code></li>"
                for name, value in (args or {}).items()
            )
            parts.append(
                f"<p><b>This story could not render these args:</b> {esc(error)}</p>"
                f"<ul>{given}</ul>"
            )
        current = story.default_args() if args is None else args
        parts.append(args_table(component, story, current))
        snippet = component.snippet(story, current)
        parts.append(f"<h4>Code</h4><pre>{esc(snippet)}</pre>")
    parts.append(f"<h4>{esc(component.widget.__name__)}</h4><pre>{esc(doc)}</pre>")
    props = widget_properties(component.widget, instance)
    if props:
        head = "<tr><th align='left'>Property</th><th align='left'>Type</th>"
        head += "<th align='left'>Value</th></tr>" if instance is not None else "</tr>"
        rows = "".join(
            f"<tr><td><code>{esc(n)}</code></td><td>{esc(t)}</td>"
            + (f"<td><code>{esc(v)}</code></td>" if instance is not None else "")
            + "</tr>"
            for n, t, v in props
        )
        parts.append(
            f"<h4>Properties</h4><table cellpadding='4' cellspacing='0' border='1'>"
            f"{head}{rows}</table>"
        )
    signals = widget_signals(component.widget)
    if signals:
        items = "".join(f"<li><code>{esc(s)}</code></li>" for s in signals)
        parts.append(f"<h4>Signals</h4><ul>{items}</ul>")
    return "\n".join(parts)
