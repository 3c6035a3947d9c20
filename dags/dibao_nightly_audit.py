"""Nightly 低保 audit: the stages of `dibao-audit run` as Airflow tasks.

locate -> plan -> ingest (one mapped task per dataset present) -> validate (Great Expectations) ->
link_roll (the roll linked with itself; large registers split into partitions) -> link (one
mapped task per cross-reference dataset or partition, on any Celery worker) -> merge_links ->
rules -> write_audit ->
review_import (into the review app when $DIBAO_REVIEW_DATABASE_URL is set; skipped otherwise).
Tasks pass paths only; tables go through Parquet files in <output_dir>/.work/<as_of>/.
Outputs land in <output_dir>/<as_of>/ and are declared as assets; the write_audit task also records
the audit in the warehouse (history by as-of date), and the changes asset triggers the monthly
publicity DAG. A re-run for the same date
replaces that date's folder. Wiring only: every task body is one call into pipelines.run.nightly,
imported inside the task so that parsing this file loads no data library.

Schedule: $DIBAO_NIGHTLY_CRON (default 02:00) in Asia/Shanghai.
"""

from __future__ import annotations

import datetime as dt
import os
from typing import Any

from airflow.sdk import (
    DAG,
    Asset,
    CronTriggerTimetable,
    Param,
    TriggerRule,
    Variable,
    get_current_context,
    task,
)

from pipelines.run.task_defaults import task_defaults

TIMEZONE = "Asia/Shanghai"
SCHEDULE = os.environ.get("DIBAO_NIGHTLY_CRON", "0 2 * * *")

FINDINGS = Asset(name="dibao_audit_findings", uri="file:///dibao-audit/findings.csv",
                 group="dibao-audit")
REMOVE_LIST = Asset(name="dibao_audit_remove_list", uri="file:///dibao-audit/remove_list.csv",
                    group="dibao-audit")
ADD_LIST = Asset(name="dibao_audit_add_list", uri="file:///dibao-audit/add_list.csv",
                 group="dibao-audit")
CHANGES = Asset(name="dibao_audit_changes", uri="file:///dibao-audit/changes.csv",
                group="dibao-audit")
MANIFEST = Asset(name="dibao_audit_manifest", uri="file:///dibao-audit/manifest.json",
                 group="dibao-audit")
OUTPUTS = {"findings.csv": FINDINGS, "remove_list.csv": REMOVE_LIST,
           "add_list.csv": ADD_LIST, "changes.csv": CHANGES, "manifest.json": MANIFEST}


def _variable(key: str) -> str | None:
    value = Variable.get(key, default=None)
    return str(value) if value else None


def _on_failure(context: Any) -> None:
    from pipelines.run import nightly

    nightly.on_failure(context, _variable)


with DAG(
    dag_id="dibao_nightly_audit",
    description="Nightly audit of the 低保 roll against the cross-reference data",
    schedule=CronTriggerTimetable(SCHEDULE, timezone=TIMEZONE),
    start_date=dt.datetime(2026, 1, 1, tzinfo=dt.UTC),
    catchup=False,
    max_active_runs=1,
    tags=["dibao", "audit", "nightly"],
    default_args=task_defaults(on_failure_callback=_on_failure),
    params={
        "input_dir": Param("", type="string",
                           description="input folder (default: Variable dibao_input_dir, "
                                       "else the sample city)"),
        "output_dir": Param("", type="string",
                            description="results go to <output_dir>/<as_of>/ (default: "
                                        "Variable dibao_output_dir, else sample/out)"),
        "as_of": Param("", type="string",
                       description="audit date YYYY-MM-DD, also 2026/10/31, 20261031 or "
                                   "2026年10月31日 (default: the logical date in "
                                   "Asia/Shanghai)"),
        "config_file": Param("", type="string", description="YAML merged over the defaults"),
        "warehouse": Param("", type="string",
                           description="audit history: DuckDB file or PostgreSQL URL (default: "
                                       "Variable dibao_warehouse, $DIBAO_WAREHOUSE, else "
                                       "<output_dir>/warehouse.duckdb)"),
    },
    doc_md=__doc__,
) as dag:

    @task
    def locate() -> dict[str, str]:
        from pipelines.run import nightly

        context = get_current_context()
        when = context.get("logical_date") or context["dag_run"].run_after
        return nightly.locate(context["params"], when, _variable)

    @task
    def plan(run: dict[str, str]) -> list[str]:
        from pipelines.run import nightly

        return nightly.plan(run)

    @task(map_index_template="{{ dataset_name }}")
    def ingest(run: dict[str, str], dataset: str) -> str:
        from pipelines.run import nightly

        get_current_context()["dataset_name"] = dataset  # type: ignore[typeddict-unknown-key]
        return nightly.ingest(run, dataset)

    @task
    def validate(run: dict[str, str], ingested: list[str]) -> str:
        from pipelines.run import nightly

        return nightly.validate(run)

    @task
    def link_roll(run: dict[str, str], quality: str) -> list[str]:
        from pipelines.run import nightly

        return nightly.link_roll(run)

    @task(map_index_template="{{ piece_name }}")
    def link(run: dict[str, str], piece: str) -> str:
        from pipelines.run import nightly

        get_current_context()["piece_name"] = piece  # type: ignore[typeddict-unknown-key]
        return nightly.link(run, piece)

    @task(trigger_rule=TriggerRule.NONE_FAILED)  # runs when there is nothing to link
    def merge_links(run: dict[str, str], pieces: list[str]) -> list[str]:
        from pipelines.run import nightly

        return nightly.merge_links(run)

    @task
    def rules(run: dict[str, str], linked: list[str]) -> str:
        from pipelines.run import nightly

        return nightly.rules(run)

    @task(outlets=list(OUTPUTS.values()))
    def write_audit(run: dict[str, str], findings: str) -> dict[str, str]:
        from pipelines.run import nightly

        paths = nightly.write_audit(run)
        events = get_current_context()["outlet_events"]
        for name, asset in OUTPUTS.items():
            events[asset].extra = {"path": paths[name], "as_of": run["as_of"],
                                   "output_dir": run["output_dir"]}
        return paths

    @task
    def review_import(run: dict[str, str], published: dict[str, str]) -> dict[str, Any]:
        from airflow.sdk.exceptions import AirflowSkipException

        from pipelines.run import nightly

        result = nightly.review_import(run)
        if result is None:
            raise AirflowSkipException("no review database configured")
        return result

    run = locate()
    ingested = ingest.partial(run=run).expand(dataset=plan(run))
    pieces = link_roll(run, validate(run, ingested))
    merged = merge_links(run, pieces)
    link.partial(run=run).expand(piece=pieces) >> merged
    review_import(run, write_audit(run, rules(run, merged)))
