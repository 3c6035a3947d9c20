"""Ingest + validate time and peak memory on a synthetic city (issue: foundation benchmark).

Usage: .venv/bin/python -m benchmarks.ingest [--households 100000] [--seed 1] [--repeat 2]
Each repeat runs in a fresh child process: read, map headers, type, normalise and quarantine
every dataset, then validate them with Great Expectations (import included), as `dibao-audit
run` does before linking. Wall time is process start to exit; peak RSS is the child's.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
import tempfile
from pathlib import Path

from benchmarks.common import city, machine, measure

CHILD = """
import datetime as dt, json, sys, time
from pathlib import Path
started = time.perf_counter()
from pipelines.config import load_config
from pipelines.ingest.dataset import find_inputs, ingest_dataset
from pipelines.validate.quality import validate
config = load_config()
t0 = time.perf_counter()
found, _ = find_inputs(Path(sys.argv[1]), config)
results = {d: ingest_dataset(d, p, config) for d, p in found.items()}
t1 = time.perf_counter()
validate({d: r.loaded for d, r in results.items()}, dt.date(2026, 10, 31), config, Path(sys.argv[2]))
t2 = time.perf_counter()
rows = sum(r.input_rows for r in results.values())
Path(sys.argv[3]).write_text(json.dumps({"rows": rows, "roll": results["roll"].input_rows,
    "ingest": t1 - t0, "validate": t2 - t1, "imports": t0 - started}))
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--households", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--repeat", type=int, default=2)
    args = parser.parse_args()
    folder = city(args.households, args.seed)
    runs = []
    with tempfile.TemporaryDirectory() as tmp:
        report = Path(tmp) / "report.json"
        for _ in range(args.repeat):
            wall, rss = measure([sys.executable, "-c", CHILD, str(folder), tmp, str(report)])
            runs.append((wall, rss, json.loads(report.read_text())))
    wall, rss, parts = min(runs, key=lambda r: r[0])
    print(f"machine: {machine()}; date: {dt.date.today().isoformat()}")
    print("| households | roll rows | all input rows | wall (best of "
          f"{args.repeat}) | ingest | validate (GX) | peak RSS |")
    print("|---|---|---|---|---|---|---|")
    print(f"| {args.households:,} | {parts['roll']:,} | {parts['rows']:,} | {wall:.1f} s | "
          f"{parts['ingest']:.1f} s | {parts['validate']:.1f} s | "
          f"{max(r[1] for r in runs):,.0f} MiB |")


if __name__ == "__main__":
    main()
