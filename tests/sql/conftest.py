"""SQL tested through fixture folders, collected by this hook (as mozilla/bigquery-etl does).

A case is a folder `tests/sql/<stage>/<relation>/<case>/` holding one CSV per input table
(`<table>.csv`, types inferred by DuckDB), optional `params.yaml` (the statement's $params)
and `expected.csv`: the rows `sql/<stage>/<relation>.sql` must give, in order, compared as
text (an empty cell is NULL).
"""

from __future__ import annotations

import csv
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import duckdb
import pytest
import yaml

from pipelines.sql import load_sql


def pytest_collect_file(parent: pytest.Collector, file_path: Path) -> pytest.Collector | None:
    if file_path.name == "expected.csv":
        return SqlCaseFile.from_parent(parent, path=file_path)
    return None


class SqlCaseFile(pytest.File):
    def collect(self) -> Iterator[pytest.Item]:
        case = self.path.parent
        yield SqlCase.from_parent(self, name=f"{case.parent.parent.name}/{case.parent.name}/"
                                             f"{case.name}")


def _text(value: Any) -> str:
    return "" if value is None else str(value)


class SqlCase(pytest.Item):
    def runtest(self) -> None:
        case = self.path.parent
        stage, relation = case.parent.parent.name, case.parent.name
        con = duckdb.connect()
        for table in sorted(case.glob("*.csv")):
            if table.name != "expected.csv":
                con.execute(f'CREATE TABLE "{table.stem}" AS SELECT * FROM read_csv(?, '
                            "header = true)", [table.as_posix()]).fetchall()
        params_file = case / "params.yaml"
        params = yaml.safe_load(params_file.read_text(encoding="utf-8")) \
            if params_file.exists() else {}
        result = con.execute(load_sql(stage, relation), params or {})
        columns = [d[0] for d in result.description]
        got = [columns, *[[_text(v) for v in row] for row in result.fetchall()]]
        with self.path.open(encoding="utf-8", newline="") as handle:
            expected = list(csv.reader(handle))
        if got != expected:
            raise SqlMismatch(stage, relation, case.name, expected, got)

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException],
                     style: Any = None) -> str:
        if isinstance(excinfo.value, SqlMismatch):
            return str(excinfo.value)
        return str(super().repr_failure(excinfo))

    def reportinfo(self) -> tuple[Path, int, str]:
        return self.path, 0, f"sql case {self.name}"


class SqlMismatch(AssertionError):
    def __init__(self, stage: str, relation: str, case: str, expected: list[list[str]],
                 got: list[list[str]]) -> None:
        lines = "\n".join(",".join(r) for r in got)
        wanted = "\n".join(",".join(r) for r in expected)
        super().__init__(f"sql/{stage}/{relation}.sql, case {case}:\nexpected\n{wanted}\n"
                         f"got\n{lines}")
