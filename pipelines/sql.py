"""SQL by name: every file `sql/<stage>/<relation>.sql` is one SELECT of the relation it is
named after; `materialise` creates it under that name (or another, as Splink's
`CTEPipeline.enqueue_sql(sql, output_table_name)`), `load_sql` gives its text."""

from __future__ import annotations

from collections.abc import Mapping
from functools import cache
from typing import Any

from pipelines.resources import resource_dir


@cache
def load_sql(stage: str, relation: str) -> str:
    """The statement that produces `relation` in `stage`; KeyError naming what exists if unknown.

    Files start with a header comment (purpose, inputs, grain, key). Values are bound as
    parameters ($name or ?), never formatted into the text.
    """
    folder = resource_dir("sql") / stage
    path = folder / f"{relation}.sql"
    if not path.is_file():
        known = sorted(p.stem for p in folder.glob("*.sql")) if folder.is_dir() else []
        raise KeyError(f"no SQL for {stage}/{relation}; known in {stage}: {known}")
    return path.read_text(encoding="utf-8")


def materialise(con: Any, stage: str, relation: str, *, name: str | None = None,
                view: bool = False, params: Mapping[str, object] | None = None) -> str:
    """Create (or replace) table `name` (default: `relation`) from sql/<stage>/<relation>.sql,
    values bound as parameters; a temporary view instead with `view`. Returns the name.

    Relation names come from this package's constants and configuration, never from input
    data.
    """
    target = name or relation
    if view and params:
        raise ValueError(f"{stage}/{relation}: a view cannot take parameters (DuckDB cannot "
                         "prepare it); materialise it as a table")
    kind = "TEMP VIEW" if view else "TABLE"
    con.execute(f'CREATE OR REPLACE {kind} "{target}" AS {load_sql(stage, relation)}',
                dict(params or {})).fetchall()
    return target
