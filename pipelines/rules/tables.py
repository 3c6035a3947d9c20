"""Stage tables of the rules step: created from sql/rules/<relation>.sql or from Arrow data.

Relation names come from this package's own constants, never from input data; values are bound
as parameters.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

import duckdb
import pyarrow as pa

from pipelines.io.duck import scalar
from pipelines.sql import materialise

log = logging.getLogger(__name__)


def row_count(con: duckdb.DuckDBPyConnection, relation: str) -> int:
    """Rows in `relation`."""
    return int(scalar(con, f'SELECT count(*) FROM "{relation}"'))


def create_table(con: duckdb.DuckDBPyConnection, relation: str, **params: object) -> int:
    """Create or replace `relation` from sql/rules/<relation>.sql; return its row count."""
    materialise(con, "rules", relation, params=params)
    count = row_count(con, relation)
    log.debug("%s: %d rows", relation, count)
    return count


def load_arrow(con: duckdb.DuckDBPyConnection, relation: str, table: pa.Table) -> None:
    """Create or replace `relation` from an Arrow table (keeps list and NULL column types)."""
    con.register("_rules_incoming", table)
    try:
        con.execute(f'CREATE OR REPLACE TABLE "{relation}" AS SELECT * FROM _rules_incoming'
                    ).fetchall()
    finally:
        con.unregister("_rules_incoming")


def union_tables(con: duckdb.DuckDBPyConnection, relation: str, sources: Sequence[str]) -> int:
    """Create or replace `relation` as the union (by column name) of `sources` (at least one)."""
    if not sources:
        raise ValueError(f"{relation}: nothing to union")
    union = " UNION ALL BY NAME ".join(f'SELECT * FROM "{s}"' for s in sources)
    con.execute(f'CREATE OR REPLACE TABLE "{relation}" AS {union}').fetchall()
    return row_count(con, relation)
