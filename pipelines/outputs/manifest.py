"""The run manifest and the quarantine summaries, built from the facts in the work folder."""

from __future__ import annotations

import datetime as dt
import platform
from pathlib import Path
from typing import Any

import pandas as pd

from pipelines import __version__
from pipelines.config import AuditConfig
from pipelines.ingest.dataset import REASON, IngestResult
from pipelines.io.csvfiles import write_csv
from pipelines.io.readers import LINE, ROW, SHEET
from pipelines.run.workdir import read_json, timings
from pipelines.validate.quality import ExpectationOutcome

STEPS = ("ingest", "validate", "link_roll", "link", "rules", "outputs")


def ingest_facts(result: IngestResult) -> dict[str, Any]:
    """What the manifest and the quality report need to know about one ingested dataset."""
    r = result
    reasons = r.quarantined[REASON].value_counts().sort_index() if len(r.quarantined) else None
    return {
        "dataset": r.dataset, "file": r.source.path.name, "format": r.source.format,
        "encoding": r.source.encoding, "bytes": r.source.bytes, "sha256": r.source.sha256,
        "input_rows": r.input_rows, "loaded_rows": r.loaded_rows,
        "quarantined_rows": len(r.quarantined), "ignored_columns": r.ignored_columns,
        "absent_columns": r.absent_columns, "blank_columns": r.blank_columns,
        "layout": r.layout, "notes": r.notes,
        "reasons": {str(k): int(v) for k, v in reasons.items()} if reasons is not None else {},
    }


def write_quarantine_rows(result: IngestResult, quality_dir: Path) -> None:
    """One CSV per dataset with quarantined rows (values as written) and the reason.

    `row` is the data row number (the header is row 0), `line` the line of the file or sheet
    as an editor or a spreadsheet shows it, `sheet` the workbook sheet (empty for CSV).
    """
    frame = result.quarantined
    if frame.empty:
        return
    folder = quality_dir / "quarantine"
    folder.mkdir(parents=True, exist_ok=True)
    first = (ROW, LINE, SHEET, REASON)
    columns = [*first, *[c for c in frame.columns if c not in first]]
    rows = frame[columns].astype(object).where(frame[columns].notna(), None)
    names = [{ROW: "row", LINE: "line", SHEET: "sheet", REASON: "reason"}.get(c, c)
             for c in columns]
    write_csv(folder / f"{result.dataset}.csv", names, rows.itertuples(index=False, name=None),
              float_decimals=None)


def write_quarantine_summary(facts: dict[str, dict[str, Any]], quality_dir: Path) -> None:
    """quarantine_summary.csv (rows per dataset and reason) and value_issues.csv (notes)."""
    quality_dir.mkdir(parents=True, exist_ok=True)
    summary = [{"dataset": dataset, "reason": reason, "rows": rows}
               for dataset, f in sorted(facts.items()) for reason, rows in f["reasons"].items()]
    write_csv(quality_dir / "quarantine_summary.csv", ("dataset", "reason", "rows"), summary)
    notes = [n for f in facts.values() for n in f["notes"]]
    write_csv(quality_dir / "value_issues.csv",
              ("dataset", "column", "issue", "rows", "example_rows"), notes)


def versions() -> dict[str, str]:
    """Versions of the tool and the libraries that shape its results."""
    import duckdb
    import pyarrow

    return {"dibao-audit": __version__, "python": platform.python_version(),
            "duckdb": duckdb.__version__, "pandas": pd.__version__,
            "pyarrow": pyarrow.__version__}


def build_manifest(work_dir: Path, output_dir: Path, config: AuditConfig,
                   facts: dict[str, dict[str, Any]], outcomes: list[ExpectationOutcome]
                   ) -> dict[str, Any]:
    """The run manifest: inputs with checksums and counts, checks, timings, versions."""
    plan = read_json(work_dir / "run.json")
    keys = ("file", "format", "encoding", "bytes", "sha256", "input_rows", "loaded_rows",
            "quarantined_rows", "ignored_columns", "absent_columns", "blank_columns", "layout")
    inputs = {dataset: {k: f[k] for k in keys if k in f} for dataset, f in sorted(facts.items())}
    totals = {k: sum(int(v[k]) for v in inputs.values())
              for k in ("input_rows", "loaded_rows", "quarantined_rows")}
    return {
        "tool": "dibao-audit",
        "as_of": plan["as_of"],
        "started_at": plan["started_at"],
        "finished_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "input_dir": plan["input_dir"],
        "output_dir": str(output_dir),
        "inputs": inputs,
        "absent_datasets": sorted(set(config.datasets) - set(facts)),
        "ignored_files": plan["ignored_files"],
        "totals": totals,
        "validation": {
            "expectations": len(outcomes),
            "failed_warnings": [o.id for o in outcomes if not o.success and o.severity != "critical"],
            "failed_critical": [o.id for o in outcomes if not o.success and o.severity == "critical"],
        },
        "timings_seconds": timings(work_dir, STEPS),
        "versions": versions(),
    }
