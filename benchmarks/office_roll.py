"""The roll as a street office's workbook against the same roll as one CSV.

Usage: .venv/bin/python -m benchmarks.office_roll [--households 20000] [--seed 1]

Generates (once) a synthetic city, rewrites its roll.csv as a workbook with one sheet per
street under two title rows, a 小计 row per sheet, notes under the last table, an
instructions sheet and a summary sheet (tests/office_export.py), runs `dibao-audit run` on
both input folders as child processes and compares findings.csv, remove_list.csv and
add_list.csv byte for byte. Prints Markdown for docs/benchmarks.md: wall time and peak RSS of
each run, the roll's ingest time from each manifest, and whether the outputs are identical.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import shutil
import time

from benchmarks.common import CLI, WORK, city, machine, measure
from tests.office_export import office_workbook

AS_OF = "2026-10-31"
OUTPUTS = ("findings.csv", "remove_list.csv", "add_list.csv")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--households", type=int, default=20000)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    plain = city(args.households, args.seed)
    base = WORK / f"office-{args.households}-s{args.seed}"
    shutil.rmtree(base, ignore_errors=True)
    office = base / "input"
    shutil.copytree(plain, office, ignore=shutil.ignore_patterns("truth", "roll.*"))
    started = time.perf_counter()
    sheets = office_workbook(plain / "roll.csv", office / "roll.xlsx")
    convert = time.perf_counter() - started
    results = {}
    for label, folder in (("csv", plain), ("workbook", office)):
        output = base / label / AS_OF
        wall, rss = measure([*CLI, "run", "--input", str(folder), "--output", str(output),
                             "--as-of", AS_OF])
        manifest = json.loads((output / "manifest.json").read_text(encoding="utf-8"))
        results[label] = (wall, rss, manifest, output)
    same = {name: (results["csv"][3] / name).read_bytes()
            == (results["workbook"][3] / name).read_bytes() for name in OUTPUTS}
    roll = {k: v[2]["inputs"]["roll"] for k, v in results.items()}
    print(f"### Roll as a multi-sheet workbook ({args.households:,} households, seed "
          f"{args.seed}; {dt.date.today()})\n")
    print(f"Machine: {machine()}. Workbook: {sheets} street sheets, "
          f"{(office / 'roll.xlsx').stat().st_size / 2**20:.1f} MiB, written in {convert:.1f} s.\n")
    print("| input | roll rows read | loaded | quarantined | ingest, all datasets (s) | audit wall (s) "
          "| peak RSS (MiB) |")
    print("|---|---|---|---|---|---|---|")
    for label, (wall, rss, manifest, _) in results.items():
        r = roll[label]
        ingest = manifest["timings_seconds"]["ingest"]
        print(f"| {label} | {r['input_rows']:,} | {r['loaded_rows']:,} | "
              f"{r['quarantined_rows']:,} | {ingest:.1f} | {wall:.1f} | {rss:.0f} |")
    print("\nOutputs identical: " + ", ".join(f"{k} {'yes' if v else 'NO'}"
                                              for k, v in same.items()))
    if not all(same.values()):
        raise SystemExit("the workbook's audit differs from the CSV's")


if __name__ == "__main__":
    main()
