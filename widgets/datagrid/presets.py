"""The grid's saved views, layout persistence (QSettings) and export of the current view."""

from __future__ import annotations

import logging
from typing import cast

from PySide6.QtCore import QObject

from widgets.datagrid.export import ExportJob
from widgets.datagrid.host import GridHost
from widgets.datagrid.persistence import GridLayout
from widgets.datagrid.state import PAGE_SIZES, GridQuery, SavedView

log = logging.getLogger(__name__)


class PresetsMixin(GridHost):
    """Saved views, remembered layout and export for :class:`DataGrid`."""

    # ---- public API: saved views -----------------------------------------------------------

    def saved_views(self) -> list[SavedView]:
        """The saved views, presets first."""
        return list(self._views)

    def save_view(self, name: str) -> SavedView:
        """Save the columns, sort, search and filters now as view ``name`` (replacing one)."""
        view = SavedView(
            name=name.strip(),
            columns=tuple(self.visible_columns()),
            sort=self._query.sort,
            search=self._query.search,
            filters=self._query.filters,
        )
        self._views = [v for v in self._views if v.name != view.name] + [view]
        self._toolbar.set_views([v.name for v in self._views])
        self._schedule_save()
        return view

    def delete_view(self, name: str) -> None:
        """Forget view ``name``."""
        self._views = [v for v in self._views if v.name != name]
        self._toolbar.set_views([v.name for v in self._views])
        self._schedule_save()

    def apply_view(self, view: SavedView | str) -> None:
        """Show a saved view (by name or value); columns it does not know are left alone."""
        if isinstance(view, str):
            found = [v for v in self._views if v.name == view]
            if not found:
                raise ValueError(f"view: no saved view named {view!r}")
            view = found[0]
        keys = set(self._keys())
        if view.columns is not None:
            shown = [k for k in view.columns if k in keys]
            if not shown:  # every column it showed has been removed since
                log.warning("view %r: none of its columns exists; showing the defaults", view.name)
                shown = [c.key for c in self._columns if c.visible] or [self._columns[0].key]
            self.show_only_columns(shown)
        query = GridQuery(
            sort=tuple(k for k in view.sort if k.key in keys),
            search=view.search,
            search_keys=self._search_keys(),
            filters=tuple((k, f) for k, f in view.filters if k in keys),
        )
        self._toolbar.set_search_text(view.search)
        self._set_query(query)

    # ---- public API: export ----------------------------------------------------------------

    def export(self, path: str) -> ExportJob:
        """Export the view (visible columns, filtered and sorted, every page) to ``path``.

        The suffix picks the format (.csv, .xlsx, .pdf). It runs off the UI thread; the
        toolbar shows progress and Cancel; ``sig_export_finished``/``sig_export_failed`` end it.
        """
        if self._result is None:
            raise ValueError("export: the rows are still loading; try again when they show")
        if self._export_job is not None and self._export_job.is_running():
            raise ValueError("export: an export is already running")
        keys = self._keys()
        columns = [(self._columns[keys.index(k)], keys.index(k)) for k in self.visible_columns()]
        job = ExportJob(self._result, columns, path, title=self._title, parent=cast(QObject, self))
        job.sig_progress.connect(self._toolbar.set_export_progress)
        job.sig_finished.connect(self._on_export_finished)
        job.sig_failed.connect(self._on_export_failed)
        job.sig_cancelled.connect(lambda: self._on_export_failed("Export cancelled"))
        self._export_job = job
        self._toolbar.set_export_progress(0, self._result.count)
        job.start()
        return job

    def _on_export_finished(self, path: str) -> None:
        self._toolbar.set_export_progress(0, -1)
        self.sig_export_finished.emit(path)

    def _on_export_failed(self, message: str) -> None:
        self._toolbar.set_export_progress(0, -1)
        self.sig_export_failed.emit(message)

    def _stop_export(self) -> None:
        job = self._export_job
        if job is not None and job.is_running():
            job.cancel()
            job.wait()

    def _export_from_toolbar(self, path: str) -> None:
        try:
            self.export(path)
        except ValueError as exc:
            self.sig_export_failed.emit(str(exc))

    # ---- persistence ------------------------------------------------------------------------

    def _schedule_save(self) -> None:
        if self._store is not None:
            self._save_timer.start()

    def _save_layout(self) -> None:
        if self._store is None:
            return
        layout = self.capture_layout()
        layout.sort = list(self._query.sort)
        layout.page_size = self._page_size
        layout.views = list(self._views)
        self._store.save(layout)

    def _load_layout(self) -> GridLayout | None:
        if self._store is None:
            return None
        try:
            stored = self._store.load(self._keys(), PAGE_SIZES)
            if stored is None:
                return None
            self.restore_layout(stored)
        except Exception:  # a remembered layout must never stop a screen from opening
            log.exception("%s: ignored the stored layout", self._store.key)
            return None
        if self._enable_pagination:
            self._page_size = stored.page_size
            self._table.paging = stored.page_size is not None
        names = {v.name for v in self._views}
        self._views.extend(v for v in stored.views if v.name not in names)
        return stored
