"""Publicity export time and memory: `dibao-audit publish` on a stored audit of a synthetic city.

Usage: .venv/bin/python -m benchmarks.publish [--households 100000] [--seed 1] [--repeat 1]
       [--workers N] [--per-file]
The city is generated once and audited once (`dibao-audit run`, skipped when its audit is
already in benchmarks/_work/publish-<households>-s<seed>/); then `dibao-audit publish` runs as
a child process, timed from process start to exit (installation excluded). Two memory figures:
the largest single process (os.wait4, which covers waited-for worker processes too) and the
peak of the whole process tree summed, sampled from /proc every 200 ms. `--workers N` runs the
CLI with `publicity.workers: N` (a configuration file beside the audit) to compare worker
counts; without it, the configured default. `--per-file` instead renders every community's
XLSX and PDF in this process, one after the other, and reports seconds per file (and the PDF
tables' share). Prints Markdown for docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import shutil
import statistics
import subprocess
import threading
import time
from pathlib import Path

from benchmarks.common import CLI, WORK, city, machine

AS_OF = "2026-10-31"
PAGE = os.sysconf("SC_PAGE_SIZE")


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


def per_file(output: Path, households: int) -> None:
    """Seconds per community file, rendered in this process (the audit's warehouse rows)."""
    from pipelines.config import load_config
    from pipelines.io import publicity_pdf
    from pipelines.io.publicity_xlsx import render_xlsx
    from pipelines.io.warehouse import open_warehouse
    from pipelines.publicity.lists import community_lists
    from pipelines.publicity.publish import publicity_rows

    as_of = dt.date.fromisoformat(AS_OF)
    config = load_config()
    with open_warehouse(str(output.parent / "warehouse.duckdb")) as store:
        rows = publicity_rows(store, as_of)
    lists = list(community_lists(rows, as_of, config.publicity, config.city.name).values())
    table = 0.0
    draw = publicity_pdf._table

    def timed_table(*args: object, **kwargs: object) -> None:
        nonlocal table
        started = time.perf_counter()
        draw(*args, **kwargs)  # type: ignore[arg-type]
        table += time.perf_counter() - started

    publicity_pdf._table = timed_table
    started = time.perf_counter()
    xlsx, pdf, tables = [], [], []
    with publicity_pdf.PdfFonts.prepare(config.publicity.font, lists, config.city.name) as fonts:
        prepared = time.perf_counter() - started
        for plist in lists:
            table, started = 0.0, time.perf_counter()
            render_xlsx(plist)
            middle = time.perf_counter()
            publicity_pdf.render_pdf(plist, fonts)
            xlsx.append(middle - started)
            pdf.append(time.perf_counter() - middle)
            tables.append(table)
    rows_each = statistics.mean(len(p.listed) + len(p.stopped) for p in lists)
    print(f"machine: {machine()}; date: {dt.date.today().isoformat()}")
    print(f"\n### Per file, {households:,} households, in one process\n")
    print("| communities | rows each (mean) | font subsets (once) | XLSX s (mean / median) | "
          "PDF s (mean / median) | of which tables |")
    print("|---|---|---|---|---|---|")
    print(f"| {len(lists):,} | {rows_each:.0f} | {prepared:.1f} s | "
          f"{statistics.mean(xlsx):.3f} / {statistics.median(xlsx):.3f} | "
          f"{statistics.mean(pdf):.3f} / {statistics.median(pdf):.3f} | "
          f"{statistics.mean(tables):.3f} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--households", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--workers", type=int, help="worker processes (default: configured)")
    parser.add_argument("--per-file", action="store_true",
                        help="seconds per community file, rendered in this process")
    args = parser.parse_args()
    output = audited(args.households, args.seed)
    if args.per_file:
        per_file(output, args.households)
        return
    options = []
    if args.workers is not None:
        settings = output.parent / f"publish-workers-{args.workers}.yaml"
        settings.write_text(f"publicity:\n  workers: {args.workers}\n", encoding="utf-8")
        options = ["--config", str(settings)]
    runs = []
    for _ in range(args.repeat):
        shutil.rmtree(output / "publicity", ignore_errors=True)
        runs.append(measure_tree([*CLI, "publish", "--as-of", AS_OF, "--output", str(output),
                                  *options]))
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
