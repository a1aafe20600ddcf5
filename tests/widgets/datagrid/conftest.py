"""Grid fixtures: sample patient rows and a factory of grids that waits for their first query."""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Callable, Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import QSettings

from widgets.datagrid import Column, DataGrid

COLUMNS = [
    Column("name", "Name", width=140),
    Column("species", "Species", filter_mode="choice"),
    Column("dob", "Born", filter_mode="range"),
    Column("fee", "Fee", kind="money", filter_mode="range"),
]
NAMES = ["Bella", "Max", "Luna", "Charlie", "Émile", "zoe", "Milo", "Coco", "Rocky", "Daisy"]
SPECIES = ["Cat", "Dog", "Rabbit", "Parrot"]


def patient_rows(count: int, seed: int = 7) -> list[dict[str, Any]]:
    """``count`` patient-like rows with ids 1..count (some nulls)."""
    rng = random.Random(seed)
    return [
        {
            "id": i + 1,
            "name": rng.choice(NAMES),
            "species": rng.choice(SPECIES),
            "dob": None
            if i % 11 == 0
            else dt.date(2015, 1, 1) + dt.timedelta(days=rng.randint(0, 3000)),
            "fee": Decimal(rng.randint(100, 99999)) / 100,
        }
        for i in range(count)
    ]


def wait_idle(qtbot: Any, grid: DataGrid) -> None:
    """Wait until the grid has applied every change."""
    qtbot.waitUntil(
        lambda: not grid.is_loading() and grid.current_result() is not None, timeout=10000
    )


@pytest.fixture
def make_grid(qtbot: Any) -> Iterator[Callable[..., DataGrid]]:
    grids: list[DataGrid] = []

    def make(rows: Any = None, columns: Any = None, wait: bool = True, **kwargs: Any) -> DataGrid:
        if rows is None and "source" not in kwargs:
            rows = patient_rows(57)
            kwargs.setdefault("id_key", "id")
        grid = DataGrid(columns or COLUMNS, rows, **kwargs)
        qtbot.addWidget(grid)
        grid.resize(800, 600)
        grid.show()
        grids.append(grid)
        if wait:
            wait_idle(qtbot, grid)
        return grid

    yield make
    for grid in grids:
        grid.shutdown()


@pytest.fixture
def settings(tmp_path: Path) -> QSettings:
    """A QSettings file private to the test."""
    return QSettings(str(tmp_path / "grid.ini"), QSettings.Format.IniFormat)
