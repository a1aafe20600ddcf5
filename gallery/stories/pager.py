"""PagerBar stories: page navigation on its own (it is also inside every paged DataGrid)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from PySide6.QtWidgets import QWidget

from gallery.play import Step
from gallery.story import Component, Story
from widgets.datagrid.pager import PagerBar

PAGE_SIZES = ("10", "20", "50", "continuous")


def render_pager(args: Mapping[str, Any]) -> QWidget:
    """A pager showing page ``page`` of ``total`` rows."""
    pager = PagerBar()
    size = None if args["page_size"] == "continuous" else int(args["page_size"])
    total = int(args["total"])
    count = max(1, -(-total // size)) if size else 1
    page = min(max(1, int(args["page"])), count)
    first = (page - 1) * size + 1 if size and total else (1 if total else 0)
    last = min(total, page * size) if size else total
    pager.set_sizes_visible(True)
    pager.update_state(page, count, first, last, total, size)
    return pager


def _pager(name: str, docs: str, **overrides: Any) -> Story:
    return Story(
        name=name,
        render=render_pager,
        args={"page": 1, "total": 1234, "page_size": "20", **overrides},
        choices={"page_size": PAGE_SIZES},
        ranges={"page": (1, 100_000), "total": (0, 10_000_000)},
        docs=docs,
        width=640,
        code=lambda a: (
            "pager = PagerBar()\n"
            f"pager.update_state(page={a['page']}, page_count=..., first=..., last=..., "
            f"total={a['total']}, page_size={a['page_size']!r})\n"
            "pager.sig_page_requested.connect(grid.set_page)\n"
        ),
    )


COMPONENT = Component(
    name="Pager",
    widget=PagerBar,
    stories=(
        _pager("FirstPage", "The first of 62 pages: first and previous lead nowhere."),
        replace(
            _pager("MiddlePage", "Somewhere in the middle.", page=31),
            play=(
                Step("click", "Next page"),
                Step("expect", "PagerBar", "sig_page_requested"),
                Step("click", "First page"),
                Step("expect", "PagerBar", "sig_page_requested"),
            ),
        ),
        _pager(
            "Continuous",
            "No pages: the grid scrolls; only the count shows.",
            page_size="continuous",
        ),
        _pager("Empty", "No rows.", total=0),
    ),
    arg_docs={
        "page": "The 1-based page shown (clamped to the pages there are).",
        "total": "How many rows match.",
        "page_size": "Rows per page, or continuous scrolling.",
    },
)
