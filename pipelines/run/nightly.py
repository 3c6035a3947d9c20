"""The nightly audit DAG's task bodies: one call each into the stages, paths in and out.

dags/dibao_nightly_audit.py only wires these. Nothing here imports Airflow at module level;
`fail_fast` imports its exception when an input turns out unusable. Locations come from the
run's params, else the Airflow Variables `dibao_input_dir` / `dibao_output_dir`, else the
environment (`DIBAO_INPUT_DIR`, `DIBAO_OUTPUT_DIR`), else the embedded defaults: the sample
city of `scripts/demo.sh` (`sample/city`, results under `sample/out`).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import os
import shutil
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

from pipelines.config import REVIEW_DATABASE_ENV, review_database_url
from pipelines.errors import InputError, ServiceUnavailable
from pipelines.ingest.dates import parse_as_of
from pipelines.logs import mask_all_handlers
from pipelines.run import stages

log = logging.getLogger(__name__)

TIMEZONE = "Asia/Shanghai"
PROJECT = Path(__file__).resolve().parents[2]
DEFAULT_INPUT = PROJECT / "sample" / "city"
DEFAULT_OUTPUT = PROJECT / "sample" / "out"
T = TypeVar("T")


def resolve_run(params: Mapping[str, Any], when: dt.datetime | None,
                variable: Callable[[str], str | None] = lambda _: None) -> dict[str, str]:
    """Where this run reads and writes, and its audit date (paths and strings only).

    `as_of` is the param when given (written as `--as-of` may be; anything else raises
    UsageError with the same plain message), else the calendar date of `when` (the logical date, or
    the run's start for runs without one) in Asia/Shanghai. Outputs go to
    `<output_dir>/<as_of>/`, the work folder to `<output_dir>/.work/<as_of>/`.
    """
    input_dir = (params.get("input_dir") or variable("dibao_input_dir")
                 or os.environ.get("DIBAO_INPUT_DIR") or str(DEFAULT_INPUT))
    output_dir = (params.get("output_dir") or variable("dibao_output_dir")
                  or os.environ.get("DIBAO_OUTPUT_DIR") or str(DEFAULT_OUTPUT))
    as_of = params.get("as_of")
    if as_of and str(as_of).strip():  # the same written forms as `dibao-audit run --as-of`
        as_of = parse_as_of(as_of, "as_of").isoformat()
    else:
        moment = when or dt.datetime.now(dt.UTC)
        as_of = moment.astimezone(ZoneInfo(TIMEZONE)).date().isoformat()
    root = Path(output_dir)
    # the warehouse: param, else Variable dibao_warehouse; empty lets the run resolve it
    # ($DIBAO_WAREHOUSE, the configuration, else <output_dir>/warehouse.duckdb)
    warehouse = params.get("warehouse") or variable("dibao_warehouse") or ""
    return {"input_dir": str(Path(input_dir)), "output_dir": str(root), "as_of": as_of,
            "work_dir": str(root / ".work" / as_of), "target": str(root / as_of),
            "config_file": str(params.get("config_file") or ""), "warehouse": str(warehouse)}


def locate(params: Mapping[str, Any], when: dt.datetime | None,
           variable: Callable[[str], str | None] = lambda _: None) -> dict[str, str]:
    """The `locate` task: `resolve_run`, a malformed param failing the task at once (no retry)
    with the plain message."""
    return fail_fast({}, "locate", resolve_run, params, when, variable)


def fail_fast(run: Mapping[str, str], task: str, stage: Callable[..., T], *args: Any,
              dataset: str | None = None) -> T:
    """Call a stage; an unusable input fails the task at once (no retry) with the plain
    message. A database that cannot be reached (ServiceUnavailable) is left to the task's
    retries. The failure callback (`on_failure`) writes the report."""
    mask_all_handlers()
    try:
        return stage(*args)
    except ServiceUnavailable:
        raise
    except InputError as exc:
        from airflow.sdk.exceptions import AirflowFailException

        if exc.dataset is None and dataset is not None:
            exc.dataset = dataset
        raise AirflowFailException(str(exc)) from exc


def _cause(exc: object) -> BaseException:
    """The error to report: the InputError behind a fail-fast exception, else the error."""
    if not isinstance(exc, BaseException):
        return RuntimeError(str(exc) if exc else "the task failed")
    return exc.__cause__ if isinstance(exc.__cause__, InputError) else exc


def failure_report(context: Mapping[str, Any], cause: BaseException) -> dict[str, Any]:
    """Which run, task and dataset failed, from a task's failure context."""
    ti = context["ti"]
    dataset = getattr(cause, "dataset", None)
    index = getattr(ti, "map_index", None)
    map_index = -1 if index is None else int(index)
    if dataset is None and map_index >= 0 and ti.task_id in ("ingest", "link"):
        names = ti.xcom_pull(task_ids="plan" if ti.task_id == "ingest" else "link_roll")
        if names and map_index < len(names):  # a link piece 'vehicles#1' is of vehicles
            dataset = str(list(names)[map_index]).partition("#")[0]
    return {"dag_id": ti.dag_id, "run_id": ti.run_id, "task_id": ti.task_id,
            "map_index": map_index, "try_number": getattr(ti, "try_number", None),
            "dataset": dataset, "error": type(cause).__name__}


def on_failure(context: Mapping[str, Any], variable: Callable[[str], str | None]) -> Path:
    """Record a failed task's report in <output_dir>/_failed/<as_of>.json (with the quality
    files so far) and post it to the webhook `dibao_failure_webhook` (Variable or
    $DIBAO_FAILURE_WEBHOOK) when one is configured. Never raises for the webhook."""
    ti = context["ti"]
    run = ti.xcom_pull(task_ids="locate")
    if not run:
        when = context.get("logical_date") or getattr(context.get("dag_run"), "run_after", None)
        params = dict(context.get("params") or {})
        try:
            run = resolve_run(params, when, variable)
        except InputError:  # a malformed as_of param: report under the logical date
            run = resolve_run({**params, "as_of": ""}, when, variable)
    cause = _cause(context.get("exception"))
    details = failure_report(context, cause)
    path = stages.record_failure(Path(run["output_dir"]) / "_failed", run["as_of"], cause,
                                 run["work_dir"], **details)
    log.error("audit %s failed in task %s: report %s", run["as_of"], details["task_id"], path)
    url = variable("dibao_failure_webhook") or os.environ.get("DIBAO_FAILURE_WEBHOOK")
    if url:
        post_json(url, path.read_bytes())
    return path


def post_json(url: str, body: bytes, timeout: float = 10.0) -> bool:
    """POST a JSON body; True when the server answered 2xx. Failures are logged, not raised."""
    import urllib.error
    import urllib.request

    request = urllib.request.Request(url, data=body, method="POST",
                                     headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310
            ok = 200 <= int(response.status) < 300
    except (urllib.error.URLError, OSError) as exc:
        log.warning("failure webhook %s not reached: %s", url, exc)
        return False
    if not ok:
        log.warning("failure webhook %s answered %s", url, response.status)
    return ok


def _work(run: Mapping[str, str]) -> str:
    mask_all_handlers()  # every task body passes here or through fail_fast: no full IDs in logs
    return run["work_dir"]


def sweep_other_work(run: Mapping[str, str]) -> list[str]:
    """Remove the work folders other dates' runs left under <output_dir>/.work (a run killed
    from outside, or failed and never re-run, leaves its tables of personal data there). The
    DAG runs one date at a time (max_active_runs=1), so a work folder of another date belongs
    to no running audit; a failed date is re-run from its first task. The names removed."""
    root = Path(run["work_dir"]).parent
    if not root.is_dir():
        return []
    removed = []
    for folder in sorted(root.iterdir()):
        if folder.is_dir() and folder.name != run["as_of"]:
            shutil.rmtree(folder, ignore_errors=True)
            removed.append(folder.name)
    if removed:
        log.warning("removed the work folders earlier runs left behind: %s", ", ".join(removed))
    return removed


def plan(run: Mapping[str, str]) -> list[str]:
    """Check the input folder and begin the run's work folder (removing those of other dates'
    runs first); the datasets present."""
    log.info("audit %s: input %s, output %s", run["as_of"], run["input_dir"], run["target"])
    sweep_other_work(run)
    return fail_fast(run, "plan", stages.discover, run["input_dir"], _work(run),
                     run["as_of"], run.get("config_file") or None, review_database_url())


def ingest(run: Mapping[str, str], dataset: str) -> str:
    """Ingest one dataset; the path of its norm_ Parquet file."""
    return fail_fast(run, "ingest", stages.ingest_one, dataset, _work(run), dataset=dataset)


def validate(run: Mapping[str, str]) -> str:
    """Great Expectations on every ingested dataset; the quality folder."""
    return fail_fast(run, "validate", stages.validate_all, _work(run), run["as_of"])


def link_roll(run: Mapping[str, str]) -> list[str]:
    """Prepare the roll's people; the pieces to link (one mapped task each): every evidence
    dataset, a large one as several partitions ('vehicles#0', 'vehicles#1')."""
    stages.link_roll(_work(run))
    return stages.link_pieces(run["work_dir"])


def link(run: Mapping[str, str], piece: str) -> str:
    """Link one evidence dataset or partition; the path of its pairs file."""
    return stages.link_piece(piece, _work(run))


def merge_links(run: Mapping[str, str]) -> list[str]:
    """Merge the linked pieces into each dataset's links; the paths of the links files."""
    return stages.merge_links(_work(run))


def rules(run: Mapping[str, str]) -> str:
    """Apply the finding rules; the path of findings.parquet."""
    return stages.apply_rules_stage(_work(run), run["as_of"])


OUTPUT_FILES = ("findings.csv", "remove_list.csv", "add_list.csv", "changes.csv",
                "manifest.json")


def review_import(run: Mapping[str, str]) -> dict[str, Any] | None:
    """Import the published audit into the review app when $DIBAO_REVIEW_DATABASE_URL is set
    (idempotent by finding_id); None when no review database is configured."""
    url = review_database_url()
    if not url:
        log.info("no review database configured (%s): findings not imported",
                 REVIEW_DATABASE_ENV)
        return None
    from pipelines.review.importer import import_audit

    mask_all_handlers()
    result = import_audit(url, Path(run["target"]), "airflow:dibao_nightly_audit")
    return {"as_of": result.as_of, "findings": result.total, "new": result.new}


def write_audit(run: Mapping[str, str]) -> dict[str, str]:
    """Write the outputs, record the audit in the warehouse and publish the files as
    <output_dir>/<as_of>/; path per output file."""
    folder = Path(fail_fast(run, "write_audit", stages.write_audit, _work(run), run["target"],
                            run.get("warehouse") or None))
    with contextlib.suppress(OSError):  # <output_dir>/.work, unless another date uses it
        Path(run["work_dir"]).parent.rmdir()
    return {name: str(folder / name) for name in OUTPUT_FILES}
