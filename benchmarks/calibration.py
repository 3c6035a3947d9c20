"""How well the matcher's scores are calibrated: share of true pairs per score band.

Usage: .venv/bin/python -m benchmarks.calibration [--households 20000] [--seed 1]
Every candidate pair of every evidence dataset is scored (before the decision rules); a pair is
true when the city's truth links that record to that roll member's household. Prints Markdown.
"""

from __future__ import annotations

import argparse
import datetime as dt

import numpy as np
import pandas as pd

from benchmarks.common import city, machine
from pipelines.config import load_config
from pipelines.ingest.dataset import find_inputs, ingest_dataset
from pipelines.io.duck import connect, load_table
from pipelines.link.linker import (
    decide,
    load_params,
    population,
    prepare,
    score_candidates,
)
from pipelines.link.scoring import ID_EDIT1

BANDS = [0.0, 0.01, 0.1, 0.5, 0.9, 0.99, 0.999, 1.000001]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--households", type=int, default=20_000)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    folder = city(args.households, args.seed)
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
    truth.loc[truth["dataset"] == "kin_filings", "record_id"] = (
        "kin:" + truth.loc[truth["dataset"] == "kin_filings", "record_id"])
    true_pairs = set(zip(truth["dataset"], truth["record_id"], truth["true_id_number"],
                         strict=True))
    rows = []
    for dataset, spec in config.linked().items():
        if dataset not in found:
            continue
        frame, scored, _ = score_candidates(con, dataset, params, people, spec)
        if scored is None:
            continue
        who = [person.get(int(k)) for k in frame["member_key"]]
        is_true = np.array([(dataset, r, p) in true_pairs
                            for r, p in zip(frame["record_id"], who, strict=True)])
        corroborated = scored.corroborated
        if dataset == "kin_filings":
            corroborated = corroborated | (scored.id_level == ID_EDIT1)
        linked, _ = decide(frame, scored.weight, scored.score, corroborated, scored.id_level,
                           params)
        rows.append(pd.DataFrame({"dataset": dataset, "score": scored.score, "true": is_true,
                                  "linked": linked, "true_linked": linked & is_true}))
    pairs = pd.concat(rows, ignore_index=True)
    pairs["band"] = pd.cut(pairs["score"], BANDS, right=False)
    table = pairs.groupby("band", observed=False).agg(
        pairs=("true", "size"), true=("true", "sum"), mean_score=("score", "mean"),
        linked=("linked", "sum"), true_linked=("true_linked", "sum"))
    print(f"machine: {machine()}; date: {dt.date.today().isoformat()}; "
          f"{args.households:,} households, seed {args.seed}; {len(pairs):,} candidate pairs")
    print("\n| score band | pairs | true | share true | mean score | linked | true among linked |")
    print("|---|---|---|---|---|---|---|")
    for band, row in table.iterrows():
        share = row["true"] / row["pairs"] if row["pairs"] else float("nan")
        print(f"| {band} | {int(row['pairs']):,} | {int(row['true']):,} | {share:.4f} | "
              f"{row['mean_score']:.4f} | {int(row['linked']):,} | {int(row['true_linked']):,} |")


if __name__ == "__main__":
    main()
