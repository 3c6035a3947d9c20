"""Ingest: find the input files, map headers, quarantine unusable rows, type and normalise.

Every input row ends up in exactly one place: the loaded table or the quarantine, with a reason.
"""

from __future__ import annotations

import hashlib
import logging
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa

from pipelines.config import AuditConfig, DatasetSpec, normalise_header
from pipelines.errors import InputError
from pipelines.ingest.columns import type_columns
from pipelines.io import duck
from pipelines.io.readers import (
    LAYOUT,
    LINE,
    PROVENANCE,
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
    loaded: pd.DataFrame
    quarantined: pd.DataFrame  # ROW, REASON and the columns as written
    ignored_columns: list[str] = field(default_factory=list)
    notes: list[dict[str, object]] = field(default_factory=list)
    seconds: float = 0.0
    # the header rows used, sheets read and skipped, rows skipped (see io/readers.py)
    layout: dict[str, object] = field(default_factory=dict)
    # optional columns the file does not have, and those it has with no value in any row
    absent_columns: list[str] = field(default_factory=list)
    blank_columns: list[str] = field(default_factory=list)


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
    """Rename columns to canonical names; add absent optional columns as NULL.

    The provenance columns of the reader (row, line, sheet, layout) come along. Raises
    InputError naming the file and each missing required column with the labels accepted.
    """
    spec = config.datasets[dataset]
    accepted = config.header_map(dataset)
    frame = raw.table.to_pandas(types_mapper=_string_mapper)
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
    frame = frame.rename(columns=rename)
    for column in spec.columns:
        if column not in frame.columns:
            frame[column] = pd.Series([None] * len(frame), dtype="string", index=frame.index)
    if LAYOUT not in frame.columns:  # a table made by hand (tests): no provenance but rows
        for name in (LINE, SHEET, LAYOUT):
            frame[name] = pd.Series([None] * len(frame), dtype="string" if name != LINE
                                    else "Int64", index=frame.index)
    return frame[[*spec.columns, *PROVENANCE]], ignored


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


def _duplicates(frame: pd.DataFrame, columns: list[str]) -> pd.Series:
    """Reason for rows that repeat an earlier row exactly, else NULL."""
    reasons = pd.Series([None] * len(frame), index=frame.index, dtype="object")
    if not len(frame):
        return reasons
    # a hash of each row in DuckDB (a blank hashes like a blank); only rows whose hash repeats
    # are compared value by value
    table = pa.Table.from_pandas(frame[columns], preserve_index=False)
    quoted = ", ".join('"' + c.replace('"', '""') + '"' for c in columns)
    with duck.connect() as con:
        con.register("written_rows", table)
        hashes = con.execute(f"SELECT hash({quoted}) FROM written_rows").fetchnumpy()
    codes, counts = np.unique(next(iter(hashes.values())), return_inverse=True,
                              return_counts=True)[1:]
    maybe = counts[codes] > 1
    if maybe.any():
        rows = frame[maybe]
        dup = rows.duplicated(subset=columns, keep="first")
        first_row = rows.groupby(columns, dropna=False, sort=False)[ROW].transform("min")
        reasons[dup[dup].index] = "exact duplicate of row " + first_row[dup].astype(str)
    return reasons


def quarantine_reasons(typed: pd.DataFrame, dataset: str, spec: DatasetSpec) -> pd.Series:
    """Why each row cannot be used at all (NULL for usable rows). First reason wins."""
    reasons = _duplicates(typed, list(spec.columns))

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


def _column_gaps(raw: RawTable, frame: pd.DataFrame, dataset: str, config: AuditConfig
                 ) -> tuple[list[str], list[str]]:
    """Optional columns the file lacks, and those it has with no value in any record."""
    accepted = config.header_map(dataset)
    spec = config.datasets[dataset]
    named = {accepted.get(normalise_header(h)) for h in raw.headers if h}
    optional = [c for c, col in spec.columns.items() if not col.required]
    absent = [c for c in optional if c not in named]
    blank = [c for c in optional if c in named and len(frame) and frame[c].isna().all()]
    return absent, blank


def ingest_dataset(dataset: str, path: Path, config: AuditConfig) -> IngestResult:
    """Read, map, type, normalise and quarantine one dataset file."""
    started = time.perf_counter()
    source = describe_source(dataset, path)
    raw = read_any(path, columns_of(dataset, config))
    source.encoding = raw.encoding
    spec = config.datasets[dataset]
    frame, ignored = map_headers(raw, dataset, config)
    frame = _strip(frame, spec)
    # totals, notes and repeated headers are no records: set aside before typing
    no_record = frame[LAYOUT].notna()
    set_aside = _quarantine_frame(frame[no_record], frame.loc[no_record, LAYOUT])
    frame = frame[~no_record].drop(columns=[LAYOUT])
    absent, blank = _column_gaps(raw, frame, dataset, config)
    written = frame.copy()
    typed, notes = type_columns(frame, dataset, spec, config)
    reasons = quarantine_reasons(typed, dataset, spec)
    bad = reasons.notna()
    quarantined = written[bad].copy()
    quarantined.insert(0, REASON, reasons[bad].astype(str))
    malformed = pd.DataFrame({
        ROW: pd.Series([r.row for r in raw.malformed_rows], dtype="int64"),
        LINE: pd.Series([r.line for r in raw.malformed_rows], dtype="Int64"),
        SHEET: pd.Series([r.sheet for r in raw.malformed_rows], dtype="string"),
        REASON: pd.Series([r.reason for r in raw.malformed_rows], dtype="object")})
    parts = [p for p in (quarantined, set_aside, malformed) if len(p)]
    quarantined = (pd.concat(parts, ignore_index=True) if parts else quarantined) \
        .sort_values(ROW, kind="stable").reset_index(drop=True)
    loaded = typed[~bad].reset_index(drop=True)  # with its provenance: row, line, sheet
    input_rows = len(frame) + len(set_aside) + len(raw.malformed_rows)
    if dataset == "roll" and loaded.empty:
        raise InputError(
            f"{path.name}: the roll has no usable rows ({input_rows} rows read, "
            f"{len(quarantined)} quarantined)", dataset=dataset, file=str(path))
    result = IngestResult(dataset, source, input_rows, loaded, quarantined, ignored, notes,
                          time.perf_counter() - started, raw.layout, absent, blank)
    log.info("%s: %d rows read, %d loaded, %d quarantined (%.1fs)", path.name, input_rows,
             len(loaded), len(quarantined), result.seconds)
    return result
