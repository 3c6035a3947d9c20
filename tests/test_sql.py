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
