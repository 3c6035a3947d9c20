"""Match probabilities: the `score` of a link is P(the record is about this roll person).

Bayes over each record's candidates (Fellegi-Sunter with measured parameters, decision 0009):

    odds(record is person j) = prior x product over fields of m(level) / u(level)
    P(j) = odds_j / (odds of "nobody on the roll" + sum of the odds of every candidate person)

- m (how often a field agrees so between a record and its own person) is measured per dataset
  and run from the natural labelled set: the pairs whose valid IDs are the same (after repair).
  Each level's share there is smoothed towards linkage.yaml `calibration.m` with
  `calibration.pseudo_count` pairs, so a dataset with few such pairs keeps the defaults.
- u (how often it agrees so with somebody else) comes from frequencies: the share of all people
  seen who carry the name (or only its sound), the share of the roll living in the agreeing
  place (community, street, district: a name agreeing on a street of 400 people says more than
  one agreeing in a district of 40,000), the share born on that day; one in two for sex; the
  rarer name levels and the relation check from `calibration.u`.
- ID levels keep their bits from linkage.yaml: the labelled set is defined by them, so it cannot
  measure them.
- the prior: the share of the dataset's records with a valid ID whose ID is on the roll, spread
  evenly over the roll's people (or over the record's own candidates, for a dataset whose
  blocking already names the household: `calibration.prior_over_candidates`).

Candidates compete: a record two namesakes could be shares its probability between them. The
decision to link (linker.decide) is unchanged; only what the score means is.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from pipelines.link import levels

#: Fields whose m is measured and u counted; ID keeps its configured bits.
MEASURED = (levels.NAME, levels.BIRTH, levels.SEX, levels.PLACE, levels.RELATION)
#: Levels that carry no information either way (LR 1).
_SILENT = {"missing", "unknown"}
_FLOOR = 1e-9


@dataclass(frozen=True)
class Calibration:
    """The measured parameters of one dataset's link."""

    m: dict[str, dict[str, float]]  # field -> level name -> share among same-ID pairs
    match_rate: float  # share of records with a valid ID whose ID is on the roll
    labelled_pairs: int
    records_with_id: int

    def summary(self) -> dict[str, Any]:
        """For the manifest: what was measured."""
        return {"match_rate": round(self.match_rate, 4), "labelled_pairs": self.labelled_pairs,
                "records_with_id": self.records_with_id,
                "m": {f: {k: round(v, 4) for k, v in lv.items()} for f, lv in self.m.items()}}


@dataclass(frozen=True)
class Counts:
    """What m and the match rate are measured from, summed over any split of a dataset's records
    (the partitions of a link add up to the whole: decision 0011)."""

    levels: dict[str, dict[str, int]]  # field -> level name -> labelled pairs at that level
    labelled_pairs: int
    matched_records: int  # records with a labelled pair
    records_with_id: int

    def __add__(self, other: Counts) -> Counts:
        levels = {f: {lv: n + other.levels[f][lv] for lv, n in by.items()}
                  for f, by in self.levels.items()}
        return Counts(levels, self.labelled_pairs + other.labelled_pairs,
                      self.matched_records + other.matched_records,
                      self.records_with_id + other.records_with_id)

    @classmethod
    def none(cls, records_with_id: int) -> Counts:
        """Records without a single candidate pair: they count only among those with an ID."""
        return cls({f.name: {lv.name: 0 for lv in f.levels if lv.name not in _SILENT}
                    for f in MEASURED}, 0, 0, int(records_with_id))

    def to_json(self) -> dict[str, Any]:
        return {"levels": self.levels, "labelled_pairs": self.labelled_pairs,
                "matched_records": self.matched_records, "records_with_id": self.records_with_id}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Counts:
        return cls({f: {lv: int(n) for lv, n in by.items()} for f, by in data["levels"].items()},
                   int(data["labelled_pairs"]), int(data["matched_records"]),
                   int(data["records_with_id"]))


def count(codes: Mapping[str, np.ndarray], labelled: np.ndarray, record_ids: np.ndarray,
          records_with_id: int) -> Counts:
    """The labelled pairs (`labelled`: the same valid ID) per field level, and the records that
    have one, among `records_with_id` records with a valid ID."""
    levels_seen: dict[str, dict[str, int]] = {}
    for f in MEASURED:
        seen = codes[f.name][labelled]
        levels_seen[f.name] = {lv.name: int((seen == lv.code).sum())
                               for lv in f.levels if lv.name not in _SILENT}
    matched = len(pd.unique(record_ids[labelled])) if labelled.any() else 0
    return Counts(levels_seen, int(labelled.sum()), matched, int(records_with_id))


def calibrate(counts: Counts, params: Mapping[str, Any]) -> Calibration:
    """m per field level, smoothed towards the configured m, and the match rate."""
    cal = params["calibration"]
    alpha = float(cal["pseudo_count"])
    m: dict[str, dict[str, float]] = {}
    for f in MEASURED:
        default = cal["m"][f.name]
        by_level = counts.levels[f.name]
        n = sum(by_level.values())
        m[f.name] = {lv: (k + alpha * float(default[lv])) / (n + alpha)
                     for lv, k in by_level.items()}
    matched = counts.matched_records
    rate = (matched + 1.0) / (max(counts.records_with_id, matched) + 2.0)
    return Calibration(m, rate, counts.labelled_pairs, counts.records_with_id)


def measure(codes: Mapping[str, np.ndarray], labelled: np.ndarray, record_ids: np.ndarray,
            records_with_id: int, params: Mapping[str, Any]) -> Calibration:
    """m per field level from the labelled pairs (`labelled`: the same valid ID), and the
    match rate: records with a same-ID candidate among the records that have a valid ID."""
    return calibrate(count(codes, labelled, record_ids, records_with_id), params)


def _u(frame: pd.DataFrame, field: levels.Field, seen: float, cal: Mapping[str, Any]
       ) -> dict[str, np.ndarray | float]:
    """u of each informative level of `field`, per pair where it depends on the values."""
    u_cfg = cal["u"].get(field.name, {})
    roll_n = np.maximum(frame["roll_n"].to_numpy(dtype=np.float64), 1.0)
    if field is levels.NAME:
        name_n = np.maximum(frame["name_n"].to_numpy(dtype=np.float64), 1.0)
        sound_n = np.maximum(frame["pinyin_n"].to_numpy(dtype=np.float64) - name_n, 1.0)
        return {"exact": name_n / seen, "pinyin": sound_n / seen,
                "confusable": u_cfg["confusable"], "one_char": u_cfg["one_char"],
                "different": u_cfg["different"]}
    if field is levels.BIRTH:
        share = np.maximum(frame["r_birth_n"].to_numpy(dtype=np.float64), 1.0) / roll_n
        return {"exact": share, "different": 1.0 - share}
    if field is levels.SEX:
        return {"same": 0.5, "different": 0.5}
    if field is levels.PLACE:
        community = frame["r_community_n"].to_numpy(dtype=np.float64)
        street = np.maximum(frame["r_street_n"].to_numpy(dtype=np.float64), community)
        district = np.maximum(frame["r_district_n"].to_numpy(dtype=np.float64), street)
        return {"community": np.maximum(community, 1.0) / roll_n,
                "street": np.maximum(street - community, 1.0) / roll_n,
                "district": np.maximum(district - street, 1.0) / roll_n,
                "other_district": np.maximum(roll_n - district, 1.0) / roll_n}
    return {k: float(v) for k, v in u_cfg.items()}


def log_odds(frame: pd.DataFrame, codes: Mapping[str, np.ndarray], cal: Calibration,
             params: Mapping[str, Any], seen: float) -> np.ndarray:
    """log2 of m/u summed over the fields, plus the ID level's configured bits (no prior)."""
    bits = levels.ID.weights(codes["id"], params)
    for f in MEASURED:
        u = _u(frame, f, seen, params["calibration"])
        code = codes[f.name]
        for lv in f.levels:
            if lv.name in _SILENT:
                continue
            at = code == lv.code
            if not at.any():
                continue
            u_lv = u[lv.name]
            u_at = u_lv[at] if isinstance(u_lv, np.ndarray) else u_lv
            bits[at] += np.log2(max(cal.m[f.name][lv.name], _FLOOR)) - np.log2(
                np.maximum(u_at, _FLOOR))
    return bits


def probabilities(frame: pd.DataFrame, codes: Mapping[str, np.ndarray], veto: np.ndarray,
                  cal: Calibration, params: Mapping[str, Any], seen: float,
                  over_candidates: bool = False) -> np.ndarray:
    """P(record is this pair's person) for every pair of `frame` (rows of one record together
    or not: grouped by record_id). `veto`: pairs that can never be the same person (0)."""
    n = len(frame)
    if not n:
        return np.zeros(0)
    bits = log_odds(frame, codes, cal, params, seen)
    record, _ = pd.factorize(frame["record_id"], sort=False)
    person = frame["person_key"].to_numpy()
    rate = min(max(cal.match_rate, 1e-6), 1 - 1e-6)
    if over_candidates:
        people = pd.Series(person).groupby(record).transform("nunique").to_numpy(np.float64)
    else:
        people = np.maximum(frame["roll_n"].to_numpy(dtype=np.float64), 1.0)
    a = np.log2(rate / people) + bits
    a[veto] = -np.inf
    # a person with two roll rows (two households) counts once: their best pair
    best = pd.DataFrame({"r": record, "p": person, "a": a}).groupby(["r", "p"], sort=False)["a"]
    top = best.transform("max").to_numpy()
    first = ~pd.DataFrame({"r": record, "p": person}).duplicated().to_numpy()
    # log2 of (odds of nobody + sum over candidate persons of their odds), per record
    nobody = np.log2(1.0 - rate)
    peak = np.maximum(pd.Series(np.where(first, top, -np.inf)).groupby(record).transform("max")
                      .to_numpy(), nobody)
    mass = np.where(first & np.isfinite(top), np.exp2(top - peak), 0.0)
    total = pd.Series(mass).groupby(record).transform("sum").to_numpy() + np.exp2(nobody - peak)
    out = np.exp2(a - peak - np.log2(total))
    out[veto] = 0.0
    return np.clip(out, 0.0, 1.0)
