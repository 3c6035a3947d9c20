"""Read department files (CSV in UTF-8/GBK/GB18030, XLSX/XLS, Parquet) into tables of text.

Every value arrives as text (or NULL) exactly as the department wrote it, so that nothing is
lost before normalisation: an ID stays '0420...' or '4.20102E+17', a date stays '2023年1月5日'.

Office exports are read as a person reads them (see layout.py): the header is found under any
title rows (two-row headers with a merged group heading included), merged cells are filled
with their value, every sheet of a workbook with the dataset's header is read, blank rows are
skipped and counted, and totals, notes and repeated headers are marked (`LAYOUT`) for ingest
to quarantine.

Row numbers: `ROW` counts data rows after the header as the file shows them (blank rows
included; the header is row 0), continuing across the sheets of a workbook, so it identifies a
row within the dataset. `LINE` is the row's line in the file or sheet as an editor or a
spreadsheet shows it (1-based), `SHEET` its sheet.
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import io
import logging
import math
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from pipelines.errors import InputError
from pipelines.io.layout import (
    HEADER_SCAN_ROWS,
    Canonical,
    HeaderSpan,
    find_header,
    first_cell_reason,
    fold,
    note_pattern,
    row_reason,
    total_pattern,
)

log = logging.getLogger(__name__)

SUFFIXES = (".csv", ".xlsx", ".xlsm", ".xls", ".parquet")
WORKBOOK_SUFFIXES = (".xlsx", ".xlsm", ".xls")
ROW = "_row"  # data row number (see the module docstring)
LINE = "_line"  # line in the file or sheet, 1-based, as shown to people
SHEET = "_sheet"  # the workbook sheet the row comes from (NULL for CSV and Parquet)
LAYOUT = "_layout"  # why the row is no record (a total, a note, a repeated header), else NULL
PROVENANCE = (ROW, LINE, SHEET, LAYOUT)

SKIP_TITLE = "title rows above the header"
SKIP_BLANK = "blank rows"


class Rejected(NamedTuple):
    """A row that could not be read as a record (wrong number of fields, a note ...)."""

    row: int
    reason: str
    line: int
    sheet: str | None = None


@dataclass(frozen=True)
class Columns:
    """What the reader knows of the dataset: which header names which column, which are required.

    Without it (`None` in the readers) the first non-blank row is the header.
    """

    canonical: Canonical
    required: frozenset[str] = frozenset()
    # every accepted label, folded as config.normalise_header folds it (NFKC, no white space,
    # lower case): finds a repeated header row without a lookup per row
    labels: frozenset[str] = frozenset()


@dataclass
class RawTable:
    """A file read as text: columns as written, plus provenance columns (see PROVENANCE)."""

    path: Path
    table: pa.Table  # header columns pa.string(), then ROW, LINE, SHEET, LAYOUT
    headers: list[str]
    encoding: str | None = None
    malformed_rows: list[Rejected] = field(default_factory=list)
    # the header rows used, the sheets read and skipped, the rows skipped (for the manifest)
    layout: dict[str, Any] = field(default_factory=dict)


def no_columns(_: str) -> str | None:
    return None


def detect_encoding(data: bytes, path: Path) -> str:
    """Return 'utf-8-sig', 'utf-8', 'gbk' or 'gb18030'; raise InputError when none decodes."""
    return decode(data, path)[0]


def decode(data: bytes, path: Path) -> tuple[str, str]:
    """The encoding ('utf-8-sig', 'utf-8', 'gbk' or 'gb18030') and the text: the first that
    decodes the whole of `data`; InputError when none does."""
    candidates = ["utf-8-sig"] if data.startswith(codecs.BOM_UTF8) else ["utf-8", "gbk", "gb18030"]
    if b"\x00" in data[:65536]:
        raise InputError(
            f"{path.name}: the file contains NUL bytes; it looks binary or UTF-16, not a CSV in "
            "UTF-8, GBK or GB18030", file=str(path))
    errors: list[str] = []
    for encoding in candidates:
        try:
            return encoding, data.decode(encoding)
        except UnicodeDecodeError as exc:
            line = data[: exc.start].count(b"\n") + 1
            errors.append(f"{encoding} fails at byte {exc.start} (line {line})")
    raise InputError(
        f"{path.name}: cannot be decoded as UTF-8, GBK or GB18030 ({'; '.join(errors)})",
        file=str(path))


def unique_names(headers: list[str]) -> list[str]:
    seen: dict[str, int] = {}
    out = []
    for h in headers:
        name = h if h else "column"
        if name in seen:
            seen[name] += 1
            name = f"{name}.{seen[name]}"
        else:
            seen[name] = 0
        out.append(name)
    return out


def layout_entry(header_lines: list[int], title_rows: int, records: int, blank: int,
            sheet: str | None = None, hidden: bool = False) -> dict[str, Any]:
    """The manifest's account of one table: its header rows (1-based lines), records, and the
    rows skipped (title rows above the header, blank rows)."""
    entry: dict[str, Any] = {"header_rows": header_lines, "records": records}
    if sheet is not None:
        entry = {"name": sheet, **entry, "hidden": hidden}
    skipped = {SKIP_TITLE: title_rows, SKIP_BLANK: blank}
    entry["rows_skipped"] = {k: v for k, v in skipped.items() if v}
    return entry


# ---------------------------------------------------------------------------------------- CSV

# A record over this many lines is a stray quotation mark, not a value with line breaks (an
# address typed over two or three lines is the real case).
MAX_RECORD_LINES = 20


def _lines(text: str) -> Iterator[str]:
    start = 0
    while start < len(text):
        end = text.find("\n", start)
        if end < 0:
            yield text[start:]
            return
        yield text[start:end + 1]
        start = end + 1


def _head(text: str, path: Path) -> list[tuple[list[str], int]]:
    """The first records of a CSV text, each with the line it ends on."""
    reader = csv.reader(_lines(text))
    out: list[tuple[list[str], int]] = []
    try:
        for record in reader:
            out.append((record, reader.line_num))
            if len(out) >= HEADER_SCAN_ROWS:
                break
    except csv.Error as exc:
        raise _runaway(path, (out[-1][1] + 1) if out else 1, exc) from None
    return out


def _runaway(path: Path, line: int, exc: csv.Error) -> InputError:
    """A value past the csv module's field limit: a stray quote, almost always."""
    return InputError(
        f"{path.name}: line {line}: a value runs past {csv.field_size_limit():,} characters "
        f"({exc}); most likely a stray quotation mark (\") opens it and never closes: "
        "remove it, or write it as \"\" inside a quoted value", file=str(path))


def _offset_after(text: str, lines: int) -> int:
    position = 0
    for _ in range(lines):
        found = text.find("\n", position)
        if found < 0:
            return len(text)
        position = found + 1
    return position


def read_csv(path: Path, columns: Columns | None = None) -> RawTable:
    """Read a CSV of any supported encoding; rows that are no records are set aside."""
    data = path.read_bytes()
    encoding, text = decode(data, path)  # decoded once
    del data
    canonical = columns.canonical if columns else no_columns
    head = _head(text, path)
    header = find_header([cells for cells, _ in head], canonical)
    if header is None:
        raise InputError(f"{path.name}: the file is empty; expected a header row",
                         file=str(path))
    header_end = head[header.last][1]  # the line the header ends on
    header_start = head[header.first - 1][1] + 1 if header.first else 1
    body = text[_offset_after(text, header_end):]
    del text  # a file's worth of memory
    names = unique_names(header.labels)
    table, rejected, blank = _read_body(body, names, header, columns, header_end)
    if table is None:
        table, rejected, blank = _read_body_exact(path, body, names, header, canonical,
                                                  header_end)
    titles = sum(1 for cells, _ in head[:header.first] if any(c.strip() for c in cells))
    return RawTable(path, table, header.labels, encoding, rejected,
                    layout_entry(list(range(header_start, header_end + 1)), titles,
                            table.num_rows + len(rejected), blank))


def _classify_text(text: str, header: HeaderSpan, canonical: Canonical,
                   expected: int, actual: int) -> str | None:
    """For a line with the wrong number of fields: None if blank, else why it is no record."""
    if not text.strip(" \t\r\n,"):
        return None
    cells = next(csv.reader([text]), [])
    return row_reason(cells, header, canonical) or \
        f"expected {expected} fields, found {actual}"


def _read_body(body: str, names: list[str], header: HeaderSpan, columns: Columns | None,
               header_end: int) -> tuple[pa.Table | None, list[Rejected], int]:
    """Fast path with Arrow. None as the table when quoted values span lines (exact path)."""
    canonical = columns.canonical if columns else no_columns
    invalid: list[tuple[int, str | None]] = []  # (line within body, reason or None if blank)

    def on_invalid(row: pacsv.InvalidRow) -> str:
        # row.number is the physical line within the body; known with a single reader thread
        invalid.append((int(row.number or 0), _classify_text(
            row.text or "", header, canonical, row.expected_columns, row.actual_columns)))
        return "skip"

    if body.strip():
        try:
            table = _arrow_csv(body, names, on_invalid)
        except pa.ArrowInvalid:  # e.g. a value longer than a block: the exact path says where
            return None, [], 0
    else:
        table = pa.table([pa.array([], pa.string()) for _ in names], names=names)
    physical = body.count("\n") + (0 if not body or body.endswith("\n") else 1)

    if '"' in body and physical != table.num_rows + len(invalid):
        return None, [], 0  # quoted values span lines: line numbers need the exact path
    skipped = sorted(number for number, _ in invalid)
    lines = _row_numbers(table.num_rows, skipped)
    rows = lines  # data row numbers: lines after the header, blank ones included
    first, blank_mask = _first_cells(table)
    reasons = _reasons(table, first, header, columns)
    keep = ~blank_mask
    blank = int(blank_mask.sum()) + sum(1 for _, r in invalid if r is None)
    table = table.filter(pa.array(keep))
    provenance = [pa.array(rows[keep], pa.int64()), pa.array(lines[keep] + header_end, pa.int64()),
                  pa.nulls(table.num_rows, pa.string()),
                  pa.array([r for r, k in zip(reasons, keep, strict=True) if k], pa.string())]
    table = pa.table([*table.columns, *provenance], names=[*names, *PROVENANCE])
    rejected = [Rejected(number, reason, number + header_end)
                for number, reason in sorted(invalid, key=lambda x: x[0]) if reason is not None]
    return table, rejected, blank


def _arrow_csv(body: str, names: list[str], on_invalid: Any) -> pa.Table:
    """The body read by Arrow, every value as text. Read with threads first when no value is
    quoted; a row with the wrong number of fields then means reading again on one thread, where
    `on_invalid` learns each such row's line (Arrow knows it only there)."""
    data = body.encode("utf-8")

    def read(threads: bool, handler: Any) -> pa.Table:
        return pacsv.read_csv(
            io.BytesIO(data),
            read_options=pacsv.ReadOptions(column_names=names, block_size=1 << 24,
                                           use_threads=threads),
            parse_options=pacsv.ParseOptions(invalid_row_handler=handler,
                                             ignore_empty_lines=False),
            convert_options=pacsv.ConvertOptions(
                column_types={n: pa.string() for n in names},
                strings_can_be_null=True, null_values=[""], quoted_strings_can_be_null=True),
        )

    if '"' not in body:
        malformed: list[bool] = []

        def spot(_: pacsv.InvalidRow) -> str:
            malformed.append(True)
            return "skip"

        table = read(True, spot)
        if not malformed:
            return table
    return read(False, on_invalid)


def _first_cells(table: pa.Table) -> tuple[pa.Array, np.ndarray]:
    """Each row's first filled cell (white space only counts as empty), and which rows have
    none (blank rows). One coalesce over the raw columns; the rare rows whose first non-empty
    cell is only white space are resolved one by one."""
    n = table.num_rows
    first = pc.coalesce(*table.columns) if table.num_columns > 1 else table.column(0)
    first = first.combine_chunks() if isinstance(first, pa.ChunkedArray) else first
    spaces = np.asarray(pc.fill_null(pc.equal(pc.utf8_trim_whitespace(first), ""), False)
                        .to_numpy(zero_copy_only=False), dtype=bool)
    blank = np.asarray(pc.is_null(first).to_numpy(zero_copy_only=False), dtype=bool)
    if spaces.any():
        values = first.to_pylist()
        rows = table.take(pa.array(np.flatnonzero(spaces))).to_pylist()
        for index, row in zip(np.flatnonzero(spaces), rows, strict=True):
            filled = next((v for v in row.values() if v is not None and v.strip()), None)
            values[int(index)] = filled
            blank[int(index)] = filled is None
        first = pa.array(values, pa.string())
    return first, blank if n else np.zeros(0, dtype=bool)


def _reasons(table: pa.Table, first: pa.Array, header: HeaderSpan,
             columns: Columns | None) -> list[str | None]:
    """Per row: total, note or repeated header (see layout.py), else None. Vectorised search for
    candidates (the first filled cell matches a pattern, or is a header label), then the exact
    rule on those few rows."""
    n = table.num_rows
    out: list[str | None] = [None] * n
    if n == 0 or table.num_columns == 0:
        return out
    canonical = columns.canonical if columns else no_columns
    folded = pc.replace_substring_regex(pc.utf8_normalize(first, "NFKC"), r"\s+", "")
    candidate = pc.or_(pc.match_substring_regex(folded, total_pattern()),
                       pc.match_substring_regex(folded, note_pattern()))
    header_first = next((fold(label) for label in header.labels if label), None)
    if header_first:
        candidate = pc.or_(candidate, pc.equal(folded, header_first))
    if columns is not None and columns.labels:
        # a header repeated under other labels of the same columns (any known label first)
        candidate = pc.or_(candidate, pc.is_in(pc.utf8_lower(folded),
                                               pa.array(sorted(columns.labels), pa.string())))
    hits = np.flatnonzero(np.asarray(pc.fill_null(candidate, False).to_numpy(
        zero_copy_only=False), dtype=bool))
    if len(hits):
        rows = table.take(pa.array(hits)).to_pylist()
        firsts = folded.take(pa.array(hits)).to_pylist()
        for index, row, first_cell in zip(hits, rows, firsts, strict=True):
            out[int(index)] = first_cell_reason(first_cell or "", list(row.values()), header,
                                                canonical)
    return out


def _read_body_exact(path: Path, body: str, names: list[str], header: HeaderSpan,
                     canonical: Canonical, header_end: int
                     ) -> tuple[pa.Table, list[Rejected], int]:
    """Slow path with the csv module, when quoted values span lines: a record's row number is
    its place after the header (as a spreadsheet shows the file), its line where it starts.

    A quotation mark that opens a value and never closes where it should swallows the lines
    after it into one value: a record over MAX_RECORD_LINES lines, or a value over the csv
    module's field limit, stops the run (InputError) naming the line and column where it opens,
    instead of quarantining thousands of rows as one or failing with a traceback."""
    reader = csv.reader(io.StringIO(body, newline=""))
    records: list[tuple[int, int, list[str | None]]] = []
    rejected: list[Rejected] = []
    blank = 0
    start = 1
    number = 0
    while True:
        number += 1
        line = start + header_end
        try:
            record = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            raise _runaway(path, line, exc) from None
        spans = reader.line_num - start + 1
        if spans > MAX_RECORD_LINES:
            opened = next((names[i] if i < len(names) else f"field {i + 1}"
                           for i, v in enumerate(record) if "\n" in v), "?")
            raise InputError(
                f"{path.name}: line {line}, column {opened}: a quotation mark (\") opens a "
                f"value that runs over {spans:,} lines, to line {reader.line_num + header_end}; "
                "a stray quote: remove it, or write it as \"\" inside a quoted value",
                file=str(path))
        start = reader.line_num + 1
        cells: list[str | None] = [v if v != "" else None for v in record]
        if not any(c and c.strip() for c in cells):
            blank += 1
            continue
        if len(record) != len(names):
            reason = row_reason(cells, header, canonical) or \
                f"expected {len(names)} fields, found {len(record)}"
            rejected.append(Rejected(number, reason, line))
            continue
        records.append((number, line, cells))
    return grid_table(names, records, header, canonical, None), rejected, blank


def grid_table(names: list[str], records: list[tuple[int, int, list[str | None]]],
                header: HeaderSpan, canonical: Canonical, sheet: str | None) -> pa.Table:
    """A table of text from records (row number, line, cells) that are not blank."""
    width = len(names)
    padding = [None] * width
    cells_by_row = [cells if len(cells) == width else (list(cells) + padding)[:width]
                    for _, _, cells in records]
    columns = list(zip(*cells_by_row, strict=True)) if cells_by_row else [()] * width
    rows = [row for row, _, _ in records]
    lines = [line for _, line, _ in records]
    reasons = [row_reason(cells, header, canonical) for _, _, cells in records]
    arrays = [pa.array(c, pa.string()) for c in columns]
    provenance = [pa.array(rows, pa.int64()), pa.array(lines, pa.int64()),
                  pa.array([sheet] * len(rows), pa.string()), pa.array(reasons, pa.string())]
    return pa.table([*arrays, *provenance], names=[*names, *PROVENANCE])


def _row_numbers(n_ok: int, skipped: list[int]) -> np.ndarray:
    """Source row numbers of the rows kept, given the (1-based) numbers of skipped rows."""
    candidates = np.arange(1, n_ok + len(skipped) + 1, dtype=np.int64)
    kept = candidates[~np.isin(candidates, np.asarray(skipped, dtype=np.int64))]
    return kept[:n_ok]


def cell_text(value: object) -> str | None:
    """Render a spreadsheet cell as the text a user would see in the cell."""
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float):
        if math.isnan(value):
            return None
        if value.is_integer() and abs(value) < 1e15:
            return str(int(value))
        if abs(value) >= 1e15:
            # Spreadsheet 'General' display of a long number: its digits are already lost.
            return f"{value:.5E}"
        return repr(value)
    if isinstance(value, dt.datetime):
        if value.time() == dt.time(0):
            return value.date().isoformat()
        return value.isoformat(sep=" ")
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value).strip() or None


# ------------------------------------------------------------------------------------ Parquet


def read_parquet(path: Path, columns: Columns | None = None) -> RawTable:
    """Read a Parquet file and cast every column to text (its column names are the header)."""
    try:
        table = pq.read_table(path)
    except Exception as exc:  # pyarrow raises ArrowInvalid/OSError for damaged files
        raise InputError(f"{path.name}: cannot be read as Parquet ({exc})", file=str(path)) from exc
    headers = list(table.column_names)
    names = unique_names(headers)
    arrays = []
    for column in table.columns:
        if pa.types.is_string(column.type) or pa.types.is_large_string(column.type):
            arrays.append(column.cast(pa.string()))
        elif pa.types.is_floating(column.type):
            arrays.append(pa.array([cell_text(v) for v in column.to_pylist()], pa.string()))
        else:
            arrays.append(column.cast(pa.string()))
    n = table.num_rows
    provenance = [pa.array(range(1, n + 1), pa.int64()), pa.array(range(2, n + 2), pa.int64()),
                  pa.nulls(n, pa.string()), pa.nulls(n, pa.string())]
    return RawTable(path, pa.table([*arrays, *provenance], names=[*names, *PROVENANCE]), headers,
                    layout={"header_rows": [1], "records": n})


def empty_table(path: Path, labels: list[str], encoding: str | None = None,
                layout: dict[str, Any] | None = None) -> RawTable:
    """A table with a header and no rows (what `read_header` returns)."""
    names = unique_names(labels)
    arrays = [pa.array([], pa.string()) for _ in names]
    provenance = [pa.array([], pa.int64()), pa.array([], pa.int64()), pa.array([], pa.string()),
                  pa.array([], pa.string())]
    return RawTable(path, pa.table([*arrays, *provenance], names=[*names, *PROVENANCE]), labels,
                    encoding, layout=layout or {})


#: How much of a CSV file `read_header` reads.
HEADER_BYTES = 1 << 20


def read_header(path: Path, columns: Columns | None = None) -> RawTable:
    """Only the header of a dataset file, found as `read_any` finds it, with no rows: quick
    even for a large file, so every file's header can be checked before any is read whole."""
    suffix = path.suffix.lower()
    if suffix == ".csv":
        with path.open("rb") as handle:
            data = handle.read(HEADER_BYTES)
        if len(data) == HEADER_BYTES and b"\n" in data:
            data = data[: data.rindex(b"\n") + 1]  # whole lines: no character cut in two
        encoding = detect_encoding(data, path)
        head = _head(data.decode(encoding), path)
        header = find_header([cells for cells, _ in head],
                             columns.canonical if columns else no_columns)
        if header is None:
            raise InputError(f"{path.name}: the file is empty; expected a header row",
                             file=str(path))
        start = head[header.first - 1][1] + 1 if header.first else 1
        return empty_table(path, header.labels, encoding,
                           {"header_rows": list(range(start, head[header.last][1] + 1))})
    if suffix in WORKBOOK_SUFFIXES:
        from pipelines.io.workbooks import workbook_header

        return workbook_header(path, columns)
    if suffix == ".parquet":
        try:
            names = list(pq.read_schema(path).names)
        except Exception as exc:  # pyarrow raises ArrowInvalid/OSError for damaged files
            raise InputError(f"{path.name}: cannot be read as Parquet ({exc})",
                             file=str(path)) from exc
        return empty_table(path, names, layout={"header_rows": [1]})
    raise InputError(f"{path.name}: unsupported file type {suffix!r}; expected one of {SUFFIXES}",
                     file=str(path))


def read_any(path: Path, columns: Columns | None = None) -> RawTable:
    """Read a dataset file by its suffix. `columns` lets the reader find the header under titles
    and choose the sheets of a workbook (without it, the first row of the first sheet)."""
    suffix = path.suffix.lower()
    if suffix == ".csv":
        return read_csv(path, columns)
    if suffix in WORKBOOK_SUFFIXES:
        from pipelines.io.workbooks import read_workbook

        return read_workbook(path, columns)
    if suffix == ".parquet":
        return read_parquet(path, columns)
    raise InputError(f"{path.name}: unsupported file type {suffix!r}; expected one of {SUFFIXES}",
                     file=str(path))
