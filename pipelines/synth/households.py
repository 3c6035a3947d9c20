"""The roll (低保名册): households, members, phones, accounts, amounts; planted duplicates.

Sizes 1-6 (mean about 2.4); members are 户主 plus 配偶, 子/女, 父亲/母亲, 孙子/孙女 with ages
that fit. A community office's phone is entered for 5-40 households of its community. The
monthly amount is round((standard - per-capita income) x household_size), on the head's row.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from pipelines.synth import vocab
from pipelines.synth.people import PersonFactory
from pipelines.synth.places import community_address
from pipelines.synth.world import World

SIZE_P = np.array([0.30, 0.28, 0.20, 0.13, 0.06, 0.03])
YEAR = 365.25
RARE_NAME_RATE = 0.001  # of roll people: a character outside GBK in the name (vocab.RARE_CHARS)


def build_roll(world: World, factory: PersonFactory, rng: np.random.Generator, n: int) -> None:
    """Create n households and their members (clean), with phones and bank accounts."""
    comm = world.geo.communities
    weight = comm["weight"].to_numpy()
    cid = np.sort(rng.choice(comm["cid"].to_numpy(), n, p=weight / weight.sum()))
    c = comm.set_index("cid").loc[cid]
    district = c["district"].to_numpy(dtype=object)
    seq = pd.Series(district).groupby(district).cumcount().to_numpy() + 1
    hh = pd.DataFrame({
        "hh": np.arange(n, dtype=np.int64),
        "household_id": "DB" + district + pd.Series(seq).astype(str).str.zfill(6).to_numpy(),
        "cid": cid, "street": c["street"].to_numpy(dtype=object), "district": district,
        "category": c["category"].to_numpy(dtype=object),
        "size": rng.choice(np.arange(1, 7), n, p=SIZE_P),
        "start": world.as_of - rng.integers(45, 14 * 365, n),
    })
    hh = hh.sort_values("household_id").reset_index(drop=True)
    hh["hh"] = np.arange(n, dtype=np.int64)
    hh["address"] = community_address(world.geo, hh["cid"].to_numpy(), rng)
    members = _members(hh, rng)
    birth = world.as_of - (members["age"].to_numpy() * YEAR).astype(np.int64) \
        - rng.integers(0, 365, len(members))
    mh = hh.set_index("hh").loc[members["hh"]]
    people = factory.people(male=members["male"].to_numpy(), birth=birth,
                            district=mh["district"].to_numpy(dtype=object),
                            street=mh["street"].to_numpy(dtype=object),
                            cid=mh["cid"].to_numpy(), kind="roll",
                            names=_family_names(members, factory, rng))
    rare = rng.choice(len(people), max(1, round(len(people) * RARE_NAME_RATE)), replace=False)
    names = people["name"].to_numpy(dtype=object)
    for i in rare:
        if vocab.MIDDLE_DOT not in names[i]:
            names[i] = names[i][0] + str(rng.choice(vocab.RARE_CHARS)) + names[i][-1]
    people["name"] = names
    world.add_people(people)
    members["pid"] = people["pid"].to_numpy()
    world.members = members[["hh", "pid", "relation", "slot"]].reset_index(drop=True)
    hh["head_pid"] = world.members.loc[world.members["slot"] == 0, "pid"].to_numpy()
    hh["phone"] = np.where(rng.random(n) < 0.96, factory.mobiles(n), "")
    hh["phone_kind"] = np.where(hh["phone"] != "", "mobile", "none")
    hh["bank"] = np.where(rng.random(n) < 0.95, factory.accounts(n), "")
    hh["approved_by"] = ""
    world.households = hh
    _office_phones(world, rng)


def _members(hh: pd.DataFrame, rng: np.random.Generator) -> pd.DataFrame:
    """Member slots with relation, gender and age; slot 0 is the head."""
    size = hh["size"].to_numpy()
    n = len(hh)
    single = size == 1
    head_age = np.where(single, np.clip(40 + rng.gamma(4.0, 6.0, n), 40, 95),
                        np.clip(rng.normal(52, 13, n), 25, 88))
    head_male = rng.random(n) < np.where(single, 0.45, 0.55)
    hh_idx = np.repeat(np.arange(n), size)
    slot = np.arange(len(hh_idx)) - np.repeat(np.cumsum(size) - size, size)
    ha = head_age[hh_idx]
    hm = head_male[hh_idx]
    u = rng.random(len(hh_idx))
    sex = rng.random(len(hh_idx)) < 0.5
    child = np.clip(ha - rng.uniform(20, 38, len(hh_idx)), 0, None)
    child = np.where(child <= 0, rng.uniform(0, 3, len(hh_idx)), child)
    spouse = (slot == 1) & (u < 0.65)
    parent = (slot >= 1) & ~spouse & (u > 0.9) & (ha <= 60)
    grand = (slot >= 2) & ~parent & (u > 0.78) & (u <= 0.9) & (ha >= 55)
    relation = np.select(
        [slot == 0, spouse, parent & sex, parent, grand & sex, grand, sex],
        ["户主", "配偶", "父亲", "母亲", "孙子", "孙女", "子"], "女").astype(object)
    male = np.select([slot == 0, spouse], [hm, ~hm], sex)
    age = np.select(
        [slot == 0, spouse, parent, grand],
        [ha, np.clip(ha + rng.normal(0, 4, len(hh_idx)), 20, 95),
         np.clip(ha + rng.uniform(22, 32, len(hh_idx)), 45, 99),
         np.clip(ha - rng.uniform(45, 60, len(hh_idx)), 0, 30)], child)
    return pd.DataFrame({"hh": hh["hh"].to_numpy()[hh_idx], "slot": slot,
                         "relation": relation, "male": male.astype(bool), "age": age})


def _family_names(members: pd.DataFrame, factory: PersonFactory,
                  rng: np.random.Generator) -> np.ndarray:
    """Names where children, grandchildren and the head's father carry the family surname."""
    male = members["male"].to_numpy()
    n = len(members)
    names = factory.names(male, rng.random(n) < 0.006)
    head_row = np.flatnonzero(members["slot"].to_numpy() == 0)
    head = head_row[np.searchsorted(head_row, np.arange(n), side="right") - 1]
    head_name = names[head]
    han_head = np.array([vocab.MIDDLE_DOT not in x for x in head_name], dtype=bool)
    relation = members["relation"].to_numpy()
    line = np.isin(relation, ["子", "女", "孙子", "孙女"]) & (male[head] | (rng.random(n) < 0.5))
    line |= relation == "父亲"
    line &= han_head & np.array([vocab.MIDDLE_DOT not in x for x in names], dtype=bool)
    surname = np.array([factory.surname_of(x) for x in head_name[line]], dtype=object)
    names[line] = surname + factory.given_names(male[line])
    return names


def _office_phones(world: World, rng: np.random.Generator) -> None:
    """Enter each community office's phone for 5-40 of its households (at most 30%)."""
    hh = world.households
    comm = world.geo.communities
    used: set[int] = set()
    office = np.full(len(comm), "", dtype=object)
    phone = hh["phone"].to_numpy(dtype=object).copy()
    kind = hh["phone_kind"].to_numpy(dtype=object).copy()
    cids = hh["cid"].to_numpy()
    for cid in np.unique(cids):
        idx = np.flatnonzero(cids == cid)
        k = min(int(rng.integers(5, 41)), int(len(idx) * 0.3))
        if k < 5:
            continue
        number = int(rng.integers(80_000_000, 89_999_999))
        while number in used:
            number += 1
        used.add(number)
        form = rng.random()
        written = (f"027-{number}" if form < 0.6 else f"027{number}" if form < 0.8
                   else str(number))
        office[int(cid)] = written
        chosen = rng.choice(idx, k, replace=False)
        phone[chosen] = written
        kind[chosen] = "office"
    comm["office_phone"] = office
    hh["phone"] = phone
    hh["phone_kind"] = kind


def plant_duplicates(world: World, rng: np.random.Generator, rate: float = 0.004) -> None:
    """Cover some members in a second household (DUPLICATE_RECEIPT); 10% with equal starts."""
    hh = world.households
    members = world.members
    donors = members[members["slot"] > 0].drop_duplicates("hh")
    k = min(max(3, round(len(hh) * rate)), len(donors), len(hh) // 4)
    donors = donors.iloc[rng.choice(len(donors), k, replace=False)]
    pool = hh.loc[~hh["hh"].isin(donors["hh"]) & (hh["size"] < 6), "hh"].to_numpy()
    k = min(k, len(pool))
    donors = donors.iloc[:k]
    receivers = rng.choice(pool, k, replace=False)
    start = hh["start"].to_numpy().copy()
    tie = rng.random(k) < 0.1
    start[receivers[tie]] = start[donors["hh"].to_numpy()[tie]]
    hh["start"] = start
    ages = world.age(donors["pid"].to_numpy())
    head_ages = world.age(hh.loc[receivers, "head_pid"].to_numpy())
    male = world.people.loc[donors["pid"].to_numpy(), "male"].to_numpy()
    diff = ages - head_ages
    relation = np.select([diff >= 18, diff <= -18],
                         [np.where(male, "父亲", "母亲"), np.where(male, "子", "女")], "其他")
    extra = pd.DataFrame({"hh": receivers, "pid": donors["pid"].to_numpy(),
                          "relation": relation, "slot": hh.loc[receivers, "size"].to_numpy()})
    world.members = pd.concat([members, extra]).sort_values(["hh", "slot"]).reset_index(drop=True)


def finish_amounts(world: World, rng: np.random.Generator) -> None:
    """Household size from members; amount = round((standard - income) x size)."""
    hh = world.households
    hh["size"] = world.members.groupby("hh").size().reindex(hh["hh"]).to_numpy()
    std = world.geo.standards.set_index(["district", "category"])["standard"]
    hh["standard"] = std.reindex(pd.MultiIndex.from_arrays(
        [hh["district"], hh["category"]])).to_numpy()
    hh["pci"] = np.round(hh["standard"] * rng.uniform(0.0, 0.8, len(hh)), 0)
    hh["amount"] = np.round((hh["standard"] - hh["pci"]) * hh["size"]).astype(np.int64)
