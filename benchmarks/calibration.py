"""How well the match probabilities are calibrated: predicted against observed, on generated truth
or on review decisions.

Usage:
  .venv/bin/python -m benchmarks.calibration [--households 20000] [--seed 1] [--png FILE]
  .venv/bin/python -m benchmarks.calibration --review-db URL [--png FILE]

On a generated city every candidate pair of every evidence dataset is scored (before the
decision rules) and is true when the city's truth links that record to that roll member's
person. It prints Markdown: the reliability table of the link score (pipelines/link/
probability.py) beside the old Fellegi-Sunter score with configured weights, the Brier score
of each (over all candidate pairs and over the linked ones), and the histogram of linked
pairs' scores per match tier. `--png` draws the reliability diagram.

With `--review-db` the labels are the caseworkers' decisions instead: a decided finding is a
wrong match when it was dismissed as not the same person, a right one when it was confirmed or
dismissed for another reason (the person was right). The same table and diagram, from the
scores the findings carried.
"""

from __future__ import annotations

import argparse
import datetime as dt
from pathlib import Path

import numpy as np
import pandas as pd

from benchmarks.common import city, machine
from pipelines.config import load_config
from pipelines.ingest.dataset import find_inputs, ingest_dataset
from pipelines.io.duck import connect, load_table
from pipelines.link.linker import (
    decide,
    load_params,
    match_probabilities,
    population,
    prepare,
    score_candidates,
)
from pipelines.link.scoring import ID_EDIT1, TIER_NAMES

BANDS = [0.0, 0.01, 0.05, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95, 0.99, 0.999,
         1.000001]
HISTOGRAM = [0.0, 0.5, 0.8, 0.9, 0.95, 0.99, 0.999, 0.9999, 1.000001]
#: review states whose person was right (the finding may still be legitimate or handled)
RIGHT_PERSON = ("confirmed", "escalated", "dismissed_legitimate", "dismissed_handled")
TIER_ORDER = {name: rank for rank, name in TIER_NAMES.items()}


def by_tier(pairs: pd.DataFrame) -> list[tuple[str, pd.DataFrame]]:
    """Linked pairs per tier, confirmed first."""
    linked = pairs[pairs["linked"]]
    return sorted(((str(t), g) for t, g in linked.groupby("tier")),
                  key=lambda item: TIER_ORDER.get(item[0], 9))


def city_pairs(households: int, seed: int) -> pd.DataFrame:
    """Every candidate pair of a generated city: dataset, score (probability), fs (the old
    score), true, linked, tier."""
    folder = city(households, seed)
    config = load_config()
    found, _ = find_inputs(folder, config)
    con = connect()
    for dataset, path in found.items():
        load_table(con, f"norm_{dataset}", ingest_dataset(dataset, path, config).loaded)
    params = load_params()
    prepare(con, config.linked())
    people = population(con, params)
    # a pair is true when the record's true person is the roll member's true person
    roll = pd.read_csv(folder / "truth" / "roll.csv", dtype=str)
    person = dict(zip(roll["row"].astype(int), roll["true_id_number"], strict=True))
    truth = pd.read_csv(folder / "truth" / "links.csv", dtype=str)
    kin = truth["dataset"] == "kin_filings"
    truth.loc[kin, "record_id"] = "kin:" + truth.loc[kin, "record_id"]
    true_pairs = set(zip(truth["dataset"], truth["record_id"], truth["true_id_number"],
                         strict=True))
    rows = []
    for dataset, spec in config.linked().items():
        if dataset not in found:
            continue
        frame, scored, _ = score_candidates(con, dataset, params, people, spec)
        if scored is None:
            continue
        scored = match_probabilities(con, dataset, frame, scored, params)
        who = [person.get(int(k)) for k in frame["member_key"]]
        is_true = np.array([(dataset, r, p) in true_pairs
                            for r, p in zip(frame["record_id"], who, strict=True)])
        corroborated = scored.corroborated
        if spec.id_typo_corroborates:
            corroborated = corroborated | (scored.id_level == ID_EDIT1)
        linked, _ = decide(frame, scored.weight, scored.score, corroborated, scored.id_level,
                           params)
        rows.append(pd.DataFrame({
            "dataset": dataset, "score": scored.probability, "fs": scored.score,
            "true": is_true, "linked": linked,
            "tier": [TIER_NAMES[int(t)] for t in scored.tier]}))
    return pd.concat(rows, ignore_index=True)


def review_pairs(url: str) -> pd.DataFrame:
    """Decided findings of a review database: score, true (right person), tier."""
    from sqlalchemy import select

    from pipelines.review.db import make_engine
    from pipelines.review.models import Finding

    with make_engine(url).connect() as db:
        found = db.execute(select(Finding.score, Finding.status, Finding.tier).where(
            Finding.status.in_((*RIGHT_PERSON, "dismissed_wrong_person")))).all()
    frame = pd.DataFrame(found, columns=["score", "status", "tier"])
    return pd.DataFrame({"score": frame["score"].astype(float),
                         "true": frame["status"].isin(RIGHT_PERSON),
                         "linked": True, "tier": frame["tier"].fillna("")})


def reliability(score: pd.Series, true: pd.Series) -> pd.DataFrame:
    """Per score band: pairs, mean predicted, observed share true."""
    bands = pd.cut(score, BANDS, right=False)
    table = pd.DataFrame({"band": bands, "score": score, "true": true.astype(float)}).groupby(
        "band", observed=False).agg(pairs=("true", "size"), predicted=("score", "mean"),
                                    observed=("true", "mean"))
    return table


def brier(score: pd.Series, true: pd.Series) -> float:
    return float(np.mean((score.to_numpy(dtype=float) - true.to_numpy(dtype=float)) ** 2))


def markdown(pairs: pd.DataFrame) -> str:
    lines = []
    columns = [("score", "match probability")] + (
        [("fs", "old score (configured weights)")] if "fs" in pairs else [])
    for column, label in columns:
        lines += [f"\n**{label}**: Brier {brier(pairs[column], pairs['true']):.5f} over all "
                  f"{len(pairs):,} pairs; over the {int(pairs['linked'].sum()):,} linked, "
                  f"{brier(pairs.loc[pairs['linked'], column], pairs.loc[pairs['linked'], 'true']):.5f}",
                  "", "| band | pairs | mean predicted | observed true |", "|---|---|---|---|"]
        for band, row in reliability(pairs[column], pairs["true"]).iterrows():
            if row["pairs"]:
                lines.append(f"| {band} | {int(row['pairs']):,} | {row['predicted']:.4f} | "
                             f"{row['observed']:.4f} |")
    lines += ["", "**linked pairs' match probability per tier** (count; share true)", "",
              "| tier | " + " | ".join(f"[{a}, {min(b, 1.0)})" for a, b in
                                      zip(HISTOGRAM, HISTOGRAM[1:], strict=False)) + " |",
              "|---|" + "---|" * (len(HISTOGRAM) - 1)]
    for tier, group in by_tier(pairs):
        bands = pd.cut(group["score"], HISTOGRAM, right=False)
        stats = group.groupby(bands, observed=False)["true"].agg(["size", "mean"])
        cells = [f"{int(n):,}" + (f"; {m:.2f}" if n else "") for n, m in
                 zip(stats["size"], stats["mean"], strict=True)]
        lines.append(f"| {tier} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def draw(pairs: pd.DataFrame, path: Path, title: str) -> None:
    """Reliability diagram (predicted against observed per band, the old score beside) over a
    histogram of the scores of linked pairs per tier."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (top, bottom) = plt.subplots(2, 1, figsize=(6.4, 8.0), height_ratios=[3, 2])
    top.plot([0, 1], [0, 1], color="grey", linestyle=":", label="perfectly calibrated")
    columns = [("score", "match probability", "tab:blue")] + (
        [("fs", "old score (configured weights)", "tab:orange")] if "fs" in pairs else [])
    for column, label, colour in columns:
        table = reliability(pairs[column], pairs["true"])
        table = table[table["pairs"] > 0]
        top.plot(table["predicted"], table["observed"], marker="o", color=colour,
                 label=f"{label} (Brier {brier(pairs[column], pairs['true']):.4f})")
    top.set_xlabel("predicted probability (mean per band)")
    top.set_ylabel("observed share of true pairs")
    top.set_title(title, fontsize=10)
    top.legend(loc="upper left", fontsize=8)
    edges = np.linspace(0, 1, 21)
    for tier, group in by_tier(pairs):
        bottom.hist(group["score"], bins=edges, alpha=0.6, label=f"{tier} ({len(group):,})")
    bottom.set_yscale("log")
    bottom.set_xlabel("match probability of linked pairs")
    bottom.set_ylabel("pairs (log)")
    bottom.legend(loc="upper left", fontsize=8)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--households", type=int, default=20_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--review-db", help="labels from this review database's decisions")
    parser.add_argument("--png", type=Path, help="draw the reliability diagram into this file")
    args = parser.parse_args()
    if args.review_db:
        pairs = review_pairs(args.review_db)
        title = f"review decisions: {len(pairs):,} decided findings"
    else:
        pairs = city_pairs(args.households, args.seed)
        title = (f"{args.households:,} households, seed {args.seed}: "
                 f"{len(pairs):,} candidate pairs")
    print(f"machine: {machine()}; date: {dt.date.today().isoformat()}; {title}")
    if pairs.empty:
        print("\nnothing to measure: no decided findings")
        return
    print(markdown(pairs))
    if args.png:
        draw(pairs, args.png, title)
        print(f"\ndiagram: {args.png}")


if __name__ == "__main__":
    main()
