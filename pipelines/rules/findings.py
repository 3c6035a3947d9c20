"""Findings and the lists built from them: ids, ranking, and the CSV files of the contract.

`findings` keeps one row per (finding_code, subject) with its strongest evidence record
(sql/rules/findings.sql). Lists rank by severity weight x amount at stake x score. Files are
written sorted, with amounts at two decimals and scores at four, so that a re-run over the same
inputs and as-of date writes the same bytes.
"""

from __future__ import annotations

import hashlib
import logging
from pathlib import Path

import duckdb
import pyarrow as pa

from pipelines.io.csvfiles import write_csv
from pipelines.rules import decisions
from pipelines.rules.codes import names as code_names
from pipelines.rules.tables import create_table, load_arrow

log = logging.getLogger(__name__)

FINDINGS_COLUMNS = ("finding_id", "household_id", "id_number", "name", "finding_code",
                    "severity", "score", "dataset", "record_id", "evidence", "amount_at_stake",
                    "tier")
REMOVE_COLUMNS = ("rank", "household_id", "district", "street", "community", "head_name",
                  "members", "monthly_amount", "proposed_action", "priority", "finding_codes",
                  "finding_ids")
ADD_COLUMNS = ("rank", "record_id", "name", "id_number", "district", "street", "community",
               "household_size", "per_capita_income", "standard", "gap_amount", "group",
               "finding_id")
ADD_SCHEMA = pa.schema([
    ("rank", pa.int64()), ("record_id", pa.string()), ("name", pa.string()),
    ("id_number", pa.string()), ("district", pa.string()), ("street", pa.string()),
    ("community", pa.string()), ("household_size", pa.int64()),
    ("per_capita_income", pa.float64()), ("standard", pa.float64()),
    ("gap_amount", pa.float64()), ("group", pa.string()), ("finding_id", pa.string()),
])
# Decimal places of the numeric columns as written; other numbers are whole.
_DECIMALS = {"score": 4, "amount_at_stake": 2, "monthly_amount": 2, "priority": 2,
             "per_capita_income": 2, "standard": 2, "gap_amount": 2}


def finding_id(code: str, subject: str, dataset: str, record_id: str) -> str:
    """'F' + the first 16 hex digits of sha256('code|subject|dataset|record_id').

    No date enters it, so a case found again next month keeps its id (and its decision).
    sql/rules/findings.sql computes the same value.
    """
    digest = hashlib.sha256("|".join((code, subject, dataset, record_id)).encode("utf-8"))
    return "F" + digest.hexdigest()[:16]


def build_findings(con: duckdb.DuckDBPyConnection, have_low_income: bool,
                   remove_tiers: tuple[str, ...] = ("confirmed", "probable")) -> int:
    """Create `findings`, `findings_remove_list` (findings of the `remove_tiers` only) and
    `findings_add_list` from the evidence."""
    decisions.ensure(con)
    count = create_table(con, "findings")
    dismissed = decisions.dismissed_count(con)
    if dismissed:
        log.info("decisions dismissing a match as the wrong person (not reported again): %d",
                 dismissed)
    check_unique_ids(con)
    create_table(con, "findings_remove_list", tiers=list(remove_tiers))
    if have_low_income:
        create_table(con, "findings_add_list")
    else:
        load_arrow(con, "findings_add_list", ADD_SCHEMA.empty_table())
    log.info("findings: %d", count)
    return count


def check_unique_ids(con: duckdb.DuckDBPyConnection) -> None:
    """Every finding has its own finding_id (a repeat would merge two cases' decisions)."""
    repeated = con.execute("SELECT finding_id, count(*) FROM findings GROUP BY finding_id "
                           "HAVING count(*) > 1 ORDER BY finding_id LIMIT 5").fetchall()
    if repeated:
        raise RuntimeError(f"finding_id repeated in findings: {repeated} (a bug: one finding "
                           "per code, subject, dataset and record)")


def counts_by_code(con: duckdb.DuckDBPyConnection) -> dict[str, int]:
    """Findings per code, every code listed (0 when none or skipped)."""
    counts = dict(con.table("findings").aggregate("finding_code, count(*)").fetchall())
    return {code: int(counts.get(code, 0)) for code in code_names()}


def _select(columns: tuple[str, ...]) -> str:
    return ", ".join(f'"{c}"' for c in columns)


def write_outputs(con: duckdb.DuckDBPyConnection, out_dir: Path) -> dict[str, int]:
    """Write findings.csv, remove_list.csv and add_list.csv into `out_dir`; counts per code.

    findings.csv is ordered by code (the contract's order), then priority (highest first),
    household_id, record_id and finding_id; the lists by their rank.
    """
    out_dir.mkdir(parents=True, exist_ok=True)
    rows = con.table("findings") \
        .order("code_order, priority DESC, household_id NULLS LAST, record_id, finding_id") \
        .select(_select(FINDINGS_COLUMNS)).fetchall()
    write_csv(out_dir / "findings.csv", FINDINGS_COLUMNS, rows, decimals=_DECIMALS)
    remove = con.table("findings_remove_list").order("rank").select(_select(REMOVE_COLUMNS)) \
        .fetchall()
    write_csv(out_dir / "remove_list.csv", REMOVE_COLUMNS, remove, decimals=_DECIMALS)
    add = con.table("findings_add_list").order("rank").select(_select(ADD_COLUMNS)).fetchall()
    write_csv(out_dir / "add_list.csv", ADD_COLUMNS, add, decimals=_DECIMALS)
    log.info("wrote %d findings, %d households to remove, %d people to add", len(rows),
             len(remove), len(add))
    return counts_by_code(con)
