"""Asset registers: vehicles (机动车), property (不动产) and businesses (市场主体).

Roll members get positives (an active ordinary vehicle; two homes or a shop or office; legal
representative or shareholder of an active company) and realistic negatives (deregistered
vehicles, motorcycles and disability vehicles; exactly one home, a home plus a parking space;
closed companies, senior managers and supervisors). The general population fills the rest.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from pipelines.synth import vocab
from pipelines.synth.places import random_address
from pipelines.synth.registers import decoys_for, finish, pick_population, pick_roll, target
from pipelines.synth.world import World

_PLATE_CHARS = np.array(list("ABCDEFGHJKLMNPQRSTUVWXYZ0123456789"), dtype=object)
YEAR = 365.25


def _plates(rng: np.random.Generator, n: int) -> np.ndarray:
    """Hubei plates: 鄂 + city letter + five letters/digits."""
    city = rng.choice(np.array(list("AAAAAABCDEFGH"), dtype=object), n)
    out = "鄂" + city
    for _ in range(5):
        out = out + rng.choice(_PLATE_CHARS, n)
    return out


def _since_adult(world: World, pids: np.ndarray, rng: np.random.Generator,
                 earliest: int = 10957) -> np.ndarray:
    """A date after the person turned 18 (and after 2000-01-01 by default), before as_of."""
    birth = world.people.loc[pids, "birth"].to_numpy()
    lo = np.maximum(birth + int(18 * YEAR), earliest)
    lo = np.minimum(lo, world.as_of - 30)
    return lo + (rng.random(len(pids)) * (world.as_of - lo)).astype(np.int64)


def build_vehicles(world: World, rng: np.random.Generator) -> pd.DataFrame:
    """Vehicles: roll positives (active, ordinary type) and negatives, decoys, the rest."""
    pos = pick_roll(world, rng, 0.009, min_age=20, max_age=70)
    neg = pick_roll(world, rng, 0.015, min_age=18, max_age=80)
    decoys = decoys_for(world, "vehicles")
    n_pop = target(world, "vehicles") - len(pos) - len(neg) - len(decoys)
    pop = pick_population(world, rng, n_pop, min_age=20, max_age=80, replace=True)
    n_neg = len(neg)
    exempt = rng.random(n_neg) < 0.5
    ordinary = np.array(vocab.VEHICLE_ORDINARY, dtype=object)
    active = np.array(vocab.VEHICLE_ACTIVE, dtype=object)
    u = rng.random(len(pop))
    pop_type = np.where(u < 0.85, rng.choice(ordinary, len(pop)),
                        np.where(u < 0.99, "摩托车", "残疾人专用车"))
    v = rng.random(len(pop))
    pop_status = np.select([v < 0.88, v < 0.94, v < 0.97], ["正常", "注销", "报废"], "逾期未检验")
    types = np.concatenate([
        rng.choice(ordinary, len(pos)),
        np.where(exempt, rng.choice(np.array(vocab.VEHICLE_EXEMPT, dtype=object), n_neg),
                 rng.choice(ordinary, n_neg)),
        rng.choice(ordinary, len(decoys)), pop_type])
    status = np.concatenate([
        rng.choice(active, len(pos), p=[0.9, 0.1]),
        np.where(exempt, "正常", rng.choice(np.array(vocab.VEHICLE_DEREGISTERED), n_neg)),
        np.full(len(decoys), "正常", dtype=object), pop_status]).astype(object)
    pids = np.concatenate([pos, neg, decoys, pop])
    n = len(pids)
    price = np.where(rng.random(n) < 0.6, np.round(rng.lognormal(11.6, 0.5, n), -2), np.nan)
    price = np.where(np.isin(types, vocab.VEHICLE_EXEMPT), np.round(price / 20, -2), price)
    frame = pd.DataFrame({"pid": pids, "plate": _plates(rng, n), "vehicle_type": types,
                          "registered": _since_adult(world, pids, rng), "status": status,
                          "price": price})
    return finish(frame, "V", rng)


def build_property(world: World, rng: np.random.Generator) -> pd.DataFrame:
    """Property units: two homes or a non-residential unit (positives), one home (allowed)."""
    two = pick_roll(world, rng, 0.0033, min_age=25)
    shop = pick_roll(world, rng, 0.0027, min_age=25)
    one = pick_roll(world, rng, 0.08, min_age=25)
    space = pick_roll(world, rng, 0.003, min_age=25)
    res = np.array(vocab.USAGE_RESIDENTIAL, dtype=object)
    with_home = rng.random(len(shop)) < 0.5
    decoys = decoys_for(world, "property")
    owners = [two, two, shop, shop[with_home], one, space, space, decoys]
    usages = [rng.choice(res, len(two), p=[0.8, 0.2]), np.full(len(two), "住宅", dtype=object),
              rng.choice(np.array(vocab.USAGE_NONRESIDENTIAL, dtype=object), len(shop)),
              np.full(int(with_home.sum()), "住宅", dtype=object),
              rng.choice(res, len(one), p=[0.85, 0.15]), np.full(len(space), "住宅"),
              np.full(len(space), "车位"),
              # half the decoys own a shop or office: one wrong link is a wrong finding
              np.where(rng.random(len(decoys)) < 0.5, "住宅",
                       rng.choice(np.array(vocab.USAGE_NONRESIDENTIAL, dtype=object),
                                  len(decoys)))]
    planted = sum(len(o) for o in owners)
    n_pop = target(world, "property") - planted
    pop = pick_population(world, rng, n_pop, min_age=25, replace=True)
    u = rng.random(len(pop))
    usages.append(np.select([u < 0.8, u < 0.88, u < 0.92, u < 0.94], ["住宅", "成套住宅", "商业",
                                                                    "办公"], "车位"))
    owners.append(pop)
    pids = np.concatenate(owners)
    usage = np.concatenate(usages).astype(object)
    n = len(pids)
    district = world.people.loc[pids, "district"].to_numpy(dtype=object)
    elsewhere = rng.random(n) < 0.3
    district[elsewhere] = rng.choice(world.geo.districts["code"].to_numpy(dtype=object),
                                     int(elsewhere.sum()))
    area = np.where(usage == "车位", rng.uniform(12, 20, n),
                    np.clip(rng.normal(88, 28, n), 25, 260))
    frame = pd.DataFrame({"pid": pids, "property_address": random_address(world.geo, district, rng),
                          "area": np.round(area, 2), "usage": usage})
    return finish(frame, "P", rng)


def build_businesses(world: World, rng: np.random.Generator) -> pd.DataFrame:
    """Company roles: active legal representatives/shareholders count; others do not."""
    pos = pick_roll(world, rng, 0.0045, min_age=22, max_age=75)
    neg = pick_roll(world, rng, 0.006, min_age=22, max_age=75)
    decoys = decoys_for(world, "businesses")
    n_pop = target(world, "businesses") - len(pos) - len(neg) - len(decoys)
    pop = pick_population(world, rng, n_pop, min_age=22, max_age=75, replace=True)
    counted = np.array(vocab.ROLE_COUNTED, dtype=object)
    active = np.array(vocab.STATUS_ACTIVE, dtype=object)
    n_neg = len(neg)
    closed_case = rng.random(n_neg) < 0.5
    u = rng.random(len(pop))
    pop_role = np.select([u < 0.4, u < 0.75, u < 0.93], ["法定代表人", "股东", "高级管理人员"],
                         "监事")
    pop_status = np.where(rng.random(len(pop)) < 0.75, rng.choice(active, len(pop)),
                          rng.choice(np.array(vocab.STATUS_CLOSED, dtype=object), len(pop)))
    role = np.concatenate([
        rng.choice(counted, len(pos)),
        np.where(closed_case, rng.choice(counted, n_neg),
                 rng.choice(np.array(vocab.ROLE_NOT_COUNTED, dtype=object), n_neg, p=[0.7, 0.3])),
        rng.choice(counted, len(decoys)), pop_role]).astype(object)
    status = np.concatenate([
        rng.choice(active, len(pos)),
        np.where(closed_case, rng.choice(np.array(vocab.STATUS_CLOSED, dtype=object), n_neg),
                 rng.choice(active, n_neg)),
        rng.choice(active, len(decoys)), pop_status]).astype(object)
    pids = np.concatenate([pos, neg, decoys, pop])
    n = len(pids)
    company = ("武汉" + rng.choice(np.array(vocab.COMPANY_WORDS, dtype=object), n)
               + rng.choice(np.array(vocab.COMPANY_TRADES, dtype=object), n) + "有限公司")
    capital = np.round(rng.lognormal(4.0, 1.2, n), 1)
    subscribed = np.where(rng.random(n) < 0.5, np.round(capital * rng.uniform(0.05, 1.0, n), 1),
                          np.nan)
    frame = pd.DataFrame({"pid": pids, "role": role, "company": company, "capital": capital,
                          "status": status, "established": _since_adult(world, pids, rng, 7305),
                          "subscribed": subscribed})
    return finish(frame, "B", rng)
