"""DataGrid: the table every list screen uses (search, sort, filter, pages, selection, export)."""

from __future__ import annotations

import datetime as dt
import math
import time
from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Any, Literal

from PySide6.QtCore import QItemSelectionModel, QModelIndex, QSettings, QSize, Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QApplication,
    QVBoxLayout,
    QWidget,
)

from widgets.datagrid.bulk_bar import BulkActionBar
from widgets.datagrid.columns import ColumnsMixin
from widgets.datagrid.export import ExportJob
from widgets.datagrid.model import GridModel
from widgets.datagrid.overlay import StateOverlay
from widgets.datagrid.pager import PagerBar
from widgets.datagrid.persistence import LayoutStore
from widgets.datagrid.presets import PresetsMixin
from widgets.datagrid.selection import SelectionMixin
from widgets.datagrid.sources import GridResult, GridSource, InMemorySource, QueryCancelledError
from widgets.datagrid.state import (
    PAGE_SIZES,
    Column,
    ColumnFilter,
    GridQuery,
    GridRow,
    SavedView,
    SortKey,
    TextFilter,
    check_columns,
)
from widgets.datagrid.table import GridTable
from widgets.datagrid.toolbar import GridToolbar
from widgets.tasks import TaskRunner
from widgets.tokens import Spacing

SelectionMode = Literal["none", "single", "multi"]
LOADING_OVERLAY_DELAY_MS = 150
#: Seconds the background preparation sleeps between its slices. Every call Qt makes into
#: Python while it paints (an item's data, an overridden method) must take the interpreter
#: lock, and a thread running Python holds it for up to the switch interval (5 ms) before
#: handing it over: a paint of a few dozen such calls then waits as many 5 ms turns while
#: the worker converts 1M values (measured: 120-320 ms stalls). A free lock between
#: slices lets a paint through at once, for ~25 % more preparation time. The first
#: :data:`PREPARE_BURST` seconds run without pauses: a grid's first sort, clicked as it
#: opens, finds that much already built (and a 20 ms stall stays within the 50 ms budget).
PREPARE_PAUSE = 0.001
PREPARE_BURST = 0.02


class DataGrid(ColumnsMixin, SelectionMixin, PresetsMixin, QWidget):
    """A fast table over in-memory rows or a database source.

    Sorting, filtering and paging run on a worker thread (in the source); the Qt model
    shows one page (or, with ``page_size=None``, every row virtually) and reads only the
    rows on screen. Pages are 1-based.

    Args:
        columns: The columns, in their default order.
        rows: In-memory rows: dicts keyed by ``Column.key`` or tuples in column order.
        source: A :class:`GridSource` instead of ``rows`` (e.g. the app's SQL source).
        page_size: 10, 20, 30, 40, 50, or None for continuous scrolling.
        enable_sorting: Header clicks sort (ascending, descending, none; shift adds a key).
        enable_filtering: The search box and per-column filters are offered.
        enable_pagination: Pages and the pager; False scrolls continuously.
        selection: ``none``, ``single`` (click a row) or ``multi`` (a checkbox column).
        id_key: The key of each in-memory row's id (selection and activation report ids).
        grid_id: Remembers layout, sort, page size and saved views under this name.
        settings: Where to remember them; defaults to the application's QSettings.
        bulk_actions: Names of actions offered on the selection (``sig_bulk_action``).
        saved_views: Preset views offered by the views menu.
        empty_text: What an empty grid says when no filter hides anything.
        title: The accessible name of the table, e.g. "Patients".
        timezone: Where datetime columns show aware values and read typed range bounds
            (the clinic's zone: the app passes it; the grid reads no settings). Columns
            with a zone of their own keep it.

    Signals:
        sig_view_changed(): a sort, filter or page change has been applied.
        sig_row_activated(object): a row was activated (Enter, double-click): a GridRow.
        sig_selection_changed(list): the ids of the selected rows.
        sig_loading_changed(bool): work started (True) or finished (False) off the UI thread.
        sig_bulk_action(str, list): a bulk action with the ids of the selected rows.
        sig_error(str): a query failed; the grid shows the message with Retry.
        sig_export_finished(str): an export wrote this file.
        sig_export_failed(str): an export failed or was cancelled (the message says which).
    """

    sig_view_changed = Signal()
    sig_row_activated = Signal(object)
    sig_selection_changed = Signal(list)
    sig_loading_changed = Signal(bool)
    sig_bulk_action = Signal(str, list)
    sig_error = Signal(str)
    sig_export_finished = Signal(str)
    sig_export_failed = Signal(str)

    def __init__(
        self,
        columns: Sequence[Column],
        rows: Sequence[Mapping[str, Any]] | Sequence[Sequence[Any]] | None = None,
        *,
        source: GridSource | None = None,
        page_size: int | None = 20,
        enable_sorting: bool = True,
        enable_filtering: bool = True,
        enable_pagination: bool = True,
        selection: SelectionMode = "single",
        id_key: str | None = None,
        grid_id: str | None = None,
        settings: QSettings | None = None,
        bulk_actions: Sequence[str] = (),
        saved_views: Sequence[SavedView] = (),
        empty_text: str = "Nothing here yet",
        title: str = "",
        timezone: dt.tzinfo | None = None,
        parent: QWidget | None = None,
    ) -> None:
        check_columns(columns)
        if timezone is not None:
            columns = [
                replace(c, timezone=timezone)
                if c.timezone is None and c.kind in ("datetime", "auto")
                else c
                for c in columns
            ]
        _check_page_size(page_size)
        if rows is not None and source is not None:
            raise ValueError("rows/source: give one of them, not both")
        if selection not in ("none", "single", "multi"):
            raise ValueError("selection: must be 'none', 'single' or 'multi'")
        source_keys = getattr(source, "keys", None)
        if source_keys is not None and tuple(source_keys) != tuple(c.key for c in columns):
            raise ValueError(
                f"source: its column keys {tuple(source_keys)} must match the grid's, in order"
            )
        super().__init__(parent)
        self.setObjectName("dataGrid")
        self._columns = tuple(columns)
        self._id_key = id_key
        self._source: GridSource = (
            source if source is not None else InMemorySource(columns, rows or (), id_key)
        )
        self._enable_sorting = enable_sorting
        self._enable_filtering = enable_filtering
        self._enable_pagination = enable_pagination
        self._selection_mode: SelectionMode = selection
        self._page_size = page_size if enable_pagination else None
        self._page = 1
        self._result: GridResult | None = None
        self._query_generation = [0]
        self._page_generation = 0
        self._keep_in_view: int | None = None
        self._loading = False
        self._cursor_to_first = False  # Enter in the search box, rows still on their way
        self._error: str | None = None
        self._selected: dict[Any, None] = {}
        self._all_matching = False
        self._matching_epoch = 0
        self._empty_text = empty_text
        self._views: list[SavedView] = list(saved_views)
        self._store: LayoutStore | None = None
        self._export_job: ExportJob | None = None
        self._title = title
        if grid_id is not None:
            self._store = LayoutStore(settings or QSettings(), grid_id)

        self._runner = TaskRunner(parent=self)
        self._model = GridModel(
            self._columns,
            checkable=selection == "multi",
            is_selected=self._is_selected,
            parent=self,
        )
        self._table = GridTable(self)
        self._table.setAccessibleName(title or "Data grid")
        self._table.setModel(self._model)
        self._table.paging = self._page_size is not None
        self._table.checkable = selection == "multi"
        if selection == "none":
            self._table.setSelectionMode(GridTable.SelectionMode.NoSelection)
        self._toolbar = GridToolbar(enable_filtering, parent=self)
        self._bulk_bar = BulkActionBar(bulk_actions, self)
        self._overlay = StateOverlay(self._table.viewport())
        self._pager = PagerBar(self)
        self._pager.set_sizes_visible(enable_pagination)
        self._overlay_timer = QTimer(self)
        self._overlay_timer.setSingleShot(True)
        self._overlay_timer.setInterval(LOADING_OVERLAY_DELAY_MS)
        self._overlay_timer.timeout.connect(self._show_loading_overlay)
        self._save_timer = QTimer(self)
        self._save_timer.setSingleShot(True)
        self._save_timer.setInterval(300)
        self._save_timer.timeout.connect(self._save_layout)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(Spacing.SM)
        layout.addWidget(self._toolbar)
        layout.addWidget(self._bulk_bar)
        layout.addWidget(self._table, 1)
        layout.addWidget(self._pager)
        self._init_columns()
        self._connect()

        sort: tuple[SortKey, ...] = ()
        stored = self._load_layout()  # may hide columns: the search keys come after it
        if stored is not None:
            sort = tuple(stored.sort)
        self._query = GridQuery(sort=sort, search_keys=self._search_keys())
        self._model.set_sort_markers(sort)
        self._toolbar.set_views([v.name for v in self._views])
        self._update_chrome()
        self._prepared = False
        self._preparing = False
        self._run_query()

    # ---- public API: data ----------------------------------------------------------------

    def model(self) -> GridModel:
        """The Qt model the table shows."""
        return self._model

    def table_view(self) -> GridTable:
        """The QTableView (for keyboard focus, styling and tests)."""
        return self._table

    def source(self) -> GridSource:
        """Where the rows come from."""
        return self._source

    def set_rows(self, rows: Sequence[Mapping[str, Any]] | Sequence[Sequence[Any]]) -> None:
        """Replace the in-memory rows (keeps sort, filters and page when possible)."""
        self.set_source(InMemorySource(self._columns, rows, self._id_key))

    def set_source(self, source: GridSource) -> None:
        """Show ``source`` instead (keeps sort, filters and page when possible; a selection of
        "all matching" rows ends, since other rows may match now)."""
        self._source = source
        self._prepared = False
        self._matching_changed(clear=False)
        self._run_query()

    def refresh(self) -> None:
        """Run the current query again (after the data changed underneath; a selection of
        "all matching" rows ends, since other rows may match now)."""
        self._matching_changed(clear=False)
        self._run_query()

    def retry(self) -> None:
        """Run the failed query again."""
        self._run_query()

    def set_loading(self, loading: bool) -> None:
        """Show (or clear) the loading state now, e.g. while the app fetches rows to hand to
        ``set_rows``; the next finished query clears it too."""
        self._set_loading(loading)
        if loading:
            self._show_loading_overlay()

    def is_loading(self) -> bool:
        """True while a change is still being applied off the UI thread."""
        return self._loading

    def error(self) -> str | None:
        """The message of the failed query shown, or None."""
        return self._error

    def overlay(self) -> StateOverlay:
        """The loading/empty/error overlay."""
        return self._overlay

    def row_count(self) -> int:
        """Rows after filtering (0 until the first query has finished)."""
        return self._result.count if self._result is not None else 0

    def current_result(self) -> GridResult | None:
        """The filtered, sorted rows the grid shows (all pages), None before the first query."""
        return self._result

    def row_at(self, row: int) -> GridRow | None:
        """View row ``row`` of the current page as a GridRow (None while not fetched)."""
        values = self._model.row_values(row)
        if values is None:
            return None
        return GridRow(self._model.row_id(row), dict(zip(self._keys(), values, strict=True)))

    # ---- public API: sort and filter -------------------------------------------------------

    def sort_by(self, key: str, descending: bool = False, add: bool = False) -> None:
        """Sort by column ``key``; ``add`` keeps the current keys and adds (or updates) this one."""
        self._check_key(key)
        keys = [k for k in self._query.sort if k.key != key] if add else []
        keys.append(SortKey(key, descending))
        self._set_query(replace(self._query, sort=tuple(keys)))

    def clear_sort(self) -> None:
        """Show rows in source order."""
        self._set_query(replace(self._query, sort=()))

    def sort_keys(self) -> tuple[SortKey, ...]:
        """The sort, primary key first."""
        return self._query.sort

    def set_filter(self, text: str) -> None:
        """Show rows whose visible columns contain ``text`` (case-insensitive)."""
        self._toolbar.set_search_text(text)
        self._set_query(replace(self._query, search=text))

    def filter_text(self) -> str:
        """The global search text."""
        return self._query.search

    def set_column_filter(self, key: str, value: str | ColumnFilter | None) -> None:
        """Filter column ``key``: text (contains), a ColumnFilter, or None/"" to clear it."""
        self._check_key(key)
        flt: ColumnFilter | None = TextFilter(value) if isinstance(value, str) else value
        if isinstance(flt, TextFilter) and not flt.text.strip():
            flt = None
        self._set_query(self._query.with_filter(key, flt))

    def column_filter(self, key: str) -> ColumnFilter | None:
        """The filter on column ``key``, if any."""
        return self._query.filter_for(key)

    def clear_filters(self) -> None:
        """Clear the search and every column filter."""
        self._toolbar.set_search_text("")
        self._set_query(replace(self._query, search="", filters=()))

    def query(self) -> GridQuery:
        """The sort, search and filters in effect."""
        return self._query

    # ---- public API: pages -----------------------------------------------------------------

    def page(self) -> int:
        """The current page, from 1."""
        return self._page

    def page_size(self) -> int | None:
        """Rows per page, or None when scrolling continuously."""
        return self._page_size

    def page_count(self) -> int:
        """The number of pages (at least 1)."""
        if self._page_size is None:
            return 1
        return max(1, math.ceil(self.row_count() / self._page_size))

    def set_page(self, page: int) -> None:
        """Show ``page`` (from 1; past the last page shows the last)."""
        if isinstance(page, bool) or not isinstance(page, int) or page < 1:
            raise ValueError(f"page: must be a whole number from 1, got {page!r}")
        page = min(page, self.page_count()) if self._result is not None else page
        if page == self._page and self._result is not None:
            return
        self._page = page
        self._show_page()

    def set_page_size(self, size: int | None) -> None:
        """Show ``size`` rows per page (10-50) or None for continuous scrolling."""
        _check_page_size(size)
        if not self._enable_pagination and size is not None:
            raise ValueError("page_size: pagination is disabled on this grid")
        if size == self._page_size:
            return
        first = self.first_visible_row()
        self._page_size = size
        self._page = first // size + 1 if size else 1
        self._table.paging = size is not None
        self._keep_in_view = first
        self._schedule_save()
        self._show_page()

    def first_visible_row(self) -> int:
        """The result row (from 0) at the top of the table's viewport."""
        top = self._table.rowAt(0)
        return self._model.offset + max(top, 0)

    def bulk_bar(self) -> BulkActionBar:
        """The selection bar."""
        return self._bulk_bar

    def toolbar(self) -> GridToolbar:
        """The search/views/export bar."""
        return self._toolbar

    def pager(self) -> PagerBar:
        """The pager."""
        return self._pager

    def sizeHint(self) -> QSize:
        # Room for the header and up to twelve rows, so a grid in a layout shows a page.
        hint = super().sizeHint()
        table = self._table
        rows = min(self._page_size or 12, 12)
        height = (
            table.horizontalHeader().sizeHint().height()
            + rows * table.verticalHeader().defaultSectionSize()
            + 2 * table.frameWidth()
            + table.horizontalScrollBar().sizeHint().height()
        )
        extra = hint.height() - table.sizeHint().height()
        return QSize(max(hint.width(), 480), max(hint.height(), height + extra))

    # ---- Qt -------------------------------------------------------------------------------

    def closeEvent(self, event: Any) -> None:
        self.shutdown()
        super().closeEvent(event)

    def shutdown(self) -> None:
        """Stop background work and save the layout (the grid is going away)."""
        if self._save_timer.isActive():
            self._save_timer.stop()
            self._save_layout()
        self._runner.shutdown()
        self._stop_export()

    # ---- querying ---------------------------------------------------------------------------

    def _set_query(self, query: GridQuery) -> None:
        if query == self._query:
            return
        filters_changed = _matching_signature(query) != _matching_signature(self._query)
        sort_changed = query.sort != self._query.sort
        self._query = query
        self._page = 1
        if filters_changed:
            self._matching_changed(clear=True)
            self._model.set_filter_markers([k for k, _f in query.filters])
        if sort_changed:
            self._model.set_sort_markers(query.sort)
            self._schedule_save()
        self._update_chrome()
        self._run_query()

    def _run_query(self) -> None:
        self._query_generation[0] += 1
        generation = self._query_generation[0]
        self._runner.ensure_running()
        box, alive = self._query_generation, self._runner.alive
        query, source = self._query, self._source
        if self._result is None and _cheap_first_query(source, query):
            # A new screen never flashes empty: a small (or unsorted, unfiltered) in-memory
            # first page costs well under a frame, so it is shown at once.
            try:
                result = source.run(query, lambda: False)
            except Exception as exc:
                self._on_failure(generation, exc)
                return
            self._on_result(generation, result)
            return
        self._set_loading(True)
        self._runner.submit(
            lambda: source.run(query, lambda: box[0] != generation or not alive[0]),
            lambda result: self._on_result(generation, result),
            lambda exc: self._on_failure(generation, exc),
        )

    def _on_result(self, generation: int, result: GridResult) -> None:
        if generation != self._query_generation[0]:
            return
        self._result = result
        self._error = None
        self._page = min(self._page, self.page_count())
        self._show_page()
        self._prepare_source()

    def _prepare_source(self) -> None:
        """Build the source's sort orders and search text in the background, once.

        The preparation gives way to a query: it stops as soon as a newer query is waiting
        behind it on the worker (a header click right after the grid opens), and starts
        again after that query's rows show, keeping what it had built."""
        prepare = getattr(self._source, "prepare", None)
        if self._prepared or self._preparing or not callable(prepare):
            return
        self._preparing = True
        self._runner.ensure_running()
        keys, alive = self._search_keys(), self._runner.alive
        box, generation, source = self._query_generation, self._query_generation[0], self._source

        def done(complete: object) -> None:
            self._preparing = False
            if source is self._source:
                self._prepared = complete is not False
            elif self._result is not None:  # the rows were replaced meanwhile: prepare those
                self._prepare_source()

        def failed(_exc: BaseException) -> None:
            self._preparing = False

        began: list[float] = []

        def stop() -> bool:
            """Between two slices: whether to stop (a query waits: at once); if not, after
            the first burst, give the UI thread the lock for a moment."""
            if not alive[0] or box[0] != generation:
                return True
            now = time.perf_counter()
            if not began:
                began.append(now)
            elif now - began[0] > PREPARE_BURST:
                time.sleep(PREPARE_PAUSE)
            return False

        self._runner.submit(lambda: prepare(keys, stop), done, failed)

    def _on_failure(self, generation: int, exc: BaseException) -> None:
        if generation != self._query_generation[0] or isinstance(exc, QueryCancelledError):
            return
        self._show_error(exc)

    def _on_side_failure(self, exc: BaseException) -> None:
        self._set_loading(False)
        self._show_error(exc)

    def _show_error(self, exc: BaseException) -> None:
        self._error = str(exc) or type(exc).__name__
        self._set_loading(False)
        self._overlay.show_state("error", "Could not load the rows", self._error)
        self.sig_error.emit(self._error)

    def _show_page(self) -> None:
        result = self._result
        if result is None:
            return
        count = result.count
        if self._page_size is None:
            self._model.show(result, 0, count)
            self._view_applied()
            return
        start = (self._page - 1) * self._page_size
        length = max(0, min(self._page_size, count - start))
        if result.is_local or length == 0:
            self._model.show(result, start, length)
            self._view_applied()
            return
        self._page_generation += 1
        generation = self._page_generation
        self._set_loading(True)

        def fetch() -> tuple[list[tuple[Any, ...]], list[Any]]:
            return result.rows(start, start + length), result.ids(start, start + length)

        def done(fetched: tuple[list[tuple[Any, ...]], list[Any]]) -> None:
            if generation == self._page_generation and result is self._result:
                current = self._table.currentIndex()
                current_id = self._model.row_id(current.row()) if current.isValid() else None
                how = self._model.show(result, start, length, fetched[0], fetched[1])
                if how == "replaced":
                    self._follow_current(current, current_id, fetched[1])
                self._view_applied()

        self._runner.submit(fetch, done, self._on_side_failure)

    def _follow_current(self, current: QModelIndex, row_id: Any, ids: Sequence[Any]) -> None:
        """After a page's rows changed in place: the cursor stays on its row (by id) when
        that row is still on the page, and leaves the page otherwise (as a reset would)."""
        if not current.isValid():
            return
        selection = self._table.selectionModel()
        if row_id is not None and row_id in ids:
            row = list(ids).index(row_id)
            if row != current.row():
                selection.setCurrentIndex(
                    self._model.index(row, current.column()),
                    QItemSelectionModel.SelectionFlag.ClearAndSelect
                    | QItemSelectionModel.SelectionFlag.Rows,
                )
            return
        selection.clear()

    def _on_rows_needed(self, start: int, stop: int) -> None:
        result = self._result
        if result is None:
            return

        def fetch() -> tuple[list[tuple[Any, ...]], list[Any]]:
            return result.rows(start, stop), result.ids(start, stop)

        self._runner.submit(
            fetch,
            lambda fetched: self._model.put_rows(result, start, fetched[0], fetched[1]),
            self._on_side_failure,
        )

    def _go_to_rows(self) -> None:
        """From the search box to the first row (once the search's rows are in)."""
        self._table.setFocus(Qt.FocusReason.OtherFocusReason)
        if self._loading:
            self._cursor_to_first = True
        else:
            self._put_cursor_on_first_row()

    def _put_cursor_on_first_row(self) -> None:
        header = self._table.horizontalHeader()
        shown = [
            header.logicalIndex(v)
            for v in range(header.count())
            if not header.isSectionHidden(header.logicalIndex(v))
        ]
        if self._model.rowCount() and shown:
            self._table.setCurrentIndex(self._model.index(0, shown[0]))

    def _view_applied(self) -> None:
        self._set_loading(False)
        if self._cursor_to_first:
            self._cursor_to_first = False
            self._put_cursor_on_first_row()
        keep, self._keep_in_view = self._keep_in_view, None
        if keep is not None and 0 <= keep - self._model.offset < self._model.rowCount():
            # After the page size changed: the row that was at the top stays at the top.
            index = self._model.index(keep - self._model.offset, 0)
            self._table.updateGeometries()  # the scroll range of the new row count
            self._table.scrollTo(index, GridTable.ScrollHint.PositionAtTop)
        count = self.row_count()
        if self._error is None:
            if count == 0 and self._query.is_filtered:
                self._overlay.show_state(
                    "empty",
                    "No matching rows",
                    "Nothing matches the search or filters. Clear them to see every row.",
                    can_clear=True,
                )
            elif count == 0:
                self._overlay.show_state("empty", self._empty_text)
            elif self._overlay.state != "hidden":
                self._overlay.show_state("hidden")
        self._update_chrome()
        self._model.refresh_checks()
        self.sig_view_changed.emit()

    def _set_loading(self, loading: bool) -> None:
        if loading == self._loading:
            return
        self._loading = loading
        if loading:
            self._overlay_timer.start()
        else:
            self._overlay_timer.stop()
            if self._overlay.state == "loading":
                self._overlay.show_state("hidden")
        self.sig_loading_changed.emit(loading)

    def _show_loading_overlay(self) -> None:
        if self._loading:
            self._overlay.show_state("loading", "Loading…")

    def _update_chrome(self) -> None:
        count = self.row_count()
        if self._page_size is None:
            first, last = (1 if count else 0), count
        else:
            first = min((self._page - 1) * self._page_size + 1, count)
            last = min(self._page * self._page_size, count)
        self._pager.update_state(self._page, self.page_count(), first, last, count, self._page_size)
        self._toolbar.set_filtered(self._query.is_filtered)
        self._bulk_bar.update_state(len(self._selected), count, self._all_matching)

    # ---- wiring -----------------------------------------------------------------------------

    def _connect(self) -> None:
        table, model = self._table, self._model
        table.activated.connect(self._on_activated)
        table.sig_page_key_pressed.connect(self._on_page_key)
        table.sig_toggle_requested.connect(self._toggle_row)
        table.sig_select_page_requested.connect(self._select_page)
        table.selectionModel().currentRowChanged.connect(self._on_current_row_changed)
        model.sig_check_toggled.connect(self._on_check_toggled)
        model.sig_rows_needed.connect(self._on_rows_needed)
        self._pager.sig_page_requested.connect(self._on_page_requested)
        self._pager.sig_page_size_requested.connect(self.set_page_size)
        self._overlay.sig_retry_clicked.connect(self.retry)
        self._overlay.sig_clear_filters_clicked.connect(self.clear_filters)
        self._bulk_bar.sig_action_clicked.connect(self._on_bulk_action)
        self._bulk_bar.sig_select_all_clicked.connect(self.select_all_matching)
        self._bulk_bar.sig_clear_clicked.connect(self.clear_selection)
        self._toolbar.sig_search_changed.connect(
            lambda text: self._set_query(replace(self._query, search=text))
        )
        self._toolbar.sig_search_submitted.connect(self._go_to_rows)
        self._toolbar.sig_clear_filters_clicked.connect(self.clear_filters)
        self._toolbar.sig_view_chosen.connect(self.apply_view)
        self._toolbar.sig_save_view_requested.connect(self.save_view)
        self._toolbar.sig_delete_view_requested.connect(self.delete_view)
        self._toolbar.sig_export_requested.connect(self._export_from_toolbar)
        self._toolbar.sig_export_cancelled.connect(self._stop_export)
        self._connect_columns()

    def _on_page_requested(self, page: int) -> None:
        if page >= 1:
            self.set_page(page)

    def _on_page_key(self, step: int) -> None:
        page = self._page + step
        if 1 <= page <= self.page_count():
            self.set_page(page)

    def _check_key(self, key: str) -> None:
        if key not in self._keys():
            raise ValueError(f"column: unknown key {key!r}")

    def _keys(self) -> list[str]:
        return [c.key for c in self._columns]

    def _modifiers_shift(self) -> bool:
        return bool(QApplication.keyboardModifiers() & Qt.KeyboardModifier.ShiftModifier)


SYNC_FIRST_QUERY_ROWS = 50_000


def _matching_signature(query: GridQuery) -> tuple[Any, ...]:
    """What decides which rows match: the search (and the columns it looks at) and filters."""
    search = query.search.strip()
    return (search, query.search_keys if search else (), query.filters)


def _cheap_first_query(source: GridSource, query: GridQuery) -> bool:
    if not isinstance(source, InMemorySource):
        return False
    return source.count <= SYNC_FIRST_QUERY_ROWS or not (query.sort or query.is_filtered)


def _check_page_size(size: int | None) -> None:
    if size not in PAGE_SIZES or isinstance(size, bool):
        raise ValueError(
            f"page_size: must be 10, 20, 30, 40, 50 or None (continuous), got {size!r}"
        )
