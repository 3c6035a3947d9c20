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
from pipelines.io.duck import table_names
from pipelines.rules.tables import load_arrow
from pipelines.sql import materialise

log = logging.getLogger(__name__)

TABLE = "rules_decisions"
FILE = "decisions_review.parquet"
CODES = ("confirmed", "dismissed_wrong_person", "dismissed_legitimate", "escalated")
# effective_from and source: when a confirmation may be acted on and where it was decided
# (review: the review app, which sets effective_from after the household's notice; file: a
# decisions.csv, acted on at once); publish reads them back from the warehouse
SCHEMA = pa.schema([("finding_id", pa.string()), ("decision", pa.string()),
                    ("decided_by", pa.string()), ("decided_at", pa.string()),
                    ("reason", pa.string()), ("approved_by", pa.string()),
                    ("effective_from", pa.string()), ("source", pa.string())])


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
        [{**{k: (None if r.get(k) is None else str(r.get(k))) for k in SCHEMA.names},
          "source": "review"} for r in rows], schema=SCHEMA)
    bad = sorted({str(d) for d in table.column("decision").to_pylist() if d not in CODES})
    if bad:
        raise InputError(f"review database returned unknown decisions: {', '.join(bad)}")
    target = work / FILE
    pq.write_table(table, target)
    log.info("decisions: %d read from the review database", table.num_rows)
    return target


#: The shape of every source of decisions (decisions_in), before the effective one is chosen.
IN_SCHEMA = pa.schema([*SCHEMA, ("_order", pa.int64())])


def load(con: duckdb.DuckDBPyConnection, work: Path) -> int:
    """Create `rules_decisions` (effective decision per finding); its row count.

    The source is the review app's decisions copied at the start (sql/rules/
    decisions_from_review.sql), else a decisions.csv ingested as norm_decisions
    (decisions_from_file.sql), else none; sql/rules/rules_decisions.sql picks the effective one.
    """
    review = work / FILE
    if review.exists():
        materialise(con, "rules", "decisions_from_review", name="decisions_in",
                    params={"path": review.as_posix()})
    elif "norm_decisions" in table_names(con):
        materialise(con, "rules", "decisions_from_file", name="decisions_in")
    else:
        load_arrow(con, "decisions_in", IN_SCHEMA.empty_table())
    materialise(con, "rules", TABLE)
    count = int(con.table(TABLE).count("*").fetchall()[0][0])
    log.info("decisions in effect: %d", count)
    return count


def ensure(con: duckdb.DuckDBPyConnection) -> None:
    """`rules_decisions` exists (empty when the caller loaded no decisions)."""
    if TABLE not in table_names(con):
        load_arrow(con, TABLE, SCHEMA.empty_table())


def dismissed_count(con: duckdb.DuckDBPyConnection) -> int:
    """Findings found again that a person had dismissed as the wrong person (not reported)."""
    return int(con.execute(f"SELECT count(*) FROM {TABLE} WHERE decision = "
                           "'dismissed_wrong_person'").fetchall()[0][0])
