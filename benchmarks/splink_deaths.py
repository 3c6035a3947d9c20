"""Splink 5 (DuckDB backend) against the project's own matcher on the deaths link.

Usage: .venv/bin/python -m benchmarks.splink_deaths [--households 20000] [--seeds 1 2 3]

The first seed is the dev city: Splink's match-probability threshold is chosen there for best
F1 and then applied unchanged to the other (unseen) seeds. Both matchers see the same ingested
tables (roll and deaths only, loaded with the project's ingest code) in the same process.
Links are scored at the grain of the truth file: (death record_id, household_id).
Prints Markdown tables for docs/decisions/0002-matcher-splink-vs-own.md.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import logging
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pandas as pd

from benchmarks.common import WORK, city, machine
from pipelines.config import load_config
from pipelines.ingest.dataset import find_inputs, ingest_dataset
from pipelines.io.duck import connect, load_table, scalar
from pipelines.link.linker import link_dataset, load_params, population, prepare

log = logging.getLogger(__name__)

# Chosen for best F1 on the dev city (20,000 households, seed 1); see the decision record.
DEV_THRESHOLD = 0.9806

U_PAIRS = 5e6  # pairs sampled to estimate u (Splink warns below 1e6; 5e6 takes ~6 s here)

# ID m-probabilities used when EM's fail a sanity check (see _sane): set by hand, not fitted to
# any truth, the order of magnitude a careful user expects of ID numbers typed by clerks.
FALLBACK_ID_M = {"same valid ID": 0.85, "one fails, DL <= 1": 0.06, "one fails, DL <= 2": 0.02,
                 "both valid, differ": 0.01, "one fails, DL > 2": 0.06}

_INPUTS_SQL = """
CREATE OR REPLACE TABLE {name} AS
SELECT '{source}' AS source_dataset,
       {uid} AS unique_id,
       p_name,
       p_name_pinyin,
       p_id18,
       p_id_clean,
       {birth} AS birth,
       p_sex
FROM {table}
"""

_ID_BIRTH = "try_strptime(substr(p_id_clean, 7, 8), '%Y%m%d')::DATE"


def _exec(con: duckdb.DuckDBPyConnection, sql: str) -> None:
    con.execute(sql).fetchall()


def _make_inputs(con: duckdb.DuckDBPyConnection) -> None:
    """splink_in_deaths / splink_in_roll: the columns Splink compares, one row per record.

    The birth date is the project's: the record's own column, else the (repaired) ID's, else
    the date in a check-failing ID.
    """
    _exec(con, _INPUTS_SQL.format(
        name="splink_in_deaths", source="deaths", table="norm_deaths",
        uid="coalesce(record_id, 'row:' || _row)",
        birth=f"coalesce(birth_date, p_birth_date, {_ID_BIRTH})"))
    _exec(con, _INPUTS_SQL.format(
        name="splink_in_roll", source="roll", table="norm_roll",
        uid="CAST(_row AS VARCHAR)", birth=f"coalesce(p_birth_date, {_ID_BIRTH})"))


def _settings() -> Any:
    """Blocking rules equivalent to the project's, comparisons on ID, name, birth date, sex."""
    import splink.comparison_level_library as cll
    import splink.comparison_library as cl
    from splink import SettingsCreator, block_on
    from splink.blocking_rule_library import CustomRule

    # A typo usually breaks the check digit, so the edit-distance levels apply only when at
    # least one side fails it (p_id18 NULL, p_id_clean not); two valid IDs that differ are a
    # level of their own (linkage-notes.md: close valid IDs are often different people).
    one_fails = "(p_id18_l IS NULL OR p_id18_r IS NULL)"
    id_comparison = cl.CustomComparison(
        output_column_name="id",
        comparison_levels=[
            cll.CustomLevel("p_id_clean_l IS NULL OR p_id_clean_r IS NULL").configure(
                is_null_level=True),
            cll.CustomLevel("p_id18_l = p_id18_r").configure(label_for_charts="same valid ID"),
            cll.CustomLevel(f"{one_fails} AND damerau_levenshtein(p_id_clean_l, p_id_clean_r)"
                            " <= 1").configure(label_for_charts="one fails, DL <= 1"),
            cll.CustomLevel(f"{one_fails} AND damerau_levenshtein(p_id_clean_l, p_id_clean_r)"
                            " <= 2").configure(label_for_charts="one fails, DL <= 2"),
            cll.CustomLevel("p_id18_l IS NOT NULL AND p_id18_r IS NOT NULL").configure(
                label_for_charts="both valid, differ"),
            cll.ElseLevel().configure(label_for_charts="one fails, DL > 2"),
        ],
    )
    name_comparison = cl.CustomComparison(
        output_column_name="p_name",
        comparison_levels=[
            cll.NullLevel("p_name"),
            cll.ExactMatchLevel("p_name", term_frequency_adjustments=True),
            cll.ExactMatchLevel("p_name_pinyin"),
            cll.LevenshteinLevel("p_name", 1),
            cll.ElseLevel(),
        ],
    )
    return SettingsCreator(
        link_type="link_only",
        unique_id_column_name="unique_id",
        source_dataset_column_name="source_dataset",
        comparisons=[
            id_comparison,
            name_comparison,
            cl.ExactMatch("birth"),
            cl.ExactMatch("p_sex"),
        ],
        blocking_rules_to_generate_predictions=[
            block_on("p_id18"),
            block_on("p_name", "birth"),
            block_on("p_name_pinyin", "birth"),
            # no usable ID on the death record (l: the first input, deaths): same birth date
            # and name length
            CustomRule("l.birth = r.birth AND length(l.p_name) = length(r.p_name) "
                       "AND l.p_id18 IS NULL"),
        ],
        retain_matching_columns=False,
        retain_intermediate_calculation_columns=False,
        max_iterations=20,
    )


@dataclass
class SplinkReport:
    """What training produced and how long it took, for the decision record."""

    prior: float = 0.0
    labels: int = 0
    id_levels: dict[str, tuple[float, float]] = field(default_factory=dict)
    em_id_m: dict[str, float] = field(default_factory=dict)
    failed_checks: list[str] = field(default_factory=list)
    filled: list[str] = field(default_factory=list)
    name_exact_m: float = 0.0
    birth_exact_m: float = 0.0
    model: dict[str, Any] = field(default_factory=dict)
    em_model: dict[str, Any] = field(default_factory=dict)
    pairs: int = 0
    train_seconds: float = 0.0
    predict_seconds: float = 0.0


LAST = SplinkReport()


def _levels(model: dict[str, Any], comparison: str) -> list[dict[str, Any]]:
    for c in model["comparisons"]:
        if c["output_column_name"] == comparison:
            return [lv for lv in c["comparison_levels"] if not lv.get("is_null_level")]
    raise KeyError(comparison)


def _sane(model: dict[str, Any]) -> list[str]:
    """Sanity checks on the trained ID m-probabilities; returns the ones that fail.

    EM blocked on name + birth date sees namesakes born the same day among its pairs; when it
    takes them for matches, the ID levels come out implausible (linkage-notes.md).
    """
    m = {lv["label_for_charts"]: float(lv["m_probability"]) for lv in _levels(model, "id")}
    u_exact = float(_levels(model, "id")[0]["u_probability"])
    failed = []
    if m["same valid ID"] < 0.5:
        failed.append(f"m(same valid ID) = {m['same valid ID']:.3g} < 0.5")
    if m["same valid ID"] / u_exact < 1e4:
        failed.append("m/u(same valid ID) < 1e4")
    if m["one fails, DL <= 1"] >= m["same valid ID"]:
        failed.append("m(DL <= 1) >= m(same valid ID)")
    if m["both valid, differ"] > 0.05:
        failed.append(f"m(both valid, differ) = {m['both valid, differ']:.3g} > 0.05")
    return failed


def _fill_unobserved(model: dict[str, Any], labels: int) -> list[str]:
    """Give levels that training never observed a value instead of Splink's defaults.

    u: sampling saw none of U_PAIRS pairs at that level, so u is below about 3 / U_PAIRS (the
    rule of three); m: none of the `labels` anchored matches fell there, so m = 1 / (labels + 1).
    Returns the levels filled, for the report.
    """
    filled = []
    for comparison in model["comparisons"]:
        for level in comparison["comparison_levels"]:
            if level.get("is_null_level"):
                continue
            name = f"{comparison['output_column_name']}: {level.get('label_for_charts')}"
            if not isinstance(level.get("u_probability"), float):
                level["u_probability"] = 3.0 / U_PAIRS
                filled.append(f"u {name}")
            if not isinstance(level.get("m_probability"), float):
                level["m_probability"] = 1.0 / (labels + 1)
                filled.append(f"m {name}")
    return filled


def train(con: duckdb.DuckDBPyConnection, seed: int = 1) -> SplinkReport:
    """Estimate the model on this connection's tables, as linkage-notes.md recommends.

    The prior from deterministic same-ID links (their recall taken as the share of death
    records with a valid ID); u by random sampling (U_PAIRS pairs, seeded); m for name, birth
    date and sex from the deterministic same-ID links used as labels; m for the ID levels by EM
    blocked on name + birth date, kept only if it passes _sane, else FALLBACK_ID_M. Levels
    training never observed get bounded values (_fill_unobserved), not Splink's defaults.
    `model` is the model used; `em_model` the same with EM's ID m-probabilities unchecked.
    """
    from splink import DuckDBAPI, Linker, block_on

    started = time.perf_counter()
    report = SplinkReport()
    _make_inputs(con)
    db_api = DuckDBAPI(connection=con)
    linker = Linker([db_api.register("splink_in_deaths"), db_api.register("splink_in_roll")],
                    _settings(), log_level=logging.ERROR)
    with_id = float(scalar(con, "SELECT avg((p_id18 IS NOT NULL)::INT) FROM splink_in_deaths"))
    linker.training.estimate_probability_two_random_records_match(
        [block_on("p_id18")], recall=max(with_id, 0.01))
    linker.training.estimate_u_using_random_sampling(max_pairs=U_PAIRS, seed=seed)
    _exec(con, """
        CREATE OR REPLACE TABLE splink_id_labels AS
        SELECT 'deaths' AS source_dataset_l, d.unique_id AS unique_id_l,
               'roll' AS source_dataset_r, r.unique_id AS unique_id_r
        FROM splink_in_deaths AS d JOIN splink_in_roll AS r USING (p_id18)""")
    report.labels = int(scalar(con, "SELECT count(*) FROM splink_id_labels"))
    linker.training.estimate_m_from_pairwise_labels("splink_id_labels")
    linker.training.estimate_parameters_using_expectation_maximisation(
        block_on("p_name", "birth"), fix_u_probabilities=True)
    model = linker.misc.save_model_to_json()
    report.filled = _fill_unobserved(model, report.labels)
    report.em_model = json.loads(json.dumps(model))
    report.em_id_m = {str(lv["label_for_charts"]): float(lv["m_probability"])
                      for lv in _levels(model, "id")}
    report.failed_checks = _sane(model)
    if report.failed_checks:
        for level in _levels(model, "id"):
            level["m_probability"] = FALLBACK_ID_M[level["label_for_charts"]]
    report.model = model
    report.prior = float(model["probability_two_random_records_match"])
    report.id_levels = {str(lv["label_for_charts"]): (float(lv["m_probability"]),
                                                      float(lv["u_probability"]))
                        for lv in _levels(model, "id")}
    report.name_exact_m = float(_levels(model, "p_name")[0]["m_probability"])
    report.birth_exact_m = float(_levels(model, "birth")[0]["m_probability"])
    report.train_seconds = time.perf_counter() - started
    return report


def predict_with_model(con: duckdb.DuckDBPyConnection, model: dict[str, Any],
                       threshold: float = DEV_THRESHOLD) -> tuple[pd.DataFrame, float]:
    """Predict with a trained model on a fresh Splink session (term frequencies computed anew):
    what a run costs when the model was trained once and saved. Returns (links, seconds)."""
    from splink import DuckDBAPI, Linker

    started = time.perf_counter()
    _make_inputs(con)
    db_api = DuckDBAPI(connection=con)
    linker = Linker([db_api.register("splink_in_deaths"), db_api.register("splink_in_roll")],
                    model, log_level=logging.ERROR)
    predictions = linker.inference.predict(threshold_match_probability=threshold or None)
    frame = con.execute(f"""
        SELECT unique_id_l AS record_id, CAST(unique_id_r AS BIGINT) AS member_key,
               match_probability
        FROM {predictions.physical_name}""").fetch_df()
    predictions.drop_table_from_database_and_remove_from_cache()
    return frame, time.perf_counter() - started


def link_deaths_with_splink(con: duckdb.DuckDBPyConnection, threshold: float = DEV_THRESHOLD,
                            seed: int = 1) -> tuple[pd.DataFrame, float]:
    """Link norm_deaths to norm_roll with Splink 5 on this DuckDB connection: train, predict.

    Returns the links (record_id, member_key = norm_roll._row, match_probability) at or above
    `threshold` (every candidate pair when it is 0) and the seconds spent in Splink (training
    + prediction). The trained parameters and both timings are left in `LAST`.
    """
    global LAST
    report = train(con, seed)
    links, report.predict_seconds = predict_with_model(con, report.model, threshold)
    report.pairs = len(links)
    LAST = report
    return links, report.train_seconds + report.predict_seconds


# -- benchmark -----------------------------------------------------------------------------


def ingest(folder: Path) -> duckdb.DuckDBPyConnection:
    """A connection holding norm_roll and norm_deaths, ingested with the project's code."""
    config = load_config(None)
    found, _ = find_inputs(folder, config)
    con = connect()
    for dataset in ("roll", "deaths"):
        load_table(con, f"norm_{dataset}", ingest_dataset(dataset, found[dataset], config).loaded)
    return con


def own_links(con: duckdb.DuckDBPyConnection) -> tuple[pd.DataFrame, pd.DataFrame, float, float]:
    """The project's deaths link: links, its candidate pairs, seconds for prepare() and for
    link_dataset() (prepare builds roll_people, name frequencies and roll-ID variants, which
    every dataset's link shares)."""
    started = time.perf_counter()
    params = load_params()
    linked = load_config().linked()
    prepare(con, linked)
    people = population(con, params)
    prepared = time.perf_counter()
    link_dataset(con, "deaths", params, people, linked["deaths"])
    done = time.perf_counter()
    links = con.execute("SELECT record_id, member_key FROM links WHERE dataset = 'deaths'"
                        ).fetch_df()
    pairs = con.execute("SELECT record_id, member_key FROM pairs").fetch_df()
    return links, pairs, prepared - started, done - prepared


@dataclass(frozen=True)
class Score:
    precision: float
    recall: float
    f1: float
    found: int


def score(links: pd.DataFrame, households: pd.Series, truth: set[tuple[str, str]]) -> Score:
    """Precision/recall/F1 of links at the grain (record_id, household_id)."""
    hh = links["member_key"].map(households)
    found = set(zip(links["record_id"].astype(str), hh.astype(str), strict=True))
    tp = len(found & truth)
    p = tp / len(found) if found else 1.0
    r = tp / len(truth) if truth else 1.0
    return Score(p, r, 2 * p * r / (p + r) if p + r else 0.0, len(found))


def best_threshold(scored: pd.DataFrame, households: pd.Series,
                   truth: set[tuple[str, str]]) -> float:
    """The match-probability threshold with the best F1 on these (dev) predictions.

    Every threshold in (p_below, p_best] gives the same links, where p_best is the lowest
    predicted probability at which F1 peaks and p_below the next lower one; the threshold is
    the middle of that gap in match weight (log-odds), not its edge.
    """
    probs = np.unique(scored["match_probability"].to_numpy(dtype=np.float64))
    f1 = np.array([score(scored[scored["match_probability"] >= t], households, truth).f1
                   for t in probs])
    run = np.flatnonzero(f1 >= f1.max() - 1e-12)
    first = int(run[0])
    last = first
    while last + 1 < len(probs) and last + 1 in run:
        last += 1
    if first == 0:
        return float(probs[0])
    low, high = (float(np.clip(p, 1e-15, 1 - 1e-15)) for p in (probs[first - 1], probs[last]))
    middle = (np.log2(low / (1 - low)) + np.log2(high / (1 - high))) / 2
    return float(1 / (1 + 2.0 ** -middle))


def truth_links(folder: Path) -> set[tuple[str, str]]:
    """(record_id, household_id) of every death record that truly belongs to a roll member."""
    links = pd.read_csv(folder / "truth" / "links.csv", dtype=str)
    deaths = links[links["dataset"] == "deaths"]
    return set(zip(deaths["record_id"], deaths["household_id"], strict=True))


def _recall_of(pairs: pd.DataFrame, households: pd.Series, truth: set[tuple[str, str]]) -> float:
    found = set(zip(pairs["record_id"].astype(str),
                    pairs["member_key"].map(households).astype(str), strict=True))
    return len(found & truth) / len(truth) if truth else 1.0


def _city(households: int, seed: int, work: Path | None) -> Path:
    """benchmarks.common.city, or the same generator into a private folder (`--work`), for when
    other jobs regenerate benchmarks/_work underneath this one. Same seed, same bytes."""
    if work is None:
        return city(households, seed)
    folder = work / f"city-{households}-s{seed}"
    if not (folder / "truth" / "summary.json").exists():
        from pipelines.synth.city import generate_city

        generate_city(folder, households, seed)
    return folder


def _cell(s: Score) -> str:
    return f"{s.precision:.3f} / {s.recall:.3f} / **{s.f1:.3f}**"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--households", type=int, default=20_000)
    parser.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3],
                        help="the first is the dev city (Splink's thresholds are chosen there)")
    parser.add_argument("--thresholds", type=float, nargs=2, default=None,
                        metavar=("CHECKED", "EM"),
                        help="use these Splink thresholds instead of choosing them on the "
                             "first seed")
    parser.add_argument("--repeat", type=int, default=3,
                        help="time the own link and Splink's prediction this many times (best "
                             "of); Splink's training runs once")
    parser.add_argument("--work", type=Path, default=None,
                        help="generate cities here instead of benchmarks/_work")
    args = parser.parse_args()
    logging.basicConfig(level=logging.ERROR)
    print(f"machine: {machine()}; date: {dt.date.today().isoformat()}")
    thresholds = list(args.thresholds) if args.thresholds else None
    rows, times, params, notes = [], [], [], []
    for seed in args.seeds:
        folder = _city(args.households, seed, args.work)
        truth = truth_links(folder)
        con = ingest(folder)
        households = pd.Series(dict(con.execute(
            "SELECT _row, household_id FROM norm_roll").fetchall()))
        own_runs = [own_links(con) for _ in range(args.repeat)]
        own, own_pairs, own_prep, own_link = min(own_runs, key=lambda r: r[2] + r[3])
        own_s = own_prep + own_link
        checked, _ = link_deaths_with_splink(con, threshold=0.0, seed=seed)
        report = LAST
        for _ in range(args.repeat - 1):
            report.predict_seconds = min(report.predict_seconds,
                                         predict_with_model(con, report.model, 0.0)[1])
        splink_s = report.train_seconds + report.predict_seconds
        (args.work or WORK).joinpath(f"splink-model-{args.households}-s{seed}.json").write_text(
            json.dumps(report.model, ensure_ascii=False, indent=1), encoding="utf-8")
        unchecked, _ = predict_with_model(con, report.em_model, threshold=0.0)
        role = "unseen"
        if thresholds is None:
            thresholds = [best_threshold(f, households, truth) for f in (checked, unchecked)]
            role = "dev"
        b, c = (score(f[f["match_probability"] >= t], households, truth)
                for f, t in zip((checked, unchecked), thresholds, strict=True))
        label = f"| {args.households:,} | {seed} ({role}) "
        rows.append(
            f"{label}| {len(truth)} | {_cell(score(own, households, truth))} | {_cell(b)} | "
            f"{_cell(c)} | {len(own_pairs):,} ({_recall_of(own_pairs, households, truth):.3f})"
            f" | {report.pairs:,} ({_recall_of(checked, households, truth):.3f}) |")
        times.append(
            f"{label}| {own_prep:.2f} + {own_link:.2f} = **{own_s:.2f}** | "
            f"{report.train_seconds:.2f} + {report.predict_seconds:.2f} = **{splink_s:.2f}** | "
            f"{splink_s / own_s:.1f}x | {report.predict_seconds / own_s:.2f}x |")
        used = ", ".join(f"{k}: {m:.3g} / {u:.2g}" for k, (m, u) in report.id_levels.items())
        em = ", ".join(f"{v:.3g}" for v in report.em_id_m.values())
        source = ("EM (passed the checks)" if not report.failed_checks else
                  "fixed: EM failed " + "; ".join(report.failed_checks))
        params.append(
            f"{label}| {report.prior:.3g} | {report.labels} | {used} | {em} | {source} | "
            f"{report.name_exact_m:.3f} | {report.birth_exact_m:.3f} |")
        notes.append(f"- {args.households:,} s{seed}: {', '.join(report.filled)}")
        con.close()
    assert thresholds is not None
    print(f"\nSplink thresholds (best F1 on the dev seed): checked model {thresholds[0]:.6g}, "
          f"unchecked EM model {thresholds[1]:.6g}\n")
    print("| households | seed | true links | own P / R / F1 | Splink P / R / F1 | "
          "Splink, EM unchecked, P / R / F1 | own candidate pairs (blocking recall) | "
          "Splink candidate pairs (blocking recall) |")
    print("|---|---|---|---|---|---|---|---|")
    print("\n".join(rows))
    print(f"\nSeconds: own and Splink prediction best of {args.repeat}, Splink training once.")
    print("\n| households | seed | own s (prepare + link) | Splink s (train + predict) | "
          "Splink total / own | Splink predict only / own |")
    print("|---|---|---|---|---|---|")
    print("\n".join(times))
    print("\n| households | seed | λ | ID labels | ID levels used, m / u | ID m from EM | "
          "ID m used | name exact m | birth exact m |")
    print("|---|---|---|---|---|---|---|---|---|")
    print("\n".join(params))
    print("\nLevels training never observed (bounded values, see _fill_unobserved):")
    print("\n".join(notes))


if __name__ == "__main__":
    main()
