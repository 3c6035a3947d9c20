"""Read department files (CSV in UTF-8/GBK/GB18030, XLSX, Parquet) into tables of text.

Every value arrives as text (or NULL) exactly as the department wrote it, so that nothing is
lost before normalisation: an ID stays '0420...' or '4.20102E+17', a date stays '2023年1月5日'.
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import io
import logging
import math
from dataclasses import dataclass, field
from pathlib import Path

import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from pipelines.errors import InputError

log = logging.getLogger(__name__)

SUFFIXES = (".csv", ".xlsx", ".parquet")
ROW = "_row"  # 1-based data row number in the source file (the header is row 0)


@dataclass
class RawTable:
    """A file read as text: columns as written, plus the source row number of each row."""

    path: Path
    table: pa.Table  # all columns pa.string(), plus ROW (int64)
    headers: list[str]
    encoding: str | None = None
    malformed_rows: list[tuple[int, str]] = field(default_factory=list)


def detect_encoding(data: bytes, path: Path) -> str:
    """Return 'utf-8-sig', 'utf-8', 'gbk' or 'gb18030'; raise InputError when none decodes."""
    candidates = ["utf-8-sig"] if data.startswith(codecs.BOM_UTF8) else ["utf-8", "gbk", "gb18030"]
    if b"\x00" in data[:65536]:
        raise InputError(
            f"{path.name}: the file contains NUL bytes; it looks binary or UTF-16, not a CSV in "
            "UTF-8, GBK or GB18030", file=str(path))
    errors: list[str] = []
    for encoding in candidates:
        try:
            data.decode(encoding)
            return encoding
        except UnicodeDecodeError as exc:
            line = data[: exc.start].count(b"\n") + 1
            errors.append(f"{encoding} fails at byte {exc.start} (line {line})")
    raise InputError(
        f"{path.name}: cannot be decoded as UTF-8, GBK or GB18030 ({'; '.join(errors)})",
        file=str(path))


def read_csv(path: Path) -> RawTable:
    """Read a CSV of any supported encoding; rows with the wrong number of fields are set aside."""
    data = path.read_bytes()
    encoding = detect_encoding(data, path)
    text = data.decode(encoding)
    first_line = text.split("\n", 1)[0].strip("\r")
    if not first_line.strip():
        raise InputError(f"{path.name}: the first line is empty; expected a header row",
                         file=str(path))
    # The header line gives the column names; every column is read as text.
    headers = [h.strip() for h in next(csv.reader([first_line]))]
    names = _unique_names(headers)
    malformed: list[tuple[int, str]] = []

    def on_invalid(row: pacsv.InvalidRow) -> str:
        # row.number is the physical line (1 = header); known with a single reader thread
        malformed.append((int(row.number or 0) - 1,
                          f"expected {row.expected_columns} fields, found {row.actual_columns}"))
        return "skip"

    table = pacsv.read_csv(
        io.BytesIO(text.encode("utf-8")),
        read_options=pacsv.ReadOptions(column_names=names, skip_rows=1, block_size=1 << 24,
                                       use_threads=not _may_be_malformed(text, len(names))),
        parse_options=pacsv.ParseOptions(invalid_row_handler=on_invalid),
        convert_options=pacsv.ConvertOptions(
            column_types={n: pa.string() for n in names},
            strings_can_be_null=True, null_values=[""], quoted_strings_can_be_null=True),
    )
    if malformed and '"' in text:
        # Quoted fields may span lines: parse exactly, record by record.
        return _read_csv_exact(path, text, headers, names, encoding)
    row_numbers = _row_numbers(table.num_rows, sorted(r for r, _ in malformed))
    table = table.append_column(ROW, pa.array(row_numbers, pa.int64()))
    return RawTable(path, table, headers, encoding, sorted(malformed))


def _may_be_malformed(text: str, n_fields: int) -> bool:
    """Cheap pre-check: do all lines carry the header's number of separators?"""
    if '"' in text:
        return True
    counts = {line.count(",") for line in text.splitlines() if line}
    return counts != {n_fields - 1}


def _read_csv_exact(path: Path, text: str, headers: list[str], names: list[str],
                    encoding: str) -> RawTable:
    """Slow path with the csv module: exact record numbers when quoted values span lines."""
    reader = csv.reader(io.StringIO(text, newline=""))
    next(reader)
    columns: list[list[str | None]] = [[] for _ in names]
    rows: list[int] = []
    malformed: list[tuple[int, str]] = []
    for number, record in enumerate(reader, start=1):
        if not record:
            continue
        if len(record) != len(names):
            malformed.append((number, f"expected {len(names)} fields, found {len(record)}"))
            continue
        for i, value in enumerate(record):
            columns[i].append(value if value != "" else None)
        rows.append(number)
    arrays = [pa.array(c, pa.string()) for c in columns]
    table = pa.table([*arrays, pa.array(rows, pa.int64())], names=[*names, ROW])
    return RawTable(path, table, headers, encoding, malformed)


def _row_numbers(n_ok: int, skipped: list[int]) -> list[int]:
    """Source row numbers of the rows kept, given the (1-based) numbers of skipped rows."""
    out: list[int] = []
    skip = set(skipped)
    row = 0
    while len(out) < n_ok:
        row += 1
        if row not in skip:
            out.append(row)
    return out


def _unique_names(headers: list[str]) -> list[str]:
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


def _cell_text(value: object) -> str | None:
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


def read_xlsx(path: Path) -> RawTable:
    """Read the first sheet of a workbook with python-calamine."""
    from python_calamine import CalamineWorkbook

    try:
        workbook = CalamineWorkbook.from_path(str(path))
        rows = workbook.get_sheet_by_index(0).to_python(skip_empty_area=False)
    except Exception as exc:  # calamine raises its own error types for damaged files
        raise InputError(f"{path.name}: cannot be read as an XLSX workbook ({exc})",
                         file=str(path)) from exc
    if not rows:
        raise InputError(f"{path.name}: the first sheet is empty; expected a header row",
                         file=str(path))
    headers = [_cell_text(v) or "" for v in rows[0]]
    names = _unique_names(headers)
    columns: list[list[str | None]] = [[] for _ in names]
    row_numbers: list[int] = []
    for number, row in enumerate(rows[1:], start=1):
        cells = [_cell_text(v) for v in row]
        if not any(cells):
            continue  # a blank line in a sheet is not a record
        cells = (cells + [None] * len(names))[: len(names)]
        for i, value in enumerate(cells):
            columns[i].append(value)
        row_numbers.append(number)
    arrays = [pa.array(c, pa.string()) for c in columns]
    table = pa.table(arrays + [pa.array(row_numbers, pa.int64())], names=[*names, ROW])
    return RawTable(path, table, headers)


def read_parquet(path: Path) -> RawTable:
    """Read a Parquet file and cast every column to text."""
    try:
        table = pq.read_table(path)
    except Exception as exc:  # pyarrow raises ArrowInvalid/OSError for damaged files
        raise InputError(f"{path.name}: cannot be read as Parquet ({exc})", file=str(path)) from exc
    headers = list(table.column_names)
    names = _unique_names(headers)
    arrays = []
    for column in table.columns:
        if pa.types.is_string(column.type) or pa.types.is_large_string(column.type):
            arrays.append(column.cast(pa.string()))
        elif pa.types.is_floating(column.type):
            arrays.append(pa.array([_cell_text(v) for v in column.to_pylist()], pa.string()))
        else:
            arrays.append(column.cast(pa.string()))
    row_numbers = pa.array(range(1, table.num_rows + 1), pa.int64())
    return RawTable(path, pa.table([*arrays, row_numbers], names=[*names, ROW]), headers)


def read_any(path: Path) -> RawTable:
    """Read a dataset file by its suffix."""
    suffix = path.suffix.lower()
    if suffix == ".csv":
        return read_csv(path)
    if suffix == ".xlsx":
        return read_xlsx(path)
    if suffix == ".parquet":
        return read_parquet(path)
    raise InputError(f"{path.name}: unsupported file type {suffix!r}; expected one of {SUFFIXES}",
                     file=str(path))
