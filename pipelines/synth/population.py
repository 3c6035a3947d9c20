"""The general population (not on the roll) and the decoys planted among it.

Most cross-reference records are about these people. Decoys are people the audit must NOT link
to a roll member: namesakes (same name, same birth year, another birth date, 40% in the same
district), near-ID strangers (same region and birth date as a roll member, a sequence 1-2
digits away, another name: a valid ID one or two edits from the member's), and twins (same
name, birth date, region and district, another sequence: only the ID tells them apart).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from pipelines.synth.people import PersonFactory, ymd
from pipelines.synth.world import World

POP_PER_HOUSEHOLD = 8
NAMESAKE_RATE = 0.04  # of roll members
NEAR_ID_RATE = 0.02
TWIN_RATE = 0.001
YEAR = 365.25


def build_population(world: World, factory: PersonFactory, rng: np.random.Generator,
                     households: int) -> None:
    """Create the general population and the decoys (world.decoys: pid, base, kind)."""
    n = max(2000, POP_PER_HOUSEHOLD * households)
    bucket = rng.choice(3, n, p=[0.05, 0.6, 0.35])
    age = np.select([bucket == 0, bucket == 1],
                    [rng.uniform(0, 18, n), rng.uniform(18, 60, n)], rng.uniform(60, 96, n))
    streets = world.geo.streets
    street = rng.choice(streets["code"].to_numpy(dtype=object), n)
    district = np.array([s[:6] for s in street], dtype=object)
    birth = world.as_of - (age * YEAR).astype(np.int64) - rng.integers(0, 365, n)
    world.add_people(factory.people(male=rng.random(n) < 0.5, birth=birth, district=district,
                                    street=street, kind="pop"))
    _decoys(world, factory, rng)


def vary_seq(seq: np.ndarray, rng: np.random.Generator, keep_parity: bool) -> np.ndarray:
    """Change one or two of the three sequence digits (the last one only if parity may change)."""
    digits = np.stack([seq // 100, seq // 10 % 10, seq % 10], axis=1)
    n = len(seq)
    width = 2 if keep_parity else 3
    first = rng.integers(0, width, n)
    second = (first + rng.integers(1, width, n)) % width
    two = rng.random(n) < 0.4
    for pos, mask in ((first, np.ones(n, dtype=bool)), (second, two)):
        rows = np.flatnonzero(mask)
        cols = pos[rows]
        digits[rows, cols] = (digits[rows, cols] + rng.integers(1, 10, len(rows))) % 10
    if keep_parity:
        digits[:, 2] = seq % 10
    return digits[:, 0] * 100 + digits[:, 1] * 10 + digits[:, 2]


def _same_year(birth: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Another birth date in the same year."""
    y, _, _ = ymd(birth)
    start = (y - 1970).astype("datetime64[Y]").astype("datetime64[D]").astype(np.int64)
    length = (y - 1969).astype("datetime64[Y]").astype("datetime64[D]").astype(np.int64) - start
    new = start + (rng.random(len(birth)) * length).astype(np.int64)
    return np.where(new == birth, np.where(new > start, new - 1, new + 1), new)


def _decoys(world: World, factory: PersonFactory, rng: np.random.Generator) -> None:
    """Namesakes, near-ID strangers and twins of roll members."""
    rp = world.roll_people()
    rp = rp[~rp["pid"].isin(world.duplicated_pids())].drop_duplicates("pid")
    p = world.people.loc[rp["pid"]]
    n_roll = len(rp)
    blocks = []

    def sample(rate: float, minimum: int) -> pd.DataFrame:
        k = min(n_roll, max(minimum, round(n_roll * rate)))
        return p.iloc[np.sort(rng.choice(n_roll, k, replace=False))]

    base = sample(NAMESAKE_RATE, 10)
    same = rng.random(len(base)) < 0.4
    district = np.where(same, base["district"].to_numpy(dtype=object),
                        rng.choice(world.geo.districts["code"].to_numpy(dtype=object), len(base)))
    names = base["name"].to_numpy(dtype=object)
    male = base["male"].to_numpy()
    people = factory.people(male=male, birth=_same_year(base["birth"].to_numpy(), rng),
                            district=district, names=names, kind="namesake")
    blocks.append((people, base, "namesake"))

    base = sample(NEAR_ID_RATE, 10)
    seq = vary_seq(base["seq"].to_numpy(), rng, keep_parity=False)
    male = (seq % 2 == 1)
    names = factory.names(male, np.zeros(len(base), dtype=bool))
    clash = names == base["name"].to_numpy(dtype=object)
    names[clash] = names[clash] + "华"
    people = factory.people(male=male, birth=base["birth"].to_numpy(),
                            district=base["district"].to_numpy(dtype=object), names=names,
                            region=base["region"].to_numpy(dtype=object), seq=seq, kind="near_id")
    blocks.append((people, base, "near_id"))

    base = sample(TWIN_RATE, 4)
    base = base[~base["name"].str.contains("·")]
    seq = vary_seq(base["seq"].to_numpy(), rng, keep_parity=True)
    people = factory.people(male=base["male"].to_numpy(), birth=base["birth"].to_numpy(),
                            district=base["district"].to_numpy(dtype=object),
                            street=base["street"].to_numpy(dtype=object),
                            names=base["name"].to_numpy(dtype=object),
                            region=base["region"].to_numpy(dtype=object), seq=seq, kind="twin")
    blocks.append((people, base, "twin"))

    for people, _, _ in blocks:
        world.add_people(people)
    world.decoys = pd.concat([
        pd.DataFrame({"pid": people["pid"].to_numpy(), "base": b["pid"].to_numpy(), "kind": k})
        for people, b, k in blocks], ignore_index=True)
