"""The monthly publicity DAG's task bodies: which audit to publish, then publish it.

dags/dibao_monthly_publicity.py runs when the nightly audit updates its changes asset (or by
hand). It acts on month-end audits only (contract §6 History): a nightly run in mid-month
triggers it, and it skips. Nothing here imports Airflow at module level.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

from pipelines.config import review_database_url
from pipelines.ingest.dates import parse_as_of
from pipelines.io.warehouse import is_month_end
from pipelines.logs import mask_all_handlers
from pipelines.run.nightly import DEFAULT_OUTPUT, fail_fast

log = logging.getLogger(__name__)


def resolve_publication(params: Mapping[str, Any], extras: Iterable[Mapping[str, Any]],
                        variable: Callable[[str], str | None] = lambda _: None
                        ) -> dict[str, str] | None:
    """The audit to publish, as paths and strings; None when there is no month-end audit.

    A manual run names it with the params `as_of` (and `output_dir`); else the latest
    month-end audit among the triggering asset events' extras ({"as_of", "output_dir"}). A
    malformed `as_of` raises UsageError with the same plain message as `--as-of`.
    """
    chosen: tuple[str, str] | None = None
    if params.get("as_of") and str(params["as_of"]).strip():
        day = parse_as_of(params["as_of"], "as_of")  # as `dibao-audit publish --as-of`
        chosen = (day.isoformat(), str(params.get("output_dir") or ""))
    else:
        month_ends = sorted((str(e["as_of"]), str(e.get("output_dir") or "")) for e in extras
                            if e.get("as_of") and
                            is_month_end(dt.date.fromisoformat(str(e["as_of"]))))
        chosen = month_ends[-1] if month_ends else None
    if chosen is None:
        return None
    as_of, output_dir = chosen
    output_dir = (output_dir or params.get("output_dir") or variable("dibao_output_dir")
                  or str(DEFAULT_OUTPUT))
    return {"as_of": as_of, "output_dir": output_dir,
            "target": str(Path(output_dir) / as_of),
            "warehouse": str(params.get("warehouse") or variable("dibao_warehouse") or ""),
            "community": str(params.get("community") or ""),
            "config_file": str(params.get("config_file") or "")}


def select(params: Mapping[str, Any], extras: Iterable[Mapping[str, Any]],
           variable: Callable[[str], str | None] = lambda _: None) -> dict[str, str] | None:
    """The `select` task: `resolve_publication`, a malformed param failing the task at once
    (no retry) with the plain message."""
    return fail_fast({}, "select", resolve_publication, params, extras, variable)


def publicity(run: Mapping[str, str]) -> dict[str, Any]:
    """Write <target>/publicity/ and <target>/decided/ for the audit; what was written."""
    from pipelines.publicity.publish import publish_audit

    mask_all_handlers()
    config = Path(run["config_file"]) if run.get("config_file") else None
    return fail_fast(run, "publicity", publish_audit, Path(run["target"]),
                     dt.date.fromisoformat(run["as_of"]), run.get("warehouse") or None,
                     run.get("community") or None, config, review_database_url())


def oversight_report(run: Mapping[str, str]) -> dict[str, Any]:
    """Write <target>/report/<month>/: the month's oversight reports (督办报告, city and each
    district) from the review database; nothing without one (the decisions live there)."""
    url = review_database_url()
    month = run["as_of"][:7]
    if not url:
        log.info("no review database (DIBAO_REVIEW_DATABASE_URL): no oversight report for %s",
                 month)
        return {"month": month, "files": []}
    from pipelines.review.report import write_reports

    mask_all_handlers()
    written = fail_fast(run, "oversight_report", write_reports, url, month, Path(run["target"]))
    return {"month": month, "files": [p.name for p in written]}
