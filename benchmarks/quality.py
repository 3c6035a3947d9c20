"""Per-code precision/recall/F1 of the audit on generated cities against their truth.

Usage: .venv/bin/python -m benchmarks.quality [--households 20000] [--seeds 1 2 3] [--baseline]
       [--config FILE]
`--baseline` links on exact repaired IDs only (no fuzzy links), for comparison.
Prints Markdown tables for docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import datetime as dt
import shutil
import tempfile
from pathlib import Path

import pandas as pd

from benchmarks.common import WORK, city, machine
from pipelines.run.audit import run_audit
from pipelines.synth.evaluation import (
    CodeScore,
    case_table,
    evaluate,
    evaluate_cases,
    evaluate_tiers,
    read_findings,
    table,
    tier_table,
)

AS_OF = dt.date(2026, 10, 31)
BANDS = [0.0, 0.9, 0.99, 0.999, 0.9999, 1.0001]
CASE_NOTE = ("true findings: the truth's findings resting on the kind's records; found: those "
             "the audit made; false findings: the audit's findings resting on them that the "
             "truth does not have")


def score_histogram(findings: pd.DataFrame) -> str:
    """Findings per score band and match tier (do scores and tiers separate leads?)."""
    score = pd.to_numeric(findings["score"])
    labels = [f"{a:g}-{b:g}" if b <= 1 else f"≥{a:g}" for a, b in
              zip(BANDS, BANDS[1:], strict=False)]
    band = pd.cut(score, BANDS, right=False, labels=labels)
    counts = pd.crosstab(band, findings["tier"]).reindex(
        index=labels, columns=["confirmed", "probable", "possible"], fill_value=0)
    lines = ["| score | confirmed | probable | possible |", "|---|---|---|---|"]
    for label, row in counts.iterrows():
        lines.append(f"| {label} | " + " | ".join(str(int(v)) for v in row) + " |")
    return "\n".join(lines)


def audit(folder: Path, baseline: bool, config: Path | None = None
          ) -> tuple[list[CodeScore], list[CodeScore], str, str]:
    output = WORK / "quality-out" / AS_OF.isoformat()
    shutil.rmtree(output, ignore_errors=True)
    with tempfile.TemporaryDirectory() as tmp:
        if baseline:
            config = Path(tmp) / "baseline.yaml"
            config.write_text("linkage:\n  exact_id_only: true\n", encoding="utf-8")
        run_audit(folder, output, AS_OF, config)
    findings = read_findings(output)
    truth = pd.read_csv(folder / "truth" / "findings.csv", dtype=str, keep_default_na=False)
    cases_csv = folder / "truth" / "cases.csv"
    cases = case_table(evaluate_cases(findings, truth, pd.read_csv(
        cases_csv, dtype=str, keep_default_na=False))) if cases_csv.exists() else ""
    return evaluate(findings, truth), evaluate_tiers(findings, truth), \
        score_histogram(findings), cases


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--households", type=int, default=20_000)
    parser.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3])
    parser.add_argument("--baseline", action="store_true")
    parser.add_argument("--config", type=Path, help="a user configuration file (e.g. to "
                        "compare matcher settings)")
    args = parser.parse_args()
    print(f"machine: {machine()}; date: {dt.date.today().isoformat()}")
    summary = []
    for seed in args.seeds:
        scores, tiers, histogram, cases = audit(city(args.households, seed), args.baseline,
                                                args.config)
        label = "exact-ID baseline" if args.baseline else (
            f"matcher with {args.config.name}" if args.config else "dibao-audit matcher")
        print(f"\n### {args.households:,} households, seed {seed} ({label})\n")
        print(table(scores))
        print(f"\nPer match tier:\n\n{tier_table(tiers)}")
        print(f"\nFindings per score band and tier:\n\n{histogram}")
        if cases:
            print(f"\nPer case kind (truth/cases.csv):\n\n{CASE_NOTE}\n\n{cases}")
        overall = scores[-1]
        worst = min(scores[:-1], key=lambda s: s.f1)
        worst_p = min(scores[:-1], key=lambda s: s.precision)
        summary.append(f"| {seed} | {overall.precision:.3f} | {overall.recall:.3f} | "
                       f"{overall.f1:.3f} | {worst.code} {worst.f1:.3f} | "
                       f"{worst_p.code} {worst_p.precision:.3f} |")
    print("\n| seed | precision | recall | F1 | lowest code F1 | lowest code precision |")
    print("|---|---|---|---|---|---|")
    print("\n".join(summary))


if __name__ == "__main__":
    main()
