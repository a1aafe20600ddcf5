"""DataGrid stories: clinic lists, feature switches, states, and 100k / 1M rows."""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Mapping
from decimal import Decimal
from functools import lru_cache
from typing import Any

from PySide6.QtWidgets import QApplication, QWidget

from gallery.story import Component, Story
from widgets.datagrid import Column, DataGrid, GridQuery, InMemorySource

PATIENT_COLUMNS = [
    Column("name", "Patient", width=110),
    Column("species", "Species", filter_mode="choice", width=90),
    Column("breed", "Breed", width=150),
    Column("owner", "Owner", width=150),
    Column("born", "Born", filter_mode="range", width=100),
    Column("balance", "Balance", kind="money", filter_mode="range"),
]
PATIENTS = [
    ("Bella", "Dog", "Labrador Retriever", "Jane Cooper", dt.date(2020, 3, 14), "0.00"),
    ("Max", "Dog", "Beagle", "Wade Warren", dt.date(2018, 7, 2), "45.50"),
    ("Luna", "Cat", "British Shorthair", "Esther Howard", dt.date(2021, 1, 23), "0.00"),
    ("Charlie", "Dog", "Golden Retriever", "Cameron Williamson", dt.date(2016, 11, 5), "120.00"),
    ("Milo", "Cat", "Maine Coon", "Brooklyn Simmons", dt.date(2019, 5, 30), "0.00"),
    ("Coco", "Rabbit", "Holland Lop", "Leslie Alexander", dt.date(2022, 2, 11), "18.75"),
    ("Rocky", "Dog", "German Shepherd", "Jenny Wilson", dt.date(2015, 9, 19), "245.00"),
    ("Daisy", "Cat", "Siamese", "Guy Hawkins", dt.date(2017, 4, 8), "0.00"),
    ("Oscar", "Parrot", "African Grey", "Robert Fox", dt.date(2010, 6, 1), "60.00"),
    ("Émile", "Cat", "Sphynx", "Kristin Watson", dt.date(2023, 8, 27), "0.00"),
    ("Teddy", "Dog", "Pomeranian", "Jacob Jones", dt.date(2019, 12, 24), "32.40"),
    ("Zoë", "Horse", "Haflinger", "Darlene Robertson", dt.date(2012, 5, 16), "410.00"),
]
APPOINTMENT_COLUMNS = [
    Column("time", "Time", kind="datetime", width=140),
    Column("patient", "Patient", width=100),
    Column("owner", "Owner", width=150),
    Column("vet", "Veterinarian", filter_mode="choice", width=120),
    Column("reason", "Reason", width=170),
    Column("status", "Status", filter_mode="choice"),
]
_DAY = dt.datetime(2026, 5, 12)
APPOINTMENTS = [
    (_DAY.replace(hour=9), "Bella", "Jane Cooper", "Dr. Rivera", "Vaccination", "Checked in"),
    (_DAY.replace(hour=9, minute=30), "Max", "Wade Warren", "Dr. Chen", "Limping", "Waiting"),
    (_DAY.replace(hour=10, minute=30), "Luna", "Esther Howard", "Dr. Rivera", "Dental", "Booked"),
    (_DAY.replace(hour=11, minute=15), "Oscar", "Robert Fox", "Dr. Okafor", "Plucking", "Booked"),
    (_DAY.replace(hour=14), "Rocky", "Jenny Wilson", "Dr. Chen", "Post-op check", "Booked"),
]
PAGE_SIZES = ("10", "20", "30", "40", "50", "continuous")
SELECTIONS = ("none", "single", "multi")
STATES = ("ready", "loading", "empty", "error")
_SETTLE_SECONDS = 10.0


def _patients() -> list[tuple[Any, ...]]:
    return [(*row[:5], Decimal(row[5])) for row in PATIENTS]


@lru_cache(maxsize=2)  # the 100k and 1M stories; every row count typed would stay otherwise
def _many(count: int) -> dict[str, list[Any]]:
    """``count`` deterministic patient rows as column arrays (the last two kept)."""
    names = [p[0] for p in PATIENTS]
    species = [p[1] for p in PATIENTS]
    breeds = [p[2] for p in PATIENTS]
    owners = [p[3] for p in PATIENTS]
    first = dt.date(2005, 1, 1)
    return {
        "name": [f"{names[i % 12]} {i // 12 + 1}" for i in range(count)],
        "species": [species[i * 7 % 12] for i in range(count)],
        "breed": [breeds[i * 7 % 12] for i in range(count)],
        "owner": [owners[i * 5 % 12] for i in range(count)],
        "born": [first + dt.timedelta(days=i * 37 % 7000) for i in range(count)],
        "balance": [(i * 7919 % 50000) / 100 for i in range(count)],
    }


class _FailingSource:
    """A source whose database is down: every query fails (the error story)."""

    def run(self, query: GridQuery, cancelled: Any) -> Any:
        raise ConnectionError("could not connect to the clinic database at 10.0.0.5:5432")

    def distinct_values(self, key: str, limit: int) -> list[Any]:
        return []


def render(args: Mapping[str, Any]) -> QWidget:
    """A DataGrid from the story args, settled (first page shown) before it is returned."""
    dataset, count, state = args["dataset"], args["rows"], args["state"]
    columns = APPOINTMENT_COLUMNS if dataset == "appointments" else PATIENT_COLUMNS
    page_size = None if args["page_size"] == "continuous" else int(args["page_size"])
    kwargs: dict[str, Any] = {
        "page_size": page_size,
        "enable_sorting": args["enable_sorting"],
        "enable_filtering": args["enable_filtering"],
        "enable_pagination": args["enable_pagination"],
        "selection": args["selection"],
        "title": "Appointments" if dataset == "appointments" else "Patients",
        "bulk_actions": ["Send reminder"] if args["selection"] == "multi" else [],
        "empty_text": "No patients yet. Add one with “New patient”.",
    }
    if state == "error":
        grid = DataGrid(columns, source=_FailingSource(), **kwargs)
    elif state == "empty":
        grid = DataGrid(columns, [], **kwargs)
    elif dataset == "appointments":
        grid = DataGrid(columns, APPOINTMENTS, **kwargs)
    elif count > len(PATIENTS):
        source = InMemorySource.from_columns(columns, _many(count))
        grid = DataGrid(columns, source=source, **kwargs)
    else:
        grid = DataGrid(columns, _patients()[:count], **kwargs)
    _settle(grid)
    if state == "loading":
        grid.set_loading(True)
    if args["search"]:
        grid.set_filter(args["search"])
        _settle(grid)
    return grid


def _settle(grid: DataGrid) -> None:
    """Wait (bounded) for the first page, so every render shows the same thing."""
    deadline = time.monotonic() + _SETTLE_SECONDS
    while grid.is_loading() and time.monotonic() < deadline:
        QApplication.processEvents()
        time.sleep(0.005)
    QApplication.processEvents()


def code(args: Mapping[str, Any]) -> str:
    """The snippet for these args."""
    page_size = "None" if args["page_size"] == "continuous" else args["page_size"]
    columns = "APPOINTMENT_COLUMNS" if args["dataset"] == "appointments" else "PATIENT_COLUMNS"
    lines = [
        "from widgets.datagrid import Column, DataGrid",
        "",
        "grid = DataGrid(",
        f"    columns={columns},",
        "    rows=rows,  # dicts keyed by Column.key, or tuples in column order",
        f"    page_size={page_size},",
        f"    enable_sorting={args['enable_sorting']},",
        f"    enable_filtering={args['enable_filtering']},",
        f"    enable_pagination={args['enable_pagination']},",
        f"    selection={args['selection']!r},",
        ")",
        "grid.sig_row_activated.connect(open_record)",
    ]
    if args["search"]:
        lines.append(f"grid.set_filter({args['search']!r})")
    return "\n".join(lines) + "\n"


_BASE: dict[str, Any] = {
    "dataset": "patients",
    "rows": 12,
    "page_size": "10",
    "enable_sorting": True,
    "enable_filtering": True,
    "enable_pagination": True,
    "selection": "single",
    "state": "ready",
    "search": "",
    "width": 860,
}


def _story(name: str, docs: str, **overrides: Any) -> Story:
    args = {**_BASE, **overrides}
    return Story(
        name=name,
        render=render,
        args=args,
        choices={
            "dataset": ("patients", "appointments"),
            "page_size": PAGE_SIZES,
            "selection": SELECTIONS,
            "state": STATES,
        },
        ranges={"rows": (0, 1_000_000), "width": (480, 1400)},
        docs=docs,
        code=code,
        width=args["width"],
    )


COMPONENT = Component(
    name="DataGrid",
    widget=DataGrid,
    stories=(
        _story(
            "PatientList",
            "Twelve patients, ten per page: click a header to sort (shift-click adds a key), "
            "type to search, right-click a header to filter or hide columns.",
            selection="multi",
        ),
        _story(
            "AppointmentList",
            "Today's five appointments; Enter or a double-click opens one.",
            dataset="appointments",
            rows=5,
            page_size="20",
        ),
        _story("SmallPageSize", "Ten rows per page over 1,000 patients.", rows=1000),
        _story(
            "WithoutSorting",
            "Header clicks do nothing; rows keep their source order.",
            enable_sorting=False,
        ),
        _story(
            "WithoutFiltering",
            "No search box and no column filters.",
            enable_filtering=False,
        ),
        _story(
            "WithoutPagination",
            "Every row in one scrolling table.",
            enable_pagination=False,
            page_size="continuous",
        ),
        _story(
            "Minimal",
            "No sorting, filtering, paging or selection: a plain read-only table.",
            enable_sorting=False,
            enable_filtering=False,
            enable_pagination=False,
            page_size="continuous",
            selection="none",
            width=640,
        ),
        _story(
            "Loading",
            "While rows load off the UI thread, an overlay with progress covers the table.",
            state="loading",
        ),
        _story(
            "Empty",
            "No rows at all: the grid says so (with a filter, it offers to clear it).",
            state="empty",
        ),
        _story(
            "NoMatches",
            "A search that hides every row: the hint offers to clear the filters.",
            search="no such patient",
        ),
        _story(
            "Error",
            "The source failed: the message and a Retry button.",
            state="error",
        ),
        _story(
            "HundredThousandRows",
            "100,000 patients in memory, fifty per page: sorting and searching stay instant.",
            rows=100_000,
            page_size="50",
        ),
        _story(
            "MillionRowsContinuous",
            "1,000,000 patients, continuous scrolling: only the rows on screen are read.",
            rows=1_000_000,
            page_size="continuous",
            enable_pagination=False,
        ),
    ),
    matrix_rows=(
        ("Rows", {**_BASE, "rows": 5, "page_size": "continuous", "width": 520}),
        ("Empty", {**_BASE, "state": "empty", "width": 520}),
        ("Error", {**_BASE, "state": "error", "width": 520}),
    ),
    matrix_states=("normal", "disabled"),
    arg_docs={
        "dataset": "Which fake data: patients or appointments.",
        "rows": "How many rows (beyond the fake dozen, generated ones).",
        "page_size": "Rows per page, or continuous scrolling.",
        "enable_sorting": "Header clicks sort (shift-click adds a key).",
        "enable_filtering": "The search box and per-column filters.",
        "enable_pagination": "Show the pager.",
        "selection": "none, single or multi (multi shows tick boxes and bulk actions).",
        "state": "ready, or force loading, empty or error to see those states.",
        "search": "A search text applied on render.",
        "width": "The canvas width in pixels.",
    },
)
