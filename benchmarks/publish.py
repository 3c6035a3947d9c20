"""Publicity export time and memory: `dibao-audit publish` on a stored audit of a synthetic city.

Usage: .venv/bin/python -m benchmarks.publish [--households 100000] [--seed 1] [--repeat 1]
       [--workers N]
The city is generated once and audited once (`dibao-audit run`, skipped when its audit is
already in benchmarks/_work/publish-<households>-s<seed>/); then `dibao-audit publish` runs as
a child process, timed from process start to exit (installation excluded). Two memory figures:
the largest single process (os.wait4, which covers waited-for worker processes too) and the
peak of the whole process tree summed, sampled from /proc every 200 ms. `--workers N` runs the
same CLI with write_publicity's `workers` fixed to N (to compare worker counts; without it,
write_publicity's default). Prints Markdown for docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

from benchmarks.common import CLI, WORK, city, machine

AS_OF = "2026-10-31"
PAGE = os.sysconf("SC_PAGE_SIZE")
# The CLI, with write_publicity's worker count fixed (argv[1]) for this process only.
WITH_WORKERS = """
import functools, sys
import pipelines.publication as publication
workers = int(sys.argv.pop(1))
publication.write_publicity = functools.partial(publication.write_publicity, workers=workers)
from pipelines.cli import main
sys.exit(main(sys.argv[1:]))
"""


def audited(households: int, seed: int) -> Path:
    """The output folder of the city's audit of AS_OF (run once; the warehouse sits beside it)."""
    folder = city(households, seed)
    base = WORK / f"publish-{households}-s{seed}"
    output = base / AS_OF
    if not (output / "manifest.json").exists() or not (base / "warehouse.duckdb").exists():
        shutil.rmtree(base, ignore_errors=True)
        subprocess.run([*CLI, "run", "--input", str(folder), "--output", str(output),
                        "--as-of", AS_OF], check=True)
    return output


def _tree_rss(root: int) -> int:
    """Resident bytes of `root` and all its descendants now (0 for processes already gone)."""
    total, todo = 0, [root]
    while todo:
        pid = todo.pop()
        try:
            total += int((Path("/proc") / str(pid) / "statm").read_text().split()[1]) * PAGE
            for task in (Path("/proc") / str(pid) / "task").iterdir():
                todo += [int(child) for child in (task / "children").read_text().split()]
        except (OSError, ValueError):  # gone meanwhile
            continue
    return total


def measure_tree(command: list[str]) -> tuple[float, float, float]:
    """(wall seconds, largest process peak RSS MiB, peak summed RSS of the tree MiB)."""
    started = time.perf_counter()
    child = subprocess.Popen(command)
    peak = 0
    done = threading.Event()

    def sample() -> None:
        nonlocal peak
        while not done.is_set():
            peak = max(peak, _tree_rss(child.pid))
            done.wait(0.2)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    _, status, usage = os.wait4(child.pid, 0)
    wall = time.perf_counter() - started
    done.set()
    sampler.join()
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"benchmark command failed: {' '.join(command)}")
    return wall, usage.ru_maxrss / 1024, peak / 2**20


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--households", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--workers", type=int, help="worker processes (default: write_publicity's)")
    args = parser.parse_args()
    output = audited(args.households, args.seed)
    cli = CLI if args.workers is None else [sys.executable, "-c", WITH_WORKERS, str(args.workers)]
    runs = []
    for _ in range(args.repeat):
        shutil.rmtree(output / "publicity", ignore_errors=True)
        runs.append(measure_tree([*cli, "publish", "--as-of", AS_OF, "--output", str(output)]))
    files = sorted((output / "publicity").iterdir())
    communities = sum(p.suffix == ".pdf" for p in files)
    best = min(w for w, _, _ in runs)
    print(f"machine: {machine()}; date: {dt.date.today().isoformat()}")
    print(f"\n### Publish, {args.households:,} households (seed {args.seed}), "
          f"workers {args.workers if args.workers is not None else 'default'}\n")
    print("| communities | files | wall s (runs) | best wall | s per community | "
          "peak RSS, largest process | peak RSS, all processes |")
    print("|---|---|---|---|---|---|---|")
    print(f"| {communities:,} | {len(files):,} | {', '.join(f'{w:.1f}' for w, _, _ in runs)} | "
          f"{best:.1f} s | {best / max(communities, 1):.3f} | "
          f"{max(r for _, r, _ in runs):,.0f} MiB | {max(t for _, _, t in runs):,.0f} MiB |")


if __name__ == "__main__":
    main()
