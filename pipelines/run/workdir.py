"""The run's work folder: stage tables as Parquet and small JSON facts, handed from stage to stage.

Layout (one folder per audit date; tables keep their stage names):

    run.json                      the plan: as-of date, input files per dataset, ignored files
    norm_<dataset>.parquet        ingested, typed and normalised rows
    ingest_<dataset>.json         source facts (checksum, encoding, counts, notes, reasons)
    quality/                      validation results, data docs, quarantined rows
    roll_people.parquet, name_frequency.parquet, rp_variants.parquet   prepared once
    link_pieces.json              what link_piece links: every dataset, a large one in partitions
    parts/<dataset>/part=<i>/     a large dataset's partitions (COPY ... PARTITION_BY)
    parts/pairs_<piece>.parquet   a piece's linked records before match probabilities,
    parts/part_<piece>.json       and its link statistics and calibration counts
    links_<dataset>.parquet       links of one dataset (links_roll for the roll with itself)
    links_<dataset>.json          what linking that dataset did
    findings*.parquet             the rules' results
    timings/<step>.<part>.json    seconds per stage
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from pipelines.io.duck import load_parquet, save_table

__all__ = ["load_parquet", "save_table"]  # the work folder's table I/O lives in io.duck


def read_json(path: Path) -> Any:
    """A JSON file's content."""
    return json.loads(path.read_text(encoding="utf-8"))


def write_json(path: Path, payload: Any) -> Path:
    """Write `payload` as UTF-8 JSON (keys kept in order, CJK unescaped); return the path."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(payload, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    return path


def write_frame(path: Path, frame: pd.DataFrame) -> Path:
    """A frame as Parquet; pandas dtypes (nullable, Arrow dates) survive the round trip."""
    pq.write_table(pa.Table.from_pandas(frame, preserve_index=False), path)
    return path


def read_frame(path: Path, columns: list[str] | None = None) -> pd.DataFrame:
    """A frame written by `write_frame`, with its dtypes; only `columns` (those present) if given.
    """
    if columns is not None:
        present = set(pq.read_schema(path).names)
        columns = [c for c in columns if c in present]
    return pd.read_parquet(path, columns=columns)


def record_time(work_dir: Path, step: str, part: str, seconds: float) -> None:
    """Remember how long one part of a step took (summed per step in the manifest)."""
    write_json(work_dir / "timings" / f"{step}.{part}.json", {"seconds": round(seconds, 3)})


def timings(work_dir: Path, steps: tuple[str, ...]) -> dict[str, float]:
    """Seconds per step, summed over its parts (mapped tasks), in the order of `steps`."""
    totals: dict[str, float] = {}
    for path in sorted((work_dir / "timings").glob("*.json")):
        step = path.name.split(".", 1)[0]
        totals[step] = totals.get(step, 0.0) + float(read_json(path)["seconds"])
    return {s: round(totals[s], 3) for s in steps if s in totals}
