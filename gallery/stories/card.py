"""Card stories: plain, titled, with actions, without padding, and a composed invoice card."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import Any, Final

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QAbstractItemView,
    QFormLayout,
    QGridLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from gallery.play import Step
from gallery.story import Component, Story
from widgets.button import Button
from widgets.card import Card
from widgets.tokens import Spacing

CONTENTS: Final = ("text", "table", "form", "invoice", "complex")

# Fake clinic data: the gallery never touches the database.
_LINES: Final = (
    ("Consultation", 1, 55.00),
    ("Rabies vaccine", 1, 38.50),
    ("Deworming tablets", 2, 12.75),
)
_TAX_RATE: Final = 0.08

_BASE: dict[str, Any] = {
    "title": "",
    "subtitle": "",
    "body_text": "Bella is due for her annual check-up and booster vaccination.",
    "actions": [],
    "padded": True,
    "content": "text",
}


def _table() -> QTableWidget:
    table = QTableWidget(len(_LINES), 3)
    table.setHorizontalHeaderLabels(["Item", "Qty", "Amount"])
    table.setAccessibleName("Invoice lines")
    for row, (item, qty, price) in enumerate(_LINES):
        table.setItem(row, 0, QTableWidgetItem(item))
        for column, text in ((1, str(qty)), (2, f"${qty * price:,.2f}")):
            cell = QTableWidgetItem(text)
            cell.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            table.setItem(row, column, cell)
    table.verticalHeader().setVisible(False)
    table.verticalHeader().setDefaultSectionSize(28)
    table.horizontalHeader().setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
    table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    table.setFrameShape(QTableWidget.Shape.NoFrame)
    height = table.horizontalHeader().sizeHint().height() + 28 * len(_LINES) + 2
    table.setFixedHeight(height)
    return table


def _form() -> QWidget:
    form = QWidget()
    layout = QFormLayout(form)
    layout.setContentsMargins(0, 0, 0, 0)
    for label, value in (
        ("Owner", "Jane Cooper"),
        ("Patient", "Bella (Labrador)"),
        ("Veterinarian", "Dr. Rivera"),
    ):
        field = QLineEdit(value)
        field.setReadOnly(True)
        field.setAccessibleName(label)
        layout.addRow(f"{label}:", field)
    return form


def _invoice_summary() -> QWidget:
    subtotal = sum(qty * price for _, qty, price in _LINES)
    tax = round(subtotal * _TAX_RATE, 2)
    summary = QWidget()
    grid = QGridLayout(summary)
    grid.setContentsMargins(0, 0, 0, 0)
    grid.setColumnStretch(0, 1)
    rows = (("Subtotal", subtotal), (f"Tax ({_TAX_RATE:.0%})", tax), ("Total", subtotal + tax))
    for row, (label, amount) in enumerate(rows):
        name, value = QLabel(label), QLabel(f"${amount:,.2f}")
        value.setAlignment(Qt.AlignmentFlag.AlignRight)
        if label == "Total":
            for widget in (name, value):
                font = widget.font()
                font.setBold(True)
                widget.setFont(font)
        grid.addWidget(name, row, 0)
        grid.addWidget(value, row, 1)
    return summary


def _body(args: Mapping[str, Any]) -> QWidget:
    content = args["content"]
    if content == "table":
        return _table()
    if content == "form":
        return _form()
    if content == "invoice":
        return _invoice_summary()
    if content == "complex":
        body = QWidget()
        column = QVBoxLayout(body)
        column.setContentsMargins(0, 0, 0, 0)
        column.setSpacing(Spacing.LG)
        column.addWidget(_form())
        column.addWidget(_table())
        column.addWidget(_invoice_summary())
        return body
    label = QLabel(args["body_text"])
    label.setWordWrap(True)
    return label


def render(args: Mapping[str, Any]) -> QWidget:
    """A Card from the story args; ``content`` picks the body."""
    actions = [
        Button(
            str(text),
            variant="primary" if i == len(args["actions"]) - 1 else "secondary",
            button_size="small",
        )
        for i, text in enumerate(args["actions"])
    ]
    return Card(
        args["title"],
        args["subtitle"],
        body=_body(args),
        actions=actions,
        padded=args["padded"],
    )


def code(args: Mapping[str, Any]) -> str:
    """The snippet for the current args."""
    lines = ["from widgets.button import Button", "from widgets.card import Card", ""]
    body = {
        "text": "QLabel(" + repr(args["body_text"]) + ")",
        "table": "invoice_table",
        "form": "owner_form",
        "invoice": "invoice_summary",
        "complex": "invoice_panel",
    }
    parts = []
    if args["title"]:
        parts.append(repr(args["title"]))
    if args["subtitle"]:
        parts.append(repr(args["subtitle"]))
    parts.append(f"body={body[args['content']]}")
    if args["actions"]:
        buttons = ", ".join(f"Button({text!r}, button_size='small')" for text in args["actions"])
        parts.append(f"actions=[{buttons}]")
    if not args["padded"]:
        parts.append("padded=False")
    inner = "".join(f"\n    {part}," for part in parts)
    lines.append(f"card = Card({inner}\n)")
    return "\n".join(lines) + "\n"


def _story(name: str, docs: str, **overrides: Any) -> Story:
    return Story(
        name=name,
        render=render,
        args={**_BASE, **overrides},
        choices={"content": CONTENTS},
        docs=docs,
        code=code,
        width=460,
    )


COMPONENT = Component(
    name="Card",
    widget=Card,
    stories=(
        _story("Basic", "Just a surface around content."),
        _story(
            "WithTitle",
            "A heading names the card (and its accessible group).",
            title="Upcoming visit",
        ),
        _story(
            "WithTitleAndSubtitle",
            "A muted subtitle adds context.",
            title="Bella",
            subtitle="Labrador retriever · 4 years · 28 kg",
        ),
        replace(
            _story(
                "WithActions",
                "Actions sit at the right of the header.",
                title="Vaccinations",
                subtitle="Last updated 12 March",
                actions=["Print", "Add vaccine"],
            ),
            play=(Step("click", "Print"), Step("expect", "Print", "clicked")),
        ),
        _story(
            "NoPadding",
            "No inner padding so a table reaches the border.",
            title="Invoice lines",
            padded=False,
            content="table",
        ),
        _story(
            "ComplexCard",
            "Composition: a form, a grid and an invoice summary in one card.",
            title="Invoice INV-1042",
            subtitle="Issued 14 May · due in 30 days",
            actions=["Print", "Send to owner"],
            content="complex",
        ),
    ),
    matrix_rows=(
        ("Basic", dict(_BASE)),
        ("With actions", {**_BASE, "title": "Vaccinations", "actions": ["Add vaccine"]}),
    ),
    matrix_states=("normal", "disabled"),
    arg_docs={
        "title": "The heading (also the card's accessible name); empty for none.",
        "subtitle": "A muted line under the title.",
        "body_text": "The content's text.",
        "actions": "Labels of action buttons at the right of the header.",
        "padded": "Inner padding; off lets a table reach the border.",
        "content": "What the card holds: text, a table, or a complex composition.",
    },
)
