"""Publicity lists as XLSX (openpyxl): a community's list, and the city-wide workbook.

Files are byte-identical for the same lists: fixed document properties and fixed ZIP entry
times (openpyxl stamps entries with the wall clock otherwise).
"""

from __future__ import annotations

import re
import unicodedata
import zipfile
from collections.abc import Sequence
from datetime import date, datetime, time
from decimal import Decimal
from io import BytesIO
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from pipelines.io.inert import set_text
from pipelines.publicity.lists import (
    COLUMNS,
    LIST_COLUMNS,
    STOPPED_HEADING,
    ListedHousehold,
    PublicityList,
    cn_date,
)

AMOUNT_FORMAT = "#,##0.00"
_THIN = Side(style="thin", color="808080")
_BORDER = Border(left=_THIN, right=_THIN, top=_THIN, bottom=_THIN)
_HEAD_FILL = PatternFill("solid", fgColor="E4E4E4")
_CENTER = Alignment(horizontal="center", vertical="center", wrap_text=True)
_SHEET_UNSAFE = re.compile(r"[\[\]:*?/\\]")
_MODIFIED = re.compile(rb"(<dcterms:modified[^>]*>)[^<]*(</dcterms:modified>)")
SUMMARY_COLUMNS = ("区", "街道", "社区(村)数", "在保户数", "保障人数", "月保障金额(元)",
                   "本期新增户数", "本期停保户数")


def display_width(value: Any) -> int:
    """Columns a value takes in a spreadsheet: a CJK character counts two."""
    text = str(value) if value is not None else ""
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def _row_values(number: int, house: ListedHousehold) -> tuple[Any, ...]:
    return tuple(c.cell(number, house) for c in LIST_COLUMNS)


class _Sheet:
    """Writes a list sheet top to bottom, remembering column widths."""

    def __init__(self, ws: Worksheet, ncols: int):
        self.ws = ws
        self.ncols = ncols
        self.row = 1
        self.widths = [4] * ncols

    def banner(self, text: str, *, size: int = 11, bold: bool = False,
               align: str = "left", height: float | None = None) -> None:
        ws, last = self.ws, get_column_letter(self.ncols)
        ws.merge_cells(f"A{self.row}:{last}{self.row}")
        cell = set_text(ws.cell(self.row, 1), text)
        cell.font = Font(size=size, bold=bold)
        cell.alignment = Alignment(horizontal=align, vertical="center", wrap_text=True)
        if height:
            ws.row_dimensions[self.row].height = height
        self.row += 1

    def table_row(self, values: Sequence[Any], *, head: bool = False, bold: bool = False,
                  amount_col: int | None = None) -> None:
        for col, value in enumerate(values, start=1):
            cell = set_text(self.ws.cell(self.row, col), value)
            cell.border = _BORDER
            cell.alignment = _CENTER
            if head or bold:
                cell.font = Font(bold=True)
            if head:
                cell.fill = _HEAD_FILL
            elif col == amount_col:
                cell.number_format = AMOUNT_FORMAT
                cell.alignment = Alignment(horizontal="right", vertical="center")
            shown = f"{value:,.2f}" if col == amount_col and not head else value
            self.widths[col - 1] = max(self.widths[col - 1], min(display_width(shown) + 2, 40))
        self.row += 1

    def skip(self) -> None:
        self.row += 1

    def finish(self, header_row: int) -> None:
        ws = self.ws
        for col, width in enumerate(self.widths, start=1):
            ws.column_dimensions[get_column_letter(col)].width = width
        ws.freeze_panes = f"A{header_row + 1}"
        ws.print_title_rows = f"{header_row}:{header_row}"
        ws.page_setup.paperSize = ws.PAPERSIZE_A4
        ws.page_setup.orientation = "portrait"
        ws.page_setup.fitToWidth = 1
        ws.page_setup.fitToHeight = 0
        ws.sheet_properties.pageSetUpPr.fitToPage = True
        ws.print_options.horizontalCentered = True
        ws.page_margins.left = ws.page_margins.right = 0.4
        ws.oddFooter.center.text = "第 &P 页，共 &N 页"


def _fill_list(ws: Worksheet, plist: PublicityList) -> None:
    sheet = _Sheet(ws, len(COLUMNS))
    sheet.banner(plist.title, size=16, bold=True, align="center", height=30)
    sheet.banner(plist.subtitle, align="center")
    header_row = sheet.row
    amount_col = next(i for i, c in enumerate(LIST_COLUMNS, start=1) if c.money)
    sheet.table_row(COLUMNS, head=True)
    for number, house in enumerate(plist.listed, start=1):
        sheet.table_row(_row_values(number, house), amount_col=amount_col)
    sheet.table_row(tuple(c.total(plist) if c.total else None for c in LIST_COLUMNS),
                    bold=True, amount_col=amount_col)
    if plist.stopped:
        sheet.skip()
        sheet.banner(f"{STOPPED_HEADING}（{len(plist.stopped)}户，不计入合计）", bold=True)
        sheet.table_row(COLUMNS, head=True)
        for number, house in enumerate(plist.stopped, start=1):
            sheet.table_row(_row_values(number, house), amount_col=amount_col)
    sheet.skip()
    *notes, dated = plist.notes()
    for line in notes:
        sheet.banner(line)
    sheet.banner(dated, align="right")
    sheet.finish(header_row)


def deterministic(workbook: Workbook, title: str, as_of: date) -> bytes:
    """The workbook's bytes, the same for the same content: fixed document properties and
    ZIP entry times."""
    stamp = datetime.combine(as_of, time(0, 0))
    props = workbook.properties
    props.creator = props.lastModifiedBy = "dibao-audit"
    props.title = title
    props.created = props.modified = stamp
    raw = BytesIO()
    workbook.save(raw)
    out = BytesIO()
    with zipfile.ZipFile(raw) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            entry = zipfile.ZipInfo(info.filename, date_time=(1980, 1, 1, 0, 0, 0))
            entry.compress_type = zipfile.ZIP_DEFLATED
            entry.external_attr = 0o600 << 16
            data = src.read(info.filename)
            if info.filename == "docProps/core.xml":  # openpyxl stamps `modified` at save time
                data = _MODIFIED.sub(rf"\g<1>{stamp.isoformat()}Z\g<2>".encode(), data)
            dst.writestr(entry, data)
    return out.getvalue()


def render_xlsx(plist: PublicityList) -> bytes:
    """One community's list as a one-sheet workbook."""
    workbook = Workbook()
    ws = workbook.active
    assert ws is not None
    ws.title = "公示名单"
    _fill_list(ws, plist)
    return deterministic(workbook, plist.title, plist.as_of)


def sheet_names(lists: Sequence[PublicityList], reserved: Sequence[str] = ()) -> list[str]:
    """Unique sheet names (≤31 characters, no []:*?/\\): the street, else district+street, else numbered."""
    taken = {name.casefold() for name in reserved}
    names = []
    for plist in lists:
        for candidate in (plist.street, f"{plist.district}{plist.street}"):
            name = _SHEET_UNSAFE.sub("_", candidate).strip("'")[:31] or "街道"
            if name.casefold() not in taken:
                break
        number = 2
        base = name
        while name.casefold() in taken:
            suffix = f"({number})"
            name = base[:31 - len(suffix)] + suffix
            number += 1
        taken.add(name.casefold())
        names.append(name)
    return names


def _fill_summary(ws: Worksheet, lists: Sequence[PublicityList], city_name: str,
                  as_of: date) -> None:
    sheet = _Sheet(ws, len(SUMMARY_COLUMNS))
    sheet.banner(f"{city_name}最低生活保障公示名单汇总", size=16, bold=True, align="center",
                 height=30)
    sheet.banner(f"数据截至{cn_date(as_of)}　各街道名单见后续工作表", align="center")
    header_row = sheet.row
    amount_col = SUMMARY_COLUMNS.index("月保障金额(元)") + 1
    sheet.table_row(SUMMARY_COLUMNS, head=True)
    for plist in lists:
        added = sum("新增" in h.change.split("、") for h in plist.listed)
        communities = len({h.community for h in (*plist.listed, *plist.stopped)})
        sheet.table_row((plist.district, plist.street, communities, plist.households,
                         plist.covered, plist.amount, added, len(plist.stopped)),
                        amount_col=amount_col)
    totals = (
        "合计", f"{len(lists)}个街道", None,
        sum(p.households for p in lists), sum(p.covered for p in lists),
        sum((p.amount for p in lists), Decimal("0.00")),
        sum(sum("新增" in h.change.split("、") for h in p.listed) for p in lists),
        sum(len(p.stopped) for p in lists),
    )
    sheet.table_row(totals, bold=True, amount_col=amount_col)
    sheet.finish(header_row)


def render_city_xlsx(lists: Sequence[PublicityList], city_name: str, as_of: date) -> bytes:
    """The city-wide workbook: a summary sheet (汇总), then one sheet per street."""
    workbook = Workbook()
    summary = workbook.active
    assert summary is not None
    summary.title = "汇总"
    _fill_summary(summary, lists, city_name, as_of)
    for name, plist in zip(sheet_names(lists, reserved=("汇总",)), lists, strict=True):
        _fill_list(workbook.create_sheet(name), plist)
    return deterministic(workbook, f"{city_name}最低生活保障公示名单", as_of)
