"""Person registers: deaths, public payroll and pensions, plus helpers shared by all registers.

Sizes follow the contract's scale reference (per 100,000 households: deaths 53k, payroll 200k,
pensions 300k). Records about roll members are planted at fixed rates, positives and realistic
negatives (deaths dated after the audit date, pensions not counted as income, counted pensions
too small to exceed the standard); decoys get records too; the rest is the general population.
Rows are shuffled before record ids are given, so ids say nothing about how a row was made.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from pipelines.synth import vocab
from pipelines.synth.places import community_address, random_address
from pipelines.synth.world import World

PER_100K = {"deaths": 53_000, "vehicles": 300_000, "property": 400_000, "businesses": 100_000,
            "public_employees": 200_000, "pensions": 300_000, "low_income": 5_000}
DECOY_REGISTERS = {
    "namesake": (("deaths", 0.3), ("vehicles", 0.2), ("property", 0.2), ("businesses", 0.1),
                 ("public_employees", 0.1), ("pensions", 0.1)),
    "near_id": (("deaths", 0.5), ("vehicles", 0.2), ("public_employees", 0.15),
                ("property", 0.15)),
    "twin": (("deaths", 0.4), ("vehicles", 0.2), ("property", 0.1), ("businesses", 0.1),
             ("public_employees", 0.2)),
    "homophone": (("deaths", 0.3), ("vehicles", 0.2), ("property", 0.15), ("businesses", 0.1),
                  ("public_employees", 0.15), ("pensions", 0.1)),
    "same_day_namesake": (("deaths", 0.4), ("vehicles", 0.2), ("property", 0.2),
                          ("public_employees", 0.2)),
}
BIRTH_REGISTERS = ("deaths", "vehicles", "property")  # registers that carry a birth date
NAMESAKE_LOST = 0.5  # namesakes in those registers written without an ID
NAMESAKE_AT_HOME = 0.5  # of those in deaths: the address is in the roll member's community
YEAR = 365.25


def target(world: World, dataset: str) -> int:
    """Rows a register should have for this city's size."""
    return max(20, round(PER_100K[dataset] * len(world.households) / 100_000))


def assign_decoys(world: World, rng: np.random.Generator) -> None:
    """Decide which register each decoy appears in (world.decoys['register']), and which
    namesakes in a register with a birth date are written without an ID ('lost')."""
    d = world.decoys
    out = np.empty(len(d), dtype=object)
    for kind, options in DECOY_REGISTERS.items():
        mask = (d["kind"] == kind).to_numpy()
        names = [o[0] for o in options]
        p = np.array([o[1] for o in options])
        out[mask] = rng.choice(names, int(mask.sum()), p=p / p.sum())
    d["register"] = out
    d["lost"] = ((d["kind"] == "namesake").to_numpy() & np.isin(out, BIRTH_REGISTERS)
                 & (rng.random(len(d)) < NAMESAKE_LOST))


def decoys_for(world: World, dataset: str) -> np.ndarray:
    """Pids of the decoys placed in a register."""
    d = world.decoys
    return d.loc[d["register"] == dataset, "pid"].to_numpy()


def eligible_roll(world: World, min_age: int = 0, max_age: int = 200) -> pd.DataFrame:
    """Roll memberships that may carry planted records (not duplicated persons)."""
    rp = world.roll_people()
    rp = rp[~rp["pid"].isin(world.duplicated_pids())]
    return rp[(rp["age"] >= min_age) & (rp["age"] <= max_age)]


def pick_roll(world: World, rng: np.random.Generator, rate: float, *, min_age: int = 0,
              max_age: int = 200, per: str = "household", minimum: int = 4,
              weight: str | None = None, pool: pd.DataFrame | None = None) -> np.ndarray:
    """Pids of roll members for a planting.

    per='household': `rate` of all households, one member each; 'person': `rate` of all
    memberships; 'pool': `rate` of the eligible pool. `weight` names a pool column to weight by.
    """
    rp = eligible_roll(world, min_age, max_age) if pool is None else pool
    if per == "household":
        rp = rp.iloc[rng.permutation(len(rp))].drop_duplicates("hh")
    base = {"household": len(world.households), "person": len(world.members),
            "pool": len(rp)}[per]
    k = min(len(rp), max(minimum, round(base * rate)))
    if k == 0:
        return np.empty(0, dtype=np.int64)
    p = None
    if weight is not None:
        w = rp[weight].to_numpy(dtype=float)
        p = w / w.sum()
    return rp["pid"].to_numpy()[rng.choice(len(rp), k, replace=False, p=p)]


def pick_population(world: World, rng: np.random.Generator, k: int, *, min_age: int = 0,
                    max_age: int = 200, replace: bool = False) -> np.ndarray:
    """Pids of general-population people in an age range (with replacement if short)."""
    people = world.people
    pop = people[people["kind"].to_numpy() == "pop"]
    age = (world.as_of - pop["birth"].to_numpy()) // YEAR
    pids = pop["pid"].to_numpy()[(age >= min_age) & (age <= max_age)]
    if k <= 0:
        return np.empty(0, dtype=np.int64)
    if replace or k > len(pids):
        return rng.choice(pids, k, replace=True)
    return rng.choice(pids, k, replace=False)


def finish(frame: pd.DataFrame, prefix: str, rng: np.random.Generator) -> pd.DataFrame:
    """Shuffle the rows and number them: record_id = prefix + 8 digits."""
    frame = frame.iloc[rng.permutation(len(frame))].reset_index(drop=True)
    frame.insert(0, "record_id", [f"{prefix}{i + 1:08d}" for i in range(len(frame))])
    return frame


def home_address(world: World, pids: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """The roll address for roll members, a random address in the home district otherwise."""
    roll_addr = world.roll_people().drop_duplicates("pid").set_index("pid")["address"]
    found = roll_addr.reindex(pids).to_numpy(dtype=object)
    missing = pd.isna(found)
    district = world.people.loc[pids[missing], "district"].to_numpy(dtype=object)
    found[missing] = random_address(world.geo, district, rng)
    return found


def build_deaths(world: World, rng: np.random.Generator) -> pd.DataFrame:
    """Deaths: roll members dying on or before the audit date, after it, decoys, the rest."""
    as_of = world.as_of
    pool = eligible_roll(world)
    pool = pool.assign(w=np.clip(pool["age"].to_numpy(), 20, 100).astype(float) ** 3)
    dead = pick_roll(world, rng, 0.0045, per="person", pool=pool, weight="w")
    pool = pool[~pool["pid"].isin(dead)]
    later = pick_roll(world, rng, 0.001, per="person", pool=pool, weight="w")
    when = as_of - rng.integers(0, 900, len(dead))
    when[rng.random(len(dead)) < 0.03] = as_of  # on the audit date itself still counts
    decoys = decoys_for(world, "deaths")
    n_pop = target(world, "deaths") - len(dead) - len(later) - len(decoys)
    pop = pick_population(world, rng, n_pop, min_age=55)
    pids = np.concatenate([dead, later, decoys, pop])
    death = np.concatenate([when, as_of + rng.integers(1, 46, len(later)),
                            as_of - rng.integers(0, 1500, len(decoys)),
                            as_of - rng.integers(0, 3650, len(pop))])
    address = home_address(world, pids, rng)
    # namesakes without an ID who lived in the roll member's own community: only the birth
    # date on the record tells them apart
    d = world.decoys
    near = d[d["lost"].to_numpy(dtype=bool) & (d["register"] == "deaths").to_numpy()]
    base_cid = world.people.loc[near["base"], "cid"].to_numpy()
    same_district = (world.people.loc[near["pid"], "district"].to_numpy()
                     == world.people.loc[near["base"], "district"].to_numpy())
    home = same_district & (base_cid >= 0) & (rng.random(len(near)) < NAMESAKE_AT_HOME)
    at = pd.Series(np.arange(len(pids)), index=pids)
    rows = at.loc[near["pid"].to_numpy()[home]].to_numpy()
    address[rows] = community_address(world.geo, base_cid[home], rng)
    frame = pd.DataFrame({"pid": pids, "death": death, "address": address})
    return finish(frame, "D", rng)


def build_payroll(world: World, rng: np.random.Generator) -> pd.DataFrame:
    """Public payroll (财政供养人员): a few roll members (often 公益性岗位), decoys, the rest."""
    roll = pick_roll(world, rng, 0.005, per="household", min_age=22, max_age=58)
    decoys = decoys_for(world, "public_employees")
    pop = pick_population(world, rng, target(world, "public_employees") - len(roll)
                          - len(decoys), min_age=22, max_age=60)
    pids = np.concatenate([roll, decoys, pop])
    n = len(pids)
    low = np.zeros(n, dtype=bool)
    low[: len(roll)] = rng.random(len(roll)) < 0.4
    pay = np.where(low, rng.integers(1800, 2600, n), np.round(rng.lognormal(8.6, 0.3, n), -1))
    district = world.people.loc[pids, "district"].to_numpy(dtype=object)
    names = world.geo.district_name(district)
    kind = rng.random(n)
    employer = np.where(kind < 0.5, "武汉市" + names + rng.choice(vocab.EMPLOYER_SUFFIXES, n),
                        "武汉市" + names + rng.choice(vocab.SCHOOL_WORDS, n))
    employer = np.where(low, "武汉市" + names + "公益性岗位", employer)
    frame = pd.DataFrame({"pid": pids, "employer": employer, "pay": pay.astype(float)})
    return finish(frame, "E", rng)


def build_pensions(world: World, rng: np.random.Generator) -> pd.DataFrame:
    """Pensions: basic residents' pensions for many elderly roll members (not counted),
    counted pensions that push some households over the standard and some that do not."""
    hh = world.households.set_index("hh")
    basic = pick_roll(world, rng, 0.3, per="pool", min_age=60, minimum=10)
    pool = eligible_roll(world, 50)
    pool = pool[pool["hh"].map(hh["size"]) <= 3]
    over = pick_roll(world, rng, 0.006, per="household", pool=pool)
    under = pick_roll(world, rng, 0.005, per="household", min_age=50)
    care = pick_roll(world, rng, 0.003, per="person", min_age=30)
    rp = world.roll_people().drop_duplicates("pid").set_index("pid")

    def household_scale(pids: np.ndarray) -> np.ndarray:
        h = rp.loc[pids, "hh"].to_numpy()
        return hh.loc[h, "standard"].to_numpy() * hh.loc[h, "size"].to_numpy()

    counted = rng.choice(vocab.PENSION_COUNTED, len(over) + len(under), p=[0.8, 0.2])
    decoys = decoys_for(world, "pensions")
    planted = len(basic) + len(over) + len(under) + len(care) + len(decoys)
    pop = pick_population(world, rng, target(world, "pensions") - planted, min_age=55)
    u = rng.random(len(pop))
    pop_type = np.select([u < 0.55, u < 0.65, u < 0.98],
                         [vocab.PENSION_COUNTED[0], vocab.PENSION_COUNTED[1],
                          vocab.PENSION_NOT_COUNTED[0]], vocab.PENSION_NOT_COUNTED[1])
    decoy_type = np.full(len(decoys), vocab.PENSION_COUNTED[0], dtype=object)
    types = np.concatenate([np.full(len(basic), vocab.PENSION_NOT_COUNTED[0], dtype=object),
                            counted, np.full(len(care), vocab.PENSION_NOT_COUNTED[1]),
                            decoy_type, pop_type]).astype(object)
    amount = np.select(
        [types == vocab.PENSION_COUNTED[0], types == vocab.PENSION_COUNTED[1],
         types == vocab.PENSION_NOT_COUNTED[0]],
        [rng.uniform(2000, 5000, len(types)), rng.uniform(4000, 9000, len(types)),
         rng.uniform(120, 400, len(types))], rng.uniform(1200, 3500, len(types)))
    lo = len(basic)
    amount[lo: lo + len(over)] = household_scale(over) * rng.uniform(1.05, 1.8, len(over))
    lo += len(over)
    amount[lo: lo + len(under)] = household_scale(under) * rng.uniform(0.3, 0.9, len(under))
    pids = np.concatenate([basic, over, under, care, decoys, pop])
    frame = pd.DataFrame({"pid": pids, "benefit_type": types, "amount": np.round(amount, 2)})
    return finish(frame, "S", rng)
