"""Ingest: find the input files, map headers, quarantine unusable rows, type and normalise.

Every input row ends up in exactly one place: the loaded table or the quarantine, with a reason.
"""

from __future__ import annotations

import hashlib
import logging
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from pipelines.config import AuditConfig, DatasetSpec, normalise_header
from pipelines.errors import InputError
from pipelines.ingest.columns import type_columns
from pipelines.io import duck
from pipelines.io.readers import (
    LAYOUT,
    LINE,
    ROW,
    SHEET,
    SUFFIXES,
    Columns,
    RawTable,
    read_any,
    read_header,
)

log = logging.getLogger(__name__)

REASON = "_reason"


@dataclass
class SourceFile:
    """One input file as found in the input folder."""

    dataset: str
    path: Path
    format: str
    bytes: int
    sha256: str
    encoding: str | None = None


@dataclass
class IngestResult:
    """A dataset after ingest: loaded rows, quarantined rows, and what was noticed on the way."""

    dataset: str
    source: SourceFile
    input_rows: int
    held: pd.DataFrame | None  # the loaded rows, when not written to `loaded_path`
    quarantined: pd.DataFrame  # ROW, REASON and the columns as written
    ignored_columns: list[str] = field(default_factory=list)
    notes: list[dict[str, object]] = field(default_factory=list)
    seconds: float = 0.0
    # the header rows used, sheets read and skipped, rows skipped (see io/readers.py)
    layout: dict[str, object] = field(default_factory=dict)
    # optional columns the file does not have, and those it has with no value in any row
    absent_columns: list[str] = field(default_factory=list)
    blank_columns: list[str] = field(default_factory=list)
    loaded_rows: int = 0
    loaded_path: Path | None = None  # where the loaded rows were written, if they were

    @property
    def loaded(self) -> pd.DataFrame:
        """The loaded rows (read back from `loaded_path` when they were written there)."""
        if self.held is not None:
            return self.held
        assert self.loaded_path is not None
        return pd.read_parquet(self.loaded_path)


def find_inputs(input_dir: Path, config: AuditConfig) -> tuple[dict[str, Path], list[str]]:
    """Return the file of each dataset present, and the names of files that are no dataset.

    Raises InputError when the folder is missing, a required dataset is missing, a dataset
    comes in two files, or a folder is named like a dataset file (`deaths.csv/`: its check
    would otherwise be skipped without a word).
    """
    if not input_dir.is_dir():
        raise InputError(f"input folder {input_dir} does not exist or is not a folder")
    found: dict[str, Path] = {}
    ignored: list[str] = []
    for path in sorted(input_dir.iterdir()):
        stem, suffix = path.stem.lower(), path.suffix.lower()
        if stem in config.datasets and suffix in SUFFIXES:
            if not path.is_file():
                raise InputError(
                    f"{path.name} in {input_dir} is a folder, not a file: the {stem} dataset "
                    f"must be one file ({stem}.csv, .xlsx, .xls or .parquet); move the file out "
                    "of the folder or rename the folder", dataset=stem, file=str(path))
            if stem in found:
                raise InputError(
                    f"dataset {stem!r} comes in two files ({found[stem].name} and {path.name}); "
                    "keep one", dataset=stem)
            found[stem] = path
        elif path.is_file() and not path.name.startswith((".", "~$")):
            ignored.append(path.name)
    missing = [name for name, spec in config.datasets.items()
               if spec.required_dataset and name not in found]
    if missing:
        names = ", ".join(f"{m}.csv/.xlsx/.xls/.parquet" for m in missing)
        raise InputError(f"required dataset missing from {input_dir}: {names}",
                         dataset=missing[0])
    return found, ignored


def columns_of(dataset: str, config: AuditConfig) -> Columns:
    """What the readers need to find the dataset's header: its aliases and required columns."""
    accepted = config.header_map(dataset)
    spec = config.datasets[dataset]
    return Columns(lambda label: accepted.get(normalise_header(label)),
                   frozenset(c for c, col in spec.columns.items() if col.required),
                   frozenset(accepted))


def check_headers(found: dict[str, Path], config: AuditConfig) -> None:
    """Check every file's header before any dataset is read whole: a misspelt roll header is
    reported in seconds, with the problems of every other file in the same message.

    Raises InputError naming each file and what is wrong with its header.
    """
    problems: list[InputError] = []
    for dataset, path in found.items():
        try:
            map_headers(read_header(path, columns_of(dataset, config)), dataset, config)
        except InputError as exc:
            exc.dataset = exc.dataset or dataset
            exc.file = exc.file or str(path)
            problems.append(exc)
    if len(problems) == 1:
        raise problems[0]
    if problems:
        raise InputError(f"{len(problems)} input files cannot be used:\n" +
                         "\n".join(f"- {p}" for p in problems),
                         dataset=problems[0].dataset, file=problems[0].file)


def describe_source(dataset: str, path: Path) -> SourceFile:
    """Size, checksum and format of an input file."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return SourceFile(dataset, path, path.suffix.lower().lstrip("."), path.stat().st_size,
                      digest.hexdigest())


def map_headers(raw: RawTable, dataset: str, config: AuditConfig) -> tuple[pd.DataFrame, list[str]]:
    """Rename columns to canonical names; add absent optional columns as NULL (a frame).

    The provenance columns of the reader (row, line, sheet, layout) come along. Raises
    InputError naming the file and each missing required column with the labels accepted.
    """
    table, ignored = mapped_table(raw, dataset, config)
    return _text_frame(table), ignored


def mapped_table(raw: RawTable, dataset: str, config: AuditConfig) -> tuple[pa.Table, list[str]]:
    """`map_headers` as an Arrow table: the dataset's columns (text) and the provenance."""
    spec = config.datasets[dataset]
    accepted = config.header_map(dataset)
    rename: dict[str, str] = {}
    ignored: list[str] = []
    for position, header in enumerate(raw.headers):
        column_name = raw.table.column_names[position]
        canonical = accepted.get(normalise_header(header))
        if canonical is None:
            if header:
                ignored.append(header)
            continue
        if canonical in rename.values():
            first = next(h for h, c in zip(raw.headers, raw.table.column_names, strict=False)
                         if rename.get(c) == canonical)
            raise InputError(
                f"{raw.path.name}: columns {first!r} and {header!r} both mean {canonical!r}; "
                "keep one", dataset=dataset, file=str(raw.path))
        rename[column_name] = canonical
    missing = [c for c, col in spec.columns.items() if col.required and c not in rename.values()]
    if missing:
        raise InputError(missing_columns_message(raw, spec, missing), dataset=dataset,
                         file=str(raw.path))
    table = raw.table
    by_name = {canonical: table.column(name) for name, canonical in rename.items()}
    rows = table.num_rows
    columns: dict[str, pa.ChunkedArray | pa.Array] = {
        c: by_name.get(c, pa.nulls(rows, pa.string())) for c in spec.columns}
    kinds = {ROW: pa.int64(), LINE: pa.int64(), SHEET: pa.string(), LAYOUT: pa.string()}
    for name, kind in kinds.items():
        # a table made by hand (tests) has no provenance but rows
        columns[name] = (table.column(name) if name in table.column_names
                         else pa.nulls(rows, kind))
    return pa.table(columns), ignored


def _text_frame(table: pa.Table, start: int = 0) -> pd.DataFrame:
    """Mapped rows as a frame of nullable text (provenance typed), indexed by position."""
    frame = table.to_pandas(types_mapper=_string_mapper)
    frame.index = pd.RangeIndex(start, start + len(frame))
    if frame[LINE].dtype.kind == "f":  # no line numbers (a table made by hand)
        frame[LINE] = frame[LINE].astype("Int64")
    return frame


def missing_columns_message(raw: RawTable, spec: DatasetSpec, missing: list[str]) -> str:
    """`file: required column missing: ...` with the labels accepted and the headers found."""
    details = "; ".join(
        f"{c} (accepted headers: {', '.join([c, *spec.columns[c].aliases])})" for c in missing)
    rows = raw.layout.get("header_rows") or [1]
    where = f"row {rows[-1]}" if len(rows) == 1 else f"rows {rows[0]}-{rows[-1]}"
    sheets = raw.layout.get("sheets")
    if isinstance(sheets, list) and sheets:
        where = f"sheet {sheets[0]['name']!r} {where}"
    found = ", ".join(h for h in raw.headers if h) or "(none)"
    return (f"{raw.path.name}: required column missing: {details}. "
            f"Headers found ({where}): {found}")


def _string_mapper(arrow_type: object) -> object:
    import pyarrow as pa

    return pd.StringDtype() if arrow_type == pa.string() else None


def _strip(frame: pd.DataFrame, spec: DatasetSpec) -> pd.DataFrame:
    """Trim surrounding white space of text values; an empty value becomes NULL."""
    for column in spec.columns:
        values = frame[column].str.strip()
        frame[column] = values.mask(values == "", None)
    return frame


def _row_hashes(typed: pd.DataFrame, columns: list[str]) -> np.ndarray:
    """A hash of each row's values in `columns` (DuckDB's; a blank hashes like a blank)."""
    if not len(typed):
        return np.zeros(0, dtype=np.uint64)
    table = pa.Table.from_pandas(typed[columns], preserve_index=False)
    quoted = ", ".join('"' + c.replace('"', '""') + '"' for c in columns)
    with duck.connect() as con:
        con.register("written_rows", table)
        hashes = con.execute(f"SELECT hash({quoted}) FROM written_rows").fetchnumpy()
    return np.asarray(next(iter(hashes.values())), dtype=np.uint64)


def _exact_repeats(frame: pd.DataFrame, columns: list[str]) -> pd.Series:
    """'exact duplicate of row N' for each row of `frame` (in row order) whose values in
    `columns` repeat an earlier row's; N is the first such row."""
    dup = frame.duplicated(subset=columns, keep="first")
    first_row = frame.groupby(columns, dropna=False, sort=False)[ROW].transform("min")
    return ("exact duplicate of row " + first_row[dup].astype(str)).astype(object)


def row_reasons(typed: pd.DataFrame, dataset: str, spec: DatasetSpec) -> pd.Series:
    """Why each row cannot be used, from its own values alone (NULL for usable rows)."""
    reasons = pd.Series([None] * len(typed), index=typed.index, dtype="object")

    def mark(condition: pd.Series, reason: str) -> None:
        reasons[condition & reasons.isna()] = reason

    if dataset == "roll":
        mark(typed["household_id"].isna(), "roll row without household_id")
    if spec.person is not None and spec.person.name is not None:
        has_id = typed["p_id18"].notna()
        mark(~(typed["p_name"].notna() | has_id), "no name and no repairable ID number")
    elif spec.person is not None:
        # an ID-only register (kin filings): a check-failing ID can still be matched within
        # the household it names, so only a missing or unreadable ID makes the row unusable
        mark(typed["p_id_clean"].isna(), "no usable ID number")
    if dataset == "standards":
        mark(typed["district"].isna(), "no district")
        mark(typed["category_code"].isna(), "unknown category "
             "(expected 城市低保/农村低保 or a configured alias)")
        mark(typed["monthly_standard"].isna(), "no usable monthly_standard")
    if dataset in ("staff", "staff_relatives", "kin_filings"):
        mark(typed["staff_id"].isna(), "no staff_id")
    if dataset == "kin_filings":
        mark(typed["household_id"].isna(), "no household_id")
    if dataset == "decisions":
        mark(typed["finding_id"].isna(), "no finding_id")
        mark(typed["decision_code"].isna(), "unknown decision")
    return reasons


def _quarantine_frame(rows: pd.DataFrame, reasons: pd.Series) -> pd.DataFrame:
    out = rows.drop(columns=[LAYOUT]).copy()
    out.insert(0, REASON, reasons.astype(str).to_numpy())
    return out


def _absent_columns(raw: RawTable, dataset: str, config: AuditConfig) -> list[str]:
    """Optional columns the file lacks."""
    accepted = config.header_map(dataset)
    named = {accepted.get(normalise_header(h)) for h in raw.headers if h}
    return [c for c, col in config.datasets[dataset].columns.items()
            if not col.required and c not in named]


def _merge_notes(merged: dict[tuple[str, str], dict[str, Any]], notes: list[dict[str, Any]]
                 ) -> dict[tuple[str, str], dict[str, Any]]:
    """Notes of one batch (every note, in the same order in each) added to those of the
    batches before: rows summed, the first five example rows kept."""
    for note in notes:
        kept = merged.setdefault((str(note["column"]), str(note["issue"])),
                                 {**note, "rows": 0, "example_rows": []})
        kept["rows"] += note["rows"]
        kept["example_rows"] = (kept["example_rows"] + note["example_rows"])[:5]
    return merged


#: Parquet written by ingest and read once or twice soon after: no compression and no
#: dictionary pages write 3x and read 2x faster than the defaults (property.csv of a
#: 100,000-household city: 0.28 s against 0.79 s to write, 99 MiB against 40 MiB)
FAST_PARQUET: dict[str, Any] = {"compression": "none", "use_dictionary": False}


class _TypedRows:
    """The typed rows of a dataset, written batch by batch to a Parquet file."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.writer: pq.ParquetWriter | None = None

    def write(self, frame: pd.DataFrame) -> None:
        table = pa.Table.from_pandas(frame, preserve_index=False)
        if self.writer is None:
            self.writer = pq.ParquetWriter(self.path, table.schema, **FAST_PARQUET)
        elif not table.schema.equals(self.writer.schema, check_metadata=False):
            table = table.cast(self.writer.schema)  # a column with no value in this batch
        self.writer.write_table(table)

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()


class _Seen:
    """The row hashes of the batches typed so far, each with the position of its first row."""

    def __init__(self) -> None:
        self.hashes: list[np.ndarray] = []  # per batch: its distinct hashes, sorted
        self.firsts: list[np.ndarray] = []  # ... and the position of the first row of each

    def first_rows(self, hashes: np.ndarray, positions: np.ndarray) -> np.ndarray:
        """For each row of a batch, the position of the first row (this batch's or an earlier
        one's) with the same hash; then the batch is remembered."""
        distinct, first, inverse = np.unique(hashes, return_index=True, return_inverse=True)
        out = positions[first][inverse]
        earlier = np.zeros(len(hashes), dtype=bool)
        for known, at in zip(self.hashes, self.firsts, strict=True):  # the earliest wins
            if not len(known):
                continue
            index = np.minimum(np.searchsorted(known, hashes), len(known) - 1)
            hit = (known[index] == hashes) & ~earlier
            out[hit] = at[index[hit]]
            earlier |= hit
        self.hashes.append(distinct)
        self.firsts.append(positions[first])
        return out


def _retyped(table: pa.Table, positions: np.ndarray, dataset: str, spec: DatasetSpec,
             config: AuditConfig) -> pd.DataFrame:
    """The rows at `positions` typed again (typing is row by row: the same values)."""
    frame = _strip(_text_frame(table.take(pa.array(positions, pa.int64()))), spec)
    frame.index = pd.Index(positions)
    return type_columns(frame.drop(columns=[LAYOUT]), dataset, spec, config)[0]


def _insert(target: Path, rows: pd.DataFrame) -> None:
    """Rows added to a typed file, in row order (a repeat that was no duplicate after all)."""
    table = pq.read_table(target)
    more = pa.Table.from_pandas(rows, preserve_index=False).select(table.column_names)
    merged = pa.concat_tables([table, more.cast(table.schema)]).sort_by(ROW)
    pq.write_table(merged, target, **FAST_PARQUET)


def _written(table: pa.Table, spec: DatasetSpec, positions: np.ndarray) -> pd.DataFrame:
    """The rows at `positions` of the mapped table as written (trimmed), for the quarantine."""
    frame = _strip(_text_frame(table.take(pa.array(positions, pa.int64()))), spec)
    return frame.drop(columns=[LAYOUT]).reset_index(drop=True)


def _repeats(table: pa.Table, repeats_file: Path, firsts: np.ndarray, dataset: str,
             spec: DatasetSpec, config: AuditConfig, own: pd.Index, loaded_file: Path
             ) -> pd.Series:
    """'exact duplicate of row N' by row number, for the rows set aside as repeats that
    are: compared value by value with the first rows of their hashes (typed again). A repeat
    that differs after all (two rows whose hashes collide) is added to the loaded rows,
    unless it is quarantined for its own values."""
    if not len(firsts):
        return pd.Series([], dtype=object)
    columns = list(spec.columns)
    stored = pd.read_parquet(repeats_file)
    candidates = pd.concat([_retyped(table, np.unique(firsts), dataset, spec, config), stored]) \
        .sort_values(ROW, kind="stable").set_index(ROW, drop=False)
    found = _exact_repeats(candidates, columns)
    differ = stored[~stored[ROW].isin(found.index) & ~stored[ROW].isin(own)]
    if len(differ):
        log.info("%d rows hash like another row but differ from it: loaded", len(differ))
        _insert(loaded_file, differ)
    return found


#: rows typed and normalised at a time: a dataset's memory is its text plus one batch typed
BATCH_ROWS = 250_000


def ingest_dataset(dataset: str, path: Path, config: AuditConfig, target: Path | None = None,
                   batch_rows: int = BATCH_ROWS) -> IngestResult:
    """Read, map, type, normalise and quarantine one dataset file.

    The file is read as text into Arrow, then typed and normalised `batch_rows` rows at a
    time. The loaded rows go to `target` (Parquet, pandas types kept; `IngestResult.loaded`
    reads it back), or, without one, are held in the result.
    """
    started = time.perf_counter()
    source = describe_source(dataset, path)
    raw = read_any(path, columns_of(dataset, config))
    source.encoding = raw.encoding
    spec = config.datasets[dataset]
    table, ignored = mapped_table(raw, dataset, config)
    raw.table = table.slice(0, 0)  # the columns no dataset column names are let go
    columns = list(spec.columns)
    optional = [c for c, col in spec.columns.items() if not col.required]
    filled = dict.fromkeys(optional, False)
    notes: dict[tuple[str, str], dict[str, Any]] = {}
    set_aside: list[pd.DataFrame] = []
    reasons: list[pd.Series] = []  # rows quarantined for their own values, by row number
    rows: list[np.ndarray] = []
    positions: list[np.ndarray] = []
    seen = _Seen()
    repeated: list[np.ndarray] = []  # rows whose values hash like an earlier row's
    records = 0
    with tempfile.TemporaryDirectory(prefix=".ingest-", dir=target.parent if target else None
                                     ) as tmp:
        loaded_file = target if target is not None else Path(tmp) / "loaded.parquet"
        typed_rows = _TypedRows(loaded_file)
        repeats = _TypedRows(Path(tmp) / "repeats.parquet")
        for start in range(0, max(table.num_rows, 1), batch_rows):
            frame = _strip(_text_frame(table.slice(start, batch_rows), start), spec)
            # totals, notes and repeated headers are no records: set aside before typing
            no_record = frame[LAYOUT].notna()
            set_aside.append(_quarantine_frame(frame[no_record], frame.loc[no_record, LAYOUT]))
            frame = frame[~no_record].drop(columns=[LAYOUT])
            records += len(frame)
            for column in optional:
                filled[column] = filled[column] or bool(frame[column].notna().any())
            typed, batch_notes = type_columns(frame, dataset, spec, config, every_note=True)
            notes = _merge_notes(notes, batch_notes)
            reason = row_reasons(typed, dataset, spec)
            bad = reason.notna().to_numpy()
            reasons.append(pd.Series(reason[bad].to_numpy(), index=typed.loc[bad, ROW]))
            at = frame.index.to_numpy()
            rows.append(typed[ROW].to_numpy(dtype=np.int64))
            positions.append(at)
            # a row hashing like an earlier one is almost surely its exact repeat: set aside
            # (typed) and compared value by value at the end, never loaded before that
            first = seen.first_rows(_row_hashes(typed, columns), at)
            repeat = first != at
            repeated.append(first[repeat])
            repeats.write(typed[repeat])
            typed_rows.write(typed[~bad & ~repeat])
            log.debug("%s: %d of %d rows typed", path.name, start + len(no_record),
                      table.num_rows)
        typed_rows.close()
        repeats.close()
        own = pd.concat(reasons)
        # an exact repeat of an earlier row is the first reason, over every batch
        reason_at = _repeats(table, repeats.path, np.concatenate(repeated), dataset, spec,
                             config, own.index, loaded_file)
        loaded_rows = int(pq.read_metadata(loaded_file).num_rows)
        loaded = pd.read_parquet(loaded_file) if target is None else None
    reason_at = reason_at.combine_first(own.astype(object)).sort_index()
    row_numbers = np.concatenate(rows)
    where = pd.Series(np.concatenate(positions), index=row_numbers)
    written = _written(table, spec, where.loc[reason_at.index].to_numpy())
    written.insert(0, REASON, reason_at.astype(str).reset_index(drop=True))
    malformed = pd.DataFrame({
        ROW: pd.Series([r.row for r in raw.malformed_rows], dtype="int64"),
        LINE: pd.Series([r.line for r in raw.malformed_rows], dtype="Int64"),
        SHEET: pd.Series([r.sheet for r in raw.malformed_rows], dtype="string"),
        REASON: pd.Series([r.reason for r in raw.malformed_rows], dtype="object")})
    parts = [p for p in (written, *set_aside, malformed) if len(p)]
    quarantined = (pd.concat(parts, ignore_index=True) if parts else written) \
        .sort_values(ROW, kind="stable").reset_index(drop=True)
    aside = sum(len(p) for p in set_aside)
    input_rows = records + aside + len(raw.malformed_rows)
    if dataset == "roll" and loaded_rows == 0:
        raise InputError(
            f"{path.name}: the roll has no usable rows ({input_rows} rows read, "
            f"{len(quarantined)} quarantined)", dataset=dataset, file=str(path))
    absent = _absent_columns(raw, dataset, config)
    named = set(optional) - set(absent)
    blank = [c for c in optional if c in named and records and not filled[c]]
    result = IngestResult(dataset, source, input_rows, loaded, quarantined, ignored,
                          [n for n in notes.values() if n["rows"]], time.perf_counter() - started, raw.layout,
                          absent, blank,
                          loaded_rows=loaded_rows, loaded_path=target)
    log.info("%s: %d rows read, %d loaded, %d quarantined (%.1fs)", path.name, input_rows,
             loaded_rows, len(quarantined), result.seconds)
    return result
