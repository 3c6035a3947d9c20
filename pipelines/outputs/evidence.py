"""The review bundle: what a caseworker needs beside findings.csv to judge a lead.

Written by every run into `<output>/review/` (contract §3, extended):
- `members.parquet`: the roll members of every household with a finding
  (sql/review/findings_review_members.sql);
- `evidence.parquet`: one row per finding with its evidence record as a JSON object of that
  dataset's contract columns (strings), looked up by the dataset's key (config/datasets.yaml;
  for DUPLICATE_RECEIPT the other household's head row of the roll);
- `staff.parquet`: staff_id, name, role, org, district and street of every staff member the
  other two name (the roll's approved_by, a record's staff_id, a staff record), so the app can
  show a caseworker by name; empty when the input has no staff roster;
- `roll_profile.parquet`: the roll's members counted per district and, within it, per age
  band, sex and category (district, dimension, grp, members), the base of the review app's
  disparity check; counts only.
The review app imports all three; they hold personal data and stay with the office, never in publicity.
"""

from __future__ import annotations

import datetime as dt
import logging

import duckdb

from pipelines.config import AuditConfig
from pipelines.io.duck import execute, table_names
from pipelines.labels import UNKNOWN, age_band_sql, sex_sql
from pipelines.sql import materialise

log = logging.getLogger(__name__)

MEMBERS = "findings_review_members"
EVIDENCE = "findings_review_evidence"
STAFF = "findings_review_staff"
STAFF_COLUMNS = ("staff_id", "name", "role", "org", "district", "street")
PROFILE = "findings_review_profile"
_KEYS = {"roll": "household_id"}


def _quoted(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _evidence_select(dataset: str, key: str, columns: list[str]) -> str:
    pairs = ", ".join(f"'{c}', CAST(e.{_quoted(c)} AS VARCHAR)" for c in columns)
    # one record per key: the head's row for roll, else the first row as read
    order = "(e.relation IN ('户主', '本人')) DESC NULLS LAST, e._row" if dataset == "roll" \
        else "e._row"
    return f"""
        SELECT f.finding_id, f.dataset, f.record_id,
               first(json_object({pairs})::VARCHAR ORDER BY {order}) AS record
        FROM findings AS f
        JOIN {_quoted('norm_' + dataset)} AS e ON CAST(e.{_quoted(key)} AS VARCHAR) = f.record_id
        WHERE f.dataset = ?
        GROUP BY f.finding_id, f.dataset, f.record_id"""


def build_review_bundle(con: duckdb.DuckDBPyConnection, config: AuditConfig,
                        as_of: dt.date) -> dict[str, int]:
    """Create the bundle tables from `findings`, `roll_people` and the norm_ tables."""
    materialise(con, "review", MEMBERS)
    present = table_names(con)
    datasets = [d for (d,) in con.execute(
        "SELECT DISTINCT dataset FROM findings ORDER BY dataset").fetchall()]
    parts: list[str] = []
    params: list[object] = []
    for dataset in datasets:
        spec = config.datasets.get(dataset)
        key = _KEYS.get(dataset) or (spec.key if spec else None)
        if spec is None or key is None or f"norm_{dataset}" not in present:
            log.warning("review bundle: no evidence lookup for dataset %s", dataset)
            continue
        parts.append(_evidence_select(dataset, key, list(spec.columns)))
        params.append(dataset)
    if parts:
        union = " UNION ALL ".join(parts)
        execute(con, f"CREATE OR REPLACE TABLE {EVIDENCE} AS SELECT * FROM ({union}) "
                     "ORDER BY finding_id", params)
    else:
        execute(con, f"CREATE OR REPLACE TABLE {EVIDENCE} (finding_id VARCHAR, dataset VARCHAR, "
                     "record_id VARCHAR, record VARCHAR)")
    _staff(con, "norm_staff" in present)
    _profile(con, as_of)
    counts = {name: int(con.table(name).count("*").fetchall()[0][0])
              for name in (MEMBERS, EVIDENCE, STAFF, PROFILE)}
    log.info("review bundle: %d members, %d evidence records, %d staff named",
             counts[MEMBERS], counts[EVIDENCE], counts[STAFF])
    return counts


def _profile(con: duckdb.DuckDBPyConnection, as_of: dt.date) -> None:
    """Roll members per district, age band, sex and category (labels.AGE_BANDS)."""
    on = f"DATE '{as_of.isoformat()}'"
    groups = {"district": "district", "age_band": age_band_sql("p_id18", on),
              "sex": sex_sql("p_id18"), "category": "category"}
    parts = " UNION ALL ".join(
        f"SELECT coalesce(district, '{UNKNOWN}') AS district, '{name}' AS dimension, "
        f"coalesce(CAST({expr} AS VARCHAR), '{UNKNOWN}') AS grp, count(*)::BIGINT AS members "
        f"FROM roll_people GROUP BY ALL" for name, expr in groups.items())
    execute(con, f"CREATE OR REPLACE TABLE {PROFILE} AS SELECT * FROM ({parts}) "
                 "ORDER BY district, dimension, grp")


def _staff(con: duckdb.DuckDBPyConnection, roster: bool) -> None:
    """The staff members the bundle names (see the module docstring), one row each."""
    if not roster:
        execute(con, f"CREATE OR REPLACE TABLE {STAFF} AS SELECT "
                     + ", ".join(f"NULL::VARCHAR AS {c}" for c in STAFF_COLUMNS) + " LIMIT 0")
        return
    execute(con, f"""
        CREATE OR REPLACE TABLE {STAFF} AS
        WITH named AS (
            SELECT approved_by AS staff_id FROM {MEMBERS}
            UNION SELECT json_extract_string(record, '$.staff_id') FROM {EVIDENCE}
            UNION SELECT json_extract_string(record, '$.approved_by') FROM {EVIDENCE}
            UNION SELECT record_id FROM {EVIDENCE} WHERE dataset = 'staff')
        SELECT {", ".join(f"CAST(s.{c} AS VARCHAR) AS {c}" for c in STAFF_COLUMNS)}
        FROM norm_staff AS s
        WHERE CAST(s.staff_id AS VARCHAR) IN (SELECT staff_id FROM named WHERE staff_id <> '')
        QUALIFY row_number() OVER (PARTITION BY s.staff_id ORDER BY s._row) = 1
        ORDER BY s.staff_id""")
