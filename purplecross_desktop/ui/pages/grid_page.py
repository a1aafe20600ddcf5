"""A page whose body is one DataGrid on a database source (patients, clients, ...)."""

from __future__ import annotations

import zoneinfo
from collections.abc import Sequence

from PySide6.QtWidgets import QWidget

from purplecross_desktop.ui.context import AppContext
from purplecross_desktop.ui.grid_sql_source import SqlSource
from purplecross_desktop.ui.pages.base import Page
from widgets.datagrid import Column, DataGrid, SavedView


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
            # Times are shown and typed in the clinic's zone, whatever the workstation's.
            timezone=zoneinfo.ZoneInfo(context.settings.clinic_timezone),
        )
        self.grid.setAccessibleName(f"{self.title} table")
        self.body.addWidget(self.grid, 1)
        self._first_visit = True

    def columns(self) -> Sequence[Column]:
        raise NotImplementedError

    def source(self) -> SqlSource:
        raise NotImplementedError

    def saved_views(self) -> Sequence[SavedView]:
        return ()

    def activate(self) -> None:
        if self._first_visit:
            self._first_visit = False  # the grid loads its first page itself
            return
        self.grid.refresh()
