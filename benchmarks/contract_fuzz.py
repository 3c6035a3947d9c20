"""The input-contract property, run long: many input folders drawn from the contract's dataset
table (tests/contract_files.py), each through `dibao-audit run` in-process.

    python benchmarks/contract_fuzz.py --examples 5000 --workers 2 --seed 1 \
        --keep-failures benchmarks/_work/contract_failures

Each worker draws its share of folders with Hypothesis (generation only: no shrinking, no
example database; worker i uses seed N+i, so a run is reproducible), runs the audit and checks
the property of tests/test_contract_property.py: exit 0 with every row accounted for, or exit 2
with a message naming the file (and the column), never an exception. It counts folders tried and
their outcomes, prints progress, and saves every failing folder with its traceback under
--keep-failures (<dir>/<seed>-<n>/input/, failure.txt, folder.json) for reproduction:

    dibao-audit run --input <dir>/<seed>-<n>/input --output /tmp/out/2026-10-31 --as-of 2026-10-31

Needs no pytest. Exit status 1 when any folder failed.
"""

from __future__ import annotations

import argparse
import collections
import json
import shutil
import sys
import tempfile
import time
import traceback
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


def _worker(seed: int, examples: int, keep: str | None, every: int, faults: str,
            avoid: list[str]) -> dict[str, Any]:
    from hypothesis import HealthCheck, Phase, given, settings
    from hypothesis import seed as hypothesis_seed

    from tests import contract_files
    from tests.contract_files import AS_OF, ContractViolation, check_outcome, folders, run_cli

    contract_files.AVOID.update(avoid)

    counts: collections.Counter[str] = collections.Counter()
    findings: collections.Counter[str] = collections.Counter()
    failures: list[dict[str, str]] = []
    started = time.perf_counter()
    with_faults = {"mixed": None, "only": True, "none": False}[faults]

    @hypothesis_seed(seed)
    @settings(max_examples=examples, deadline=None, database=None, phases=[Phase.generate],
              suppress_health_check=list(HealthCheck), print_blob=False)
    @given(folders(faults=with_faults))
    def one(folder: Any) -> None:
        counts["tried"] += 1
        counts["with_fault" if folder.fault else ("clean" if folder.clean else "messy")] += 1
        with tempfile.TemporaryDirectory(prefix="contract-fuzz-") as tmp:
            input_dir = Path(tmp) / "input"
            output_dir = Path(tmp) / "out" / AS_OF
            try:
                folder.write(input_dir)
                result = run_cli(input_dir, output_dir)
                outcome = check_outcome(folder, result, input_dir, output_dir)
                counts[outcome] += 1
                if outcome == "exit0":
                    manifest = json.loads((output_dir / "manifest.json").read_text("utf-8"))
                    for code, n in (manifest.get("findings") or {}).items():
                        if isinstance(n, int) and n:
                            findings[code] += n
                elif folder.fault is None:
                    counts["exit2_critical_expectation"] += 1
            except Exception as exc:  # a contract violation, or a bug in the harness itself
                counts["failed"] += 1
                text = str(exc) if isinstance(exc, ContractViolation) else traceback.format_exc()
                failures.append({"seed": str(seed), "example": str(counts["tried"]),
                                 "summary": text.splitlines()[0] if text else type(exc).__name__})
                if keep:
                    target = Path(keep) / f"{seed}-{counts['tried']}"
                    shutil.rmtree(target, ignore_errors=True)
                    target.mkdir(parents=True)
                    if input_dir.exists():
                        shutil.copytree(input_dir, target / "input")
                    (target / "failure.txt").write_text(text + "\n", encoding="utf-8")
                    (target / "folder.json").write_text(
                        json.dumps(folder.describe(), ensure_ascii=False, indent=1, default=str)
                        + "\n", encoding="utf-8")
                print(f"[seed {seed}] FAILED example {counts['tried']}: "
                      f"{failures[-1]['summary']}", flush=True)
        if counts["tried"] % every == 0:
            rate = (time.perf_counter() - started) / counts["tried"]
            print(f"[seed {seed}] {counts['tried']}/{examples} tried: exit0 {counts['exit0']}, "
                  f"exit2 {counts['exit2']}, failed {counts['failed']} ({rate:.2f} s/folder)",
                  flush=True)

    one()
    return {"seed": seed, "counts": dict(counts), "findings": dict(findings), "failures": failures,
            "seconds": round(time.perf_counter() - started, 1)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--examples", type=int, default=200, help="folders to try in all")
    parser.add_argument("--workers", type=int, default=1, help="processes (one seed each)")
    parser.add_argument("--seed", type=int, default=1, help="worker i uses seed + i")
    parser.add_argument("--keep-failures", metavar="DIR",
                        help="save every failing folder here, with its traceback")
    parser.add_argument("--progress", type=int, default=25, help="print every N folders")
    parser.add_argument("--faults", choices=("mixed", "only", "none"), default="mixed",
                        help="folders with a fault that must end in exit 2: some, all or none")
    parser.add_argument("--avoid-known", action="store_true",
                        help="do not draw the shapes of known, reported bugs "
                        "(tests/contract_files.py KNOWN_BUGS), to look for others")
    args = parser.parse_args(argv)
    if args.examples < 1 or args.workers < 1:
        parser.error("--examples and --workers must be at least 1")
    from tests.contract_files import KNOWN_BUGS

    avoid = sorted(KNOWN_BUGS) if args.avoid_known else []
    workers = min(args.workers, args.examples)
    shares = [args.examples // workers + (1 if i < args.examples % workers else 0)
              for i in range(workers)]
    started = time.perf_counter()
    print(f"contract fuzz: {args.examples} folders, {workers} worker(s), seeds "
          f"{args.seed}..{args.seed + workers - 1}"
          + (f"; not drawing known bugs: {', '.join(avoid)}" if avoid else ""), flush=True)
    if workers == 1:
        results = [_worker(args.seed, shares[0], args.keep_failures, args.progress, args.faults,
                           avoid)]
    else:
        with ProcessPoolExecutor(max_workers=workers) as pool:
            futures = [pool.submit(_worker, args.seed + i, share, args.keep_failures,
                                   args.progress, args.faults, avoid)
                       for i, share in enumerate(shares)]
            results = [f.result() for f in futures]
    total: collections.Counter[str] = collections.Counter()
    found: collections.Counter[str] = collections.Counter()
    for result in results:
        total.update(result["counts"])
        found.update(result["findings"])
    seconds = time.perf_counter() - started
    print(f"\nfolders tried: {total['tried']} ({total['clean']} clean, {total['messy']} messy, "
          f"{total['with_fault']} with a fault) in {seconds:.0f} s "
          f"({seconds / max(1, total['tried']):.2f} s/folder per run)")
    print(f"exit 0: {total['exit0']}   exit 2: {total['exit2']} ({total['with_fault']} faults, "
          f"{total['exit2_critical_expectation']} messy folders refused by a critical "
          f"expectation)   failed: {total['failed']}")
    print("findings in exit-0 runs: " + (", ".join(f"{k} {v}" for k, v in sorted(found.items()))
                                         or "none"))
    for result in results:
        for failure in result["failures"]:
            print(f"  seed {failure['seed']} example {failure['example']}: {failure['summary']}")
    if total["failed"] and args.keep_failures:
        print(f"failing folders saved under {args.keep_failures}")
    return 1 if total["failed"] else 0


if __name__ == "__main__":
    sys.exit(main())
