"""The low-income register (低收入人口动态监测): people the roll should consider adding.

About 30% of its records are people already on the roll (never ADD_CANDIDATE). The others live in
the city's communities; half have a per-capita income below their standard (ADD_CANDIDATE), half
above it. Some are namesakes of a roll member of the same community (with their own IDs), who are
not covered just because a roll member shares their name. Others are named like a roll member of
another community (half of them in the same street) and are written without an ID ('lost'): the
community on the record is what tells them apart.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from pipelines.synth import vocab
from pipelines.synth.people import PersonFactory
from pipelines.synth.registers import eligible_roll, finish, target
from pipelines.synth.world import World

ON_ROLL_SHARE = 0.3
BELOW_SHARE = 0.5
COMMUNITY_NAMESAKE = 0.1  # of people not on the roll: a roll member's name, same community
ELSEWHERE_NAMESAKE = 0.15  # a roll member's name from another community, no ID
YEAR = 365.25


def build_low_income(world: World, factory: PersonFactory,
                     rng: np.random.Generator) -> pd.DataFrame:
    """Low-income records (pid, register household, place, size, income, category, group)."""
    total = target(world, "low_income")
    hh = world.households.set_index("hh")
    rp = eligible_roll(world)
    n_roll_hh = max(3, round(total * ON_ROLL_SHARE / 1.5))
    roll_hh = rng.choice(rp["hh"].unique(), min(n_roll_hh, rp["hh"].nunique()), replace=False)
    listed = rp[rp["hh"].isin(roll_hh)]
    listed = listed[(listed["slot"] == 0) | (rng.random(len(listed)) < 0.25)]
    h = listed["hh"].to_numpy()
    std = hh.loc[h, "standard"].to_numpy()
    on_roll = pd.DataFrame({
        "pid": listed["pid"].to_numpy(), "li_hh": h, "cid": hh.loc[h, "cid"].to_numpy(),
        "size": hh.loc[h, "size"].to_numpy(),
        "pci": np.round(std * rng.uniform(0.1, 0.9, len(h))),
        "group": rng.choice(np.array(vocab.LOW_INCOME_GROUPS[1:3], dtype=object), len(h)),
        "lost": False})
    off_roll = _off_roll(world, factory, rng, max(8, total - len(on_roll)))
    frame = pd.concat([on_roll, off_roll], ignore_index=True)
    comm = world.geo.communities.set_index("cid").loc[frame["cid"]]
    frame["district"] = comm["district"].to_numpy(dtype=object)
    frame["street"] = comm["street"].to_numpy(dtype=object)
    frame["community"] = comm["name"].to_numpy(dtype=object)
    frame["category"] = comm["category"].to_numpy(dtype=object)
    # the register's own household number, shared by the people listed together
    codes, uniques = pd.factorize(frame["li_hh"].astype(str) + "/" + frame["cid"].astype(str))
    order = rng.permutation(len(uniques))
    frame["li_household_id"] = [f"DSR{order[c] + 1:07d}" for c in codes]
    return finish(frame.drop(columns=["li_hh"]), "L", rng)


def _off_roll(world: World, factory: PersonFactory, rng: np.random.Generator,
              k: int) -> pd.DataFrame:
    """People not on the roll, in register households of 1-5 with 1-2 listed members."""
    comm = world.geo.communities
    active = comm[comm["active"]]
    n_hh = max(4, round(k / 1.4))
    size = rng.choice(np.arange(1, 6), n_hh, p=[0.3, 0.3, 0.2, 0.12, 0.08])
    listed = np.minimum(size, rng.choice([1, 2], n_hh, p=[0.6, 0.4]))
    cid = rng.choice(active["cid"].to_numpy(), n_hh)
    std = world.geo.standards.set_index(["district", "category"])["standard"]
    c = comm.set_index("cid").loc[cid]
    standard = std.reindex(pd.MultiIndex.from_arrays(
        [c["district"].to_numpy(), c["category"].to_numpy()])).to_numpy()
    below = rng.random(n_hh) < BELOW_SHARE
    pci = np.where(below, np.floor(standard * rng.uniform(0.3, 0.97, n_hh)),
                   np.ceil(standard * rng.uniform(1.03, 1.6, n_hh)) + 1)
    idx = np.repeat(np.arange(n_hh), listed)
    n = len(idx)
    c_rows = c.iloc[idx]
    age = np.where(np.arange(n) == np.repeat(np.cumsum(listed) - listed, listed),
                   rng.uniform(30, 90, n), rng.uniform(5, 80, n))
    birth = world.as_of - (age * YEAR).astype(np.int64) - rng.integers(0, 365, n)
    male = rng.random(n) < 0.5
    names = factory.names(male, np.zeros(n, dtype=bool))
    namesake = _community_namesakes(world, c_rows.index.to_numpy(), rng)
    u = rng.random(n)
    take = ~pd.isna(namesake) & (u < COMMUNITY_NAMESAKE)
    names[take] = namesake[take]
    elsewhere = (u >= COMMUNITY_NAMESAKE) & (u < COMMUNITY_NAMESAKE + ELSEWHERE_NAMESAKE)
    other = np.full(n, None, dtype=object)
    other[elsewhere] = _elsewhere_namesakes(world, c_rows.index.to_numpy()[elsewhere],
                                            male[elsewhere], rng)
    lost = elsewhere & ~pd.isna(other)
    names[lost] = other[lost]
    people = factory.people(male=male, birth=birth, names=names,
                            district=c_rows["district"].to_numpy(dtype=object),
                            street=c_rows["street"].to_numpy(dtype=object),
                            cid=c_rows.index.to_numpy(), kind="low_income")
    world.add_people(people)
    group = rng.choice(np.array(vocab.LOW_INCOME_GROUPS, dtype=object), n,
                       p=[0.6, 0.2, 0.15, 0.05])
    return pd.DataFrame({"pid": people["pid"].to_numpy(), "li_hh": -1 - idx,
                         "cid": c_rows.index.to_numpy(), "size": size[idx], "pci": pci[idx],
                         "group": group, "lost": lost})


def _community_namesakes(world: World, cid: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """For each community, the name of one of its roll members (None where it has none)."""
    rp = world.roll_people().drop_duplicates("pid")
    by_cid = rp.groupby("cid")["name"].agg(list)
    out = np.empty(len(cid), dtype=object)
    for i, c in enumerate(cid):
        names = by_cid.get(c)
        out[i] = names[int(rng.integers(0, len(names)))] if names else None
    return out


def _elsewhere_namesakes(world: World, cid: np.ndarray, male: np.ndarray,
                         rng: np.random.Generator) -> np.ndarray:
    """For each community, the name of a roll member of the same gender in another community:
    of the same street (half) or of another street of the district (None where none)."""
    rp = world.roll_people().drop_duplicates("pid")
    rp = rp[~rp["name"].str.contains("·")]
    comm = world.geo.communities.set_index("cid")
    by_street = {k: (g["cid"].to_numpy(), g["name"].to_numpy(dtype=object))
                 for k, g in rp.groupby(["street", "male"])}
    by_district = {k: (g["cid"].to_numpy(), g["street"].to_numpy(dtype=object),
                       g["name"].to_numpy(dtype=object))
                   for k, g in rp.groupby(["district", "male"])}
    out = np.empty(len(cid), dtype=object)
    same_street = rng.random(len(cid)) < 0.5
    for i, c in enumerate(cid):
        street = comm.at[c, "street"]
        if same_street[i] and (street, bool(male[i])) in by_street:
            cids, names = by_street[(street, bool(male[i]))]
            ok = np.flatnonzero(cids != c)
        else:
            cids, streets, names = by_district.get((comm.at[c, "district"], bool(male[i])),
                                                   (np.empty(0), np.empty(0), np.empty(0)))
            ok = np.flatnonzero(streets != street)
        out[i] = names[int(ok[int(rng.integers(0, len(ok)))])] if len(ok) else None
    return out
