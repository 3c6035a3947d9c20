"""The demo's progress lines: tasks of a DAG run as they finish, read from Airflow's metadata
database (a SQLite file with Airflow's task_instance columns)."""

from __future__ import annotations

import importlib.util
import sqlite3
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_finished_tasks_are_printed_once_each_with_their_time(tmp_path: Path) -> None:
    db = tmp_path / "airflow.db"
    with sqlite3.connect(db) as con:
        con.execute("CREATE TABLE task_instance (dag_id TEXT, task_id TEXT, map_index INTEGER, "
                    "state TEXT, start_date TEXT, end_date TEXT)")
        con.executemany("INSERT INTO task_instance VALUES (?, ?, ?, ?, ?, ?)", [
            ("dibao_nightly_audit", "ingest", 0, "success", "2999-01-01 00:00:00",
             "2999-01-01 00:00:12.5"),
            ("dibao_nightly_audit", "rules", -1, "success", "2999-01-01 00:00:13",
             "2999-01-01 00:00:16"),
            ("dibao_nightly_audit", "link", 1, "running", "2999-01-01 00:00:14", None),
            ("other_dag", "x", -1, "success", "2999-01-01 00:00:00", "2999-01-01 00:00:01")])
    sleeper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(1.5)"])
    done = subprocess.run([sys.executable, str(ROOT / "scripts" / "dag_progress.py"), str(db),
                           "dibao_nightly_audit", str(sleeper.pid)],
                          capture_output=True, text=True, timeout=60)
    sleeper.wait()
    assert done.returncode == 0
    assert done.stderr.splitlines() == [
        "  dibao_nightly_audit: ingest[0] success (12.5 s)",
        "  dibao_nightly_audit: rules success (3.0 s)"]
    spec = importlib.util.spec_from_file_location("dag_progress",
                                                  ROOT / "scripts" / "dag_progress.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert module.finished(str(tmp_path / "none.db"), "d", "2000-01-01") == []
