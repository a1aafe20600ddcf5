"""What the DataGrid mixins use of the grid, declared once for the type checker.

:class:`DataGrid` is split into mixins (columns, selection, presets) so that each file
stays readable; each mixin derives from :class:`GridHost`, which tells mypy which
attributes and methods the assembled grid provides. At run time it is an empty class.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from PySide6.QtCore import QTimer, SignalInstance
    from PySide6.QtWidgets import QMenu

    from widgets.datagrid.bulk_bar import BulkActionBar
    from widgets.datagrid.export import ExportJob
    from widgets.datagrid.model import GridModel
    from widgets.datagrid.pager import PagerBar
    from widgets.datagrid.persistence import GridLayout, LayoutStore
    from widgets.datagrid.sources import GridResult, GridSource
    from widgets.datagrid.state import Column, ColumnFilter, GridQuery, GridRow, SavedView
    from widgets.datagrid.table import GridTable
    from widgets.datagrid.toolbar import GridToolbar
    from widgets.tasks import TaskRunner


class GridHost:
    """The grid as its mixins see it (declarations only; :class:`DataGrid` provides them)."""

    if TYPE_CHECKING:
        _table: GridTable
        _model: GridModel
        _columns: tuple[Column, ...]
        _query: GridQuery
        _runner: TaskRunner
        _source: GridSource
        _enable_sorting: bool
        _enable_filtering: bool
        _filter_menu: QMenu
        _result: GridResult | None
        _toolbar: GridToolbar
        _bulk_bar: BulkActionBar
        _pager: PagerBar
        _selection_mode: str
        _selected: dict[Any, None]
        _all_matching: bool
        _views: list[SavedView]
        _store: LayoutStore | None
        _save_timer: QTimer
        _export_job: ExportJob | None
        _title: str
        _page_size: int | None
        _enable_pagination: bool
        sig_row_activated: SignalInstance
        sig_selection_changed: SignalInstance
        sig_bulk_action: SignalInstance
        sig_export_finished: SignalInstance
        sig_export_failed: SignalInstance

        def _check_key(self, key: str) -> None: ...
        def _keys(self) -> list[str]: ...
        def _schedule_save(self) -> None: ...
        def _set_query(self, query: GridQuery) -> None: ...
        def _select_page(self) -> None: ...
        def _on_side_failure(self, exc: BaseException) -> None: ...
        def _modifiers_shift(self) -> bool: ...
        def sort_by(self, key: str, descending: bool = False, add: bool = False) -> None: ...
        def clear_sort(self) -> None: ...
        def clear_filters(self) -> None: ...
        def query(self) -> GridQuery: ...
        def set_column_filter(self, key: str, value: str | ColumnFilter | None) -> None: ...
        def _set_loading(self, loading: bool) -> None: ...
        def _update_chrome(self) -> None: ...
        def _search_keys(self) -> tuple[str, ...]: ...
        def row_at(self, row: int) -> GridRow | None: ...
        def visible_columns(self) -> list[str]: ...
        def show_only_columns(self, keys: Sequence[str]) -> None: ...
        def capture_layout(self) -> GridLayout: ...
        def restore_layout(self, layout: GridLayout) -> None: ...
