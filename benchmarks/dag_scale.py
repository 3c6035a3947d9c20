"""The nightly DAG on Celery workers (plain processes, benchmarks/airflow_cluster.py), its large
registers linked in partitions: wall time of the DAG run, and per task the number of task
instances, their summed duration and the span from the first start to the last end; per link
piece its duration. Checks that findings.csv equals the CLI's single-process run.

Usage: .venv/bin/python -m benchmarks.dag_scale [--households 100000] [--seed 1]
       [--partition-records 100000] [--workers 2]
Each worker runs one task at a time (this machine has 2 cores). Prints Markdown for
docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Any

from benchmarks.airflow_cluster import pg, running_cluster, trigger
from benchmarks.common import CLI, WORK, city, machine

DAG_ID = "dibao_nightly_audit"
AS_OF = "2026-10-31"


def task_times(dbname: str, run_id: str) -> list[tuple[str, int, float, float, str]]:
    """(task_id, map_index, start, end as epoch seconds, rendered map index) per instance."""
    with contextlib.closing(pg(dbname)) as conn, conn.cursor() as cur:
        cur.execute("SELECT task_id, map_index, extract(epoch FROM start_date), "
                    "extract(epoch FROM end_date), coalesce(rendered_map_index, '') "
                    "FROM task_instance WHERE dag_id = %s AND run_id = %s "
                    "ORDER BY start_date", (DAG_ID, run_id))
        return [(t, int(i), float(a), float(b), r) for t, i, a, b, r in cur.fetchall()]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--households", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--partition-records", type=int, default=100_000)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    import httpx

    folder = city(args.households, args.seed)
    scratch = Path(tempfile.mkdtemp(prefix="dag-scale-", dir=WORK))
    try:
        cli_out = scratch / "cli" / AS_OF
        subprocess.run([*CLI, "run", "--input", str(folder), "--output", str(cli_out),
                        "--as-of", AS_OF], check=True)
        config = scratch / "partitions.yaml"
        config.write_text(f"resources:\n  partition_records: {args.partition_records}\n",
                          encoding="utf-8")
        workers = tuple(f"worker-{i}" for i in range(args.workers))
        with running_cluster(scratch, workers) as cluster:
            client = httpx.Client(base_url=cluster.api, timeout=30.0)
            cluster.wait_ready(client, DAG_ID)
            out = scratch / "dag"
            conf = {"input_dir": str(folder), "output_dir": str(out), "as_of": AS_OF,
                    "config_file": str(config)}
            run_id = trigger(cluster, client, DAG_ID, conf, timeout=3600)
            times = task_times(cluster.dbname, run_id)
        same = (out / AS_OF / "findings.csv").read_bytes() == \
            (cli_out / "findings.csv").read_bytes()
    finally:
        shutil.rmtree(scratch, ignore_errors=True)  # findings of a city-sized audit
    report(args, times, same)


def report(args: Any, times: list[tuple[str, int, float, float, str]], same: bool) -> None:
    print(f"machine: {machine()}; date: {dt.date.today().isoformat()}; seed {args.seed}; "
          f"{args.households:,} households; {args.workers} Celery workers, one task each at a "
          f"time; partition_records {args.partition_records:,}")
    start, end = min(t[2] for t in times), max(t[3] for t in times)
    print(f"\nDAG run, first task start to last task end: {end - start:.1f} s; "
          f"findings.csv identical to the CLI's: {same}\n")
    print("| task | instances | summed | span (first start to last end) |")
    print("|---|---|---|---|")
    order: list[str] = []
    for task, *_ in times:
        if task not in order:
            order.append(task)
    for task in order:
        rows = [t for t in times if t[0] == task]
        summed = sum(b - a for _, _, a, b, _ in rows)
        span = max(b for *_, b, _ in rows) - min(a for _, _, a, _, _ in rows)
        print(f"| {task} | {len(rows)} | {summed:.1f} s | {span:.1f} s |")
    pieces = [t for t in times if t[0] == "link"]
    print("\n| link piece | seconds |")
    print("|---|---|")
    for _, index, a, b, label in sorted(pieces, key=lambda t: t[1]):
        print(f"| {label or index} | {b - a:.1f} |")


if __name__ == "__main__":
    main()
