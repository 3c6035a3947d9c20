"""Apply the finding rules to the linked roll: evidence per code, then one finding per subject.

Inputs (one DuckDB connection): `norm_roll`, `norm_standards`, the other `norm_<dataset>`
tables that were provided, `roll_people` and `links` (see the linker). Each code whose datasets
are present writes a `findings_<code>` table of evidence rows in one shape; `findings` (see
findings.py) keeps the strongest evidence per (code, subject). `findings_checks` records which
codes ran, which were skipped and why, and notes on what the rules could not resolve.
"""

from __future__ import annotations

import datetime as dt
import importlib
import logging
from typing import Any

import duckdb
import pyarrow as pa

from pipelines.config import AuditConfig
from pipelines.io.duck import table_names
from pipelines.labels import DATASET_LABELS
from pipelines.rules import findings
from pipelines.rules import staff as rules_staff
from pipelines.rules.codes import FindingCode, codes, evidence_columns
from pipelines.rules.policy import RulesConfig, policy_tables
from pipelines.rules.tables import create_table, load_arrow, row_count, union_tables

log = logging.getLogger(__name__)

CHECKS_SCHEMA = pa.schema([
    ("finding_code", pa.string()), ("code_order", pa.int64()), ("status", pa.string()),
    ("reason", pa.string()), ("notes", pa.string()), ("findings", pa.int64()),
])


def present_datasets(con: duckdb.DuckDBPyConnection) -> set[str]:
    """Datasets loaded as `norm_<dataset>` tables."""
    return {name[len("norm_"):] for name in table_names(con) if name.startswith("norm_")}


def _policy_keys(con: duckdb.DuckDBPyConnection,
                 present: set[str]) -> list[tuple[str | None, str | None]]:
    keys = con.table("rules_households").select("district_code, category_code") \
        .distinct().fetchall()
    if "low_income" in present:
        keys += con.table("norm_low_income").select("district_code, category_code") \
            .distinct().fetchall()
    return [(d, c) for d, c in keys]


def _prepare(con: duckdb.DuckDBPyConnection, code: FindingCode, present: set[str]) -> list[str]:
    """The steps before a code's SQL (registry `prepare` and `union`); notes from them."""
    notes: list[str] = []
    for step in code.prepare:
        if step.startswith("python:"):
            _, module, function = step.split(":")
            notes += getattr(importlib.import_module(module), function)(con)
        else:
            create_table(con, step)
    if code.union is not None:
        sources = [relation for dataset, relation in code.union.sources.items()
                   if dataset in present]
        for relation in sources:
            create_table(con, relation)
        union_tables(con, code.union.into, sources)
    return notes


def check_evidence(con: duckdb.DuckDBPyConnection, code: FindingCode) -> None:
    """The code's evidence rows have exactly the declared columns and types (registry)."""
    declared = evidence_columns()
    found = {str(row[0]): str(row[1])
             for row in con.execute(f'DESCRIBE "{code.sql}"').fetchall()}
    if found != declared:
        missing = sorted(set(declared) - set(found))
        extra = sorted(set(found) - set(declared))
        retyped = sorted(c for c in set(found) & set(declared) if found[c] != declared[c])
        raise RuntimeError(
            f"{code.code}: sql/rules/{code.sql}.sql does not give the evidence row of "
            f"config/findings.yaml: missing {missing}, unknown {extra}, other types "
            f"{[(c, found[c], declared[c]) for c in retyped]}")


def _union_evidence(con: duckdb.DuckDBPyConnection, relations: list[str]) -> None:
    """`findings_evidence`: every code's evidence rows, in the declared column order."""
    columns = ", ".join(f'"{c}"' for c in evidence_columns())
    union = " UNION ALL ".join(f'SELECT {columns} FROM "{r}"' for r in relations)
    con.execute(f'CREATE OR REPLACE TABLE findings_evidence AS {union}').fetchall()


def _standard_notes(con: duckdb.DuckDBPyConnection, present: set[str]) -> list[str]:
    """Households and register people whose district/category has no standard in force."""
    standards = set(con.table("rules_standard").select("district_code, category_code")
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
    use (`rules_households`, `rules_members`, `rules_standard`, `rules_policy`,
    `rules_policy_codes`, `rules_member_links`, ...), `findings_remove_list`, `findings_add_list` and
    `findings_checks`. The policy in force at `as_of` is resolved per district and category.
    `without`: per code, notes on optional input columns its check ran without (column_notes).
    """
    present = present_datasets(con)
    load_arrow(con, "rules_dataset_labels", pa.table({
        "dataset": list(DATASET_LABELS), "label": list(DATASET_LABELS.values())}))
    create_table(con, "rules_households")
    create_table(con, "rules_members")
    create_table(con, "rules_standard", as_of=as_of)
    policy, code_table = policy_tables(policy_config, _policy_keys(con, present), as_of)
    load_arrow(con, "rules_policy", policy)
    load_arrow(con, "rules_policy_codes", code_table)
    create_table(con, "rules_member_links")
    rules_staff.create_declared(con, "staff_relatives" in present)
    standard_notes = _standard_notes(con, present)

    checks: list[dict[str, Any]] = []
    ran: list[str] = []
    for order, code in enumerate(codes()):
        reason = code.missing(present)
        notes: list[str] = []
        if reason is None:
            notes = _prepare(con, code, present)
            create_table(con, code.sql, **({"as_of": as_of} if code.dated else {}))
            check_evidence(con, code)
            notes += code.notes_without(present)
            if code.standard:
                notes += standard_notes
            notes += (without or {}).get(code.code, [])
            ran.append(code.sql)
            log.info("%s: %d evidence rows", code.code, row_count(con, code.sql))
        else:
            log.info("%s skipped: %s", code.code, reason)
        checks.append({"finding_code": code.code, "code_order": order,
                       "status": "skipped" if reason else "ran", "reason": reason,
                       "notes": "; ".join(notes) or None, "findings": 0})
    _union_evidence(con, ran)
    findings.build_findings(con, have_low_income="low_income" in present,
                            remove_tiers=policy_config.remove_list_tiers)
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
