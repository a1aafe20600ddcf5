"""The grid's selection: ids kept across pages, checkboxes, "select all matching", bulk actions."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from PySide6.QtCore import QModelIndex

from widgets.datagrid.host import GridHost


class SelectionMixin(GridHost):
    """Selection handling of :class:`DataGrid`: the selected ids are the truth; the checkbox
    column and the bulk-action bar show them."""

    # ---- public API: selection -------------------------------------------------------------

    def selected_ids(self) -> list[Any]:
        """Ids of the selected rows, in the order they were selected."""
        return list(self._selected)

    def select_ids(self, ids: Sequence[Any]) -> None:
        """Select exactly ``ids``."""
        self._selected = dict.fromkeys(ids)
        self._all_matching = False
        self._selection_updated()

    def clear_selection(self) -> None:
        """Select nothing."""
        self.select_ids(())

    def select_all_matching(self) -> None:
        """Select every row the filters let through, on every page (ids fetched off-thread)."""
        result = self._result
        if result is None:
            return
        self._set_loading(True)
        epoch = self._matching_epoch

        def done(ids: list[Any]) -> None:
            self._set_loading(False)
            # Ids of a result whose filters, searched columns or data have changed since
            # would select rows that no longer match: dropped. A re-sort keeps the same set.
            if epoch == self._matching_epoch:
                self._selected = dict.fromkeys(ids)
                self._all_matching = True
                self._selection_updated()

        self._runner.submit(lambda: result.ids(0, result.count), done, self._on_side_failure)

    def is_all_matching_selected(self) -> bool:
        """True after "select all N matching", until the selection changes."""
        return self._all_matching

    # ---- selection --------------------------------------------------------------------------

    def _matching_changed(self, clear: bool) -> None:
        """The set of matching rows may have changed (filters, searched columns, data):
        "all matching" no longer describes what is selected. ``clear`` drops any selection
        (a new search starts a new one); otherwise only an all-matching selection goes."""
        self._matching_epoch += 1
        if self._selected and (clear or self._all_matching):
            self._selected = {}
            self._all_matching = False
            self._selection_updated()

    def _is_selected(self, row_id: Any) -> bool:
        return row_id in self._selected

    def _selection_updated(self) -> None:
        self._model.refresh_checks()
        self._update_chrome()
        self.sig_selection_changed.emit(list(self._selected))

    def _on_check_toggled(self, row: int, checked: bool) -> None:
        row_id = self._model.row_id(row)
        if row_id is None:
            return
        if checked:
            self._selected[row_id] = None
        else:
            self._selected.pop(row_id, None)
        self._all_matching = False
        self._selection_updated()

    def _toggle_row(self, row: int) -> None:
        row_id = self._model.row_id(row)
        if row_id is not None:
            self._on_check_toggled(row, row_id not in self._selected)

    def _select_page(self) -> None:
        ids = [self._model.row_id(r) for r in range(self._model.rowCount())]
        known = [i for i in ids if i is not None]
        if known and all(i in self._selected for i in known):
            for i in known:
                self._selected.pop(i, None)
        else:
            self._selected.update(dict.fromkeys(known))
        self._all_matching = False
        self._selection_updated()

    def _on_current_row_changed(self, current: QModelIndex, _previous: QModelIndex) -> None:
        if self._selection_mode != "single" or not current.isValid():
            return
        row_id = self._model.row_id(current.row())
        if row_id is not None and list(self._selected) != [row_id]:
            self._selected = {row_id: None}
            self._selection_updated()

    def _on_activated(self, index: QModelIndex) -> None:
        row = self.row_at(index.row())
        if row is not None:
            self.sig_row_activated.emit(row)

    def _on_bulk_action(self, name: str) -> None:
        self.sig_bulk_action.emit(name, self.selected_ids())
