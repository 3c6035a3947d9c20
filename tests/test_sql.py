"""The SQL loader finds statements by name and refuses unknown names."""

from __future__ import annotations

import pytest

from pipelines.resources import resource_dir
from pipelines.sql import load_sql


def test_every_sql_file_loads_and_has_a_header_comment() -> None:
    files = sorted(resource_dir("sql").glob("*/*.sql"))
    for path in files:
        text = load_sql(path.parent.name, path.stem)
        assert text.lstrip().startswith("--"), f"{path} lacks its header comment"


def test_unknown_relation_is_refused_with_the_known_names() -> None:
    with pytest.raises(KeyError, match="no SQL for link/no_such_relation"):
        load_sql("link", "no_such_relation")


def test_every_sql_file_is_one_select_named_after_its_relation() -> None:
    """The convention (docs/architecture.md): a file holds a SELECT (or WITH ... SELECT);
    sql.materialise creates the relation, nothing in a file creates, changes or drops one."""
    import re

    for path in sorted(resource_dir("sql").glob("*/*.sql")):
        text = load_sql(path.parent.name, path.stem)
        code = "\n".join(line.split("--", 1)[0] for line in text.splitlines()).strip()
        assert re.match(r"(?i)(SELECT|WITH)\b", code), f"{path} is not a SELECT"
        assert not re.search(r"(?i)\b(CREATE|INSERT|UPDATE|DELETE|DROP|ALTER)\s", code), path
        bare = re.sub(r"'(?:[^']|'')*'", "''", code)  # string literals aside
        assert ";" not in bare.rstrip().rstrip(";"), f"{path}: one statement"


def test_a_view_cannot_take_parameters() -> None:
    import duckdb

    from pipelines.sql import materialise

    with pytest.raises(ValueError, match="a view cannot take parameters"):
        materialise(duckdb.connect(), "rules", "decisions_from_review", view=True,
                    params={"path": "x.parquet"})
