"""The audit history store: roll snapshots, findings, decisions and changes by as-of date.

Two backends behind one small interface: a DuckDB file (the embedded default) and PostgreSQL
(a `postgresql://` URL). The tables and their columns are declared once below as Arrow
schemas; the DDL is generated from them, and every statement is plain SQL both servers accept
(placeholders are adapted per driver). Writing an as-of date is one transaction that deletes
that date from every table and inserts the new rows: a re-run replaces the date, never
duplicates it, and a failure leaves the previous state.
"""

from __future__ import annotations

import contextlib
import csv
import datetime as dt
import io
import logging
import os
import re
import time
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import pyarrow as pa

from pipelines.errors import InputError, ServiceUnavailable

log = logging.getLogger(__name__)
_DATE_LOCK = 0x6469_6261_0000_0000  # advisory lock keys of this project's warehouse dates

ENV_URL = "DIBAO_WAREHOUSE"

_S, _F, _I, _D = pa.string(), pa.float64(), pa.int64(), pa.date32()

TABLES: dict[str, pa.Schema] = {
    "runs": pa.schema([("as_of", _D), ("month_end", pa.bool_()), ("output_dir", _S),
                       ("households", _I), ("persons", _I), ("findings", _I)]),
    "roll_households": pa.schema([
        ("as_of", _D), ("household_id", _S), ("district", _S), ("street", _S),
        ("community", _S), ("head_name", _S), ("category", _S), ("household_size", _I),
        ("members", _I), ("monthly_amount", _F)]),
    "roll_members": pa.schema([
        ("as_of", _D), ("household_id", _S), ("member_key", _I), ("person_ref", _S),
        ("id_number", _S), ("name", _S), ("relation", _S)]),
    "findings": pa.schema([
        ("as_of", _D), ("finding_id", _S), ("household_id", _S), ("id_number", _S),
        ("name", _S), ("finding_code", _S), ("severity", _S), ("score", _F), ("dataset", _S),
        ("record_id", _S), ("evidence", _S), ("amount_at_stake", _F)]),
    "decisions": pa.schema([
        ("as_of", _D), ("finding_id", _S), ("decision", _S), ("decided_by", _S),
        ("decided_at", _S), ("reason", _S), ("approved_by", _S), ("effective_from", _S),
        ("source", _S)]),
    "changes": pa.schema([
        ("as_of", _D), ("household_id", _S), ("change", _S), ("old_amount", _F),
        ("new_amount", _F), ("members_before", _I), ("members_after", _I), ("reason", _S),
        ("district", _S), ("street", _S), ("community", _S)]),
}
# one row per key and date (roll_members and changes have no natural key of their own)
_KEYS = {"runs": ("as_of",), "roll_households": ("as_of", "household_id"),
         "findings": ("as_of", "finding_id"), "decisions": ("as_of", "finding_id")}
_SQL_TYPES = {_S: "VARCHAR", _F: "DOUBLE PRECISION", _I: "BIGINT", _D: "DATE",
              pa.bool_(): "BOOLEAN"}


def is_postgres(url: str) -> bool:
    return url.startswith(("postgresql://", "postgres://", "postgresql+psycopg2://"))


def resolve_url(explicit: str | None, configured: str | None, output_dir: Path) -> str:
    """--warehouse, else $DIBAO_WAREHOUSE, else the configuration, else
    `<output parent>/warehouse.duckdb` (contract §1)."""
    url = explicit or os.environ.get(ENV_URL) or configured
    return url if url else str(output_dir.parent / "warehouse.duckdb")


def describe(url: str) -> str:
    """The URL without a password, for logs and messages."""
    if is_postgres(url) and "@" in url:
        scheme, rest = url.split("://", 1)
        credentials, host = rest.rsplit("@", 1)
        return f"{scheme}://{credentials.split(':', 1)[0]}@{host}"
    return url


#: columns added to a history table after its first release: (table, column), added to an
#: existing warehouse when it is opened (older dates hold NULL)
ADDED = {("decisions", "effective_from"), ("decisions", "source")}


def added_columns(table: str) -> list[str]:
    """ALTER TABLE ... ADD COLUMN IF NOT EXISTS for the columns `table` gained (both servers)."""
    schema = TABLES[table]
    return [f'ALTER TABLE "{table}" ADD COLUMN IF NOT EXISTS "{f.name}" {_SQL_TYPES[f.type]}'
            for f in schema if (table, f.name) in ADDED]


def ddl(table: str) -> str:
    """CREATE TABLE IF NOT EXISTS for one history table (the same text for both servers)."""
    schema = TABLES[table]
    columns = [f'"{f.name}" {_SQL_TYPES[f.type]}' for f in schema]
    if table in _KEYS:
        columns.append(f"PRIMARY KEY ({', '.join(_KEYS[table])})")
    return f'CREATE TABLE IF NOT EXISTS "{table}" ({", ".join(columns)})'


class Warehouse:
    """An open warehouse; use `open_warehouse()` as a context manager."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.postgres = is_postgres(url)
        self._con: Any = self._connect()
        for table in TABLES:
            self._run(ddl(table))
            for statement in added_columns(table):  # a warehouse made by an older version
                self._run(statement)
        self._commit()

    # --- connection -------------------------------------------------------------------------
    def _connect(self) -> Any:
        try:
            if self.postgres:
                import psycopg2

                dsn = self.url.replace("postgresql+psycopg2://", "postgresql://", 1)
                con = psycopg2.connect(dsn, connect_timeout=10)
                con.autocommit = False
                return con
            from pipelines.io.duck import connect

            Path(self.url).parent.mkdir(parents=True, exist_ok=True)
            return connect(self.url)
        except Exception as exc:  # driver errors differ; the message names the warehouse
            if not self.postgres and "lock" in str(exc).lower():
                holder = re.search(r"PID (\d+)", str(exc))
                raise ServiceUnavailable(
                    f"warehouse {describe(self.url)} is in use by another run"
                    + (f" (process {holder.group(1)})" if holder else "")
                    + ": a DuckDB file takes one writer at a time; run again when it has "
                    "finished") from exc
            raise ServiceUnavailable(
                f"warehouse {describe(self.url)} cannot be opened: {exc}") from exc

    def _sql(self, statement: str) -> str:
        return statement.replace("?", "%s") if self.postgres else statement

    def _run(self, statement: str, params: list[Any] | None = None) -> list[tuple[Any, ...]]:
        if self.postgres:
            with self._con.cursor() as cur:
                cur.execute(self._sql(statement), params)
                return list(cur.fetchall()) if cur.description else []
        return list(self._con.execute(statement, params or []).fetchall())

    def _commit(self) -> None:
        if self.postgres:
            self._con.commit()

    def close(self) -> None:
        self._con.close()

    # --- writing ----------------------------------------------------------------------------
    def replace(self, as_of: dt.date, tables: Mapping[str, pa.Table]) -> None:
        """Replace date `as_of` in every history table with `tables` (missing ones: no rows)."""
        unknown = set(tables) - set(TABLES)
        if unknown:
            raise ValueError(f"not history tables: {sorted(unknown)}")
        started = time.perf_counter()
        if not self.postgres:
            self._con.execute("BEGIN TRANSACTION").fetchall()
        try:
            if self.postgres:  # two runs of one date at once: the second waits for the first
                self._run("SELECT pg_advisory_xact_lock(?)", [_DATE_LOCK + as_of.toordinal()])
            for name, schema in TABLES.items():
                self._run(f'DELETE FROM "{name}" WHERE as_of = ?', [as_of])
                if name in tables:
                    self._insert(name, tables[name].select(schema.names).cast(schema))
            if self.postgres:
                self._con.commit()
            else:
                self._con.execute("COMMIT").fetchall()
        except Exception:
            if self.postgres:
                self._con.rollback()
            else:
                self._con.execute("ROLLBACK").fetchall()
            raise
        log.info("warehouse %s: as-of %s written in %.1fs (%s)", describe(self.url), as_of,
                 time.perf_counter() - started,
                 ", ".join(f"{k} {v.num_rows}" for k, v in sorted(tables.items())))

    def _insert(self, name: str, table: pa.Table) -> None:
        if table.num_rows == 0:
            return
        columns = ", ".join(f'"{c}"' for c in table.column_names)
        if not self.postgres:
            self._con.register("_history_incoming", table)
            try:
                self._con.execute(f'INSERT INTO "{name}" ({columns}) SELECT {columns} '
                                  "FROM _history_incoming").fetchall()
            finally:
                self._con.unregister("_history_incoming")
            return
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        for row in table.to_pylist():
            writer.writerow([r"\N" if v is None else v for v in row.values()])
        buffer.seek(0)
        with self._con.cursor() as cur:
            cur.copy_expert(f'COPY "{name}" ({columns}) FROM STDIN WITH (FORMAT csv, '
                            r"NULL '\N')", buffer)

    # --- reading ----------------------------------------------------------------------------
    def read(self, table: str, as_of: dt.date) -> pa.Table:
        """The rows of `table` for `as_of`, in the declared schema, ordered by its columns."""
        schema = TABLES[table]
        columns = ", ".join(f'"{c}"' for c in schema.names)
        order = ", ".join(f'"{c}"' for c in schema.names[1:4])
        statement = f'SELECT {columns} FROM "{table}" WHERE as_of = ? ORDER BY {order}'
        if not self.postgres:  # columnar all the way: 5x faster than rows at city scale
            result: pa.Table = self._con.sql(statement, params=[as_of]).to_arrow_table()
            return result.cast(schema)
        rows = self._run(statement, [as_of])
        return pa.Table.from_pylist([dict(zip(schema.names, r, strict=True)) for r in rows],
                                    schema=schema)

    def first_seen(self, before: dt.date) -> dict[str, dt.date]:
        """The first audit date of every finding reported before `before`."""
        rows = self._run('SELECT finding_id, min(as_of) FROM "findings" WHERE as_of < ? '
                         "GROUP BY finding_id", [before])
        return {str(r[0]): r[1] for r in rows}

    def audits(self) -> list[tuple[dt.date, bool]]:
        """Every stored audit date and whether it is a month-end audit, oldest first."""
        return [(r[0], bool(r[1]))
                for r in self._run('SELECT as_of, month_end FROM "runs" ORDER BY as_of')]

    def previous_month_end(self, as_of: dt.date) -> dt.date | None:
        """The most recent month-end audit before `as_of`'s month (contract §6 History)."""
        first = as_of.replace(day=1)
        earlier = [d for d, month_end in self.audits() if month_end and d < first]
        return earlier[-1] if earlier else None


def is_month_end(day: dt.date) -> bool:
    return (day + dt.timedelta(days=1)).day == 1


@contextlib.contextmanager
def open_warehouse(url: str) -> Iterator[Warehouse]:
    """Open (and create if new) the warehouse at `url`; closed on exit.

    A DuckDB file this call created is removed again when the block fails: a run that stops
    leaves no empty warehouse behind.
    """
    new_file = None if is_postgres(url) or Path(url).exists() else Path(url)
    warehouse = Warehouse(url)
    try:
        yield warehouse
    except BaseException:
        warehouse.close()
        if new_file is not None:
            for leftover in (new_file, new_file.with_name(new_file.name + ".wal")):
                leftover.unlink(missing_ok=True)
        raise
    else:
        warehouse.close()


def create_database(url: str) -> bool:
    """Create the PostgreSQL database a URL names when it does not exist yet; True if created.

    For deployments (docker-compose's init job): connects to the server's `postgres` database
    with the URL's credentials. Other URLs (DuckDB files) need nothing: False.
    """
    if not is_postgres(url):
        return False
    import psycopg2
    from psycopg2 import sql
    from psycopg2.extensions import make_dsn, parse_dsn

    params = parse_dsn(url.replace("postgresql+psycopg2://", "postgresql://", 1))
    name = params.pop("dbname", None)
    if not name:
        raise InputError(f"warehouse {describe(url)} names no database")
    con = psycopg2.connect(make_dsn(**{**params, "dbname": "postgres"}), connect_timeout=10)
    con.autocommit = True
    try:
        with con.cursor() as cur:
            cur.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name])
            if cur.fetchone():
                return False
            cur.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
            log.info("created database %s", name)
            return True
    finally:
        con.close()
