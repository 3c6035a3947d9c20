"""Load SQL statements by name from `sql/<stage>/<relation>.sql` (one statement per file)."""

from __future__ import annotations

from functools import cache

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
