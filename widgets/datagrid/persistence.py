"""A grid's layout, sort, page size and saved views in QSettings, restored safely."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from PySide6.QtCore import QSettings

from widgets.datagrid.state import SavedView, SortKey, view_from_json, view_to_json

FORMAT_VERSION = 1


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
        and anything malformed is ignored rather than breaking the grid.
        """
        raw = self._settings.value(self._key)
        if not isinstance(raw, str):
            return None
        try:
            data = json.loads(raw)
        except ValueError:
            return None
        if not isinstance(data, dict) or data.get("version") != FORMAT_VERSION:
            return None
        known = set(keys)
        layout = GridLayout()
        order = [k for k in _str_list(data.get("order")) if k in known]
        layout.order = _merge_order(order, keys)
        layout.hidden = [k for k in _str_list(data.get("hidden")) if k in known]
        widths = data.get("widths")
        if isinstance(widths, dict):
            layout.widths = {
                k: int(v)
                for k, v in widths.items()
                if k in known and isinstance(v, int) and 10 <= v <= 5000
            }
        for item in data.get("sort") or []:
            if isinstance(item, list) and len(item) == 2 and item[0] in known:
                layout.sort.append(SortKey(str(item[0]), bool(item[1])))
        size = data.get("page_size", 20)
        layout.page_size = size if size in page_sizes else 20
        for item in data.get("views") or []:
            try:
                layout.views.append(view_from_json(item))
            except (KeyError, TypeError, ValueError):
                continue
        return layout


def _str_list(value: Any) -> list[str]:
    return [v for v in value if isinstance(v, str)] if isinstance(value, list) else []


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
