"""Import one audit output folder into the review database.

Reads `findings.csv`, `manifest.json` (for `as_of`), `remove_list.csv` and `add_list.csv` (place
of each household / register person) and, when present, `review/members.parquet`,
`review/evidence.parquet` and `review/staff.parquet` (roll members, evidence records, the staff
they name). Idempotent by finding_id: a
finding seen before keeps its status, version and decisions; only its audit data is refreshed.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import logging
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import delete, insert, select, update
from sqlalchemy.orm import Session, sessionmaker

from pipelines.config import AccountabilityConfig
from pipelines.errors import InputError
from pipelines.io.inert import csv_value
from pipelines.review.accountability import AWAITING_APPROVAL, SHANGHAI, due_for
from pipelines.review.models import Finding, Member, RollProfile, Run, RunFinding, StaffMember
from pipelines.rules.findings import FINDINGS_COLUMNS
from pipelines.rules.policy import TIER_LABELS

log = logging.getLogger(__name__)

SEVERITY_WEIGHT: dict[str, float] = {"high": 3, "medium": 2, "low": 1}
MEMBER_COLUMNS = ("household_id", "member_key", "name", "id_number", "id_as_written",
                  "relation", "district", "street", "community", "address", "phone", "category",
                  "household_size", "monthly_amount", "start_date", "approved_by",
                  "bank_account")
STAFF_COLUMNS = ("staff_id", "name", "role", "org", "district", "street")
_PLACE = ("district", "street", "community")


@dataclass(frozen=True)
class ImportResult:
    as_of: str
    total: int
    new: int
    members: int
    with_evidence: int


def priority(severity: str, amount: float, score: float,
             weights: dict[str, float] | None = None) -> float:
    """Severity weight (the audit's; by default high 3, medium 2, low 1; none 1) x amount at
    stake x score."""
    return round((weights or SEVERITY_WEIGHT).get(severity, 1) * amount * score, 2)


def _effective(run_dir: Path) -> dict[str, Any]:
    path = run_dir / "config.effective.yaml"
    if not path.is_file():
        return {}
    import yaml

    try:
        loaded = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError:
        raise InputError(f"{path} is not readable YAML", file=str(path)) from None
    return loaded if isinstance(loaded, dict) else {}


def severity_weights(run_dir: Path) -> dict[str, float]:
    """The severity weights the audit ranked with (config.effective.yaml rules.severity_weights);
    the defaults for an audit folder without them."""
    effective = _effective(run_dir)
    if not effective:
        return dict(SEVERITY_WEIGHT)
    try:
        weights = effective["rules"]["severity_weights"]
        return {str(k): float(v) for k, v in weights.items()}
    except (KeyError, TypeError, AttributeError, ValueError):
        raise InputError(f"{run_dir / 'config.effective.yaml'}: rules.severity_weights is not "
                         "readable (a mapping of severity to number)",
                         file=str(run_dir / "config.effective.yaml")) from None


def accountability_settings(run_dir: Path) -> AccountabilityConfig:
    """The deadlines the audit was configured with (config.effective.yaml
    audit.accountability); the defaults for an older audit folder without them."""
    audit = _effective(run_dir).get("audit") or {}
    section = dict(audit.get("accountability") or {})
    publicity = audit.get("publicity") or {}
    section["notice_office"] = section.get("notice_office") or publicity.get("office")
    section["notice_phone"] = section.get("notice_phone") or publicity.get("complaint_phone")
    try:
        return AccountabilityConfig.model_validate(section)
    except ValueError as exc:
        raise InputError(f"{run_dir / 'config.effective.yaml'}: audit.accountability is not "
                         f"valid: {exc}", file=str(run_dir / "config.effective.yaml")) from None


def _rows(path: Path) -> Iterator[dict[str, str]]:
    try:
        with path.open(encoding="utf-8-sig", newline="") as handle:
            for row in csv.DictReader(handle):  # the project's own CSVs: cells as written
                yield {k: csv_value(v) if isinstance(v, str) else v for k, v in row.items()}
    except UnicodeDecodeError:
        raise InputError(f"{path} is not UTF-8 text", file=str(path)) from None


def _as_of(run_dir: Path) -> str:
    path = run_dir / "manifest.json"
    if not path.is_file():
        raise InputError(f"{run_dir} is not an audit output folder: manifest.json is missing",
                         file=str(path))
    try:
        value = json.loads(path.read_text(encoding="utf-8"))["as_of"]
    except (ValueError, KeyError, TypeError):
        raise InputError(f"{path} has no readable as_of", file=str(path)) from None
    return str(value)[:10]


OPTIONAL_COLUMNS = ("tier",)


def _findings(run_dir: Path) -> list[dict[str, str]]:
    path = run_dir / "findings.csv"
    if not path.is_file():
        raise InputError(f"{run_dir} has no findings.csv", file=str(path))
    with path.open(encoding="utf-8-sig", newline="") as handle:
        header = next(csv.reader(handle), [])
    # `tier` came later: an older audit's findings.csv without it still imports
    missing = [c for c in FINDINGS_COLUMNS if c not in header and c not in OPTIONAL_COLUMNS]
    if missing:
        raise InputError(f"{path}: column(s) {', '.join(missing)} missing", file=str(path))
    rows = list(_rows(path))
    for number, row in enumerate(rows, start=2):
        try:
            float(row["score"] or 0)
            float(row["amount_at_stake"] or 0)
        except ValueError:
            raise InputError(f"{path} line {number}: score or amount_at_stake is not a number",
                             file=str(path)) from None
        if not row["finding_id"]:
            raise InputError(f"{path} line {number}: finding_id is empty", file=str(path))
        if (row.get("tier") or "") not in ("", *TIER_LABELS):
            raise InputError(f"{path} line {number}: tier {row['tier']!r} is not one of "
                             f"{', '.join(TIER_LABELS)}", file=str(path))
    return rows


def _parquet(path: Path) -> list[dict[str, Any]]:
    if not path.is_file():
        return []
    import pyarrow.parquet as pq

    try:
        return pq.read_table(path).to_pylist()
    except Exception as exc:
        raise InputError(f"{path} is not a readable Parquet file: {exc}", file=str(path)) from None


def _places(run_dir: Path, members: list[dict[str, Any]],
            evidence: dict[str, dict[str, Any]]) -> tuple[dict[str, tuple[str, ...]],
                                                         dict[str, tuple[str, ...]]]:
    """Place (district, street, community) by household_id and by finding_id (register)."""
    by_household: dict[str, tuple[str, ...]] = {}
    for row in members:
        by_household.setdefault(row["household_id"], tuple(row.get(c) or "" for c in _PLACE))
    remove = run_dir / "remove_list.csv"
    if remove.is_file():
        for row in _rows(remove):
            by_household.setdefault(row["household_id"], tuple(row.get(c, "") for c in _PLACE))
    by_finding: dict[str, tuple[str, ...]] = {}
    for fid, ev in evidence.items():
        try:
            record = json.loads(ev.get("record") or "{}")
        except ValueError:
            record = {}
        if isinstance(record, dict) and record.get("district"):
            by_finding[fid] = tuple(str(record.get(c) or "") for c in _PLACE)
    add = run_dir / "add_list.csv"
    if add.is_file():
        for row in _rows(add):
            if row.get("finding_id"):
                by_finding.setdefault(row["finding_id"], tuple(row.get(c, "") for c in _PLACE))
    return by_household, by_finding


def import_run(factory: sessionmaker[Session], run_dir: Path, imported_by: str = "cli") -> ImportResult:
    """Import `run_dir` (an audit's output folder); see the module docstring."""
    if not run_dir.is_dir():
        raise InputError(f"{run_dir} is not a folder")
    as_of = _as_of(run_dir)
    rows = _findings(run_dir)
    weights = severity_weights(run_dir)
    deadlines = accountability_settings(run_dir)
    profile = _parquet(run_dir / "review" / "roll_profile.parquet")
    members = _parquet(run_dir / "review" / "members.parquet")
    evidence = {r["finding_id"]: r for r in _parquet(run_dir / "review" / "evidence.parquet")}
    staff = [s for s in _parquet(run_dir / "review" / "staff.parquet") if s.get("staff_id")]
    by_household, by_finding = _places(run_dir, members, evidence)
    new = 0
    with factory.begin() as session:
        known = set(session.scalars(select(Finding.finding_id).where(
            Finding.finding_id.in_([r["finding_id"] for r in rows])))) if rows else set()
        for row in rows:
            fid = row["finding_id"]
            score, amount = float(row["score"] or 0), float(row["amount_at_stake"] or 0)
            place = by_household.get(row["household_id"]) if row["household_id"] else None
            place = place or by_finding.get(fid) or ("", "", "")
            record = evidence.get(fid, {}).get("record")
            data: dict[str, Any] = {
                "household_id": row["household_id"] or None, "id_number": row["id_number"],
                "name": row["name"], "finding_code": row["finding_code"],
                "severity": row["severity"], "score": score, "dataset": row["dataset"],
                "record_id": row["record_id"], "evidence": row["evidence"],
                "amount_at_stake": amount,
                "priority": priority(row["severity"], amount, score, weights),
                "tier": row.get("tier") or None,
                "district": place[0] or None, "street": place[1] or None,
                "community": place[2] or None,
            }
            if record is not None:
                data["evidence_record"] = record
            if fid in known:  # audit data refreshed; status, version and decisions untouched
                session.execute(update(Finding).where(Finding.finding_id == fid).values(
                    **data, last_as_of=_later(session, fid, as_of)))
            else:
                session.execute(insert(Finding).values(
                    finding_id=fid, first_as_of=as_of, last_as_of=as_of, status="open",
                    version=1, source="audit", **data,
                    due_on=due_for(deadlines, row["finding_code"], data["district"],
                                   dt.date.fromisoformat(as_of))))
                new += 1
        seen = set(session.scalars(select(RunFinding.finding_id).where(RunFinding.as_of == as_of)))
        fresh = [{"as_of": as_of, "finding_id": r["finding_id"]} for r in rows
                 if r["finding_id"] not in seen]
        if fresh:
            session.execute(insert(RunFinding), fresh)
        # members: the latest audit's roll rows win (an older run imported later keeps none)
        households = sorted({m["household_id"] for m in members})
        newer: set[str] = set()
        for start in range(0, len(households), 500):
            chunk = households[start:start + 500]
            newer |= set(session.scalars(select(Member.household_id).where(
                Member.household_id.in_(chunk), Member.as_of > as_of)))
            session.execute(delete(Member).where(Member.household_id.in_(chunk),
                                                 Member.as_of <= as_of))
        rows_in = [{**{c: m.get(c) for c in MEMBER_COLUMNS}, "as_of": as_of} for m in members
                   if m["household_id"] not in newer]
        if rows_in:
            session.execute(insert(Member), rows_in)
        _import_staff(session, staff, as_of)
        _fill_due_dates(session, deadlines)
        if profile:
            session.execute(delete(RollProfile).where(RollProfile.as_of == as_of))
            session.execute(insert(RollProfile), [
                {"as_of": as_of, "district": r.get("district") or "", "dimension": r["dimension"],
                 "grp": r["grp"], "members": int(r["members"])} for r in profile])
        session.add(Run(as_of=as_of, source=str(run_dir.resolve()), imported_by=imported_by,
                        findings_total=len(rows), findings_new=new,
                        severity_weights=json.dumps(weights, sort_keys=True),
                        accountability=deadlines.model_dump_json()))
    log.info("imported %s (as of %s): %d findings, %d new, %d members, %d evidence records",
             run_dir, as_of, len(rows), new, len(members), len(evidence))
    return ImportResult(as_of, len(rows), new, len(members), len(evidence))


def _fill_due_dates(session: Session, config: AccountabilityConfig) -> None:
    """Leads imported before deadlines existed: due from the audit that first found them; a
    confirmation or dismissal then waiting for approval, from the day it was made."""
    undated = session.execute(select(Finding.finding_id, Finding.finding_code,
                                     Finding.district, Finding.first_as_of)
                              .where(Finding.due_on.is_(None))).all()
    for fid, code, district, first in undated:
        session.execute(update(Finding).where(Finding.finding_id == fid).values(
            due_on=due_for(config, code, district, dt.date.fromisoformat(first))))
    pending = session.execute(select(Finding.finding_id, Finding.decided_at).where(
        Finding.status.in_(AWAITING_APPROVAL), Finding.approval_due_on.is_(None),
        Finding.decided_at.is_not(None))).all()
    calendar = config.calendar()
    for fid, decided in pending:
        stamp = decided or dt.datetime.now(dt.UTC)
        day = (stamp if stamp.tzinfo else stamp.replace(tzinfo=dt.UTC)).astimezone(
            SHANGHAI).date()
        session.execute(update(Finding).where(Finding.finding_id == fid).values(
            approval_due_on=calendar.add(day, config.approval_days).isoformat()))


def _import_staff(session: Session, staff: list[dict[str, Any]], as_of: str) -> None:
    """Staff names: the latest audit's row of each staff member wins."""
    by_id = {s["staff_id"]: s for s in staff}
    ids = sorted(by_id)
    for start in range(0, len(ids), 500):
        chunk = ids[start:start + 500]
        newer = set(session.scalars(select(StaffMember.staff_id).where(
            StaffMember.staff_id.in_(chunk), StaffMember.as_of > as_of)))
        session.execute(delete(StaffMember).where(StaffMember.staff_id.in_(chunk),
                                                  StaffMember.as_of <= as_of))
        fresh = [{**{c: by_id[i].get(c) for c in STAFF_COLUMNS}, "as_of": as_of}
                 for i in chunk if i not in newer]
        if fresh:
            session.execute(insert(StaffMember), fresh)


def _later(session: Session, fid: str, as_of: str) -> str:
    current = session.scalar(select(Finding.last_as_of).where(Finding.finding_id == fid))
    return max(current or as_of, as_of)


def import_audit(database_url: str, run_dir: Path, actor: str) -> ImportResult:
    """Open the review database, import `run_dir` and record the import in the audit log
    (what `dibao-audit review import` and the nightly DAG's review_import task do)."""
    from pipelines.review.audit import record
    from pipelines.review.db import open_database

    _, factory = open_database(database_url)
    result = import_run(factory, run_dir, imported_by=actor)
    with factory.begin() as session:
        record(session, actor, "import", str(run_dir.resolve())[:128],
               f"as_of {result.as_of}: {result.total} findings, {result.new} new")
    return result
