"""The run's DuckDB database: canonical tables in, stage tables out (Parquet for debugging)."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd
import pyarrow as pa

log = logging.getLogger(__name__)

MIN_DUCKDB = (2, 0, 1)  # earlier versions measure Chinese edit distance in bytes


def connect(database: str = ":memory:") -> duckdb.DuckDBPyConnection:
    """Open DuckDB, refusing versions whose string distances count bytes, not characters."""
    version = tuple(int(p) for p in duckdb.__version__.split(".")[:3] if p.isdigit())
    if version < MIN_DUCKDB:
        raise RuntimeError(f"duckdb {duckdb.__version__} is too old: >= 2.0.1 is required "
                           "(older versions measure Chinese edit distance in bytes)")
    con = duckdb.connect(database)
    # DuckDB draws its own bar on stdout for long queries: not in a CLI whose stdout is for data
    con.execute("SET enable_progress_bar = false")
    return con


def scalar(con: duckdb.DuckDBPyConnection, sql: str, params: list[object] | None = None) -> Any:
    """The single value of a query, with the result fully consumed.

    DuckDB 2 refuses further work on a connection while a result is unfinished, and fetchone()
    leaves it unfinished; fetchall() does not.
    """
    rows = con.execute(sql, params or []).fetchall()
    return rows[0][0] if rows else None


def execute(con: duckdb.DuckDBPyConnection, sql: str, params: list[object] | None = None) -> None:
    """Run a statement and consume its result (DuckDB 2 needs that before the next one)."""
    con.execute(sql, params or []).fetchall()


def table_names(con: duckdb.DuckDBPyConnection) -> set[str]:
    """Names of the tables and views of the connection's current schema."""
    return {row[0] for row in con.execute("SHOW TABLES").fetchall()}


def load_table(con: duckdb.DuckDBPyConnection, name: str, frame: pd.DataFrame) -> int:
    """Create or replace table `name` from a frame; return its row count."""
    arrow = pa.Table.from_pandas(frame, preserve_index=False)
    con.register("_incoming", arrow)
    try:
        con.execute(f'CREATE OR REPLACE TABLE "{name}" AS SELECT * FROM _incoming').fetchall()
    finally:
        con.unregister("_incoming")
    return int(scalar(con, f'SELECT count(*) FROM "{name}"'))


def load_parquet(con: duckdb.DuckDBPyConnection, name: str, path: Path) -> int:
    """Create or replace table `name` from a Parquet file, rows in file order; return the count."""
    con.execute(f'CREATE OR REPLACE TABLE "{name}" AS SELECT * FROM read_parquet(?)',
                [path.as_posix()]).fetchall()
    return int(scalar(con, f'SELECT count(*) FROM "{name}"'))


def view_parquet(con: duckdb.DuckDBPyConnection, name: str, path: Path) -> None:
    """Create or replace view `name` over a Parquet file: a query that reads a few of its
    columns once or twice need not copy the file into DuckDB first."""
    source = path.as_posix().replace("'", "''")
    con.execute(f'CREATE OR REPLACE VIEW "{name}" AS SELECT * FROM read_parquet(\'{source}\')'
                ).fetchall()


def save_table(con: duckdb.DuckDBPyConnection, name: str, path: Path) -> Path:
    """Write table `name` to a Parquet file (rows in table order)."""
    target = path.as_posix().replace("'", "''")
    con.execute(f"COPY \"{name}\" TO '{target}' (FORMAT parquet)").fetchall()
    return path


def dump_tables(con: duckdb.DuckDBPyConnection, names: list[str], folder: Path) -> dict[str, int]:
    """Write tables to `folder/<name>.parquet` (debugging); return their row counts."""
    folder.mkdir(parents=True, exist_ok=True)
    counts = {}
    for name in names:
        target = save_table(con, name, folder / f"{name}.parquet")
        counts[name] = int(scalar(con, f'SELECT count(*) FROM "{name}"'))
        log.debug("materialised %s: %d rows -> %s", name, counts[name], target)
    return counts


STAGE_PREFIXES = ("norm_", "roll_people", "links", "pairs", "rules_", "findings", "history_")


def stage_tables(con: duckdb.DuckDBPyConnection) -> list[str]:
    """The run's stage tables (stable prefixes per stage), in name order."""
    rows = con.execute("SELECT table_name FROM duckdb_tables() ORDER BY table_name").fetchall()
    return [r[0] for r in rows if str(r[0]).startswith(STAGE_PREFIXES)]
