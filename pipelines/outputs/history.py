"""Dynamic management: the audit history, changes.csv and the per-street/district summaries.

Every run keeps its roll snapshot (households and members), findings and the decisions it read
in the warehouse under its as-of date (pipelines/io/warehouse.py); only the publish stage
writes it. changes.csv compares this audit with the most recent earlier month-end audit there
(sql/history/history_changes.sql); a first audit writes the header only.
"""

from __future__ import annotations

import datetime as dt
import logging
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa

from pipelines.io.csvfiles import write_csv
from pipelines.io.duck import execute
from pipelines.io.warehouse import TABLES, Warehouse, is_month_end
from pipelines.rules.findings import FINDINGS_COLUMNS
from pipelines.sql import materialise

log = logging.getLogger(__name__)

SNAPSHOT = ("history_households", "history_members")
CHANGES_COLUMNS = ("household_id", "change", "old_amount", "new_amount", "members_before",
                   "members_after", "reason", "district", "street", "community")
SUMMARY_STREET = ("district", "street", "households", "persons", "monthly_amount", "added",
                  "stopped", "adjusted", "members_added", "members_removed", "amount_change")
SUMMARY_DISTRICT = tuple(c for c in SUMMARY_STREET if c != "street")
_AMOUNTS = {"old_amount", "new_amount", "monthly_amount", "amount_change"}


def _create(con: duckdb.DuckDBPyConnection, relation: str) -> None:
    materialise(con, "history", relation)


def build_snapshot(con: duckdb.DuckDBPyConnection) -> None:
    """Create history_households and history_members from the rules' stage tables."""
    for relation in SNAPSHOT:
        _create(con, relation)


def _arrow(con: duckdb.DuckDBPyConnection, sql: str) -> pa.Table:
    result: pa.Table = con.sql(sql).to_arrow_table()
    return result


def _with_as_of(table: pa.Table, as_of: dt.date, history: str) -> pa.Table:
    schema = TABLES[history]
    columns = {"as_of": pa.array([as_of] * table.num_rows, pa.date32())}
    for field in schema:
        if field.name != "as_of":
            columns[field.name] = table.column(field.name).cast(field.type)
    return pa.table(columns, schema=schema)


def _register_previous(con: duckdb.DuckDBPyConnection, warehouse: Warehouse,
                       previous: dt.date | None) -> None:
    for history, relation in (("roll_households", "prev_households"),
                              ("roll_members", "prev_members")):
        table = warehouse.read(history, previous) if previous else TABLES[history].empty_table()
        con.register("_prev", table.drop_columns(["as_of"]))
        execute(con, f'CREATE OR REPLACE TABLE "{relation}" AS SELECT * FROM _prev')
        con.unregister("_prev")


def _register_confirmed(con: duckdb.DuckDBPyConnection, warehouse: Warehouse,
                        previous: dt.date | None) -> None:
    """history_confirmed: findings of this or the previous audit that a person confirmed."""
    prev = warehouse.read("findings", previous) if previous else TABLES["findings"].empty_table()
    con.register("_prev_findings", prev.select(["finding_id", "household_id", "id_number",
                                                 "finding_code"]))
    execute(con, """
        CREATE OR REPLACE TABLE history_confirmed AS
        SELECT DISTINCT f.household_id, f.id_number, f.finding_code
        FROM (SELECT finding_id, household_id, id_number, finding_code FROM findings
              UNION ALL SELECT * FROM _prev_findings) AS f
        JOIN rules_decisions AS d USING (finding_id)
        WHERE d.decision = 'confirmed'""")
    con.unregister("_prev_findings")


def _write_csv(con: duckdb.DuckDBPyConnection, relation: str, columns: tuple[str, ...],
               path: Path) -> int:
    rows = con.table(relation).select(", ".join(f'"{c}"' for c in columns)).fetchall()
    return write_csv(path, columns, rows, decimals=dict.fromkeys(_AMOUNTS, 2),
                     float_decimals=None)


def compare_and_write(con: duckdb.DuckDBPyConnection, warehouse: Warehouse, as_of: dt.date,
                      out_dir: Path) -> dict[str, Any]:
    """Write changes.csv and the two summaries into `out_dir`; what was compared with.

    Needs history_households, history_members, findings and rules_decisions in `con`.
    """
    previous = warehouse.previous_month_end(as_of)
    _register_previous(con, warehouse, previous)
    _register_confirmed(con, warehouse, previous)
    materialise(con, "history", "history_changes", params={"compared": previous is not None})
    _create(con, "history_summary_street")
    _create(con, "history_summary_district")
    changes = _write_csv(con, "history_changes", CHANGES_COLUMNS, out_dir / "changes.csv")
    _write_csv(con, "history_summary_street", SUMMARY_STREET, out_dir / "summary_by_street.csv")
    _write_csv(con, "history_summary_district", SUMMARY_DISTRICT,
               out_dir / "summary_by_district.csv")
    counts = dict(con.execute("SELECT change, count(*) FROM history_changes GROUP BY change"
                              ).fetchall())
    log.info("changes against %s: %s", previous or "no earlier month-end audit",
             ", ".join(f"{k} {v}" for k, v in sorted(counts.items())) or "none")
    return {"compared_with": previous.isoformat() if previous else None, "rows": changes,
            "by_change": {str(k): int(v) for k, v in sorted(counts.items())}}


def history_tables(con: duckdb.DuckDBPyConnection, as_of: dt.date, output_dir: Path
                   ) -> dict[str, pa.Table]:
    """This audit's rows for every warehouse table."""
    findings = _arrow(con, "SELECT " + ", ".join(f'"{c}"' for c in FINDINGS_COLUMNS)
                      + " FROM findings ORDER BY finding_id")
    households = _arrow(con, "SELECT * FROM history_households")
    tables = {
        "roll_households": _with_as_of(households, as_of, "roll_households"),
        "roll_members": _with_as_of(_arrow(con, "SELECT * FROM history_members"), as_of,
                                    "roll_members"),
        "findings": _with_as_of(findings, as_of, "findings"),
        "decisions": _with_as_of(_arrow(con, "SELECT * FROM rules_decisions"), as_of,
                                 "decisions"),
        "changes": _with_as_of(_arrow(con, "SELECT * FROM history_changes"), as_of, "changes"),
    }
    persons = sum(int(m or 0) for m in households.column("members").to_pylist())
    tables["runs"] = pa.Table.from_pylist([{
        "as_of": as_of, "month_end": is_month_end(as_of), "output_dir": str(output_dir),
        "households": households.num_rows, "persons": persons, "findings": findings.num_rows,
    }], schema=TABLES["runs"])
    return tables
