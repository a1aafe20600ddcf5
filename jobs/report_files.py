"""Report files: CSV, Excel (openpyxl write-only) and PDF (fpdf2), written a page of rows at a time.

A writer is opened on a path, fed pages of rows, given the totals row and closed; the
caller writes to a temporary name and moves the file into place, so a cancelled or
failed report leaves nothing half-written where the Reports page looks.

CSV and XLSX stream to disk: memory stays flat however many rows pass. Text that a
spreadsheet would run as a formula is neutralised by :mod:`cellsafe` (the DataGrid's
exports use the same code). A PDF is built in memory by fpdf2 and written at the end,
so PDFs are capped at :data:`MAX_PDF_ROWS` rows (a clear error before any work; CSV and
Excel have no cap).
"""

from __future__ import annotations

import csv
import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, Protocol

from cellsafe import clean_text, csv_text, is_plain, safe_csv_text, sheet_title, xlsx_text
from jobs.report_kinds import ReportColumn, Row

FORMATS = ("csv", "xlsx", "pdf")
#: The most rows a PDF report may have: fpdf2 holds the document in memory until saved
#: (about 60 MB at this size), and nobody reads more pages than that on paper.
MAX_PDF_ROWS = 100_000
NUMERIC_KINDS = frozenset({"int", "money", "percent"})
#: How many cut-to-fit texts a PDF writer remembers.
FIT_MEMORY = 20_000


@dataclass(frozen=True, slots=True)
class ReportMeta:
    """What a file says about itself: title, clinic, period and when it was made.

    Args:
        title: the report's title.
        clinic_name: the clinic, on the PDF's header.
        clinic_address: under the name (may be empty).
        period: the period as people read it ("1 Mar 2026 - 31 Mar 2026").
        generated_at: when the report was made (aware; shown in ``zone``).
        zone: the clinic's time zone; instants in the rows are written in it.
    """

    title: str
    clinic_name: str
    clinic_address: str
    period: str
    generated_at: dt.datetime
    zone: dt.tzinfo


class ReportWriter(Protocol):
    """Writes one report file."""

    def write(self, rows: Sequence[Row]) -> None:
        """Append a page of rows."""

    def finish(self, totals: Row | None) -> None:
        """Append the totals row (if any) and complete the file."""

    def abort(self) -> None:
        """Stop writing; the caller removes the partial file."""


def open_writer(
    fmt: str, path: Path, columns: Sequence[ReportColumn], meta: ReportMeta
) -> ReportWriter:
    """A writer of ``fmt`` (``csv``, ``xlsx`` or ``pdf``) creating ``path``."""
    if fmt == "csv":
        return CsvWriter(path, columns, meta)
    if fmt == "xlsx":
        return XlsxWriter(path, columns, meta)
    if fmt == "pdf":
        return PdfWriter(path, columns, meta)
    raise ValueError(f"format: {fmt!r} is not one of {', '.join(FORMATS)}")


# Text of a value, per column kind --------------------------------------------------------


def text_of(column: ReportColumn, zone: dt.tzinfo) -> Callable[[Any], str]:
    """How ``column``'s values read as text (CSV fields, PDF cells); text (the totals row's
    ``Total`` label in any column) stays as it is."""
    kind = column.kind
    if kind == "money":
        return lambda v: "" if v is None else v if isinstance(v, str) else f"{v:.2f}"
    if kind == "percent":
        return lambda v: "" if v is None else v if isinstance(v, str) else f"{v}%"
    if kind == "datetime":
        # isoformat and a slice: twice as fast as strftime, and this runs per cell.
        return lambda v: (
            ""
            if v is None
            else v
            if isinstance(v, str)
            else v.astimezone(zone).isoformat(" ", "minutes")[:16]
        )
    if kind == "date":
        return lambda v: "" if v is None else v if isinstance(v, str) else v.isoformat()
    return lambda v: "" if v is None else str(v)


def _csv_text(value: Any) -> str:
    if value is None:
        return ""
    return csv_text(value if type(value) is str else str(value))


# CSV ------------------------------------------------------------------------------------


class CsvWriter:
    """UTF-8 with a byte-order mark (so Excel reads accents), one header row, then the rows;
    the totals row last, its first field ``Total``. Money as plain ``1234.50``."""

    def __init__(self, path: Path, columns: Sequence[ReportColumn], meta: ReportMeta) -> None:
        self._handle: IO[str] = path.open("w", newline="", encoding="utf-8-sig")
        self._writer = csv.writer(self._handle)
        # Only text can be typed by a user: numbers, dates and times are written from typed
        # values (a negative amount keeps its sign), so only text columns are neutralised.
        self._texts = [_csv_text if c.kind == "text" else text_of(c, meta.zone) for c in columns]
        self._writer.writerow([safe_csv_text(None, c.title) for c in columns])

    def write(self, rows: Sequence[Row]) -> None:
        texts = self._texts
        self._writer.writerows([t(v) for t, v in zip(texts, row, strict=True)] for row in rows)

    def finish(self, totals: Row | None) -> None:
        if totals is not None:
            self.write([totals])
        self._handle.close()

    def abort(self) -> None:
        self._handle.close()


# Excel ----------------------------------------------------------------------------------


class XlsxWriter:
    """One sheet: the clinic, title and period in the first rows, a blank row, the header
    (frozen), the rows with typed cells (numbers, dates, local date-times), the totals row.

    openpyxl's write-only mode streams rows to a temporary file, so memory stays flat.
    """

    TITLE_ROWS = 4  # clinic, title, period + generated, blank

    def __init__(self, path: Path, columns: Sequence[ReportColumn], meta: ReportMeta) -> None:
        from openpyxl import Workbook
        from openpyxl.cell import WriteOnlyCell
        from openpyxl.styles import Font

        self._path = path
        self._book = Workbook(write_only=True)
        self._book.properties.title = meta.title
        self._book.properties.creator = meta.clinic_name
        sheet = self._book.create_sheet(title=sheet_title(meta.title))
        self._sheet = sheet
        sheet.freeze_panes = f"A{self.TITLE_ROWS + 2}"
        for index, column in enumerate(columns):
            letter = _column_letter(index)
            sheet.column_dimensions[letter].width = max(10, round(column.width * 14))
        bold = Font(bold=True)
        big = Font(bold=True, size=14)
        plain = Font()

        def styled(value: Any, font: Font, number_format: str | None = None) -> Any:
            if isinstance(value, str):
                return xlsx_text(sheet, value, font)
            cell = WriteOnlyCell(sheet, value=value)
            cell.font = font
            if number_format:
                cell.number_format = number_format
            return cell

        self._styled = styled
        self._bold = bold
        generated = meta.generated_at.astimezone(meta.zone)
        sheet.append([styled(meta.clinic_name, big)])
        sheet.append([styled(meta.title, bold)])
        sheet.append([xlsx_text(sheet, f"{meta.period} · made {generated:%Y-%m-%d %H:%M}")])
        sheet.append([])
        sheet.append([styled(c.title, bold) for c in columns])
        zone = meta.zone
        self._kinds = [c.kind for c in columns]
        # Per row, only the cells that need it are touched (most cells go as they are):
        # local times lose their zone (Excel has none), text that is not plain is made
        # safe (cellsafe), numbers with a format get it.
        self._zone = zone
        self._times = [i for i, c in enumerate(columns) if c.kind == "datetime"]
        self._texts = [i for i, c in enumerate(columns) if c.kind == "text"]
        self._formatted = [
            (i, _formatted(styled, plain, _FORMATS[c.kind]))
            for i, c in enumerate(columns)
            if c.kind in _FORMATS
        ]

    def write(self, rows: Sequence[Row]) -> None:
        append = self._sheet.append
        sheet, zone = self._sheet, self._zone
        times, texts, formatted = self._times, self._texts, self._formatted
        for row in rows:
            cells = list(row)
            for i in times:
                value = cells[i]
                if value is not None:
                    cells[i] = value.astimezone(zone).replace(tzinfo=None)
            for i in texts:
                value = cells[i]
                if value is not None and (type(value) is not str or not is_plain(value)):
                    cells[i] = xlsx_text(sheet, str(value))
            for i, cell in formatted:
                cells[i] = cell(cells[i])
            append(cells)

    def finish(self, totals: Row | None) -> None:
        if totals is not None:
            self._sheet.append(
                [
                    None if v is None else self._styled(v, self._bold, _FORMATS.get(kind))
                    for kind, v in zip(self._kinds, totals, strict=True)
                ]
            )
        self._book.save(str(self._path))

    def abort(self) -> None:
        self._sheet.close()  # finish the sheet's temporary file


_FORMATS = {"money": "#,##0.00", "percent": "0.0"}


def _formatted(
    styled: Callable[[Any, Any, str | None], Any], font: Any, number_format: str
) -> Callable[[Any], Any]:
    def cell(value: Any) -> Any:
        if value is None or isinstance(value, str):
            return value
        return styled(value, font, number_format)

    return cell


def _column_letter(index: int) -> str:
    from openpyxl.utils import get_column_letter

    return str(get_column_letter(index + 1))


# PDF ------------------------------------------------------------------------------------


def _latin1(text: str) -> str:
    """The core PDF fonts speak Latin-1; anything else becomes '?' rather than an error."""
    return clean_text(text).encode("latin-1", "replace").decode("latin-1")


class PdfWriter:
    """A4 landscape: the clinic and the report's title and period at the top of every page,
    the column headings repeated on every page, numbers right-aligned, the totals row in
    bold at the end, "Page n of m" and the time it was made at the foot."""

    FONT_SIZE = 7.5
    LINE = 4.6  # mm per row

    def __init__(self, path: Path, columns: Sequence[ReportColumn], meta: ReportMeta) -> None:
        from fpdf import FPDF

        self._path = path
        self._meta = meta
        self._columns = list(columns)
        self._texts = [text_of(c, meta.zone) for c in columns]
        self._aligns = ["R" if c.kind in NUMERIC_KINDS else "L" for c in columns]
        self._rows = 0
        self._fitted: dict[tuple[str, float], str] = {}
        writer = self

        class _Document(FPDF):
            def header(self) -> None:
                writer._page_header()

            def footer(self) -> None:
                writer._page_footer()

        pdf = _Document(orientation="L", format="A4")
        pdf.set_margins(10, 10, 10)
        pdf.set_auto_page_break(False)
        pdf.set_title(_latin1(meta.title))
        pdf.set_author(_latin1(meta.clinic_name))
        pdf.set_creator("Purple Cross Desktop")
        self._pdf = pdf
        usable = pdf.w - pdf.l_margin - pdf.r_margin
        share = sum(c.width for c in columns) or 1.0
        self._widths = [usable * c.width / share for c in columns]
        em = self.FONT_SIZE * 25.4 / 72  # mm
        # A cell of up to this many characters always fits (Helvetica's widest common
        # glyphs are under 0.95 em); longer text is measured and cut to fit.
        self._fits = [max(1, int((w - 1.5) / (em * 0.95))) for w in self._widths]
        self._bottom = pdf.h - 14
        pdf.add_page()

    def _page_header(self) -> None:
        pdf, meta = self._pdf, self._meta
        pdf.set_font("Helvetica", "B", 12)
        pdf.cell(0, 6, _latin1(meta.clinic_name), new_x="LMARGIN", new_y="NEXT")
        pdf.set_font("Helvetica", "", 8)
        if meta.clinic_address:
            pdf.cell(0, 4, _latin1(meta.clinic_address), new_x="LMARGIN", new_y="NEXT")
        pdf.set_font("Helvetica", "B", 10)
        pdf.cell(0, 6, _latin1(f"{meta.title}  -  {meta.period}"), new_x="LMARGIN", new_y="NEXT")
        pdf.ln(1)
        pdf.set_font("Helvetica", "B", self.FONT_SIZE)
        for column, width, align in zip(self._columns, self._widths, self._aligns, strict=True):
            pdf.cell(width, self.LINE, self._fit(_latin1(column.title), width), align=align)
        pdf.ln(self.LINE)
        y = pdf.get_y()
        pdf.line(pdf.l_margin, y, pdf.w - pdf.r_margin, y)
        pdf.ln(0.8)
        pdf.set_font("Helvetica", "", self.FONT_SIZE)

    def _page_footer(self) -> None:
        pdf, meta = self._pdf, self._meta
        pdf.set_y(-10)
        pdf.set_font("Helvetica", "", 7)
        made = meta.generated_at.astimezone(meta.zone)
        pdf.cell(0, 4, _latin1(f"Made {made:%Y-%m-%d %H:%M}"), align="L")
        pdf.set_x(pdf.l_margin)
        pdf.cell(0, 4, f"Page {pdf.page_no()} of {{nb}}", align="R")

    def _fit(self, text: str, width: float) -> str:
        """``text`` as it fits ``width`` (cut with "..."); remembered, since the same names,
        rooms, types and statuses come back on most rows (the table is bounded)."""
        key = (text, width)
        fitted = self._fitted.get(key)
        if fitted is not None:
            return fitted
        pdf = self._pdf
        fitted = text
        if pdf.get_string_width(text) > width - 1.5:
            while fitted and pdf.get_string_width(fitted + "...") > width - 1.5:
                fitted = fitted[:-1]
            fitted += "..."
        if len(self._fitted) < FIT_MEMORY:
            self._fitted[key] = fitted
        return fitted

    def _line(self, row: Row) -> None:
        pdf = self._pdf
        if pdf.get_y() + self.LINE > self._bottom:
            pdf.add_page()
        cell = pdf.cell
        line = self.LINE
        for text_of_value, width, fits, align, value in zip(
            self._texts, self._widths, self._fits, self._aligns, row, strict=True
        ):
            text = text_of_value(value)
            if not (text.isascii() and text.isprintable()):  # most cells skip the recoding
                text = _latin1(text)
            if len(text) > fits:
                text = self._fit(text, width)
            cell(width, line, text, align=align)
        pdf.ln(line)

    def write(self, rows: Sequence[Row]) -> None:
        self._rows += len(rows)
        if self._rows > MAX_PDF_ROWS:
            raise ValueError(
                f"format: a PDF report holds at most {MAX_PDF_ROWS:,} rows; "
                "choose CSV or Excel for more, or a shorter period"
            )
        for row in rows:
            self._line(row)

    def finish(self, totals: Row | None) -> None:
        pdf = self._pdf
        if self._rows == 0:
            pdf.cell(0, self.LINE, "No rows in this period.", new_x="LMARGIN", new_y="NEXT")
        if totals is not None:
            if pdf.get_y() + self.LINE * 2 > self._bottom:
                pdf.add_page()
            y = pdf.get_y() + 0.5
            pdf.line(pdf.l_margin, y, pdf.w - pdf.r_margin, y)
            pdf.ln(1)
            pdf.set_font("Helvetica", "B", self.FONT_SIZE)
            self._line(totals)
        pdf.output(str(self._path))

    def abort(self) -> None:
        """Nothing on disk yet: the document lives in memory until :meth:`finish`."""


__all__ = [
    "FORMATS",
    "MAX_PDF_ROWS",
    "CsvWriter",
    "PdfWriter",
    "ReportMeta",
    "ReportWriter",
    "XlsxWriter",
    "open_writer",
    "text_of",
]
