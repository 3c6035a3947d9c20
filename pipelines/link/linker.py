"""Decide which evidence record is which covered person, dataset by dataset.

Blocking is SQL (sql/link/), scoring is vectorised (scoring.py), the decision is here:
a pair links when its score reaches the threshold, the link is corroborated (a name that agrees
plus a birth date, a near ID or a shared place, unless the IDs are the same), and the record's
best person beats every other person by the ambiguity margin. Two valid IDs that differ never
link. Result: table `links_<dataset>` per dataset (dataset, record_id, member_key, score,
evidence, tier: scoring.match_tiers); `link_all` unites them as `links`.
"""

from __future__ import annotations

import dataclasses
import logging
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa
import yaml

from pipelines.config import LinkSpec, merge
from pipelines.ingest import ids, names
from pipelines.io.duck import execute, scalar, table_names
from pipelines.link import levels, probability
from pipelines.link.scoring import (
    ID_EDIT1,
    ID_EXACT,
    ID_VETO,
    PLACE_COMMUNITY,
    PLACE_DISTRICT,
    PLACE_STREET,
    TIER_NAMES,
    Scored,
    score_pairs,
)
from pipelines.resources import resource_dir
from pipelines.rules.tables import load_arrow
from pipelines.sql import load_sql, materialise

log = logging.getLogger(__name__)

PLACE_LEVELS = {"community": PLACE_COMMUNITY, "street": PLACE_STREET,
                "district": PLACE_DISTRICT}

# dataset -> (SQL that places the person, base table it reads, tables it needs)
#: The links of one dataset: which roll member each record is about, how sure, and why.
LINKS_SCHEMA = pa.schema([("dataset", pa.string()), ("record_id", pa.string()),
                          ("member_key", pa.int64()), ("score", pa.float64()),
                          ("evidence", pa.string()), ("tier", pa.int8())])


def load_params(user_file: Path | None = None) -> dict[str, Any]:
    """The matcher parameters: config/linkage.yaml, with the user file's `linkage:` merged over."""
    text = (resource_dir("config") / "linkage.yaml").read_text(encoding="utf-8")
    params: dict[str, Any] = yaml.safe_load(text)["linkage"]
    if user_file is not None:
        user = yaml.safe_load(user_file.read_text(encoding="utf-8")) or {}
        params = merge(params, user.get("linkage") or {})
    return params


@dataclass
class LinkStats:
    """What linking one dataset did, for the manifest and the benchmarks."""

    dataset: str
    records: int = 0
    pairs: int = 0
    links: int = 0
    records_linked: int = 0
    ambiguous_records: int = 0
    by_id_level: dict[str, int] = field(default_factory=dict)
    by_tier: dict[str, int] = field(default_factory=dict)  # links per match tier
    # candidate pairs per blocking pass (the first pass that found each pair; sql/link/pairs.sql)
    pairs_by_pass: dict[str, int] = field(default_factory=dict)
    # records left out of a pass because its block for them was over blocking.max_candidates
    capped_by_pass: dict[str, int] = field(default_factory=dict)
    # what the match probabilities were measured from (probability.Calibration.summary)
    calibration: dict[str, Any] = field(default_factory=dict)
    # partitions the records were linked in (resources.partition_records)
    pieces: int = 1
    seconds: float = 0.0


def prepare(con: duckdb.DuckDBPyConnection, linked: Mapping[str, LinkSpec]) -> None:
    """roll_people, the name frequencies, the roll's counts per name, place and birth date
    (roll_counts), the variants of check-failing roll IDs.

    `linked`: the datasets linked to the roll (AuditConfig.linked()); the people of those
    present count in the name frequencies unless their spec says otherwise.
    """
    names.load_confusions()  # homophone and shape sets, read once for every dataset's link
    materialise(con, "link", "roll_people")
    materialise(con, "link", "roll_counts")
    present = table_names(con)
    parts = ["SELECT p_name, p_name_pinyin FROM roll_people"]
    for dataset, spec in linked.items():
        table = f"norm_{dataset}"
        if table in present and spec.name_counts:
            parts.append(f'SELECT p_name, p_name_pinyin FROM "{table}"')
    union = " UNION ALL ".join(parts)
    execute(con, f"""
        CREATE OR REPLACE TABLE name_frequency AS
        WITH people AS ({union})
        SELECT 'name' AS kind, p_name AS key, count(*) AS n FROM people
        WHERE p_name IS NOT NULL GROUP BY p_name
        UNION ALL
        SELECT 'pinyin', p_name_pinyin, count(*) FROM people
        WHERE p_name_pinyin IS NOT NULL GROUP BY p_name_pinyin""")
    bad = con.execute("SELECT member_key, p_id_clean FROM roll_people "
                      "WHERE p_id_status IN ('bad_check', 'bad_date')").fetchall()
    _register_variants(con, "rp_variants", "member_key", bad, pa.int64())


def _register_variants(con: duckdb.DuckDBPyConnection, name: str, key: str,
                       rows: list[tuple[Any, str]], key_type: pa.DataType) -> None:
    keys: list[Any] = []
    variants: list[str] = []
    cache: dict[str, list[str]] = {}
    for owner, cleaned in rows:
        found = cache.get(cleaned)
        if found is None:
            found = cache[cleaned] = ids.id_variants(cleaned)
        keys.extend([owner] * len(found))
        variants.extend(found)
    table = pa.table({key: pa.array(keys, key_type), "variant": pa.array(variants, pa.string())})
    con.register("_variants", table)
    try:
        execute(con, f"CREATE OR REPLACE TABLE {name} AS SELECT * FROM _variants")
    finally:
        con.unregister("_variants")


def population(con: duckdb.DuckDBPyConnection, params: dict[str, Any]) -> int:
    """The name-frequency denominator: everyone seen, at least the configured floor."""
    return max(int(seen_names(con)), int(params["population_floor"]))


def score_candidates(con: duckdb.DuckDBPyConnection, dataset: str, params: dict[str, Any],
                     people: int, spec: LinkSpec | None = None
                     ) -> tuple[pd.DataFrame, Scored | None, int]:
    """Block and score one dataset's candidate pairs: (pair features, scores, records).
    `spec` is the dataset's link spec (None for the roll with itself)."""
    if spec is None:
        materialise(con, "link", "located_roll", name="ev_located", view=True)
    else:
        # SQL shared by several datasets reads the dataset's table as ev_base
        execute(con, f'CREATE OR REPLACE TEMP VIEW ev_base AS SELECT * FROM "norm_{dataset}"')
        materialise(con, "link", spec.located, name="ev_located", view=True)
    materialise(con, "link", "evidence")
    records = int(scalar(con, "SELECT count(*) FROM evidence"))
    bad = con.execute("SELECT record_id, p_id_clean FROM evidence "
                      "WHERE p_id_status IN ('bad_check', 'bad_date')").fetchall()
    _register_variants(con, "ev_variants", "record_id", bad, pa.string())
    relation = spec.pairs if spec is not None else "pairs"
    if relation == "pairs":
        materialise(con, "link", "pairs_candidates")
        materialise(con, "link", "pairs", params={
            "max_candidates": int(params["blocking"]["max_candidates"])})
    else:
        materialise(con, "link", relation, name="pairs")
    frame = con.execute(load_sql("link", "pair_features")).fetch_df()
    if frame.empty:
        return frame, None, records
    prior = float(params["prior"].get(dataset, params["prior"]["default"]))
    needed = params["place_corroboration"].get(dataset, params["place_corroboration"]["default"])
    coincidence = params["coincidence"]
    exempt = dataset in coincidence["exempt"]
    max_expected = None if exempt else float(coincidence["max_expected"])
    max_twins = None if exempt else float(coincidence["max_sound_twins"])
    scored = score_pairs(frame, params, prior, people, PLACE_LEVELS[needed], max_expected,
                         max_twins)
    return frame, scored, records


def seen_names(con: duckdb.DuckDBPyConnection) -> float:
    """Everyone seen in the loaded datasets (the name frequencies' total), for u of a name."""
    return max(float(scalar(con, "SELECT coalesce(sum(n), 0) FROM name_frequency "
                                 "WHERE kind = 'name'")), 1.0)


def _records_with_id(con: duckdb.DuckDBPyConnection) -> int:
    return int(scalar(con, "SELECT count(*) FROM evidence WHERE p_id18 IS NOT NULL"))


def match_probabilities(con: duckdb.DuckDBPyConnection, dataset: str, frame: pd.DataFrame,
                        scored: Scored, params: dict[str, Any]) -> Scored:
    """`scored` with each pair's match probability (probability.py), its parameters measured
    from this dataset's same-ID pairs (every pair scored here: benchmarks/calibration.py)."""
    codes = scored.codes()
    cal = probability.measure(codes, scored.id_level == ID_EXACT,
                              frame["record_id"].to_numpy(), _records_with_id(con), params)
    over = dataset in params["calibration"]["prior_over_candidates"]
    p = probability.probabilities(frame, codes, scored.id_level == ID_VETO, cal, params,
                                  seen_names(con), over)
    return dataclasses.replace(scored, probability=p, calibration=cal)


#: Columns of a pair that its match probability needs (probability.probabilities)
_PROB_COLUMNS = ("record_id", "person_key", "roll_n", "name_n", "pinyin_n", "r_birth_n",
                 "r_community_n", "r_street_n", "r_district_n")


@dataclass
class LinkPart:
    """One dataset's records (all, or one partition of them) linked, before match
    probabilities: what `finish` needs to complete the links of the whole dataset.

    `pairs` holds every candidate pair of each record that links (a probability shares a record
    between its candidates): _PROB_COLUMNS, `code_<field>` per levels.FIELDS, `veto`, `keep`
    (the pair links), and for kept pairs `member_key`, `evidence` and `tier`.
    """

    stats: LinkStats
    counts: probability.Counts | None = None
    pairs: pd.DataFrame = field(default_factory=pd.DataFrame)
    # the blocking order of the passes that found pairs (pass name -> match_key)
    pass_keys: dict[str, int] = field(default_factory=dict)


def link_part(con: duckdb.DuckDBPyConnection, dataset: str, params: dict[str, Any],
              people: int, spec: LinkSpec | None = None) -> LinkPart:
    """Block, score and decide the records of view `ev_base` (a dataset or a partition of it;
    the roll with itself when `spec` is None). Every decision is the record's own, so a
    record's links do not depend on which other records are linked beside it."""
    started = time.perf_counter()
    stats = LinkStats(dataset)
    frame, scored, stats.records = score_candidates(con, dataset, params, people, spec)
    stats.pairs = len(frame)
    found = con.execute("SELECT pass, match_key, count(*) FROM pairs "
                        "GROUP BY match_key, pass ORDER BY match_key").fetchall()
    stats.pairs_by_pass = {str(p): int(n) for p, _, n in found}
    pass_keys = {str(p): int(k) for p, k, _ in found}
    if spec is None or spec.pairs == "pairs":
        stats.capped_by_pass = {str(p): int(n) for p, n in con.execute(
            "SELECT pass, count(DISTINCT record_id) FROM pairs_candidates "
            "WHERE match_key > 3 AND block_n > ? GROUP BY match_key, pass ORDER BY match_key",
            [int(params["blocking"]["max_candidates"])]).fetchall()}
    if scored is None:  # no candidates: its records still count among those with an ID
        stats.seconds = time.perf_counter() - started
        return LinkPart(stats, probability.Counts.none(_records_with_id(con)), pass_keys=pass_keys)
    corroborated = scored.corroborated
    if spec is not None and spec.id_typo_corroborates:
        # a filing names the household: an ID one typo away within it is corroboration enough
        corroborated = corroborated | (scored.id_level == ID_EDIT1)
    keep, stats.ambiguous_records = decide(frame, scored.weight, scored.score, corroborated,
                                           scored.id_level, params)
    codes = scored.codes()
    record_ids = frame["record_id"].to_numpy()
    counts = probability.count(codes, scored.id_level == ID_EXACT, record_ids,
                               _records_with_id(con))
    record, _ = pd.factorize(record_ids)
    linked = np.zeros(record.max() + 1, dtype=bool)
    linked[record[keep]] = True
    rows = np.flatnonzero(linked[record])  # every pair of a record that links
    pairs = frame.iloc[rows][list(_PROB_COLUMNS)].reset_index(drop=True)
    for name, code in codes.items():
        pairs[f"code_{name}"] = code[rows]
    pairs["veto"] = scored.id_level[rows] == ID_VETO
    pairs["keep"] = keep[rows]
    pairs["member_key"] = frame["member_key"].to_numpy()[rows].astype(np.int64)
    evidence = np.full(len(rows), None, dtype=object)
    evidence[keep[rows]] = scored.evidence(frame, np.flatnonzero(keep))
    pairs["evidence"] = evidence
    pairs["tier"] = scored.tier[rows]
    stats.seconds = time.perf_counter() - started
    return LinkPart(stats, counts, pairs, pass_keys)


def _combine(dataset: str, parts: list[LinkStats], pass_keys: dict[str, int]) -> LinkStats:
    """The statistics of a dataset linked in partitions: each count summed, the passes in
    blocking order (`pass_keys`: pass name -> match_key)."""
    total = LinkStats(dataset)
    for s in parts:
        for name in ("records", "pairs", "ambiguous_records"):
            setattr(total, name, getattr(total, name) + getattr(s, name))
        for name in ("pairs_by_pass", "capped_by_pass"):
            into = getattr(total, name)
            for key, n in getattr(s, name).items():
                into[key] = into.get(key, 0) + n
        total.seconds += s.seconds
    total.pairs_by_pass = dict(sorted(total.pairs_by_pass.items(),
                                      key=lambda kv: pass_keys[kv[0]]))
    return total


def finish(dataset: str, parts: list[LinkPart], params: dict[str, Any], seen: float
           ) -> tuple[pa.Table, LinkStats]:
    """The links of a dataset (LINKS_SCHEMA) from its linked partitions, with match
    probabilities measured over all of them; and the dataset's link statistics."""
    keys = {name: key for p in parts for name, key in p.pass_keys.items()}
    stats = _combine(dataset, [p.stats for p in parts], keys)
    stats.pieces = max(len(parts), 1)
    for part in parts:
        if part.stats.capped_by_pass:
            log.warning("%s: records whose block was larger than %d roll members, left out of "
                        "that pass: %s", dataset, int(params["blocking"]["max_candidates"]),
                        stats.capped_by_pass)
            break
    counted = [part.counts for part in parts if part.counts is not None]
    frames = [part.pairs for part in parts if len(part.pairs)]
    if not counted or not frames:
        if counted and stats.pairs:
            stats.calibration = probability.calibrate(sum(counted[1:], counted[0]),
                                                      params).summary()
        return LINKS_SCHEMA.empty_table(), stats
    cal = probability.calibrate(sum(counted[1:], counted[0]), params)
    stats.calibration = cal.summary()
    pairs = pd.concat(frames, ignore_index=True) if len(frames) > 1 else frames[0]
    codes = {f.name: pairs[f"code_{f.name}"].to_numpy() for f in levels.FIELDS}
    over = dataset in params["calibration"]["prior_over_candidates"]
    p = probability.probabilities(pairs, codes, pairs["veto"].to_numpy(bool), cal, params,
                                  seen, over)
    rows = np.flatnonzero(pairs["keep"].to_numpy(bool))
    kept = pairs.iloc[rows]
    links = pd.DataFrame({"dataset": dataset,
                          "record_id": kept["record_id"].to_numpy(),
                          "member_key": kept["member_key"].to_numpy(np.int64),
                          "score": np.round(p[rows], 4),
                          "evidence": kept["evidence"].to_numpy(),
                          "tier": kept["tier"].to_numpy(np.int8)})
    stats.links = len(links)
    stats.records_linked = int(links["record_id"].nunique())
    found, n = np.unique(kept["code_id"].to_numpy(), return_counts=True)
    stats.by_id_level = {levels.ID.level(k).name: int(c) for k, c in zip(found, n, strict=True)}
    found, n = np.unique(links["tier"].to_numpy(), return_counts=True)
    stats.by_tier = {TIER_NAMES[int(k)]: int(c) for k, c in zip(found, n, strict=True)}
    return pa.Table.from_pandas(links, schema=LINKS_SCHEMA, preserve_index=False), stats


def link_dataset(con: duckdb.DuckDBPyConnection, dataset: str, params: dict[str, Any],
                 people: int, spec: LinkSpec | None = None) -> LinkStats:
    """Link one evidence dataset (its link `spec`), or the roll with itself (no spec), in one
    piece, and create table `links_<dataset>`."""
    started = time.perf_counter()
    part = link_part(con, dataset, params, people, spec)
    table, stats = finish(dataset, [part], params, seen_names(con))
    load_arrow(con, f"links_{dataset}", table)
    stats.seconds = time.perf_counter() - started
    log.info("linked %s: %d records, %d candidate pairs, %d links (%d ambiguous) in %.1fs",
             dataset, stats.records, stats.pairs, stats.links, stats.ambiguous_records,
             stats.seconds)
    return stats


def decide(frame: pd.DataFrame, weight: np.ndarray, score: np.ndarray, corroborated: np.ndarray,
           id_level: np.ndarray, params: dict[str, Any]) -> tuple[np.ndarray, int]:
    """Which pairs link; and how many records were left unlinked as ambiguous.

    Per record, persons (person_key) are ranked by their best weight. The best person's pairs
    link if they pass; when a second person also passes and is within the margin, the record
    is ambiguous (namesakes) and links to no one.
    """
    passing = (score >= params["threshold"]) & (corroborated | (id_level == ID_EXACT))
    if params.get("exact_id_only"):
        # baseline for benchmarks: exact joins on repaired IDs, nothing fuzzy
        passing &= id_level == ID_EXACT
    if not passing.any():
        return passing, 0
    cand = pd.DataFrame({"record_id": frame["record_id"].to_numpy(),
                         "person_key": frame["person_key"].to_numpy(),
                         "weight": weight, "passing": passing})
    ok = cand[cand["passing"]]
    best = ok.groupby(["record_id", "person_key"], sort=False)["weight"].max().reset_index()
    best = best.sort_values(["record_id", "weight", "person_key"],
                            ascending=[True, False, True], kind="stable")
    best["rank"] = best.groupby("record_id").cumcount()
    top = best[best["rank"] == 0].set_index("record_id")["weight"]
    second = best[best["rank"] == 1].set_index("record_id")["weight"]
    gap = top.sub(second.reindex(top.index), fill_value=-np.inf)
    clear = gap >= params["ambiguity_margin"]
    winners = best[(best["rank"] == 0) & best["record_id"].map(clear).to_numpy()]
    chosen = set(zip(winners["record_id"], winners["person_key"], strict=True))
    keys = zip(cand["record_id"], cand["person_key"], strict=True)
    keep = passing & np.fromiter((k in chosen for k in keys), dtype=bool, count=len(cand))
    return keep, int((~clear).sum())


def merge_roll_persons(con: duckdb.DuckDBPyConnection) -> int:
    """Give roll rows linked to each other (the same person in two households) one person_key:
    roll_people is made anew from sql/link/roll_people_merged.sql. How many rows changed."""
    materialise(con, "link", "roll_merge")
    changed = int(scalar(con, "SELECT count(*) FROM roll_merge"))
    materialise(con, "link", "roll_people_merged", name="roll_people")
    materialise(con, "link", "roll_counts")  # persons merged: counted again
    return changed


def link_all(con: duckdb.DuckDBPyConnection, linked: Mapping[str, LinkSpec],
             params: dict[str, Any] | None = None) -> list[LinkStats]:
    """Link the roll with itself, then every evidence dataset present (`linked`: the datasets'
    link specs, AuditConfig.linked()); fill table `links`."""
    params = params or load_params()
    prepare(con, linked)
    people = population(con, params)
    present = table_names(con)
    stats = [link_dataset(con, "roll", params, people)]
    merged = merge_roll_persons(con)
    if merged:
        log.info("roll: %d rows with a damaged ID joined to the same person elsewhere", merged)
    for dataset, spec in linked.items():
        if all(f"norm_{d}" in present for d in (dataset, *spec.also)):
            stats.append(link_dataset(con, dataset, params, people, spec))
    union = " UNION ALL ".join(f'SELECT * FROM "links_{s.dataset}"' for s in stats)
    execute(con, f"CREATE OR REPLACE TABLE links AS {union}")
    return stats
