"""Read workbooks (XLSX, XLSM, XLS) with python-calamine, as a person reads them.

Every sheet whose header names the dataset's required columns is read (one workbook per
street, a sheet per community ...), each row keeping its sheet name; sheets without it (a cover,
notes, a summary) are skipped and listed in the manifest; a sheet that has part of the header
but lacks required columns stops the run, since reading around it would lose rows. Merged cells
take their value in every cell they cover (a 户编号 merged over a household's member rows
belongs to each member). Headers, blank rows, totals and notes: see layout.py.
"""

from __future__ import annotations

import html
import re
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow as pa

from pipelines.errors import InputError
from pipelines.io.layout import HEADER_SCAN_ROWS, Canonical, HeaderSpan, find_header
from pipelines.io.readers import (
    PROVENANCE,
    Columns,
    RawTable,
    Rejected,
    cell_text,
    empty_table,
    grid_table,
    layout_entry,
    no_columns,
    unique_names,
)


@dataclass
class _Sheet:
    name: str
    hidden: bool
    cells: list[list[str | None]]
    header: HeaderSpan | None
    # (row, column), 0-based from A1: formula cells saved without their result (a program that
    # writes formulas but does not calculate them); calamine reads them as blank
    uncached: frozenset[tuple[int, int]] = frozenset()


_CELL = re.compile(rb'<c r="([A-Z]+)([0-9]+)"([^>]*?)(?<!/)>(.*?)</c>', re.S)
# A saved result: a non-empty <v>; for a text result (t="str") an empty <v></v> too (a formula
# whose result is "", as =IFERROR(...,"") gives). openpyxl writes <v/> without a type: none.
_VALUE = re.compile(rb"<v>[^<]+</v>")
_TEXT_RESULT = re.compile(rb'\bt="str"')
_SHEET = re.compile(rb'<sheet\b[^>]*?name="([^"]*)"[^>]*?r:id="([^"]*)"', re.S)
_REL = re.compile(rb'<Relationship\b[^>]*?Id="([^"]*)"[^>]*?Target="([^"]*)"', re.S)
_REL_REVERSED = re.compile(rb'<Relationship\b[^>]*?Target="([^"]*)"[^>]*?Id="([^"]*)"', re.S)


def uncached_formulas(path: Path) -> dict[str, frozenset[tuple[int, int]]]:
    """Per sheet name, the formula cells of an XLSX/XLSM saved without a cached result. Only
    sheets that have any are listed; quick when none has (one search per sheet file)."""
    if path.suffix.lower() == ".xls":
        return {}
    try:
        with zipfile.ZipFile(path) as archive:
            sheets = [n for n in archive.namelist()
                      if n.startswith("xl/worksheets/") and n.endswith(".xml")]
            texts = {n: t for n in sheets if b"<f" in (t := archive.read(n))}  # formulas only
            if not texts:
                return {}
            book = archive.read("xl/workbook.xml")
            rels = archive.read("xl/_rels/workbook.xml.rels")
    except (zipfile.BadZipFile, KeyError, OSError):
        return {}  # calamine reports a damaged file
    targets = {rid: target for rid, target in _REL.findall(rels)}
    targets.update({rid: target for target, rid in _REL_REVERSED.findall(rels)})
    found: dict[str, frozenset[tuple[int, int]]] = {}
    for name, rid in _SHEET.findall(book):
        target = targets.get(rid, b"").decode("utf-8").lstrip("/")
        member = target if target.startswith("xl/") else f"xl/{target}"
        text = texts.get(member)
        if not text:
            continue
        cells = frozenset((int(row) - 1, _column(letters))
                          for letters, row, attrs, body in _CELL.findall(text)
                          if b"<f" in body and not _VALUE.search(body)
                          and not (_TEXT_RESULT.search(attrs) and b"<v" in body))
        if cells:
            found[html.unescape(name.decode("utf-8"))] = cells
    return found


def _column(letters: bytes) -> int:
    number = 0
    for letter in letters:
        number = number * 26 + letter - 64
    return number - 1


def _fill_merged(rows: list[list[Any]], ranges: Sequence[Any]) -> None:
    """Give every cell of a merged range the value of its top-left cell, as people see it."""
    for (top, left), (bottom, right) in ranges:
        if top >= len(rows):
            continue
        value = rows[top][left] if left < len(rows[top]) else None
        for r in range(top, min(bottom, len(rows) - 1) + 1):
            row = rows[r]
            if len(row) <= right:
                row.extend([None] * (right + 1 - len(row)))
            for c in range(left, right + 1):
                row[c] = value


def _open_sheets(path: Path, canonical: Canonical, all_sheets: bool,
                 nrows: int | None = None) -> list[_Sheet]:
    from python_calamine import CalamineWorkbook, SheetTypeEnum, SheetVisibleEnum

    kind = "XLS" if path.suffix.lower() == ".xls" else "XLSX"
    try:
        workbook = CalamineWorkbook.from_path(str(path))
        metadata = list(workbook.sheets_metadata)
        uncached = uncached_formulas(path) if nrows is None else {}
        sheets = []
        for meta in metadata if all_sheets else metadata[:1]:
            if meta.typ != SheetTypeEnum.WorkSheet:
                continue  # a chart or macro sheet holds no rows
            sheet = workbook.get_sheet_by_name(meta.name)
            rows = [list(r) for r in (sheet.to_python(skip_empty_area=False, nrows=nrows)
                                      if nrows else sheet.to_python(skip_empty_area=False))]
            _fill_merged(rows, sheet.merged_cell_ranges or [])
            # most cells are text: strip them here, render the others as a user sees them
            cells = [[(v.strip() or None) if type(v) is str else cell_text(v) for v in row]
                     for row in rows]
            sheets.append(_Sheet(meta.name, meta.visible != SheetVisibleEnum.Visible, cells,
                                 find_header(cells, canonical),
                                 uncached.get(meta.name, frozenset())))
    except InputError:
        raise
    except Exception as exc:  # calamine raises its own error types for damaged files
        raise InputError(f"{path.name}: cannot be read as an {kind} workbook ({exc})",
                         file=str(path)) from exc
    return sheets


def _required_missing(sheet: _Sheet, columns: Columns) -> list[str]:
    assert sheet.header is not None
    named = {columns.canonical(label) for label in sheet.header.labels if label}
    return sorted(columns.required - named)


def workbook_header(path: Path, columns: Columns | None = None) -> RawTable:
    """The header of the workbook's first data sheet, with no rows (see readers.read_header);
    a sheet lacking required columns that the others have is reported here already."""
    canonical = columns.canonical if columns else no_columns
    sheets = [s for s in _open_sheets(path, canonical, columns is not None, HEADER_SCAN_ROWS)
              if s.header is not None]
    if not sheets:
        raise InputError(f"{path.name}: the workbook has no filled sheet; expected a header row",
                         file=str(path))
    chosen = _choose_sheets(path, sheets, columns)[0] if columns else sheets[:1]
    first = chosen[0]
    assert first.header is not None
    rows = list(range(first.header.first + 1, first.header.last + 2))
    return empty_table(path, first.header.labels, None,
                       {"header_rows": rows, "sheets": [{"name": first.name}]})


def read_workbook(path: Path, columns: Columns | None = None) -> RawTable:
    """Read a workbook (XLSX, XLSM, XLS) with python-calamine: every sheet with the dataset's
    header, found under any title rows; sheets without it are skipped and listed."""
    canonical = columns.canonical if columns else no_columns
    sheets = _open_sheets(path, canonical, all_sheets=columns is not None)
    filled = [s for s in sheets if s.header is not None]
    if not filled:
        raise InputError(f"{path.name}: the workbook has no filled sheet; expected a header row",
                         file=str(path))
    if columns is None:
        chosen, skipped = filled[:1], list[dict[str, str]]()
    else:
        chosen, skipped = _choose_sheets(path, filled, columns)
    skipped += [{"name": s.name, "reason": "empty sheet"} for s in sheets if s.header is None]
    parts: list[tuple[_Sheet, pa.Table, list[Rejected]]] = []
    entries = []
    offset = 0
    for sheet in chosen:
        table, rejected, blank, last_row = _sheet_table(sheet, canonical, offset)
        offset = last_row
        parts.append((sheet, table, rejected))
        assert sheet.header is not None
        titles = sum(1 for cells in sheet.cells[:sheet.header.first] if any(cells))
        entries.append(layout_entry(list(range(sheet.header.first + 1, sheet.header.last + 2)),
                               titles, table.num_rows + len(rejected), blank, sheet.name,
                               sheet.hidden))
    table, headers = _align([(s, t) for s, t, _ in parts], canonical)
    rejected = [r for _, _, rs in parts for r in rs]
    layout: dict[str, Any] = {"header_rows": entries[0]["header_rows"], "sheets": entries}
    if skipped:
        layout["sheets_skipped"] = skipped
    return RawTable(path, table, headers, None, rejected, layout)


def _choose_sheets(path: Path, sheets: list[_Sheet], columns: Columns
                   ) -> tuple[list[_Sheet], list[dict[str, str]]]:
    """The sheets that hold the dataset: every sheet whose header names all required columns.

    A sheet naming some of the columns but lacking required ones is an error (it looks like part
    of the table, so reading around it would lose rows); a sheet naming few or none (a cover,
    notes, a summary) is skipped. With no complete sheet, the best one is returned, so that the
    caller reports its missing columns.
    """
    complete = [s for s in sheets if not _required_missing(s, columns)]
    if not complete:
        best = max(sheets, key=lambda s: s.header.matched if s.header else 0)
        return [best], [{"name": s.name, "reason": "no header of this dataset"}
                        for s in sheets if s is not best]
    reference = complete[0].header
    assert reference is not None
    chosen: list[_Sheet] = []
    skipped: list[dict[str, str]] = []
    for sheet in sheets:
        assert sheet.header is not None
        missing = _required_missing(sheet, columns)
        if not missing:
            chosen.append(sheet)
        elif sheet.header.matched * 2 >= reference.matched and sheet.header.matched >= 2:
            raise InputError(
                f"{path.name}: sheet {sheet.name!r} lacks the required column(s) "
                f"{', '.join(missing)} that sheet {complete[0].name!r} has (every sheet with "
                f"this header is read as part of the dataset; headers found on row "
                f"{sheet.header.last + 1}: {', '.join(h for h in sheet.header.labels if h)}). "
                "Add the columns to that sheet, or move it out of the workbook.",
                file=str(path))
        else:
            skipped.append({"name": sheet.name, "reason": "no header of this dataset "
                            f"(row {sheet.header.last + 1}: "
                            f"{', '.join(h for h in sheet.header.labels if h)[:120]})"})
    return chosen, skipped


def _sheet_table(sheet: _Sheet, canonical: Canonical, offset: int
                 ) -> tuple[pa.Table, list[Rejected], int, int]:
    """One sheet's records: (table, rejected, blank rows, the last data row number)."""
    header = sheet.header
    assert header is not None
    names = unique_names(header.labels)
    records: list[tuple[int, int, list[str | None]]] = []
    rejected: list[Rejected] = []
    blank = 0
    body = sheet.cells[header.last + 1:]
    # blank rows below the table are not counted: a sheet's used area often ends there
    while body and not any(body[-1]):
        body.pop()
    # uncached formula cells by sheet row, in the columns the dataset reads
    lost_by_row: dict[int, list[str]] = {}
    known = any(canonical(label) for label in header.labels if label)  # a dataset's file
    for r, c in sorted(sheet.uncached):
        if c < len(header.labels) and header.labels[c] and (
                not known or canonical(header.labels[c])):
            lost_by_row.setdefault(r, []).append(names[c])
    for number, cells in enumerate(body, start=1):
        line = number + header.last + 1
        if lost_by_row:
            lost = lost_by_row.get(line - 1)
            if lost:  # its value would read as blank: set the row aside, saying why
                rejected.append(Rejected(
                    number + offset, f"formula without a saved result in {', '.join(lost)} "
                    "(open the file in Excel or WPS, save it, and send it again)", line,
                    sheet.name))
                continue
        if not any(cells):
            blank += 1
            continue
        records.append((number + offset, line, cells))
    table = grid_table(names, records, header, canonical, sheet.name)
    return table, rejected, blank, offset + len(body)


def _align(parts: list[tuple[_Sheet, pa.Table]], canonical: Canonical
           ) -> tuple[pa.Table, list[str]]:
    """Stack sheets whose columns may come in another order or under other aliases."""
    order: list[str] = []
    labels: dict[str, str] = {}

    def key(label: str, position: int) -> str:
        known = canonical(label) if label else None
        return f"={known}" if known else f"?{label or position}"

    keyed = []
    for sheet, table in parts:
        assert sheet.header is not None
        keys: dict[str, str] = {}
        for position, (label, name) in enumerate(zip(sheet.header.labels,
                                                     table.column_names, strict=False)):
            k = key(label, position)
            while k in keys.values():
                k += "'"
            keys[name] = k
            if k not in labels:
                labels[k] = label
                order.append(k)
        keyed.append((table, keys))
    names = unique_names([labels[k] for k in order])
    arrays: dict[str, list[pa.Array]] = {k: [] for k in [*order, *PROVENANCE]}
    for table, keys in keyed:
        by_key = {k: table.column(name) for name, k in keys.items()}
        for k in order:
            if k in by_key:
                arrays[k].extend(by_key[k].chunks)
            else:
                arrays[k].append(pa.nulls(table.num_rows, pa.string()))
        for name in PROVENANCE:
            arrays[name].extend(table.column(name).chunks)
    columns = [pa.chunked_array(arrays[k], pa.string()) for k in order]
    provenance = [pa.chunked_array(arrays[n], parts[0][1].schema.field(n).type)
                  for n in PROVENANCE]
    table = pa.table([*columns, *provenance], names=[*names, *PROVENANCE]).combine_chunks()
    return table, [labels[k] for k in order]
