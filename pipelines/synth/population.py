"""The general population (not on the roll) and the decoys planted among it.

Most cross-reference records are about these people. Decoys are people the audit must NOT link
to a roll member: namesakes (same name, same birth year, another birth date, 80% in the same
district; some of their records lose the ID on purpose, see registers.assign_decoys), near-ID
strangers (same region and birth date as a roll member, a sequence 1-2 digits away, another
name: a valid ID two or three characters from the member's), twins (same name, birth date,
region, district and street, another sequence: only the ID tells them apart) and homophone
strangers (one character of the member's name replaced by a homophone, same birth date and
district, half of them born in the same region: a valid ID that differs only in the sequence) and same-day namesakes (same name and
birth date, another district, their own valid ID: the ID tells them apart).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from pipelines.synth.damage import Damager
from pipelines.synth.people import PersonFactory, ymd
from pipelines.synth.world import World

POP_PER_HOUSEHOLD = 8
NAMESAKE_RATE = 0.05  # of roll members
NAMESAKE_SAME_DISTRICT = 0.8
NEAR_ID_RATE = 0.025
TWIN_RATE = 0.006
HOMOPHONE_RATE = 0.015
SAME_DAY_RATE = 0.01
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
    same = rng.random(len(base)) < NAMESAKE_SAME_DISTRICT
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

    blocks.append(_homophones(world, factory, rng, sample(HOMOPHONE_RATE, 10)))

    base = sample(SAME_DAY_RATE, 6)
    districts = world.geo.districts["code"].to_numpy(dtype=object)
    home = base["district"].to_numpy(dtype=object)
    # another district than the member's (one is drawn again until it differs)
    other = rng.choice(districts, len(base))
    for _ in range(20):
        again = other == home
        if not again.any() or len(districts) < 2:
            break
        other[again] = rng.choice(districts, int(again.sum()))
    keep = other != home
    base, other = base[keep], other[keep]
    people = factory.people(male=base["male"].to_numpy(), birth=base["birth"].to_numpy(),
                            district=other, names=base["name"].to_numpy(dtype=object),
                            kind="same_day_namesake")
    blocks.append((people, base, "same_day_namesake"))

    for people, _, _ in blocks:
        world.add_people(people)
    world.decoys = pd.concat([
        pd.DataFrame({"pid": people["pid"].to_numpy(), "base": b["pid"].to_numpy(), "kind": k})
        for people, b, k in blocks], ignore_index=True)


def _homophones(world: World, factory: PersonFactory, rng: np.random.Generator,
                base: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame, str]:
    """Strangers whose name differs from a roll member's by one homophone character, born the
    same day in the same district (half in the same region: only the sequence differs)."""
    confuser = Damager(factory.ref, rng)
    names = np.array([confuser.confuse(str(x), "homophone") for x in base["name"]],
                     dtype=object)
    rp = world.roll_people()
    taken = set(zip(rp["name"], rp["birth"], strict=True))
    birth = base["birth"].to_numpy()
    ok = np.array([n != b and (n, d) not in taken
                   for n, b, d in zip(names, base["name"], birth, strict=True)], dtype=bool)
    base, names, birth = base[ok], names[ok], birth[ok]
    district = base["district"].to_numpy(dtype=object)
    male = base["male"].to_numpy()
    region = factory.regions(district, np.zeros(len(base), dtype=bool))
    same = rng.random(len(base)) < 0.5
    region[same] = base["region"].to_numpy(dtype=object)[same]
    people = factory.people(male=male, birth=birth, district=district, names=names,
                            region=region, kind="homophone")
    return people, base, "homophone"
