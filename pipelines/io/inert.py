"""Cells written from input data stay inert text in every CSV and XLSX the project writes.

A spreadsheet treats a cell that begins with = + - @ (or a tab or carriage return before them)
as a formula: a community named `=HYPERLINK("http://evil.example","点此申诉")` would become a live
link in a publicity list, `=cmd|' /C calc'!A0` a DDE call. Following OWASP's CSV-injection
guidance, a text cell that begins with one of those characters (or with an apostrophe, so that
the escape can be undone exactly: `csv_value`) is written with a leading apostrophe in CSV; in
XLSX it is stored
with the string type, never the formula type, so it shows exactly as written and never runs.

Numbers stay numbers: only text is escaped, so a negative amount written as a number is untouched.
"""

from __future__ import annotations

from typing import Any

from openpyxl.cell.cell import Cell, WriteOnlyCell
from openpyxl.worksheet.worksheet import Worksheet

FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "\n")


def csv_text(value: str) -> str:
    """`value` as a CSV cell a spreadsheet shows as text: an apostrophe before a formula start
    (and before a leading apostrophe, so that `csv_value` restores every value exactly)."""
    return "'" + value if value.startswith(FORMULA_START) or value.startswith("'") else value


def csv_value(cell: str) -> str:
    """The value `csv_text` wrote as `cell` (for the project's own readers of its CSVs)."""
    return cell[1:] if cell.startswith("'") else cell


def set_text(cell: Cell | WriteOnlyCell, value: Any) -> Cell | WriteOnlyCell:
    """Put `value` in `cell`; text that openpyxl would store as a formula is stored as text."""
    cell.value = value
    if isinstance(value, str) and cell.data_type == "f":
        cell.data_type = "s"
    return cell


def row_cells(sheet: Worksheet, values: list[Any]) -> list[Any]:
    """A write-only sheet's row with every text value stored as text (never a formula)."""
    return [set_text(WriteOnlyCell(sheet), v) if isinstance(v, str) and v.startswith("=") else v
            for v in values]
