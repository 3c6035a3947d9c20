"""The audit run: ingest, validate, normalise, write outputs. The CLI and the DAGs call this.

Outputs are written to a staging folder beside `--output` and moved into place only when the
run succeeds, so a failed run leaves nothing half-written in `--output`.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import platform
import shutil
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
import yaml

from pipelines import __version__
from pipelines.config import AuditConfig, load_config
from pipelines.errors import InputError
from pipelines.findings import write_outputs
from pipelines.ingest import REASON, IngestResult, find_inputs, ingest_dataset
from pipelines.io.duck import connect, load_table, materialise, stage_tables
from pipelines.io.output import publish_dir, staging_dir
from pipelines.io.readers import ROW
from pipelines.linkage.linker import link_all, load_params
from pipelines.policy import load_rules
from pipelines.progress import progress
from pipelines.quality import ExpectationOutcome, raise_on_critical, validate
from pipelines.rules import apply_rules, rule_checks

log = logging.getLogger(__name__)


@dataclass
class RunContext:
    """What one run knows: its arguments, its staging folder and its timings."""

    input_dir: Path
    output_dir: Path
    as_of: dt.date
    config: AuditConfig
    config_file: Path | None = None
    debug_dir: Path | None = None
    started_at: dt.datetime = field(default_factory=lambda: dt.datetime.now(dt.UTC))
    timings: dict[str, float] = field(default_factory=dict)

    @contextmanager
    def step(self, name: str) -> Iterator[None]:
        started = time.perf_counter()
        log.info("step %s ...", name)
        yield
        self.timings[name] = round(time.perf_counter() - started, 3)
        log.info("step %s done (%.1fs)", name, self.timings[name])


def ingest_all(ctx: RunContext) -> tuple[dict[str, IngestResult], list[str]]:
    """Ingest every dataset present in the input folder."""
    found, ignored_files = find_inputs(ctx.input_dir, ctx.config)
    results: dict[str, IngestResult] = {}
    for dataset, path in progress(list(found.items()), desc="ingest", unit="file"):
        results[dataset] = ingest_dataset(dataset, path, ctx.config)
    for name in ignored_files:
        log.info("ignored file %s (not a dataset of the contract)", name)
    return results, ignored_files


def write_quarantine(results: dict[str, IngestResult], quality_dir: Path) -> None:
    """One CSV per dataset with quarantined rows (values as written) and the reason."""
    folder = quality_dir / "quarantine"
    folder.mkdir(parents=True, exist_ok=True)
    summary = []
    for dataset, result in sorted(results.items()):
        frame = result.quarantined
        if not frame.empty:
            ordered = frame[[ROW, REASON, *[c for c in frame.columns if c not in (ROW, REASON)]]]
            ordered.rename(columns={ROW: "row", REASON: "reason"}).to_csv(
                folder / f"{dataset}.csv", index=False, encoding="utf-8")
            for reason, count in frame[REASON].value_counts().sort_index().items():
                summary.append({"dataset": dataset, "reason": reason, "rows": int(count)})
    pd.DataFrame(summary, columns=["dataset", "reason", "rows"]).to_csv(
        quality_dir / "quarantine_summary.csv", index=False, encoding="utf-8")
    notes = [n for r in results.values() for n in r.notes]
    pd.DataFrame(notes, columns=["dataset", "column", "issue", "rows", "example_rows"]).to_csv(
        quality_dir / "value_issues.csv", index=False, encoding="utf-8")


def _versions() -> dict[str, str]:
    import duckdb
    import pyarrow

    return {"dibao-audit": __version__, "python": platform.python_version(),
            "duckdb": duckdb.__version__, "pandas": pd.__version__,
            "pyarrow": pyarrow.__version__}


def build_manifest(ctx: RunContext, results: dict[str, IngestResult], ignored_files: list[str],
                   outcomes: list[ExpectationOutcome]) -> dict[str, Any]:
    """The run manifest: inputs with checksums and counts, checks, timings, versions."""
    inputs: dict[str, dict[str, Any]] = {}
    for dataset, r in sorted(results.items()):
        inputs[dataset] = {
            "file": r.source.path.name, "format": r.source.format, "encoding": r.source.encoding,
            "bytes": r.source.bytes, "sha256": r.source.sha256, "input_rows": r.input_rows,
            "loaded_rows": len(r.loaded), "quarantined_rows": len(r.quarantined),
            "ignored_columns": r.ignored_columns,
        }
    absent = sorted(set(ctx.config.datasets) - set(results))
    totals = {k: sum(int(v[k]) for v in inputs.values())
              for k in ("input_rows", "loaded_rows", "quarantined_rows")}
    return {
        "tool": "dibao-audit",
        "as_of": ctx.as_of.isoformat(),
        "started_at": ctx.started_at.isoformat(timespec="seconds"),
        "finished_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "input_dir": str(ctx.input_dir),
        "output_dir": str(ctx.output_dir),
        "inputs": inputs,
        "absent_datasets": absent,
        "ignored_files": ignored_files,
        "totals": totals,
        "validation": {
            "expectations": len(outcomes),
            "failed_warnings": [o.id for o in outcomes if not o.success and o.severity != "critical"],
            "failed_critical": [o.id for o in outcomes if not o.success and o.severity == "critical"],
        },
        "timings_seconds": ctx.timings,
        "versions": _versions(),
    }


def run_audit(input_dir: Path, output_dir: Path, as_of: dt.date, config_file: Path | None = None,
              debug_dir: Path | None = None) -> dict[str, Any]:
    """Run the audit end to end and return the manifest. Raises InputError on unusable input.

    With `debug_dir`, every stage table is also written there as Parquet with its row count.
    """
    config = load_config(config_file)
    rules = load_rules(config_file)
    matcher = load_params(config_file)
    ctx = RunContext(input_dir, output_dir, as_of, config, config_file, debug_dir)
    failed_dir = output_dir.parent / "_failed"
    with staging_dir(output_dir) as stage:
        quality_dir = stage / "quality"
        try:
            with ctx.step("ingest"):
                results, ignored = ingest_all(ctx)
            with ctx.step("validate"):
                outcomes = validate({d: r.loaded for d, r in results.items()}, as_of, config,
                                    quality_dir)
                write_quarantine(results, quality_dir)
                raise_on_critical(outcomes, {d: r.source.path.name for d, r in results.items()})
        except InputError as exc:
            _record_failure(failed_dir, as_of, exc, quality_dir)
            raise
        with ctx.step("load"):
            con = connect()
            tables = {f"norm_{d}": load_table(con, f"norm_{d}", r.loaded)
                      for d, r in sorted(results.items())}
        with ctx.step("link"):
            link_stats = link_all(con, matcher)
        with ctx.step("rules"):
            apply_rules(con, as_of, rules)
            counts = write_outputs(con, stage)
        if ctx.debug_dir is not None:
            materialise(con, stage_tables(con), ctx.debug_dir)
        manifest = build_manifest(ctx, results, ignored, outcomes)
        manifest["tables"] = tables
        manifest["checks"] = rule_checks(con)
        manifest["findings"] = counts
        manifest["linkage"] = [asdict(s) for s in link_stats]
        effective = {"audit": config.model_dump(mode="json"),
                     "rules": rules.model_dump(mode="json"), "matcher": matcher}
        (stage / "config.effective.yaml").write_text(
            yaml.safe_dump(effective, allow_unicode=True, sort_keys=True), encoding="utf-8")
        (stage / "manifest.json").write_text(
            json.dumps(manifest, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
        publish_dir(stage, output_dir)
    return manifest


def _record_failure(failed_dir: Path, as_of: dt.date, exc: InputError, quality_dir: Path) -> None:
    """Keep the failure report (and the quality files so far) outside the run's own folder."""
    failed_dir.mkdir(parents=True, exist_ok=True)
    report = {"as_of": as_of.isoformat(), "dataset": exc.dataset, "file": exc.file,
              "message": str(exc), "at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds")}
    (failed_dir / f"{as_of.isoformat()}.json").write_text(
        json.dumps(report, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    if quality_dir.exists():
        target = failed_dir / f"{as_of.isoformat()}.quality"
        shutil.rmtree(target, ignore_errors=True)
        shutil.copytree(quality_dir, target)
