"""What accountability costs the review app: import, the queue with its deadlines, the overdue
filter, the oversight page and its reports, at two city sizes.

Usage: .venv/bin/python -m benchmarks.oversight [--households 5000 100000] [--seed 1]
       [--repeat 3]

For each size a generated city is audited once (benchmarks/_work/oversight-<n>-s<seed>/, kept),
its output imported into a fresh SQLite file (the embedded default; timed), and each page
requested in-process (FastAPI's TestClient, so the figures are the app's work, not the
network's) with today fixed at 2026-11-27, when every lead of the audit of 2026-10-31 is
overdue: the worst case for the deadline arithmetic. Median of `--repeat` requests. Prints
Markdown for docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

from benchmarks.common import CLI, WORK, city, machine

AS_OF = "2026-10-31"
PAGES = ("/queue", "/queue?due=overdue", "/oversight", "/oversight/report.xlsx",
         "/oversight/report.pdf")


def audited(households: int, seed: int) -> Path:
    out = WORK / f"oversight-{households}-s{seed}" / AS_OF
    if not (out / "manifest.json").exists():
        subprocess.run([*CLI, "run", "--input", str(city(households, seed)), "--output",
                        str(out), "--as-of", AS_OF], check=True)
    return out


def measure(households: int, seed: int, repeat: int) -> dict[str, float]:
    from fastapi.testclient import TestClient

    from pipelines.review.app import create_app
    from pipelines.review.auth import add_user
    from pipelines.review.db import open_database
    from pipelines.review.importer import import_run

    os.environ["DIBAO_TODAY"] = "2026-11-27"
    out = audited(households, seed)
    figures: dict[str, float] = {}
    with tempfile.TemporaryDirectory(prefix="dibao-oversight-") as tmp:
        url = f"sqlite:///{tmp}/review.sqlite3"
        engine, factory = open_database(url)
        started = time.perf_counter()
        result = import_run(factory, out)
        figures["import"] = time.perf_counter() - started
        figures["findings"] = result.total
        add_user(factory, "sup", "bench-password-123", "supervisor")
        engine.dispose()
        app = create_app(url)
        client = TestClient(app, base_url="https://testserver", follow_redirects=False)
        page = client.get("/login").text
        token = re.search(r'name="csrf_token" value="([^"]+)"', page)
        assert token is not None
        client.post("/login", data={"username": "sup", "password": "bench-password-123",
                                    "csrf_token": token.group(1), "next": "/queue"})
        for path in PAGES:
            times = []
            for _ in range(repeat):
                started = time.perf_counter()
                response = client.get(path)
                times.append(time.perf_counter() - started)
                assert response.status_code == 200, (path, response.status_code)
            figures[path] = statistics.median(times)
        app.state.engine.dispose()
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--households", type=int, nargs="+", default=[5000, 100000])
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    rows = [(n, measure(n, args.seed, args.repeat)) for n in args.households]
    print(f"{machine()}\n")
    print("| households | leads | import (s) | " + " | ".join(f"`{p}` (s)" for p in PAGES) + " |")
    print("|---|---|---|" + "---|" * len(PAGES))
    for n, f in rows:
        print(f"| {n:,} | {int(f['findings']):,} | {f['import']:.2f} | "
              + " | ".join(f"{f[p]:.2f}" for p in PAGES) + " |")
    if len(rows) == 2:
        (a, fa), (b, fb) = rows
        growth = fb["findings"] / fa["findings"]
        print(f"\nLeads grew {growth:.1f}x; import {fb['import'] / fa['import']:.1f}x, "
              + ", ".join(f"`{p}` {fb[p] / fa[p]:.1f}x" for p in PAGES) + ".")


if __name__ == "__main__":
    main()
