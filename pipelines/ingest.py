"""Ingest: find the input files, map headers, quarantine unusable rows, type and normalise.

Every input row ends up in exactly one place: the loaded table or the quarantine, with a reason.
"""

from __future__ import annotations

import hashlib
import logging
import time
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from pipelines.columns import type_columns
from pipelines.config import AuditConfig, DatasetSpec, normalise_header
from pipelines.errors import InputError
from pipelines.io.readers import ROW, SUFFIXES, RawTable, read_any

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


def find_inputs(input_dir: Path, config: AuditConfig) -> tuple[dict[str, Path], list[str]]:
    """Return the file of each dataset present, and the names of files that are no dataset.

    Raises InputError when the folder is missing, a required dataset is missing, or a dataset
    comes in two files.
    """
    if not input_dir.is_dir():
        raise InputError(f"input folder {input_dir} does not exist or is not a folder")
    found: dict[str, Path] = {}
    ignored: list[str] = []
    for path in sorted(p for p in input_dir.iterdir() if p.is_file()):
        stem, suffix = path.stem.lower(), path.suffix.lower()
        if stem in config.datasets and suffix in SUFFIXES:
            if stem in found:
                raise InputError(
                    f"dataset {stem!r} comes in two files ({found[stem].name} and {path.name}); "
                    "keep one", dataset=stem)
            found[stem] = path
        elif not path.name.startswith("."):
            ignored.append(path.name)
    missing = [name for name, spec in config.datasets.items()
               if spec.required_dataset and name not in found]
    if missing:
        names = ", ".join(f"{m}.csv/.xlsx/.parquet" for m in missing)
        raise InputError(f"required dataset missing from {input_dir}: {names}",
                         dataset=missing[0])
    return found, ignored


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

    Raises InputError naming the file and each missing required column with the labels accepted.
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
        details = "; ".join(
            f"{c} (accepted headers: {', '.join([c, *spec.columns[c].aliases])})" for c in missing)
        raise InputError(
            f"{raw.path.name}: required column missing: {details}. "
            f"Headers found: {', '.join(raw.headers)}", dataset=dataset, file=str(raw.path))
    frame = frame.rename(columns=rename)
    keep = [c for c in spec.columns if c in frame.columns]
    frame = frame[[*keep, ROW]]
    for column in spec.columns:
        if column not in frame.columns:
            frame[column] = pd.Series([None] * len(frame), dtype="string", index=frame.index)
    return frame[[*spec.columns, ROW]], ignored


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
    dup = frame.duplicated(subset=columns, keep="first")
    reasons = pd.Series([None] * len(frame), index=frame.index, dtype="object")
    if dup.any():
        first_row = frame.groupby(columns, dropna=False, sort=False)[ROW].transform("min")
        reasons[dup] = "exact duplicate of row " + first_row[dup].astype(str)
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


def ingest_dataset(dataset: str, path: Path, config: AuditConfig) -> IngestResult:
    """Read, map, type, normalise and quarantine one dataset file."""
    started = time.perf_counter()
    source = describe_source(dataset, path)
    raw = read_any(path)
    source.encoding = raw.encoding
    spec = config.datasets[dataset]
    frame, ignored = map_headers(raw, dataset, config)
    frame = _strip(frame, spec)
    written = frame.copy()
    typed, notes = type_columns(frame, dataset, spec, config)
    reasons = quarantine_reasons(typed, dataset, spec)
    bad = reasons.notna()
    quarantined = written[bad].copy()
    quarantined.insert(0, REASON, reasons[bad].astype(str))
    if raw.malformed_rows:
        extra = pd.DataFrame({ROW: [r for r, _ in raw.malformed_rows],
                              REASON: [m for _, m in raw.malformed_rows]})
        quarantined = pd.concat([quarantined, extra], ignore_index=True)
    quarantined = quarantined.sort_values(ROW, kind="stable").reset_index(drop=True)
    loaded = typed[~bad].reset_index(drop=True)
    input_rows = len(frame) + len(raw.malformed_rows)
    if dataset == "roll" and loaded.empty:
        raise InputError(
            f"{path.name}: the roll has no usable rows ({input_rows} rows read, "
            f"{len(quarantined)} quarantined)", dataset=dataset, file=str(path))
    result = IngestResult(dataset, source, input_rows, loaded, quarantined, ignored, notes,
                          time.perf_counter() - started)
    log.info("%s: %d rows read, %d loaded, %d quarantined (%.1fs)", path.name, input_rows,
             len(loaded), len(quarantined), result.seconds)
    return result
