"""`dibao-audit publish`: publicity lists and decided remove/add lists for one stored audit.

Reads the audit of `as_of` from the warehouse (roll snapshot, changes, findings, decisions),
never from the input files, so what is published is what was audited:
- `publicity/`: per community XLSX + PDF and the city-wide workbook (pipelines.publicity.lists),
  with 变动情况 from that audit's changes and the households stopped this month listed apart;
- `decided/remove_list.csv`, `decided/add_list.csv`: only cases a person decided on (contract
  §6 Decisions): confirmed findings, a confirmation counting only once approved where the review
  app requires it, and a stop or reduction only once the household's notice (告知书) was
  answered or its response period ended (pipelines.review.accountability). Decisions come from
  the review database when `DIBAO_REVIEW_DATABASE_URL` is set (as they stand now), else from
  those the audit read.
Both folders are written to a staging folder and swapped into place (a `--community` run
replaces only that community's files).
"""

from __future__ import annotations

import datetime as dt
import logging
import os
from pathlib import Path
from typing import Any

import pyarrow as pa

from pipelines.config import load_config
from pipelines.errors import UsageError
from pipelines.io.csvfiles import write_csv
from pipelines.io.output import move_into_place, output_lock, staging_dir
from pipelines.io.warehouse import Warehouse, describe, open_warehouse, resolve_url
from pipelines.publicity.lists import PublicityRow, write_publicity

log = logging.getLogger(__name__)

CHANGE_ORDER = ("新增", "调整", "成员增加", "成员减少", "停保")
DECIDED_REMOVE = ("household_id", "district", "street", "community", "head_name", "members",
                  "monthly_amount", "finding_codes", "finding_ids", "decided_by", "decided_at",
                  "approved_by")
DECIDED_ADD = ("finding_id", "record_id", "name", "id_number", "amount_at_stake", "decided_by",
               "decided_at", "approved_by")


def _decisions(store: Warehouse, as_of: dt.date, url: str | None
               ) -> dict[str, dict[str, Any]]:
    if url:
        from pipelines.review.export import export_decisions

        rows: list[dict[str, Any]] = [{**r, "source": "review"} for r in export_decisions(url)]
        log.info("decisions: %d from the review database", len(rows))
    else:
        rows = store.read("decisions", as_of).to_pylist()
        log.info("decisions: %d recorded with the audit of %s", len(rows), as_of)
    return {str(r["finding_id"]): r for r in rows}


def publicity_rows(store: Warehouse, as_of: dt.date) -> list[PublicityRow]:
    """The month-end roll with each household's changes, plus the households stopped."""
    changes: dict[str, list[str]] = {}
    for change in store.read("changes", as_of).to_pylist():
        changes.setdefault(change["household_id"], []).append(change["change"])

    def change_text(household_id: str) -> str:
        kinds = changes.get(household_id, [])
        return "、".join(k for k in CHANGE_ORDER if k in kinds)

    def row(h: dict[str, Any], change: str) -> PublicityRow:
        return PublicityRow(
            household_id=h["household_id"], district=h["district"] or "",
            street=h["street"] or "", community=h["community"] or "",
            head_name=h["head_name"] or "", household_size=int(h["household_size"] or 0),
            covered=int(h["members"] or 0), monthly_amount=float(h["monthly_amount"] or 0.0),
            category=h["category"] or "", change=change)

    rows = [row(h, change_text(h["household_id"]))
            for h in store.read("roll_households", as_of).to_pylist()]
    stopped = {h for h, kinds in changes.items() if "停保" in kinds}
    previous = store.previous_month_end(as_of)
    if stopped and previous is not None:
        rows += [row(h, "停保") for h in store.read("roll_households", previous).to_pylist()
                 if h["household_id"] in stopped]
    return rows


def _in_force(decision: dict[str, Any], on: dt.date) -> bool:
    """A confirmation may be acted on by `on`: one decided in the review app (read from it now,
    or as the audit read it: source review) once its notice's response period passed without
    objection or the objection was decided (`effective_from`); one from a decisions.csv (source
    file) or stored before this was recorded (no source), at once."""
    if decision.get("decision") != "confirmed":
        return False
    if decision.get("source") in (None, "file"):
        return True
    start = decision.get("effective_from") or ""
    return bool(start) and start <= on.isoformat()


def _confirmed(findings: pa.Table, decided: dict[str, dict[str, Any]], on: dt.date
               ) -> list[dict[str, Any]]:
    out = []
    rows = findings.to_pylist()
    audited = {f["finding_id"] for f in rows}
    # complaints (群众举报) are leads of the review app, not of any audit
    rows += [{"finding_id": fid, "household_id": d.get("household_id") or None,
              "finding_code": d.get("finding_code")} for fid, d in sorted(decided.items())
             if d.get("lead_source") == "complaint" and fid not in audited]
    for f in rows:
        d = decided.get(f["finding_id"])
        if d is not None and _in_force(d, on):
            out.append({**f, "decided_by": d.get("decided_by"), "decided_at": d.get("decided_at"),
                        "approved_by": d.get("approved_by")})
    return out


def decided_lists(store: Warehouse, as_of: dt.date, folder: Path,
                  review_database: str | None = None, on: dt.date | None = None
                  ) -> dict[str, int]:
    """Write decided/remove_list.csv and decided/add_list.csv; rows in each. Decisions come
    from `review_database` when given, else from those the audit read (the warehouse); a
    confirmation from the review app counts from the day it may be acted on (its notice
    answered or its response period over) when that is `on` (default today) or earlier."""
    from pipelines.review.accountability import today

    decided = _decisions(store, as_of, review_database)
    confirmed = _confirmed(store.read("findings", as_of), decided, on or today())
    households = {h["household_id"]: h for h in store.read("roll_households", as_of).to_pylist()}
    remove: dict[str, dict[str, Any]] = {}
    for f in sorted(confirmed, key=lambda f: (f["household_id"] or "", f["finding_id"])):
        h = households.get(f["household_id"] or "")
        if h is None or f["finding_code"] == "ADD_CANDIDATE":
            continue
        entry = remove.setdefault(h["household_id"], {
            **{k: h[k] for k in ("household_id", "district", "street", "community", "head_name",
                                 "members", "monthly_amount")},
            "finding_codes": [], "finding_ids": [], "decided_by": set(), "decided_at": set(),
            "approved_by": set()})
        entry["finding_codes"].append(f["finding_code"])
        entry["finding_ids"].append(f["finding_id"])
        for key in ("decided_by", "decided_at", "approved_by"):
            if f[key]:
                entry[key].add(str(f[key]))
    for entry in remove.values():
        for key in ("finding_codes", "finding_ids"):
            entry[key] = ";".join(entry[key])
        for key in ("decided_by", "decided_at", "approved_by"):
            entry[key] = ";".join(sorted(entry[key]))
    add = sorted((f for f in confirmed if f["finding_code"] == "ADD_CANDIDATE"),
                 key=lambda f: str(f["finding_id"]))
    return {"remove": write_csv(folder / "remove_list.csv", DECIDED_REMOVE, list(remove.values())),
            "add": write_csv(folder / "add_list.csv", DECIDED_ADD, add)}


def publish_audit(output_dir: Path, as_of: dt.date, warehouse: str | None = None,
                  community: str | None = None, config_file: Path | None = None,
                  review_database: str | None = None, on: dt.date | None = None
                  ) -> dict[str, Any]:
    """Write `output_dir/publicity/` and `output_dir/decided/` for the audit of `as_of`.

    Raises UsageError (an InputError) when the warehouse has no audit of that date, or the
    community is unknown.
    """
    config = load_config(config_file)
    url = resolve_url(warehouse, config.warehouse.url, output_dir)
    # one writer of the date's folder at a time: a re-run of that date's audit moves it whole
    with output_lock(output_dir), open_warehouse(url) as store:
        if as_of not in {d for d, _ in store.audits()}:
            held = ", ".join(str(d) for d, _ in store.audits()[-5:]) or "none"
            raise UsageError(f"warehouse {describe(url)} holds no audit of {as_of} (audits "
                             f"held: {held}): give --as-of one of those dates, or --warehouse "
                             f"the history the audit went to, or run `dibao-audit run --as-of "
                             f"{as_of}` first")
        rows = publicity_rows(store, as_of)
        output_dir.mkdir(parents=True, exist_ok=True)
        with staging_dir(output_dir / "publicity") as stage:
            written = write_publicity(rows, stage, as_of, config.publicity, config.city.name,
                                      community, workers=config.publicity.workers)
            target = output_dir / "publicity"
            if community is None:
                move_into_place(stage, target)
            else:  # only this community's files are replaced
                target.mkdir(exist_ok=True)
                for path in written:
                    os.replace(path, target / path.name)
        with staging_dir(output_dir / "decided") as stage:
            counts = decided_lists(store, as_of, stage, review_database, on)
            move_into_place(stage, output_dir / "decided")
    files = sorted(p.name for p in written)
    log.info("published %d publicity files and decided lists (%d to remove, %d to add) into %s",
             len(files), counts["remove"], counts["add"], output_dir)
    return {"as_of": as_of.isoformat(), "publicity_files": files, "decided": counts,
            "households": sum(1 for r in rows if r.change != "停保")}


__all__ = ["decided_lists", "publicity_rows", "publish_audit"]
