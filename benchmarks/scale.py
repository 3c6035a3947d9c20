"""How the audit's cost grows with the city: wall time, peak memory, time per stage and candidate
pairs per record per blocking pass, at several sizes, with the growth exponent between sizes.

Usage: .venv/bin/python -m benchmarks.scale [--households 100000 300000 1000000] [--seed 1]
       [--config FILE]
Each size runs `dibao-audit run` as a child process; peak RSS and peak PSS are sums over it and
its worker processes, sampled every 0.1 s (RSS counts pages the processes share once in each,
PSS shares them out); the wall time is process start to exit. The growth exponent of a figure between
two sizes is the slope of log(figure) against log(roll rows): 1.0 grows linearly. Prints
Markdown for docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import math
import shutil
from pathlib import Path
from typing import Any

from benchmarks.common import CLI, WORK, city, machine, measure_tree


def run(households: int, seed: int, config: Path | None) -> dict[str, Any]:
    folder = city(households, seed)
    output = WORK / f"scale-out-{households}" / "2026-10-31"
    shutil.rmtree(output.parent, ignore_errors=True)
    command = [*CLI, "run", "--input", str(folder), "--output", str(output),
               "--as-of", "2026-10-31"]
    if config is not None:
        command += ["--config", str(config)]
    wall, rss, pss = measure_tree(command)
    manifest = json.loads((output / "manifest.json").read_text(encoding="utf-8"))
    shutil.rmtree(output.parent, ignore_errors=True)  # findings of a city-sized audit
    return {"households": households, "wall": wall, "rss": rss, "pss": pss,
            "roll": manifest["tables"]["norm_roll"],
            "rows": sum(manifest["tables"].values()),
            "steps": manifest["timings_seconds"], "linkage": manifest["linkage"]}


def slope(a: float, b: float, x: float, y: float) -> float:
    """Growth exponent of a figure going from `a` to `b` while the size goes from x to y."""
    if a <= 0 or b <= 0:
        return float("nan")
    return math.log(b / a) / math.log(y / x)


def pairs_per_record(linkage: list[dict[str, Any]]) -> dict[str, float]:
    """Candidate pairs per evidence record, per blocking pass, over every evidence dataset."""
    records = sum(s["records"] for s in linkage if s["dataset"] != "roll")
    passes: dict[str, int] = {}
    for stats in linkage:
        if stats["dataset"] == "roll":
            continue
        for name, n in stats.get("pairs_by_pass", {}).items():
            passes[name] = passes.get(name, 0) + int(n)
    return {name: n / max(records, 1) for name, n in passes.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--households", type=int, nargs="+",
                        default=[100_000, 300_000, 1_000_000])
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--config", type=Path)
    args = parser.parse_args()
    results = [run(n, args.seed, args.config) for n in args.households]
    print(f"machine: {machine()}; date: {dt.date.today().isoformat()}; seed {args.seed}")
    steps = list(results[0]["steps"])
    print("\n| households | roll rows | input rows | wall | peak RSS | peak PSS | "
          + " | ".join(steps) + " |")
    print("|---|---|---|---|---|---|" + "---|" * len(steps))
    for r in results:
        print(f"| {r['households']:,} | {r['roll']:,} | {r['rows']:,} | {r['wall']:.1f} s | "
              f"{r['rss']:,.0f} MiB | {r['pss']:,.0f} MiB | "
              + " | ".join(f"{r['steps'].get(s, 0):.1f} s" for s in steps) + " |")
    for a, b in zip(results, results[1:], strict=False):
        x, y = a["roll"], b["roll"]
        parts = [f"wall {slope(a['wall'], b['wall'], x, y):.2f}",
                 f"peak RSS {slope(a['rss'], b['rss'], x, y):.2f}",
                 f"peak PSS {slope(a['pss'], b['pss'], x, y):.2f}"]
        parts += [f"{s} {slope(a['steps'].get(s, 0), b['steps'].get(s, 0), x, y):.2f}"
                  for s in steps]
        print(f"\nGrowth exponent {a['households']:,} → {b['households']:,} households: "
              + ", ".join(parts))
    names = sorted({p for r in results for p in pairs_per_record(r["linkage"])})
    print("\nCandidate pairs per evidence record, per blocking pass:\n")
    print("| pass | " + " | ".join(f"{r['households']:,}" for r in results) + " |")
    print("|---|" + "---|" * len(results))
    per = [pairs_per_record(r["linkage"]) for r in results]
    for name in names:
        print(f"| {name} | " + " | ".join(f"{p.get(name, 0):.4f}" for p in per) + " |")
    capped = [{f"{s['dataset']}, {k}": v for s in r["linkage"]
               for k, v in s.get("capped_by_pass", {}).items()} for r in results]
    print("\nRecords left out of a pass by the block cap: "
          + "; ".join(f"{r['households']:,} households: {c or 'none'}"
                      for r, c in zip(results, capped, strict=True)))


if __name__ == "__main__":
    main()
