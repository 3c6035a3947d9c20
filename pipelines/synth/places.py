"""The city's places: districts, streets, generated communities, office phones and standards.

Communities are generated 3-8 per street from shared stems, so names like 幸福社区 or 建设村
recur across streets (publicity files must be keyed by street and community). Households are
spread over a subset of communities that grows with the city's size, so a small test city still
has several households per community (shared office phones need them).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from pipelines.synth import vocab
from pipelines.synth.reference import Reference


@dataclass
class Geo:
    """Places of the synthetic city."""

    districts: pd.DataFrame  # code, name, urban
    streets: pd.DataFrame  # code, name, district
    communities: pd.DataFrame  # cid, name, street, district, village, category, active, weight
    standards: pd.DataFrame  # district (code), district_name, category, standard

    def district_name(self, codes: np.ndarray) -> np.ndarray:
        """District names for district codes."""
        lookup = dict(zip(self.districts["code"], self.districts["name"], strict=True))
        return np.array([lookup[c] for c in codes], dtype=object)


def build_geo(ref: Reference, rng: np.random.Generator, households: int) -> Geo:
    """Generate communities for every street, choose the active ones, set the standards."""
    rows = []
    urban = dict(zip(ref.districts["code"], ref.districts["urban"], strict=True))
    for street, district in zip(ref.streets["code"], ref.streets["district"], strict=True):
        k = int(rng.integers(3, 9))
        p_village = 0.08 if urban[district] else 0.7
        villages = rng.random(k) < p_village
        c_stems = rng.choice(vocab.COMMUNITY_STEMS, k, replace=False,
                             p=_stem_p(len(vocab.COMMUNITY_STEMS)))
        v_stems = rng.choice(vocab.VILLAGE_STEMS, k, replace=False,
                             p=_stem_p(len(vocab.VILLAGE_STEMS)))
        for village, c_stem, v_stem in zip(villages, c_stems, v_stems, strict=True):
            name = f"{v_stem}村" if village else f"{c_stem}社区"
            rows.append((name, street, district, bool(village)))
    communities = pd.DataFrame(rows, columns=["name", "street", "district", "village"])
    communities = communities.drop_duplicates(["street", "name"]).reset_index(drop=True)
    communities.insert(0, "cid", np.arange(len(communities), dtype=np.int64))
    communities["category"] = np.where(communities["village"], "农村低保", "城市低保")
    communities["active"] = _choose_active(communities, rng, households)
    weight = rng.gamma(3.0, 1.0, len(communities))
    communities["weight"] = np.where(communities["active"], weight, 0.0)
    return Geo(ref.districts, ref.streets, communities, _standards(ref, rng))


def _stem_p(n: int) -> np.ndarray:
    """Earlier stems are more popular, so they repeat across streets."""
    w = 1.0 / np.arange(1, n + 1) ** 0.6
    return w / w.sum()


def _choose_active(communities: pd.DataFrame, rng: np.random.Generator,
                   households: int) -> np.ndarray:
    """About one active community per 100 households; at least two per district."""
    n = len(communities)
    target = int(np.clip(round(households / 100), 26, n))
    active = np.zeros(n, dtype=bool)
    for _, idx in communities.groupby("district").groups.items():
        chosen = rng.choice(np.asarray(idx), min(2, len(idx)), replace=False)
        active[chosen] = True
    rest = np.flatnonzero(~active)
    extra = target - int(active.sum())
    if extra > 0:
        active[rng.choice(rest, min(extra, len(rest)), replace=False)] = True
    return active


def _standards(ref: Reference, rng: np.random.Generator) -> pd.DataFrame:
    """One standard per district and category: urban 950-1100, rural 780-900 yuan/month."""
    core_urban = int(rng.integers(104, 111)) * 10
    rows = []
    for code, name, is_urban in ref.districts[["code", "name", "urban"]].itertuples(index=False):
        urban = core_urban if is_urban else int(rng.integers(95, 104)) * 10
        rural = int(rng.integers(78, 91)) * 10
        rows.append((code, name, "城市低保", urban))
        rows.append((code, name, "农村低保", rural))
    return pd.DataFrame(rows, columns=["district", "district_name", "category", "standard"])


def community_address(geo: Geo, cid: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Home addresses inside communities: building/unit/room in 社区, group/number in 村."""
    comm = geo.communities.set_index("cid").loc[cid]
    streets = dict(zip(geo.streets["code"], geo.streets["name"], strict=True))
    street_name = comm["street"].map(streets).to_numpy(dtype=object)
    n = len(cid)
    building = rng.integers(1, 40, n).astype(str).astype(object)
    unit = rng.integers(1, 7, n).astype(str).astype(object)
    room = (rng.integers(1, 25, n) * 100 + rng.integers(1, 5, n)).astype(str).astype(object)
    group = rng.integers(1, 13, n).astype(str).astype(object)
    number = rng.integers(1, 120, n).astype(str).astype(object)
    urban = street_name + comm["name"].to_numpy(dtype=object) + building + "栋" + unit + "单元" \
        + room + "室"
    rural = street_name + comm["name"].to_numpy(dtype=object) + group + "组" + number + "号"
    return np.where(comm["village"].to_numpy(dtype=bool), rural, urban)


def random_address(geo: Geo, district: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A street address in a district (for property locations and general residents)."""
    n = len(district)
    names = geo.district_name(district)
    road = rng.choice(np.array(vocab.ROAD_STEMS, dtype=object), n) \
        + rng.choice(np.array(vocab.URBAN_STREET_WORDS, dtype=object), n)
    number = rng.integers(1, 999, n).astype(str).astype(object)
    building = rng.integers(1, 30, n).astype(str).astype(object)
    room = (rng.integers(1, 33, n) * 100 + rng.integers(1, 7, n)).astype(str).astype(object)
    return "武汉市" + names + road + number + "号" + building + "栋" + room + "室"
