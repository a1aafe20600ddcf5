"""The grid's column behaviour: header clicks sort, the header menu, hide/show/reorder, filters."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import Any, cast

from PySide6.QtCore import QPoint, Qt
from PySide6.QtWidgets import QMenu, QWidget, QWidgetAction
from shiboken6 import isValid

from widgets.datagrid.filter_editor import ColumnFilterEditor
from widgets.datagrid.host import GridHost
from widgets.datagrid.persistence import GridLayout
from widgets.datagrid.state import Column, SortKey

CHOICE_LIMIT = 200


class ColumnsMixin(GridHost):
    """Column handling of :class:`DataGrid` (kept apart so each file stays readable)."""

    # ---- public API ----------------------------------------------------------------------

    def visible_columns(self) -> list[str]:
        """Keys of the visible columns, in display order."""
        return [k for k in self.column_order() if self.is_column_visible(k)]

    def column_order(self) -> list[str]:
        """Keys of every column (hidden ones too), in display order."""
        header = self._table.horizontalHeader()
        sections = sorted(range(self._model.columnCount()), key=header.visualIndex)
        columns = (self._model.column_at(s) for s in sections)
        return [c.key for c in columns if c is not None]

    def is_column_visible(self, key: str) -> bool:
        """Whether column ``key`` shows."""
        self._check_key(key)
        return not self._table.isColumnHidden(self._model.column_of(key))

    def set_column_visible(self, key: str, visible: bool) -> None:
        """Show or hide column ``key`` (the last visible column cannot be hidden)."""
        self._check_key(key)
        if not visible and self.visible_columns() == [key]:
            raise ValueError(f"column {key!r}: the last visible column cannot be hidden")
        self._table.setColumnHidden(self._model.column_of(key), not visible)
        self._columns_changed()

    def move_column(self, key: str, position: int) -> None:
        """Move column ``key`` to display ``position`` among the data columns (from 0)."""
        self._check_key(key)
        header = self._table.horizontalHeader()
        offset = int(self._model.checkable)
        target = max(0, min(position, len(self._columns) - 1)) + offset
        header.moveSection(header.visualIndex(self._model.column_of(key)), target)

    def show_only_columns(self, keys: Sequence[str]) -> None:
        """Show exactly ``keys`` in this order, hiding the other columns (kept after them)."""
        if not keys:
            raise ValueError("columns: a view must show at least one column")
        for position, key in enumerate(keys):
            self.move_column(key, position)
        for column in self._columns:
            hidden = column.key not in keys
            self._table.setColumnHidden(self._model.column_of(column.key), hidden)
        self._columns_changed()

    def capture_layout(self) -> GridLayout:
        """Column order, hidden columns and widths now."""
        header = self._table.horizontalHeader()
        return GridLayout(
            order=self.column_order(),
            hidden=[c.key for c in self._columns if not self.is_column_visible(c.key)],
            widths={
                c.key: header.sectionSize(self._model.column_of(c.key))
                for c in self._columns
                if self.is_column_visible(c.key)
            },
        )

    def restore_layout(self, layout: GridLayout) -> None:
        """Apply a stored order, hidden set and widths (keys must be current columns)."""
        for position, key in enumerate(layout.order):
            self.move_column(key, position)
        hidden = set(layout.hidden)
        if len(hidden) >= len(self._columns):
            hidden = set()
        for column in self._columns:
            self._table.setColumnHidden(self._model.column_of(column.key), column.key in hidden)
        header = self._table.horizontalHeader()
        for key, width in layout.widths.items():
            header.resizeSection(self._model.column_of(key), width)

    def open_column_filter(self, key: str) -> ColumnFilterEditor:
        """The filter editor of column ``key``, shown as a popup under its header."""
        self._check_key(key)
        column = self._columns[self._keys().index(key)]
        menu = QMenu(cast(QWidget, self))
        menu.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        editor = ColumnFilterEditor(
            column,
            self._query.filter_for(key),
            choices=list(column.choices) if column.choices is not None else [],
            sample=self._sample_value(key),
        )
        action = QWidgetAction(menu)
        action.setDefaultWidget(editor)
        menu.addAction(action)

        def applied(flt: Any) -> None:
            self.set_column_filter(key, flt)
            menu.close()

        editor.sig_applied.connect(applied)
        if column.filter_mode == "choice" and column.choices is None:
            self._runner.submit(
                lambda: self._source.distinct_values(key, CHOICE_LIMIT),
                lambda values: _fill_choices(menu, column, self, values),
                self._on_side_failure,
            )
        header = self._table.horizontalHeader()
        section = self._model.column_of(key)
        x = header.sectionViewportPosition(section)
        menu.popup(header.mapToGlobal(QPoint(x, header.height())))
        self._filter_menu = menu
        return editor

    # ---- internals ----------------------------------------------------------------------------

    def _init_columns(self) -> None:
        header = self._table.horizontalHeader()
        for column in self._columns:
            section = self._model.column_of(column.key)
            if column.width is not None:
                header.resizeSection(section, column.width)
            self._table.setColumnHidden(section, not column.visible)
        if self._model.checkable:
            header.resizeSection(0, 32)

    def _connect_columns(self) -> None:
        header = self._table.horizontalHeader()
        header.fixed_sections = int(self._model.checkable)
        header.sectionClicked.connect(self._on_header_clicked)
        header.customContextMenuRequested.connect(self._show_header_menu)
        header.sig_section_activated.connect(self._on_header_activated)
        header.sig_menu_requested.connect(self._popup_header_menu)
        header.sig_leave_requested.connect(self._table.setFocus)
        self._table.sig_header_menu_requested.connect(self._popup_header_menu)
        header.sectionMoved.connect(lambda *_a: self._schedule_save())
        header.sectionResized.connect(lambda *_a: self._schedule_save())

    def _search_keys(self) -> tuple[str, ...]:
        return tuple(c.key for c in self._columns if c.filterable and self.is_column_visible(c.key))

    def _columns_changed(self) -> None:
        self._schedule_save()
        keys = self._search_keys()
        if keys == self._query.search_keys:
            return
        if self._query.search.strip():
            self._set_query(replace(self._query, search_keys=keys))
        else:  # nothing searched: no need to run a query
            self._query = replace(self._query, search_keys=keys)

    def _on_header_clicked(self, section: int) -> None:
        self._on_header_activated(section, self._modifiers_shift())

    def _on_header_activated(self, section: int, shift: bool) -> None:
        """A click, or Enter/Space on the focused header: sort (or select the page)."""
        column = self._model.column_at(section)
        if column is None:
            self._select_page()
            return
        if not self._enable_sorting or not column.sortable:
            return
        self._set_query(replace(self._query, sort=_next_sort(self._query.sort, column, shift)))

    def _show_header_menu(self, pos: QPoint) -> None:
        header = self._table.horizontalHeader()
        self._open_header_menu(header.logicalIndexAt(pos), header.mapToGlobal(pos))

    def _popup_header_menu(self, section: int) -> None:
        """The Menu key or Shift+F10 (on the header or a cell): the menu under the header."""
        header = self._table.horizontalHeader()
        if section < 0 or header.isSectionHidden(section):
            section = header.current_section()
        header.set_current_section(section)
        x = max(header.sectionViewportPosition(section), 0)
        self._open_header_menu(section, header.mapToGlobal(QPoint(x, header.height())))

    def _open_header_menu(self, section: int, where: QPoint) -> None:
        menu = self.header_menu(section)
        menu.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        menu.popup(where)
        self._header_popup = menu

    def header_popup(self) -> QMenu | None:
        """The header menu shown last, while it is open (tests, accessibility tools)."""
        menu = getattr(self, "_header_popup", None)
        return menu if menu is not None and isValid(menu) else None

    def header_menu(self, section: int) -> QMenu:
        """The context menu of header ``section``: sort, filter, hide, columns."""
        menu = QMenu(cast(QWidget, self))
        column = self._model.column_at(section)
        if column is not None:
            if self._enable_sorting and column.sortable:
                menu.addAction("Sort ascending", lambda: self.sort_by(column.key))
                menu.addAction("Sort descending", lambda: self.sort_by(column.key, True))
                menu.addAction("Add to sort", lambda: self.sort_by(column.key, add=True))
                clear = menu.addAction("Clear sort", self.clear_sort)
                clear.setEnabled(bool(self._query.sort))
                menu.addSeparator()
            if self._enable_filtering and column.filterable:
                menu.addAction("Filter…", lambda: self.open_column_filter(column.key))
                clear_one = menu.addAction(
                    "Clear filter", lambda: self.set_column_filter(column.key, None)
                )
                clear_one.setEnabled(self._query.filter_for(column.key) is not None)
            hide = menu.addAction(
                f"Hide {column.title}", lambda: self.set_column_visible(column.key, False)
            )
            hide.setEnabled(len(self.visible_columns()) > 1)
            menu.addSeparator()
        shown = menu.addMenu("Columns")
        visible = self.visible_columns()
        for col in self._columns:
            action = shown.addAction(col.title)
            action.setCheckable(True)
            action.setChecked(col.key in visible)
            action.setEnabled(not (col.key in visible and len(visible) == 1))
            action.toggled.connect(lambda on, k=col.key: self.set_column_visible(k, on))
        if self._enable_filtering:
            clear_all = menu.addAction("Clear all filters", self.clear_filters)
            clear_all.setEnabled(self._query.is_filtered)
        return menu

    def _sample_value(self, key: str) -> Any:
        if self._model.rowCount() == 0:
            return None
        index = self._keys().index(key)
        for row in range(min(self._model.rowCount(), 50)):
            values = self._model.row_values(row)
            if values is not None and values[index] is not None:
                return values[index]
        return None


def _next_sort(sort: tuple[SortKey, ...], column: Column, add: bool) -> tuple[SortKey, ...]:
    """A header click cycles ascending, descending, none; with ``add`` other keys stay."""
    existing = next((k for k in sort if k.key == column.key), None)
    if existing is None:
        following: SortKey | None = SortKey(column.key)
    elif not existing.descending:
        following = SortKey(column.key, True)
    else:
        following = None
    if not add:
        return (following,) if following else ()
    if existing is None:
        return (*sort, SortKey(column.key))
    if following is None:
        return tuple(k for k in sort if k.key != column.key)
    return tuple(following if k.key == column.key else k for k in sort)


def _fill_choices(menu: QMenu, column: Column, grid: ColumnsMixin, values: list[Any]) -> None:
    if not isValid(menu) or not menu.isVisible():  # closed (and deleted) meanwhile
        return
    editor = ColumnFilterEditor(
        column, grid.query().filter_for(column.key), choices=values, parent=None
    )

    def applied(flt: Any) -> None:
        grid.set_column_filter(column.key, flt)
        menu.close()

    editor.sig_applied.connect(applied)
    action = QWidgetAction(menu)
    action.setDefaultWidget(editor)
    menu.clear()
    menu.addAction(action)  # the old action and its editor are deleted by clear()
