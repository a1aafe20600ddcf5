"""Export a grid's view (filtered, sorted, every page) to CSV, Excel or PDF, off the UI thread."""

from __future__ import annotations

import csv
import datetime as dt
import os
import threading
from collections.abc import Callable, Iterator, Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any

from PySide6.QtCore import QMarginsF, QObject, QPointF, QRectF, Qt, Signal
from PySide6.QtGui import QFont, QFontMetricsF, QPageLayout, QPageSize, QPainter, QPdfWriter

from cellsafe import clean_text, safe_csv_text, sheet_title, xlsx_text
from widgets.datagrid.sources import GridResult
from widgets.datagrid.state import Column

FORMATS = ("csv", "xlsx", "pdf")
CHUNK = 2000

Progress = Callable[[int, int], None]
Cancelled = Callable[[], bool]


class ExportCancelledError(Exception):
    """The user cancelled the export; the partial file has been removed."""


def export_format(path: str | os.PathLike[str]) -> str:
    """The format named by the suffix of ``path``; ValueError naming the rule otherwise."""
    suffix = Path(path).suffix.lower().lstrip(".")
    if suffix not in FORMATS:
        raise ValueError("path: the file name must end in .csv, .xlsx or .pdf")
    return suffix


def _chunks(
    result: GridResult, indexes: Sequence[int], progress: Progress, cancelled: Cancelled
) -> Iterator[list[list[Any]]]:
    total = result.count
    for start in range(0, total, CHUNK):
        if cancelled():
            raise ExportCancelledError
        rows = result.rows(start, min(start + CHUNK, total))
        yield [[row[i] for i in indexes] for row in rows]
        progress(min(start + CHUNK, total), total)
    progress(total, total)


def export_result(
    result: GridResult,
    columns: Sequence[tuple[Column, int]],
    path: str | os.PathLike[str],
    progress: Progress = lambda _d, _t: None,
    cancelled: Cancelled = lambda: False,
    title: str = "",
) -> Path:
    """Write every row of ``result`` to ``path`` (format from its suffix).

    ``columns`` pairs each exported column with its index in the result's rows. The file is
    written beside the target and moved into place at the end, so a cancelled or failed
    export leaves no partial file behind.
    """
    fmt = export_format(path)
    target = Path(path)
    partial = target.with_name(f".{target.name}.partial")
    indexes = [i for _c, i in columns]
    cols = [c for c, _i in columns]
    try:
        chunks = _chunks(result, indexes, progress, cancelled)
        if fmt == "csv":
            _write_csv(partial, cols, chunks)
        elif fmt == "xlsx":
            _write_xlsx(partial, cols, chunks, title)
        else:
            _write_pdf(partial, cols, chunks, result.count, title)
        partial.replace(target)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    return target


# Formula injection and control characters are handled by cellsafe, the one place that
# knows how: the report files in jobs/ use it too.


def _write_csv(path: Path, columns: Sequence[Column], chunks: Iterator[list[list[Any]]]) -> None:
    # utf-8-sig so Excel opens accented names correctly.
    with path.open("w", newline="", encoding="utf-8-sig") as handle:
        writer = csv.writer(handle)
        writer.writerow([safe_csv_text(None, c.title) for c in columns])
        for chunk in chunks:
            writer.writerows(
                [safe_csv_text(v, c.display(v)) for c, v in zip(columns, row, strict=True)]
                for row in chunk
            )


def _write_xlsx(
    path: Path, columns: Sequence[Column], chunks: Iterator[list[list[Any]]], title: str
) -> None:
    from openpyxl import Workbook

    book = Workbook(write_only=True)
    sheet = book.create_sheet(title=sheet_title(title))

    def text_cell(text: str) -> Any:
        return xlsx_text(sheet, text)

    def excel_value(column: Column, value: Any) -> Any:
        if isinstance(value, str):
            return text_cell(value)
        if isinstance(value, dt.datetime) and value.tzinfo is not None:
            zone = column.timezone
            local = value.astimezone(zone) if zone is not None else value.astimezone()
            return local.replace(tzinfo=None)  # Excel has no time zones: the zone shown
        if value is None or isinstance(value, int | float | Decimal | dt.date | bool):
            return value
        return text_cell(column.display(value))

    sheet.append([text_cell(c.title) for c in columns])
    try:
        for chunk in chunks:
            for row in chunk:
                sheet.append([excel_value(c, v) for c, v in zip(columns, row, strict=True)])
    except BaseException:
        sheet.close()  # finish the sheet's temp file; the partial export is removed
        raise
    book.save(str(path))


def _write_pdf(
    path: Path,
    columns: Sequence[Column],
    chunks: Iterator[list[list[Any]]],
    total: int,
    title: str,
) -> None:
    writer = QPdfWriter(str(path))
    writer.setTitle(title or "Export")
    writer.setPageLayout(
        QPageLayout(
            QPageSize(QPageSize.PageSizeId.A4),
            QPageLayout.Orientation.Landscape,
            QMarginsF(12, 12, 12, 12),
            QPageLayout.Unit.Millimeter,
        )
    )
    writer.setResolution(150)
    painter = QPainter()
    if not painter.begin(writer):
        raise OSError(f"path: cannot write a PDF at {path}")
    try:
        font = QFont()
        font.setPointSizeF(8)
        painter.setFont(font)
        metrics = QFontMetricsF(font, writer)
        area = QRectF(writer.pageLayout().paintRectPixels(writer.resolution()))
        area.moveTo(0, 0)
        line = metrics.height() * 1.5
        width = area.width() / max(len(columns), 1)
        bold = QFont(font)
        bold.setBold(True)
        middle = Qt.AlignmentFlag.AlignVCenter
        aligns = [
            int(middle | (Qt.AlignmentFlag.AlignRight if c.kind in ("number", "money") else 0))
            for c in columns
        ]
        y = 0.0
        page = 1

        def header() -> float:
            painter.setFont(bold)
            for i, column in enumerate(columns):
                cell = QRectF(area.left() + i * width, 0, width - 6, line)
                text = metrics.elidedText(
                    clean_text(column.title), Qt.TextElideMode.ElideRight, cell.width()
                )
                painter.drawText(cell, aligns[i], text)
            painter.drawLine(QPointF(area.left(), line), QPointF(area.right(), line))
            painter.setFont(font)
            return line * 1.2

        def footer(number: int) -> None:
            rect = QRectF(area.left(), area.bottom() - line, area.width(), line)
            painter.drawText(rect, int(Qt.AlignmentFlag.AlignRight), f"Page {number}")

        y = header()
        for chunk in chunks:
            for row in chunk:
                if y + line > area.bottom() - line:
                    footer(page)
                    writer.newPage()
                    page += 1
                    y = header()
                for i, (column, value) in enumerate(zip(columns, row, strict=True)):
                    cell = QRectF(area.left() + i * width, y, width - 6, line)
                    text = metrics.elidedText(
                        clean_text(column.display(value)), Qt.TextElideMode.ElideRight, cell.width()
                    )
                    painter.drawText(cell, aligns[i], text)
                y += line
        if total == 0:
            painter.drawText(QRectF(area.left(), y, area.width(), line), 0, "No rows")
        footer(page)
    finally:
        painter.end()


class ExportJob(QObject):
    """One export running on its own thread; cancel() stops it between chunks.

    Signals:
        sig_progress(int, int): rows written so far, and the total.
        sig_finished(str): the file was written at this path.
        sig_failed(str): the export failed (the message says why).
        sig_cancelled(): the export was cancelled; no file was left behind.
    """

    sig_progress = Signal(int, int)
    sig_finished = Signal(str)
    sig_failed = Signal(str)
    sig_cancelled = Signal()

    def __init__(
        self,
        result: GridResult,
        columns: Sequence[tuple[Column, int]],
        path: str | os.PathLike[str],
        title: str = "",
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        export_format(path)
        self._result = result
        self._columns = list(columns)
        self._path = Path(path)
        self._title = title
        self._stop = threading.Event()
        self._done = threading.Event()
        self._thread: threading.Thread | None = None

    @property
    def path(self) -> Path:
        """Where the file goes."""
        return self._path

    def start(self) -> None:
        """Start writing on the job's thread."""
        self._thread = threading.Thread(target=self._run, name="datagrid-export", daemon=True)
        self._thread.start()

    def cancel(self) -> None:
        """Stop at the next chunk and remove the partial file."""
        self._stop.set()

    def wait(self, seconds: float | None = None) -> bool:
        """Block until the job has ended (tests, shutdown); False on timeout."""
        return self._done.wait(seconds)

    def is_running(self) -> bool:
        """True until the job has ended."""
        return not self._done.is_set()

    def _run(self) -> None:
        try:
            export_result(
                self._result,
                self._columns,
                self._path,
                progress=self.sig_progress.emit,
                cancelled=self._stop.is_set,
                title=self._title,
            )
        except ExportCancelledError:
            self._done.set()
            self.sig_cancelled.emit()
        except Exception as exc:
            self._done.set()
            self.sig_failed.emit(f"Could not export to {self._path.name}: {exc}")
        else:
            self._done.set()
            self.sig_finished.emit(str(self._path))
