"""Cell text that a spreadsheet will not run: the one neutralisation of formula injection.

A spreadsheet evaluates a cell whose text starts with ``=``, ``+``, ``-`` or ``@`` (and,
in some locales, their full-width forms, or a leading tab or CR) as a formula or a DDE
command: a client named ``=HYPERLINK(...)`` becomes a live link in an export (OWASP "CSV
injection"). The DataGrid's exports (widgets/) and the report files (jobs/) both write
CSV and XLSX, and both neutralise such text here, the same way.

A package of its own, importing only the standard library (openpyxl lazily, for the
xlsx cell), because the grid may not import jobs/ and jobs/ may not import widgets/.
"""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal
from typing import Any

#: A spreadsheet reads a cell starting with one of these as a formula (or a DDE command):
#: the ASCII ones, their full-width forms (some Excel locales accept them), tab and CR.
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r", "\uff1d", "\uff0b", "\uff0d", "\uff20")
_NUMBERS = (int, float, Decimal, dt.date)
#: The control characters an xlsx file cannot hold (XML 1.0); tab, LF and CR are fine.
_ILLEGAL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")
_LINE_BREAKS = str.maketrans({"\x0b": "\n", "\x0c": "\n"})
_SHEET_TITLE_BAD = re.compile(r"[\\/?*\[\]:]+")


def is_formula_like(text: str) -> bool:
    """True when a spreadsheet would evaluate ``text`` typed into a cell."""
    return text.startswith(FORMULA_TRIGGERS)


def csv_text(text: str) -> str:
    """The CSV field of typed text: with a leading apostrophe when a spreadsheet would run
    it as a formula (the fast path for columns that hold only text)."""
    return "'" + text if text.startswith(FORMULA_TRIGGERS) else text


def safe_csv_text(value: Any, text: str) -> str:
    """The CSV field of a cell showing ``text`` for ``value``: text a spreadsheet would run
    as a formula gets a leading apostrophe. A real number or date keeps its sign ("-12.50"):
    its text was made from a typed value, not typed by a user."""
    if not is_formula_like(text):
        return text
    if isinstance(value, _NUMBERS) and not isinstance(value, bool) and text[0] in "+-":
        return text
    return csv_text(text)


def clean_text(text: str) -> str:
    """``text`` without the control characters an xlsx file (or a PDF font) cannot hold:
    a vertical tab or form feed (a word processor's line and page break) becomes a line
    break, any other control character U+FFFD, so one pasted character never loses an export."""
    if _ILLEGAL.search(text) is None:
        return text
    return _ILLEGAL.sub("\ufffd", text.translate(_LINE_BREAKS))


def sheet_title(title: str) -> str:
    """``title`` as Excel accepts a sheet name: no ``\\ / ? * [ ] :``, at most 31 characters."""
    cleaned = " ".join(_SHEET_TITLE_BAD.sub(" ", clean_text(title)).split())
    return cleaned[:31].strip(" '") or "Export"


def is_plain(text: str) -> bool:
    """True when ``text`` can go into an xlsx cell as it is: no control character a file
    cannot hold, nothing a spreadsheet would run (the fast path of :func:`xlsx_text`)."""
    return not text.startswith(FORMULA_TRIGGERS) and _ILLEGAL.search(text) is None


def xlsx_text(sheet: Any, text: str, font: Any = None) -> Any:
    """What to append to an openpyxl write-only ``sheet`` for a text cell showing ``text``.

    Plain text stays a ``str`` (the fast path). Formula-like text becomes a typed string
    cell: openpyxl writes any ``str`` starting with ``=`` as a formula, a cell typed ``s``
    is never evaluated, and ``quotePrefix`` keeps it text when someone edits the cell.
    With ``font`` (an openpyxl ``Font``) the cell is styled.
    """
    text = clean_text(text)
    formula = is_formula_like(text)
    if not formula and font is None:
        return text
    from openpyxl.cell import WriteOnlyCell

    cell = WriteOnlyCell(sheet, value=text)
    if formula:
        cell.data_type = "s"
        cell.quotePrefix = True
    if font is not None:
        cell.font = font
    return cell


__all__ = [
    "FORMULA_TRIGGERS",
    "clean_text",
    "csv_text",
    "is_formula_like",
    "is_plain",
    "safe_csv_text",
    "sheet_title",
    "xlsx_text",
]
