"""Layout, sort, page size and saved views survive a restart, and survive column changes."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest
from PySide6.QtCore import QSettings

from tests.widgets.datagrid.conftest import COLUMNS, wait_idle
from widgets.datagrid import ChoiceFilter, Column, RangeFilter, SavedView, SortKey
from widgets.datagrid.persistence import GridLayout, LayoutStore
from widgets.datagrid.state import view_from_json, view_to_json

pytestmark = [pytest.mark.gui, pytest.mark.qt_log_ignore("propagateSizeHints")]


def test_layout_sort_and_page_size_are_restored(
    make_grid: Any, qtbot: Any, settings: QSettings
) -> None:
    grid = make_grid(grid_id="patients", settings=settings)
    grid.move_column("fee", 0)
    grid.set_column_visible("dob", False)
    grid.table_view().horizontalHeader().resizeSection(grid.model().column_of("name"), 222)
    grid.sort_by("species", descending=True)
    grid.sort_by("name", add=True)
    wait_idle(qtbot, grid)
    grid.set_page_size(50)
    grid.shutdown()  # saves now instead of after the debounce

    again = make_grid(grid_id="patients", settings=settings)
    assert again.column_order() == ["fee", "name", "species", "dob"]
    assert again.visible_columns() == ["fee", "name", "species"]
    header = again.table_view().horizontalHeader()
    assert header.sectionSize(again.model().column_of("name")) == 222
    assert again.sort_keys() == (SortKey("species", True), SortKey("name"))
    assert again.query().search_keys == ("name", "species", "fee")  # not the hidden "dob"
    assert again.page_size() == 50
    names = [again.model().row_values(r)[1] for r in range(again.model().rowCount())]
    assert again.model().rowCount() == 50
    assert names[0] is not None


def test_restore_survives_removed_and_added_columns(
    make_grid: Any, qtbot: Any, settings: QSettings
) -> None:
    grid = make_grid(grid_id="patients", settings=settings)
    grid.move_column("dob", 0)
    grid.set_column_visible("fee", False)
    grid.sort_by("fee")
    wait_idle(qtbot, grid)
    grid.shutdown()
    # the next release drops "fee" and adds "owner" after "name"
    columns = [c for c in COLUMNS if c.key != "fee"]
    columns.insert(1, Column("owner", "Owner"))
    again = make_grid(grid_id="patients", settings=settings, columns=columns)
    assert again.column_order() == ["dob", "name", "owner", "species"]
    assert again.visible_columns() == ["dob", "name", "owner", "species"]
    assert again.sort_keys() == ()


@pytest.mark.parametrize(
    "stored",
    [
        "not json",
        json.dumps([1, 2]),
        json.dumps({"version": 99}),
        json.dumps(
            {
                "version": 1,
                "order": "name",
                "hidden": ["name", "species", "dob", "fee"],
                "widths": {"name": "wide", "fee": -5},
                "sort": [["name"], 3, ["nope", True]],
                "page_size": 7,
                "views": [{"no": "name"}],
            }
        ),
    ],
)
def test_malformed_settings_are_ignored(make_grid: Any, settings: QSettings, stored: str) -> None:
    settings.setValue("datagrid/patients", stored)
    grid = make_grid(grid_id="patients", settings=settings)
    assert grid.visible_columns() == ["name", "species", "dob", "fee"]
    assert grid.page_size() == 20
    assert grid.sort_keys() == ()
    assert grid.row_count() == 57


def test_blank_grid_id_is_refused(settings: QSettings) -> None:
    with pytest.raises(ValueError, match="grid_id: must not be blank"):
        LayoutStore(settings, " ")


def test_store_round_trip(settings: QSettings) -> None:
    store = LayoutStore(settings, "x")
    layout = GridLayout(order=["b", "a"], hidden=["a"], widths={"b": 90}, page_size=None)
    store.save(layout)
    loaded = store.load(["a", "b", "c"], (10, 20, None))
    assert loaded is not None
    assert loaded.order == ["b", "c", "a"]  # the new column follows its declared neighbour
    assert loaded.hidden == ["a"]
    assert loaded.widths == {"b": 90}
    assert loaded.page_size is None


# ---- saved views ------------------------------------------------------------------------------


def test_saved_views_apply_and_persist(make_grid: Any, qtbot: Any, settings: QSettings) -> None:
    preset = SavedView(
        "Cats by fee",
        columns=("name", "fee"),
        sort=(SortKey("fee", True),),
        filters=(("species", ChoiceFilter(frozenset({"Cat"}))),),
    )
    grid = make_grid(grid_id="patients", settings=settings, saved_views=[preset])
    with qtbot.waitSignal(grid.sig_view_changed):
        grid.apply_view("Cats by fee")
    wait_idle(qtbot, grid)
    assert grid.visible_columns() == ["name", "fee"]
    assert grid.sort_keys() == (SortKey("fee", True),)
    assert all(grid.model().row_values(r)[1] == "Cat" for r in range(grid.model().rowCount()))
    grid.set_filter("bella")
    wait_idle(qtbot, grid)
    saved = grid.save_view("Bella cats")
    assert saved.search == "bella"
    assert [v.name for v in grid.saved_views()] == ["Cats by fee", "Bella cats"]
    grid.shutdown()

    again = make_grid(grid_id="patients", settings=settings, saved_views=[preset])
    assert [v.name for v in again.saved_views()] == ["Cats by fee", "Bella cats"]
    again.apply_view("Bella cats")
    wait_idle(qtbot, again)
    assert again.filter_text() == "bella"
    assert again.toolbar().search_box().text() == "bella"
    assert again.column_filter("species") == ChoiceFilter(frozenset({"Cat"}))
    again.delete_view("Bella cats")
    assert [v.name for v in again.saved_views()] == ["Cats by fee"]
    with pytest.raises(ValueError, match="no saved view named 'Bella cats'"):
        again.apply_view("Bella cats")


def test_view_json_round_trip_keeps_types() -> None:
    view = SavedView(
        "Born 2020",
        sort=(SortKey("dob"),),
        filters=(("dob", RangeFilter(dt.date(2020, 1, 1), dt.date(2020, 12, 31))),),
    )
    assert view_from_json(json.loads(json.dumps(view_to_json(view)))) == view
    with pytest.raises(ValueError, match=r"SavedView\.name: must not be blank"):
        SavedView("  ")


# ---- malformed state never stops a grid (issue 17) -------------------------------------------


@pytest.mark.parametrize(
    "data",
    [
        {"views": ["not an object", 3, None]},
        {"views": {"name": "a dict, not a list"}},
        {"views": "text"},
        {"sort": "name"},
        {"sort": {"name": True}},
        {"sort": [[["name"], True]]},  # an unhashable key
        {"sort": [[{"k": 1}, True]]},
        {"order": [["name"]], "hidden": [{"x": 1}], "widths": [1, 2]},
        {"widths": {"name": True, "fee": 10**30}},
        {"page_size": [20]},
        {"views": [{"name": "x", "sort": "name"}, {"name": "y", "filters": "oops"}]},
        {"views": [{"name": "x", "columns": 5}, {"name": "z", "filters": [["dob", {"x": 1}]]}]},
        {"views": [{"name": ["list"]}, {"name": "ok", "sort": [[["a"], 1]]}]},
    ],
)
def test_malformed_entries_are_ignored_and_logged(
    make_grid: Any, settings: QSettings, data: dict[str, Any], caplog: Any
) -> None:
    settings.setValue("datagrid/patients", json.dumps({"version": 1, **data}))
    with caplog.at_level("WARNING", logger="widgets.datagrid"):
        grid = make_grid(grid_id="patients", settings=settings)
    assert grid.row_count() == 57
    assert grid.visible_columns() == ["name", "species", "dob", "fee"]
    assert grid.page_size() == 20
    assert grid.sort_keys() == ()
    assert all(isinstance(v, SavedView) for v in grid.saved_views())
    assert any("datagrid/patients" in r.getMessage() for r in caplog.records)


def test_a_view_whose_columns_were_all_removed_shows_every_column(
    make_grid: Any, qtbot: Any, settings: QSettings, caplog: Any
) -> None:
    old = SavedView("Old", columns=("weight", "colour"), sort=(SortKey("weight"),))
    grid = make_grid(saved_views=[old])
    grid.set_column_visible("dob", False)
    with caplog.at_level("WARNING", logger="widgets.datagrid"):
        grid.apply_view("Old")
    wait_idle(qtbot, grid)
    assert grid.visible_columns() == ["name", "species", "fee", "dob"] or set(
        grid.visible_columns()
    ) == {"name", "species", "dob", "fee"}
    assert grid.sort_keys() == ()
    assert any("Old" in r.getMessage() for r in caplog.records)
