"""Full-audit wall time and peak memory, and the deaths link against Splink's in the same run.

Usage: .venv/bin/python -m benchmarks.speed [--households 100000] [--seed 1] [--repeat 2]
       [--no-splink]
The audit runs as a child process (`dibao-audit run`, process start to exit, installation
excluded); peak RSS is the child's. The deaths link is then timed in-process twice on the same
ingested tables: the project's matcher and Splink 5 (benchmarks/splink_deaths.py), scored
against the city's truth. Prints Markdown for docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import shutil
import subprocess
import sys

from benchmarks.common import CLI, WORK, city, machine, measure

# Splink thresholds (checked model, unchecked EM model) chosen for best F1 on the dev city
# (20,000 households, seed 1): docs/decisions/0002-matcher-splink-vs-own.md.
SPLINK_THRESHOLDS = ("0.9806", "0.992787")


def full_audit(households: int, seed: int, repeat: int) -> None:
    folder = city(households, seed)
    output = WORK / "speed-out" / "2026-10-31"
    runs = []
    for _ in range(repeat):
        shutil.rmtree(output, ignore_errors=True)
        runs.append(measure([*CLI, "run", "--input", str(folder), "--output", str(output),
                             "--as-of", "2026-10-31"]))
    manifest = json.loads((output / "manifest.json").read_text(encoding="utf-8"))
    totals = manifest["totals"]
    steps = ", ".join(f"{k} {v:.1f}s" for k, v in manifest["timings_seconds"].items())
    walls = ", ".join(f"{w:.1f}" for w, _ in runs)
    print(f"\n### Full audit, {households:,} households (seed {seed})\n")
    print("| roll rows | input rows | wall s (runs) | best wall | peak RSS | steps (last run) |")
    print("|---|---|---|---|---|---|")
    print(f"| {manifest['inputs']['roll']['input_rows']:,} | {totals['input_rows']:,} | {walls} | "
          f"{min(w for w, _ in runs):.1f} s | {max(r for _, r in runs):,.0f} MiB | {steps} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--households", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--no-splink", action="store_true")
    args = parser.parse_args()
    print(f"machine: {machine()}; date: {dt.date.today().isoformat()}")
    full_audit(args.households, args.seed, args.repeat)
    if not args.no_splink:
        # The same deaths link, the project's matcher and Splink's, timed and scored in one
        # process on the same ingested tables (thresholds chosen on the 20k dev city, seed 1).
        print(f"\n### Deaths link, own matcher and Splink 5, {args.households:,} households\n",
              flush=True)
        subprocess.run([sys.executable, "-m", "benchmarks.splink_deaths",
                        "--households", str(args.households), "--seeds", str(args.seed),
                        "--thresholds", *SPLINK_THRESHOLDS, "--repeat", "3"], check=True)


if __name__ == "__main__":
    main()
