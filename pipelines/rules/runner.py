"""Apply the finding rules to the linked roll: evidence per code, then one finding per subject.

Inputs (one DuckDB connection): `norm_roll`, `norm_standards`, the other `norm_<dataset>`
tables that were provided, `roll_people` and `links` (see the linker). Each code whose datasets
are present writes a `findings_<code>` table of evidence rows in one shape; `findings` (see
findings.py) keeps the strongest evidence per (code, subject). `findings_checks` records which
codes ran, which were skipped and why, and notes on what the rules could not resolve.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import duckdb
import pyarrow as pa

from pipelines.config import AuditConfig
from pipelines.io.duck import table_names
from pipelines.rules import findings
from pipelines.rules import staff as rules_staff
from pipelines.rules.policy import FINDING_CODES, RulesConfig, policy_tables
from pipelines.rules.tables import create_table, load_arrow, row_count, union_tables

log = logging.getLogger(__name__)

CHECKS_SCHEMA = pa.schema([
    ("finding_code", pa.string()), ("code_order", pa.int64()), ("status", pa.string()),
    ("reason", pa.string()), ("notes", pa.string()), ("findings", pa.int64()),
])


@dataclass(frozen=True)
class Check:
    """A finding code: the datasets it needs (all of `needs`, one of `any_of`)."""

    code: str
    needs: tuple[str, ...] = ()
    any_of: tuple[str, ...] = ()

    @property
    def relation(self) -> str:
        return f"findings_{self.code.lower()}"

    def missing(self, present: set[str]) -> str | None:
        """Why the check cannot run with the datasets `present`, or None when it can."""
        absent = [d for d in self.needs if d not in present]
        if absent:
            return "dataset not provided: " + ", ".join(absent)
        if self.any_of and not any(d in present for d in self.any_of):
            return "none of these datasets provided: " + ", ".join(self.any_of)
        return None


CHECKS = (
    Check("DECEASED", needs=("deaths",)),
    Check("DUPLICATE_RECEIPT"),
    Check("PUBLIC_EMPLOYEE", needs=("public_employees",)),
    Check("VEHICLE", needs=("vehicles",)),
    Check("PROPERTY", needs=("property",)),
    Check("BUSINESS", needs=("businesses",)),
    Check("INCOME_OVER_STANDARD", any_of=("pensions", "public_employees")),
    Check("STAFF_RELATIVE_UNFILED", needs=("staff_relatives", "kin_filings")),
    Check("STAFF_LINKED", needs=("staff",)),
    Check("APPROVER_CONFLICT", needs=("staff",)),
    Check("ADD_CANDIDATE", needs=("low_income",)),
)
assert tuple(c.code for c in CHECKS) == FINDING_CODES


def present_datasets(con: duckdb.DuckDBPyConnection) -> set[str]:
    """Datasets loaded as `norm_<dataset>` tables."""
    return {name[len("norm_"):] for name in table_names(con) if name.startswith("norm_")}


def _policy_keys(con: duckdb.DuckDBPyConnection,
                 present: set[str]) -> list[tuple[str | None, str | None]]:
    keys = con.table("findings_households").select("district_code, category_code") \
        .distinct().fetchall()
    if "low_income" in present:
        keys += con.table("norm_low_income").select("district_code, category_code") \
            .distinct().fetchall()
    return [(d, c) for d, c in keys]


def _income(con: duckdb.DuckDBPyConnection, present: set[str], as_of: dt.date) -> list[str]:
    sources, notes = [], []
    for dataset, relation, words in (("pensions", "findings_income_pensions", "pensions"),
                                     ("public_employees", "findings_income_pay", "public pay")):
        if dataset in present:
            create_table(con, relation)
            sources.append(relation)
        else:
            notes.append(f"{dataset} not provided: income counts without {words}")
    union_tables(con, "findings_income_records", sources)
    create_table(con, "findings_income_over_standard")
    return notes


def _staff_linked(con: duckdb.DuckDBPyConnection, present: set[str], as_of: dt.date) -> list[str]:
    create_table(con, "findings_staff_linked")
    if "staff_relatives" not in present:
        return ["staff_relatives not provided: no household is excluded as a declared relative"]
    return []


def _approver(con: duckdb.DuckDBPyConnection, present: set[str], as_of: dt.date) -> list[str]:
    notes = rules_staff.create_approvers(con)
    create_table(con, "findings_approver_conflict")
    if "staff_relatives" not in present:
        notes.append("staff_relatives not provided: only shared phones/accounts are checked")
    return notes


Runner = Callable[[duckdb.DuckDBPyConnection, set[str], dt.date], list[str]]


def _simple(relation: str, dated: bool = False) -> Runner:
    """A check that is one statement (bound to the audit date when `dated`)."""
    def run(con: duckdb.DuckDBPyConnection, present: set[str], as_of: dt.date) -> list[str]:
        if dated:
            create_table(con, relation, as_of=as_of)
        else:
            create_table(con, relation)
        return []
    return run


_RUNNERS: dict[str, Runner] = {
    "DECEASED": _simple("findings_deceased", dated=True),
    "DUPLICATE_RECEIPT": _simple("findings_duplicate_receipt"),
    "PUBLIC_EMPLOYEE": _simple("findings_public_employee"),
    "VEHICLE": _simple("findings_vehicle"),
    "PROPERTY": _simple("findings_property"),
    "BUSINESS": _simple("findings_business"),
    "INCOME_OVER_STANDARD": _income,
    "STAFF_RELATIVE_UNFILED": _simple("findings_staff_relative_unfiled"),
    "STAFF_LINKED": _staff_linked,
    "APPROVER_CONFLICT": _approver,
    "ADD_CANDIDATE": _simple("findings_add_candidate"),
}


def _standard_notes(con: duckdb.DuckDBPyConnection, present: set[str]) -> list[str]:
    """Households and register people whose district/category has no standard in force."""
    standards = set(con.table("findings_standard").select("district_code, category_code")
                    .fetchall())
    missing = [k for k in _policy_keys(con, present) if k not in standards]
    if not missing:
        return []
    shown = ", ".join(f"{d or '?'}/{c or '?'}" for d, c in sorted(
        missing, key=lambda k: (k[0] or "", k[1] or "")))
    return [f"no standard in force for district/category {shown}: not evaluated there"]


def column_notes(config: AuditConfig, gaps: dict[str, dict[str, list[str]]]
                 ) -> dict[str, list[str]]:
    """Per finding code, what its check does without the optional columns a file lacks.

    `gaps`: per dataset, {"absent_columns": [...], "blank_columns": [...]} (the ingest facts).
    """
    notes: dict[str, list[str]] = {}
    for dataset, facts in sorted(gaps.items()):
        spec = config.datasets[dataset]
        for kind, words in (("absent_columns", "absent"), ("blank_columns", "blank in every row")):
            for column in facts.get(kind, []):
                col = spec.columns[column]
                for code in col.used_by:
                    notes.setdefault(code, []).append(
                        f"ran without {dataset}.{column} ({words}): {col.without}")
    return notes


def apply_rules(con: duckdb.DuckDBPyConnection, as_of: dt.date, policy_config: RulesConfig,
                without: dict[str, list[str]] | None = None) -> None:
    """Run every finding rule whose datasets are present and create table `findings`.

    Also creates `findings_<code>` (evidence rows per code that ran), the stage tables they
    use (`findings_households`, `findings_members`, `findings_standard`, `findings_policy`,
    `findings_policy_codes`, `findings_member_links`, ...), `findings_remove_list`, `findings_add_list` and
    `findings_checks`. The policy in force at `as_of` is resolved per district and category.
    `without`: per code, notes on optional input columns its check ran without (column_notes).
    """
    present = present_datasets(con)
    create_table(con, "findings_households")
    create_table(con, "findings_members")
    create_table(con, "findings_standard", as_of=as_of)
    policy, codes = policy_tables(policy_config, _policy_keys(con, present), as_of)
    load_arrow(con, "findings_policy", policy)
    load_arrow(con, "findings_policy_codes", codes)
    create_table(con, "findings_member_links")
    rules_staff.create_declared(con, "staff_relatives" in present)
    standard_notes = _standard_notes(con, present)

    checks: list[dict[str, Any]] = []
    ran: list[str] = []
    for order, check in enumerate(CHECKS):
        reason = check.missing(present)
        notes: list[str] = []
        if reason is None:
            notes = _RUNNERS[check.code](con, present, as_of)
            if check.code in ("INCOME_OVER_STANDARD", "ADD_CANDIDATE"):
                notes += standard_notes
            notes += (without or {}).get(check.code, [])
            ran.append(check.relation)
            log.info("%s: %d evidence rows", check.code, row_count(con, check.relation))
        else:
            log.info("%s skipped: %s", check.code, reason)
        checks.append({"finding_code": check.code, "code_order": order,
                       "status": "skipped" if reason else "ran", "reason": reason,
                       "notes": "; ".join(notes) or None, "findings": 0})
    union_tables(con, "findings_evidence", ran)
    findings.build_findings(con, have_low_income="low_income" in present)
    counts = findings.counts_by_code(con)
    for row in checks:
        row["findings"] = counts.get(str(row["finding_code"]), 0)
    load_arrow(con, "findings_checks", pa.Table.from_pylist(checks, schema=CHECKS_SCHEMA))


def rule_checks(con: duckdb.DuckDBPyConnection) -> list[dict[str, Any]]:
    """The `findings_checks` rows (code, status, reason, notes, findings) for the manifest."""
    relation = con.table("findings_checks").order("code_order")
    columns = [c for c in relation.columns if c != "code_order"]
    return [dict(zip(columns, row, strict=True))
            for row in relation.select(", ".join(columns)).fetchall()]
