"""Print a DAG run's tasks as they finish, from Airflow's metadata database (SQLite), while
`airflow dags test` runs: the demo is not silent for the minute or two the DAG takes.

Usage: dag_progress.py AIRFLOW_DB DAG_ID PID   (stops when process PID has ended)
"""

from __future__ import annotations

import os
import sqlite3
import sys
import time
from datetime import UTC, datetime


def _alive(pid: int) -> bool:
    """Is process `pid` still running (an ended one not yet reaped counts as ended)?"""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as handle:
            return handle.read().rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return True


def _seconds(start: str | None, end: str | None) -> str:
    try:
        took = datetime.fromisoformat(str(end)) - datetime.fromisoformat(str(start))
    except (TypeError, ValueError):
        return ""
    return f" ({took.total_seconds():.1f} s)"


def finished(path: str, dag_id: str, since: str) -> list[tuple[str, int, str, str, str]]:
    """(task_id, map_index, state, start, end) of the task instances of `dag_id` that ended
    after `since` (ISO time), oldest first."""
    try:
        with sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=1) as con:
            return con.execute(
                "SELECT task_id, map_index, state, start_date, end_date FROM task_instance "
                "WHERE dag_id = ? AND end_date IS NOT NULL AND end_date > ? "
                "ORDER BY end_date", (dag_id, since)).fetchall()
    except sqlite3.Error:  # not created yet, or busy: ask again in a moment
        return []


def main(argv: list[str]) -> int:
    if len(argv) != 3:
        sys.stderr.write(__doc__ or "")
        return 2
    path, dag_id, pid = argv[0], argv[1], int(argv[2])
    since = datetime.now(UTC).replace(tzinfo=None).isoformat(sep=" ")
    shown: set[tuple[str, int]] = set()
    while True:
        running = _alive(pid)
        for task, index, state, start, end in finished(path, dag_id, since):
            if (task, index) in shown:
                continue
            shown.add((task, index))
            part = f"[{index}]" if index is not None and index >= 0 else ""
            sys.stderr.write(f"  {dag_id}: {task}{part} {state}{_seconds(start, end)}\n")
            sys.stderr.flush()
        if not running:
            return 0
        time.sleep(1)


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
