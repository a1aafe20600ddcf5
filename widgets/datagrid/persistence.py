"""A grid's layout, sort, page size and saved views in QSettings, restored safely."""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from typing import Any

from PySide6.QtCore import QSettings

from widgets.datagrid.state import SavedView, SortKey, view_from_json, view_to_json

FORMAT_VERSION = 1
MIN_WIDTH, MAX_WIDTH = 10, 5000

log = logging.getLogger(__name__)


@dataclass
class GridLayout:
    """What a grid remembers between sessions; keys that no longer exist are dropped on load."""

    order: list[str] = field(default_factory=list)
    hidden: list[str] = field(default_factory=list)
    widths: dict[str, int] = field(default_factory=dict)
    sort: list[SortKey] = field(default_factory=list)
    page_size: int | None = 20
    views: list[SavedView] = field(default_factory=list)


class LayoutStore:
    """Reads and writes one grid's :class:`GridLayout` as JSON under ``datagrid/<grid_id>``.

    Args:
        settings: Where to keep it (the app's QSettings; tests pass a temporary file).
        grid_id: A stable name of the grid, e.g. ``"patients"``.
    """

    def __init__(self, settings: QSettings, grid_id: str) -> None:
        if not grid_id.strip():
            raise ValueError("grid_id: must not be blank")
        self._settings = settings
        self._key = f"datagrid/{grid_id}"

    @property
    def key(self) -> str:
        """Where the layout is kept in the settings."""
        return self._key

    def save(self, layout: GridLayout) -> None:
        """Store ``layout``."""
        data = {
            "version": FORMAT_VERSION,
            "order": layout.order,
            "hidden": layout.hidden,
            "widths": layout.widths,
            "sort": [[k.key, k.descending] for k in layout.sort],
            "page_size": layout.page_size,
            "views": [view_to_json(v) for v in layout.views],
        }
        self._settings.setValue(self._key, json.dumps(data))
        self._settings.sync()

    def load(self, keys: list[str], page_sizes: tuple[int | None, ...]) -> GridLayout | None:
        """The stored layout limited to ``keys`` (the grid's columns now), or None.

        Unknown columns are dropped, new columns are appended in their declared place,
        and anything malformed is ignored (and logged) rather than breaking the grid:
        each part (order, hidden, widths, sort, page size, each view) stands on its own.
        """
        raw = self._settings.value(self._key)
        if raw is None:
            return None
        if not isinstance(raw, str):
            log.warning("%s: ignored a stored layout that is not text", self._key)
            return None
        try:
            data = json.loads(raw)
        except ValueError:
            log.warning("%s: ignored a stored layout that is not JSON", self._key)
            return None
        if not isinstance(data, dict) or data.get("version") != FORMAT_VERSION:
            log.warning("%s: ignored a stored layout of an unknown format", self._key)
            return None
        known = set(keys)
        layout = GridLayout()
        layout.order = _merge_order(self._keys_in(data, "order", known), keys)
        layout.hidden = self._keys_in(data, "hidden", known)
        widths = data.get("widths", {})
        if isinstance(widths, dict):
            layout.widths = {
                k: v
                for k, v in widths.items()
                if k in known and type(v) is int and MIN_WIDTH <= v <= MAX_WIDTH
            }
            if len(layout.widths) != len([k for k in widths if k in known]):
                self._ignored("widths", "a width that is not a whole number of pixels")
        else:
            self._ignored("widths", "not an object")
        layout.sort = self._sort(data.get("sort", []), known)
        size = data.get("page_size", 20)
        if isinstance(size, bool) or size not in page_sizes:
            self._ignored("page_size", f"not one of {page_sizes}")
            size = 20
        layout.page_size = size
        views = data.get("views", [])
        if not isinstance(views, list):
            self._ignored("views", "not a list")
            views = []
        for number, item in enumerate(views):
            try:
                layout.views.append(view_from_json(item))
            except (KeyError, TypeError, ValueError) as exc:
                self._ignored(f"views[{number}]", str(exc) or type(exc).__name__)
        return layout

    def _keys_in(self, data: dict[str, Any], name: str, known: set[str]) -> list[str]:
        value = data.get(name, [])
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            self._ignored(name, "not a list of column keys")
            return []
        return [k for k in dict.fromkeys(value) if k in known]

    def _sort(self, value: Any, known: set[str]) -> list[SortKey]:
        if not isinstance(value, list):
            self._ignored("sort", "not a list")
            return []
        sort: list[SortKey] = []
        for item in value:
            if (
                not isinstance(item, list)
                or len(item) != 2
                or not isinstance(item[0], str)
                or not isinstance(item[1], bool)
            ):
                self._ignored("sort", f"{item!r} is not a [column key, descending] pair")
                return []
            if item[0] in known and all(k.key != item[0] for k in sort):
                sort.append(SortKey(item[0], item[1]))
        return sort

    def _ignored(self, part: str, why: str) -> None:
        log.warning("%s: ignored the stored %s (%s)", self._key, part, why)


def _merge_order(stored: list[str], keys: list[str]) -> list[str]:
    """``stored`` with each new key inserted after its declared predecessor."""
    order = list(dict.fromkeys(stored))
    for position, key in enumerate(keys):
        if key in order:
            continue
        previous = keys[position - 1] if position else None
        at = order.index(previous) + 1 if previous in order else 0
        order.insert(at, key)
    return order
