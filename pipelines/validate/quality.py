"""Validate the ingested datasets with Great Expectations 1.x.

One suite per dataset lives in `expectations/<dataset>.json`. Each expectation carries an id
(`meta.id`), a plain-words description and a severity: `critical` stops the run (exit 2),
`warning` is reported. `validation.severity` in the configuration overrides the suite by id.
Great Expectations takes several seconds to import, so it is imported only inside `validate`.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa

from pipelines.config import AuditConfig
from pipelines.errors import InputError
from pipelines.io.readers import ROW
from pipelines.resources import resource_dir

log = logging.getLogger(__name__)


@dataclass
class ExpectationOutcome:
    """One expectation's result in plain terms."""

    dataset: str
    id: str
    description: str
    type: str
    severity: str
    success: bool
    rows: int
    failing_rows: int
    failing_percent: float
    example_rows: list[int]
    error: str | None = None

    def message(self, file_name: str) -> str:
        if self.error:
            return (f"{file_name}: expectation {self.id} ({self.description}) could not be "
                    f"evaluated: {self.error}")
        examples = ", ".join(str(r) for r in self.example_rows)
        where = f"; e.g. rows {examples}" if examples else ""
        return (f"{file_name}: expectation {self.id} failed: {self.description}. "
                f"{self.failing_rows:,} of {self.rows:,} rows "
                f"({self.failing_percent:.1f}%) do not meet it{where}")


def load_suite(dataset: str) -> dict[str, Any] | None:
    """The suite file of a dataset, or None when the dataset has none."""
    path = resource_dir("expectations") / f"{dataset}.json"
    if not path.exists():
        return None
    suite: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return suite


def _suite_columns(suite: dict[str, Any] | None) -> list[str]:
    """The columns a suite's expectations read, in first-use order."""
    wanted: list[str] = []
    for expectation in suite["expectations"] if suite else []:
        kwargs = expectation["kwargs"]
        for column in [kwargs.get("column"), *kwargs.get("column_list", [])]:
            if column and column not in wanted:
                wanted.append(column)
    return wanted


def columns_needed(dataset: str) -> list[str]:
    """The columns a dataset's suite reads, and the row number (all a validation needs)."""
    return [*_suite_columns(load_suite(dataset)), ROW]


def _columns_used(frame: pd.DataFrame, suite: dict[str, Any]) -> pd.DataFrame:
    """Only the columns the suite reads (and the row number): GX hashes every column it gets."""
    wanted = [c for c in _suite_columns(suite) if c in frame.columns]
    subset = frame[[*wanted, ROW]].copy()
    for column in wanted:
        dtype = subset[column].dtype
        if isinstance(dtype, pd.ArrowDtype) and pa.types.is_date(dtype.pyarrow_dtype):
            # dates compare as yyyymmdd numbers: GX checks numbers vectorised, dates row by row
            days = pd.to_datetime(subset[column].astype("object"), errors="coerce")
            subset[column] = (days.dt.year * 10000 + days.dt.month * 100 + days.dt.day).astype(
                "float64")
        elif pd.api.types.is_numeric_dtype(dtype):
            subset[column] = subset[column].astype("float64")
    return subset


def _as_numbers(suite: dict[str, Any]) -> dict[str, Any]:
    """Date bounds in a suite ('1995-01-01') as yyyymmdd numbers, matching `_columns_used`."""
    for expectation in suite["expectations"]:
        kwargs = expectation["kwargs"]
        for bound in ("min_value", "max_value"):
            value = kwargs.get(bound)
            if isinstance(value, str) and len(value) == 10 and value[4] == "-":
                kwargs[bound] = int(value.replace("-", ""))
    return suite


def _quiet_gx() -> None:
    for name in ("great_expectations._docs_decorators", "great_expectations"):
        logging.getLogger(name).setLevel(logging.WARNING)


def _context(docs_dir: Path | None) -> Any:
    import great_expectations as gx
    from great_expectations.data_context.types.base import (
        DataContextConfig,
        InMemoryStoreBackendDefaults,
        ProgressBarsConfig,
    )

    sites = {}
    if docs_dir is not None:
        sites["local_site"] = {
            "class_name": "SiteBuilder",
            "show_how_to_buttons": False,
            "store_backend": {"class_name": "TupleFilesystemStoreBackend",
                              "base_directory": str(docs_dir.resolve())},
            "site_index_builder": {"class_name": "DefaultSiteIndexBuilder"},
        }
    config = DataContextConfig(
        store_backend_defaults=InMemoryStoreBackendDefaults(init_temp_docs_sites=False),
        data_docs_sites=sites,
        progress_bars=ProgressBarsConfig(globally=False),
        analytics_enabled=False,
    )
    return gx.get_context(mode="ephemeral", project_config=config)


def validate(frames: Mapping[str, pd.DataFrame | Callable[[], pd.DataFrame]], as_of: dt.date,
             config: AuditConfig, quality_dir: Path) -> list[ExpectationOutcome]:
    """Run each present dataset's suite; write results (and data docs) under `quality_dir`.

    A dataset's frame may be given as a function that reads it: it is then read when its suite
    runs and let go after, so that one dataset at a time is held."""
    _quiet_gx()
    started = time.perf_counter()
    import great_expectations as gx

    docs_dir = quality_dir / "data_docs" if config.validation.data_docs else None
    context = _context(docs_dir)
    source = context.data_sources.add_pandas("dibao")
    definitions = []
    suites: dict[str, dict[str, Any]] = {}
    for dataset in frames:
        suite_json = load_suite(dataset)
        if suite_json is None:
            continue
        for expectation in suite_json["expectations"]:
            override = config.validation.severity.get(expectation["meta"]["id"])
            if override:
                expectation["severity"] = override
        suite = context.suites.add(gx.ExpectationSuite(**_as_numbers(suite_json)))
        batch = source.add_dataframe_asset(dataset).add_batch_definition_whole_dataframe(dataset)
        definitions.append(context.validation_definitions.add(
            gx.ValidationDefinition(name=dataset, data=batch, suite=suite)))
        suites[dataset] = suite_json
    outcomes: list[ExpectationOutcome] = []
    result_format = {"result_format": "SUMMARY", "partial_unexpected_count": 5}
    for definition in definitions:
        dataset = definition.name
        checkpoint = context.checkpoints.add(gx.Checkpoint(
            name=f"audit_{dataset}", validation_definitions=[definition], actions=[],
            result_format=result_format))
        given = frames[dataset]
        frame = _columns_used(given() if callable(given) else given, suites[dataset])
        result = checkpoint.run(batch_parameters={"dataframe": frame},
                                expectation_parameters={"as_of": int(as_of.strftime("%Y%m%d"))})
        for run_result in result.run_results.values():
            for item in run_result.results:
                outcomes.append(_outcome(dataset, frame, item))
    if docs_dir is not None:
        context.build_data_docs()  # once, for all datasets
    _write(outcomes, quality_dir)
    log.info("validated %d datasets, %d expectations, %d failed (%.1fs)", len(definitions),
             len(outcomes), sum(not o.success for o in outcomes), time.perf_counter() - started)
    return outcomes


def _outcome(dataset: str, frame: pd.DataFrame, item: Any) -> ExpectationOutcome:
    config = item.expectation_config
    result = item.result or {}
    rows = len(frame)
    row_numbers = frame[ROW].to_numpy()
    examples = [int(row_numbers[p]) for p in result.get("partial_unexpected_index_list") or []
                if isinstance(p, int) and 0 <= p < rows]
    error = None
    if item.exception_info and item.exception_info.get("raised_exception"):
        error = str(item.exception_info.get("exception_message"))
    failing = int(result.get("unexpected_count") or 0)
    if config.type == "expect_table_row_count_to_be_between" and not item.success:
        failing = rows
    return ExpectationOutcome(
        dataset=dataset, id=config.meta.get("id", config.type),
        description=config.meta.get("description", config.type), type=config.type,
        severity=str(getattr(config.severity, "value", config.severity)).lower(),
        success=bool(item.success), rows=rows, failing_rows=failing,
        failing_percent=round(100.0 * failing / rows, 2) if rows else 0.0,
        example_rows=examples, error=error)


def _write(outcomes: list[ExpectationOutcome], quality_dir: Path) -> None:
    quality_dir.mkdir(parents=True, exist_ok=True)
    payload = [asdict(o) for o in outcomes]
    (quality_dir / "validation.json").write_text(
        json.dumps(payload, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")


def raise_on_critical(outcomes: list[ExpectationOutcome], files: dict[str, str]) -> None:
    """Raise InputError naming every failed critical expectation, in plain words."""
    failed = [o for o in outcomes if o.severity == "critical" and not o.success]
    if failed:
        lines = [o.message(files.get(o.dataset, o.dataset)) for o in failed]
        raise InputError("critical data-quality expectation failed:\n  " + "\n  ".join(lines),
                         dataset=failed[0].dataset)
