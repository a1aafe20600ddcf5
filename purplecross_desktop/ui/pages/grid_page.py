"""A page whose body is one DataGrid on a database source (patients, clients, ...)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from PySide6.QtWidgets import QWidget

from purplecross_desktop.clinic_time import ClinicTime
from purplecross_desktop.ui.context import AppContext
from purplecross_desktop.ui.grid_sql_source import SqlSource
from purplecross_desktop.ui.pages.base import Page
from widgets.datagrid import Column, DataGrid, GridRow, SavedView


class GridPage(Page):
    """A list screen: subclasses give the columns and the SQL source; the grid does the rest.

    Sorting, searching and paging run in SQL on the grid's worker thread, so the page
    stays responsive on a million rows. Revisiting the page refreshes the current view.
    """

    grid_id = "grid"
    empty_text = "Nothing here yet"
    page_size: int | None = 20

    def __init__(self, context: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(context, parent)
        # Times are shown and typed in the clinic's zone, whatever the workstation's: the
        # grid's datetime columns, and the formatters and presets subclasses build from this.
        self.clinic_time = ClinicTime(context.settings.clinic_timezone)
        self.grid = DataGrid(
            self.columns(),
            source=self.source(),
            page_size=self.page_size,
            selection="multi",
            id_key="id",
            grid_id=self.grid_id,
            saved_views=self.saved_views(),
            empty_text=self.empty_text,
            title=self.title,
            timezone=self.clinic_time.zone,
        )
        self.grid.setAccessibleName(f"{self.title} table")
        self.grid.sig_row_activated.connect(self.open_row)
        self.body.addWidget(self.grid, 1)
        self._first_visit = True

    def columns(self) -> Sequence[Column]:
        raise NotImplementedError

    def source(self) -> SqlSource:
        raise NotImplementedError

    def saved_views(self) -> Sequence[SavedView]:
        return ()

    def open_row(self, row: GridRow) -> None:
        """Enter or a double-click on ``row``: pages with a record view open it here."""

    def current_id(self) -> Any:
        """The id of the row the keyboard cursor is on, else of the one ticked row."""
        index = self.grid.table_view().currentIndex()
        if index.isValid():
            row = self.grid.row_at(index.row())
            if row is not None:
                return row.id
        ids = self.grid.selected_ids()
        return ids[0] if len(ids) == 1 else None

    def refresh(self) -> None:
        self.grid.refresh()

    def search_box(self) -> QWidget | None:
        return self.grid.toolbar().search_box()

    def activate(self) -> None:
        if self._first_visit:
            self._first_visit = False  # the grid loads its first page itself
            return
        self.grid.refresh()
