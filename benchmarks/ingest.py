"""Ingest + validate time and peak memory of `dibao-audit run` on a synthetic city.

Usage: .venv/bin/python benchmarks/ingest.py [--households 100000] [--seed 1] [--repeat 2]
Prints a Markdown table row for docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import shutil

from benchmarks.common import CLI, WORK, city, machine, measure


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--households", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--repeat", type=int, default=2)
    args = parser.parse_args()

    folder = city(args.households, args.seed)
    output = WORK / "out" / "2026-10-31"
    results = []
    for _ in range(args.repeat):
        shutil.rmtree(output, ignore_errors=True)
        results.append(measure([*CLI, "run", "--input", str(folder), "--output", str(output),
                                "--as-of", "2026-10-31"]))
    manifest = json.loads((output / "manifest.json").read_text(encoding="utf-8"))
    rows = manifest["totals"]["input_rows"]
    roll = manifest["inputs"]["roll"]["input_rows"]
    wall = min(r[0] for r in results)
    rss = max(r[1] for r in results)
    steps = ", ".join(f"{k} {v:.1f}s" for k, v in manifest["timings_seconds"].items())
    print(f"machine: {machine()}")
    print(f"date: {dt.date.today().isoformat()}")
    print("| households | roll rows | all input rows | wall (best of "
          f"{args.repeat}) | peak RSS | steps |")
    print("|---|---|---|---|---|---|")
    print(f"| {args.households:,} | {roll:,} | {rows:,} | {wall:.1f} s | {rss:,.0f} MiB | "
          f"{steps} |")


if __name__ == "__main__":
    main()
