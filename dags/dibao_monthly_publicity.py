"""Monthly publicity (公示) of the 低保 roll: publicity lists and decided remove/add lists.

Runs when the nightly audit publishes its changes list (asset `dibao_audit_changes`) and acts
only when that audit is a month-end one; or by hand with the params `as_of` (and `output_dir`).
Reads the stored audit from the warehouse and writes <output_dir>/<as_of>/publicity/ (one XLSX
and PDF per street-community, the city workbook), <output_dir>/<as_of>/decided/ and, with a
review database, the month's oversight reports in <output_dir>/<as_of>/report/. Wiring only:
the task bodies are in pipelines.run.monthly, imported inside the tasks.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from airflow.sdk import DAG, Asset, Param, Variable, get_current_context, task

from pipelines.run.task_defaults import task_defaults

CHANGES = Asset(name="dibao_audit_changes", uri="file:///dibao-audit/changes.csv",
                group="dibao-audit")
PUBLICITY = Asset(name="dibao_publicity", uri="file:///dibao-audit/publicity/",
                  group="dibao-audit")


def _variable(key: str) -> str | None:
    value = Variable.get(key, default=None)
    return str(value) if value else None


with DAG(
    dag_id="dibao_monthly_publicity",
    description="Month-end publicity lists (公示) and decided remove/add lists",
    schedule=[CHANGES],
    start_date=dt.datetime(2026, 1, 1, tzinfo=dt.UTC),
    catchup=False,
    max_active_runs=1,
    tags=["dibao", "publicity", "monthly"],
    default_args=task_defaults(),
    params={
        "as_of": Param("", type="string",
                       description="month-end audit date YYYY-MM-DD, also 2026/10/31, "
                                   "20261031 or 2026年10月31日 (default: the audit that "
                                   "triggered this run)"),
        "output_dir": Param("", type="string",
                            description="the audits' output folder (default: the triggering "
                                        "event's, else Variable dibao_output_dir)"),
        "warehouse": Param("", type="string", description="audit history (default as the "
                                                          "nightly audit)"),
        "community": Param("", type="string", description="only this community"),
        "config_file": Param("", type="string", description="YAML merged over the defaults"),
    },
    doc_md=__doc__,
) as dag:

    @task
    def select() -> dict[str, str]:
        from airflow.sdk.exceptions import AirflowSkipException

        from pipelines.run import monthly

        context = get_current_context()
        events: Any = context.get("triggering_asset_events") or {}
        extras = [dict(e.extra or {}) for batch in events.values() for e in batch]
        run = monthly.select(context["params"], extras, _variable)
        if run is None:
            raise AirflowSkipException("no month-end audit among the triggering events")
        return run

    @task(outlets=[PUBLICITY])
    def publicity(run: dict[str, str]) -> dict[str, Any]:
        from pipelines.run import monthly

        result = monthly.publicity(run)
        get_current_context()["outlet_events"][PUBLICITY].extra = {
            "as_of": run["as_of"], "path": f"{run['target']}/publicity"}
        return result

    @task
    def oversight_report(run: dict[str, str], published: dict[str, Any]) -> dict[str, Any]:
        from pipelines.run import monthly

        return monthly.oversight_report(run)

    chosen = select()
    oversight_report(chosen, publicity(chosen))
