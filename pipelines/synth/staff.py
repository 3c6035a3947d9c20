"""Staff: street caseworkers (民政专干/低保经办人) and community/village cadres; approvers.

Every street with households gets 1-6 caseworkers, who approve its households (approved_by).
Cadres sit in communities. Some cadres list their community office's phone instead of a
personal one (a shared number, not a personal link). In one district the roll names the
approver instead of giving the staff_id; caseworker names are unique among that district's
staff so the name can be resolved.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from pipelines.synth import vocab
from pipelines.synth.people import PersonFactory
from pipelines.synth.places import community_address, random_address
from pipelines.synth.world import World

STAFF_PER_HOUSEHOLD = 0.067
YEAR = 365.25


def build_staff(world: World, factory: PersonFactory, rng: np.random.Generator) -> None:
    """Create staff people, roles, phones and accounts; assign approvers to households."""
    hh = world.households
    comm = world.geo.communities
    per_street = hh.groupby("street").size()
    n_case = np.clip(np.round(per_street.to_numpy() / 150), 1, 6).astype(np.int64)
    case_street = np.repeat(per_street.index.to_numpy(dtype=object), n_case)
    per_comm = hh.groupby("cid").size()
    total = max(round(len(hh) * STAFF_PER_HOUSEHOLD), len(case_street) + len(per_comm))
    n_cadre = total - len(case_street)
    share = per_comm.to_numpy() / per_comm.sum()
    counts = 1 + rng.multinomial(n_cadre - len(per_comm), share)
    cadre_cid = np.repeat(per_comm.index.to_numpy(), counts)
    cc = comm.set_index("cid").loc[cadre_cid]
    street_district = dict(zip(world.geo.streets["code"], world.geo.streets["district"],
                               strict=True))
    street = np.concatenate([case_street, cc["street"].to_numpy(dtype=object)])
    district = np.array([street_district[s] for s in street], dtype=object)
    n = len(street)
    is_case = np.arange(n) < len(case_street)
    male = rng.random(n) < 0.5
    birth = world.as_of - (rng.uniform(25, 60, n) * YEAR).astype(np.int64)
    cid = np.concatenate([np.full(len(case_street), -1), cadre_cid])
    people = factory.people(male=male, birth=birth, district=district, street=street, cid=cid,
                            kind="staff", minority_rate=0.0)
    world.name_district = str(rng.choice(np.sort(hh["district"].unique())))
    names = _unique_caseworker_names(people, is_case, world.name_district, factory)
    people["name"] = names
    world.add_people(people)
    street_names = dict(zip(world.geo.streets["code"], world.geo.streets["name"], strict=True))
    village = cc["village"].to_numpy(dtype=bool)
    cadre_role = np.where(village, rng.choice(vocab.RURAL_CADRE_ROLES, len(cadre_cid)),
                          rng.choice(vocab.URBAN_CADRE_ROLES, len(cadre_cid)))
    role = np.concatenate([rng.choice(vocab.CASEWORKER_ROLES, len(case_street)), cadre_role])
    comm_name = cc["name"].to_numpy(dtype=object)
    cadre_org = np.where(village, comm_name + "村民委员会", comm_name + "居民委员会")
    case_org = np.array([street_names[s] + "办事处" for s in case_street], dtype=object)
    address = np.concatenate([random_address(world.geo, district[is_case], rng),
                              community_address(world.geo, cadre_cid, rng)])
    staff = pd.DataFrame({
        "staff_id": [f"ST{i + 1:06d}" for i in range(n)],
        "pid": people["pid"].to_numpy(), "role": role,
        "org": np.concatenate([case_org, cadre_org]), "district": district, "street": street,
        "cid": cid, "caseworker": is_case, "phone": factory.mobiles(n),
        "address": address,
        "bank": np.where(rng.random(n) < 0.6, factory.accounts(n), ""),
    })
    staff["office_phone"] = False
    office = comm["office_phone"].to_numpy(dtype=object)
    has_office = ~is_case & (office[np.maximum(cid, 0)] != "") & (rng.random(n) < 0.1)
    staff.loc[has_office, "phone"] = office[cid[has_office]]
    staff.loc[has_office, "office_phone"] = True
    world.staff = staff
    _assign_approvers(world, rng)


def _unique_caseworker_names(people: pd.DataFrame, is_case: np.ndarray, district: str,
                             factory: PersonFactory) -> np.ndarray:
    """Rename caseworkers of the name district until their names are unique among its staff."""
    names = people["name"].to_numpy(dtype=object).copy()
    in_district = people["district"].to_numpy() == district
    male = people["male"].to_numpy()
    for _ in range(100):
        counts = pd.Series(names[in_district]).value_counts()
        clash = in_district & is_case & np.isin(names, counts[counts > 1].index.to_numpy())
        if not clash.any():
            return names
        names[clash] = factory.names(male[clash], np.zeros(int(clash.sum()), dtype=bool))
    raise RuntimeError("could not make caseworker names unique")  # pragma: no cover


def _assign_approvers(world: World, rng: np.random.Generator) -> None:
    """approved_by = a caseworker of the household's street, drawn at random."""
    staff = world.staff
    hh = world.households
    case = staff[staff["caseworker"]].sort_values(["street", "staff_id"])
    groups = case.groupby("street", sort=True)
    first = groups.cumcount().to_numpy()
    start = pd.Series(np.flatnonzero(first == 0), index=groups.size().index)
    count = groups.size()
    s = hh["street"]
    pick = start.loc[s].to_numpy() + (rng.random(len(hh)) * count.loc[s].to_numpy()).astype(int)
    hh["approved_by"] = case["staff_id"].to_numpy()[pick]

