"""Review decisions as the audit reads them (contract §6 Decisions).

The review app's database is the store of record: when `DIBAO_REVIEW_DATABASE_URL` is set, the
run copies the decisions that count (pipelines.review.export) into its work folder when it starts,
so the audit uses them as they stood then. Without the app, a `decisions.csv` in the input folder
serves (ingested like any dataset, as norm_decisions). Either way the rules see one table,
`rules_decisions`: the effective decision per finding_id (the latest by decided_at, then by
file order). A finding dismissed as the wrong person is not reported again for the same evidence
record (the finding_id names code, subject, dataset and record).
"""

from __future__ import annotations

import logging
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq

from pipelines.config import REVIEW_DATABASE_ENV
from pipelines.errors import InputError, ServiceUnavailable
from pipelines.io.duck import execute, table_names

log = logging.getLogger(__name__)

TABLE = "rules_decisions"
FILE = "decisions_review.parquet"
CODES = ("confirmed", "dismissed_wrong_person", "dismissed_legitimate", "escalated")
SCHEMA = pa.schema([("finding_id", pa.string()), ("decision", pa.string()),
                    ("decided_by", pa.string()), ("decided_at", pa.string()),
                    ("reason", pa.string()), ("approved_by", pa.string())])


def capture(work: Path, url: str | None) -> Path | None:
    """Copy the review app's decisions into the work folder when there is a review database."""
    if not url:
        return None
    from pipelines.review.export import export_decisions

    try:
        rows = export_decisions(url)
    except Exception as exc:  # the driver's error, with which database
        raise ServiceUnavailable(
            f"review database ({REVIEW_DATABASE_ENV}) cannot be read: {exc}") from exc
    table = pa.Table.from_pylist(
        [{k: (None if r.get(k) is None else str(r.get(k))) for k in SCHEMA.names} for r in rows],
        schema=SCHEMA)
    bad = sorted({str(d) for d in table.column("decision").to_pylist() if d not in CODES})
    if bad:
        raise InputError(f"review database returned unknown decisions: {', '.join(bad)}")
    target = work / FILE
    pq.write_table(table, target)
    log.info("decisions: %d read from the review database", table.num_rows)
    return target


_EFFECTIVE = f"""
    CREATE OR REPLACE TABLE {TABLE} AS
    SELECT finding_id, decision, decided_by, decided_at, reason, approved_by
    FROM (SELECT *, row_number() OVER (PARTITION BY finding_id
                                       ORDER BY decided_at DESC NULLS LAST, _order DESC) AS n
          FROM _decisions_in)
    WHERE n = 1
    ORDER BY finding_id"""


def load(con: duckdb.DuckDBPyConnection, work: Path) -> int:
    """Create `rules_decisions` (effective decision per finding); its row count."""
    review = work / FILE
    if review.exists():
        execute(con, "CREATE OR REPLACE TEMP TABLE _decisions_in AS "
                     "SELECT *, row_number() OVER () AS _order FROM read_parquet(?)",
                [review.as_posix()])
    elif "norm_decisions" in table_names(con):
        execute(con, """
            CREATE OR REPLACE TEMP TABLE _decisions_in AS
            SELECT finding_id, decision_code AS decision, decided_by,
                   strftime(decided_at, '%Y-%m-%d') AS decided_at, reason,
                   NULL::VARCHAR AS approved_by, _row AS _order
            FROM norm_decisions""")
    else:
        execute(con, "CREATE OR REPLACE TEMP TABLE _decisions_in (finding_id VARCHAR, "
                     "decision VARCHAR, decided_by VARCHAR, decided_at VARCHAR, reason VARCHAR, "
                     "approved_by VARCHAR, _order BIGINT)")
    execute(con, _EFFECTIVE)
    execute(con, "DROP TABLE _decisions_in")
    count = int(con.table(TABLE).count("*").fetchall()[0][0])
    log.info("decisions in effect: %d", count)
    return count


def suppress_dismissed(con: duckdb.DuckDBPyConnection) -> int:
    """Drop findings a person dismissed as the wrong person; how many were dropped."""
    if TABLE not in table_names(con):
        return 0
    dropped = con.execute(
        f"DELETE FROM findings WHERE finding_id IN (SELECT finding_id FROM {TABLE} "
        "WHERE decision = 'dismissed_wrong_person')").fetchall()
    count = int(dropped[0][0]) if dropped else 0
    if count:
        log.info("findings dismissed as the wrong person, not reported again: %d", count)
    return count
