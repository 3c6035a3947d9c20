"""Shared fixtures: valid synthetic ID numbers and small input folders."""

from __future__ import annotations

import csv
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from pipelines.ingest.ids import check_digit


def make_id(region: str = "420102", birth: str = "19800101", seq: str = "123") -> str:
    """A valid 18-digit ID for a synthetic person."""
    body = f"{region}{birth}{seq}"
    return body + check_digit(body)


def write_csv(path: Path, header: list[str], rows: list[list[str]], encoding: str = "utf-8") -> Path:
    with path.open("w", encoding=encoding, newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)
    return path


ROLL_HEADER = ["户编号", "姓名", "身份证号", "与户主关系", "区", "街道", "社区", "保障类别",
               "家庭人口", "月保障金额(元)"]
STANDARDS_HEADER = ["district", "category", "monthly_standard"]


@pytest.fixture
def minimal_input(tmp_path: Path) -> Path:
    """A valid two-dataset input folder: a three-person roll and its standards."""
    folder = tmp_path / "input"
    folder.mkdir()
    write_csv(folder / "roll.csv", ROLL_HEADER, [
        ["H1", "张伟", make_id(seq="011"), "户主", "江岸区", "大智街道", "幸福社区", "城市低保", "2", "1200"],
        ["H1", "李娜", make_id(birth="19820304", seq="022"), "配偶", "江岸区", "大智街道", "幸福社区", "城市低保", "2", ""],
        ["H2", "王芳", make_id(region="420111", seq="042"), "户主", "洪山区", "珞南街道", "建设村", "农村低保", "1", "700"],
    ], encoding="gb18030")
    write_csv(folder / "standards.csv", STANDARDS_HEADER, [
        ["江岸区", "城市低保", "1050"], ["江岸区", "农村低保", "850"],
        ["洪山区", "城市低保", "1050"], ["洪山区", "农村低保", "850"],
    ])
    return folder


@pytest.fixture(scope="session", autouse=True)
def _drop_this_runs_databases() -> Iterator[None]:
    """PostgreSQL databases of this test process (named with its pid, so that two test runs on
    one machine stay apart) are dropped when the session ends."""
    yield
    try:
        import psycopg2
    except ImportError:
        return
    try:
        con = psycopg2.connect(host="127.0.0.1", port=5432, user="postgres", dbname="postgres",
                               connect_timeout=5)
    except psycopg2.OperationalError:
        return
    con.autocommit = True
    with con.cursor() as cur:
        cur.execute("SELECT datname FROM pg_database WHERE datname LIKE %s",
                    [f"dibao\\_%\\_{os.getpid()}%"])
        for (name,) in cur.fetchall():
            cur.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    con.close()


# The test command runs two processes, a file per process at a time (scripts/test.sh: -n 2
# --dist loadfile --no-loadscope-reorder). Files are handed out in collection order, so the
# longest go first (measured: --durations); otherwise a two-minute file starting last leaves
# one core idle while it runs. The rest keep their order.
LONGEST_FIRST = ("test_airflow_celery.py", "test_dags.py", "test_history.py",
                 "test_contract_property.py", "test_publicity.py", "test_injection.py",
                 "test_office_roll.py", "test_end_to_end.py")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    def rank(item: pytest.Item) -> int:
        name = item.path.name
        return LONGEST_FIRST.index(name) if name in LONGEST_FIRST else len(LONGEST_FIRST)

    items.sort(key=rank)  # stable: within a file, and among the others, the order stays
