"""Staff relatives (近亲属申报), kin filings (备案) and staff links planted into the roll.

Each staff member declares 2-5 relatives (mean about 3.6); about 40% of declarations leave the
relative's ID blank, and about 65% of those about roll members in the staff member's own street
(so declared relatives on the roll must often be found by name and place). A few roll members
are declared: some approved by the declaring caseworker (APPROVER_CONFLICT), about 45% of near
relatives filed (else STAFF_RELATIVE_UNFILED), some sharing the staff member's phone (a declared
tie, so not STAFF_LINKED). Other households share a staff member's personal phone or account
without any declared tie (STAFF_LINKED); a few staff phones are shared by exactly 3 households
(still personal) and a few by exactly 4 (not personal). A blank-ID declaration about a roll
member is only written where the data can support it: the person lives in the staff member's
street and is the only roll member of that name there. Roll namesakes of such relatives are
planted in other streets, and some relatives who are not on the roll are named like a roll
member of another street of the staff member's district (decoys: the street tells them apart).

Case kinds of declarations without an ID (`case`, in the truth's cases.csv), each with the rule
a careful caseworker would accept, in terms of how many other roll people of the name the
place is expected to hold by chance ((roll people of the name - 1) x the place's share of the
roll; at most COINCIDENCE to count as singled out):
  blank_same_street   on the roll, in the staff member's street, the only one of that name
                      there and not expected there by chance: the person.
  blank_other_street  on the roll, in another street of the staff member's district, and nobody
                      else on the roll carries the name: the person.
  coincidental        not on the roll; a common name that a roll member on the staff member's
                      street carries, and that the street is expected to hold by chance: not
                      singled out, so not the person.
  elsewhere           not on the roll; named like a roll member of another street of the
                      district, where that name is expected by chance: not singled out.
The safety pass writes the ID of any other declaration these rules could not settle.

Declarations of roll members whose name holds a character outside GBK (the file is GBK) carry
the ID, and the name is written as the export would (render_registers.render_staff):
  gbk_question_mark   the character as '?': the same valid ID, and the name agreeing in every
                      other character, is the person.
  gbk_same_sound      the character as a common one of the same sound: the same valid ID and a
                      name of the same sound is the person.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from pipelines.synth import vocab
from pipelines.synth.people import PersonFactory
from pipelines.synth.world import World

YEAR = 365.25
ROLL_RELATIVE_RATE = 0.011  # of households
LINKED_RATE = 0.005  # of households
BLANK_RATE = 0.4
ROLL_BLANK_RATE = 0.65  # of declarations about roll members in the staff member's street
FILED_RATE = 0.45
ELSEWHERE_RATE = 0.08  # of relatives not on the roll: named like a roll member of another street
ELSEWHERE_BLANK = 0.75
COINCIDENTAL_RATE = 0.06  # of relatives not on the roll: a common roll name on the staff's street
UNENCODABLE_DECLARED = 0.5  # of roll people with a character outside GBK: declared by staff
COINCIDENCE = 0.05  # chance namesakes a place may be expected to hold and still single one out
SHARED_3 = SHARED_4 = 0.0005  # of households: staff phones shared by exactly 3 (4) households
PATERNAL = ("父亲", "子", "女", "兄弟姐妹", "祖父母", "孙子", "孙女")


def relation_for(diff: np.ndarray, male: np.ndarray, u: np.ndarray) -> np.ndarray:
    """Near relation of a person to a staff member given the age difference (person - staff)."""
    return np.select(
        [diff >= 45, diff >= 18, diff <= -45, diff <= -18, (np.abs(diff) <= 8) & (u < 0.2)],
        [np.where(u < 0.5, "祖父母", "外祖父母"), np.where(male, "父亲", "母亲"),
         np.where(male, np.where(u < 0.5, "孙子", "外孙子"), np.where(u < 0.5, "孙女", "外孙女")),
         np.where(male, "子", "女"), "配偶"], "兄弟姐妹").astype(object)


def other_relation(male: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A relation outside the near-relative list, fitting the person's gender."""
    u = rng.random(len(male))
    return np.select([u < 0.5, u < 0.75], [np.where(male, "表兄弟", "表姐妹"),
                                           np.where(male, "堂兄弟", "同学")], "朋友").astype(object)


def plant_relatives(world: World, factory: PersonFactory, rng: np.random.Generator) -> None:
    """Declarations, filings and staff links; then namesakes and the blank-ID safety pass."""
    roll = _roll_candidates(world)
    declared = _roll_declarations(world, roll, rng)
    others = _other_declarations(world, factory, rng, len(world.staff))
    rel = pd.concat([declared, others], ignore_index=True)
    rel = rel.iloc[rng.permutation(len(rel))].reset_index(drop=True)
    rel["record_id"] = [f"R{i + 1:08d}" for i in range(len(rel))]
    world.relatives = rel
    _plant_links(world, roll, set(declared["hh"]), rng)
    _plant_shared_phones(world, set(declared["hh"]), rng)
    _plant_namesakes(world, declared, rng)
    _plant_elsewhere(world, rng)
    _plant_coincidental(world, rng)
    _plant_unencodable(world, rng)
    _safe_blanks(world)


def _roll_candidates(world: World) -> pd.DataFrame:
    """Roll members that may be planted: not duplicated, no rare characters."""
    rp = world.roll_people()
    bad = np.isin(rp["pid"], world.duplicated_pids())
    bad |= rp["name"].map(lambda s: any(c in s for c in vocab.RARE_CHARS)).to_numpy(dtype=bool)
    return rp[~bad].reset_index(drop=True)


def _roll_declarations(world: World, roll: pd.DataFrame, rng: np.random.Generator) -> pd.DataFrame:
    """Declarations naming roll members: approver's relatives, same street, elsewhere."""
    staff = world.staff
    hh = world.households
    k = max(12, round(len(hh) * ROLL_RELATIVE_RATE))
    mode = rng.choice(np.array(["approver", "street", "district", "elsewhere"]), k,
                      p=[0.35, 0.3, 0.2, 0.15])
    by_street = roll.groupby("street").indices
    by_district = roll.groupby("district").indices
    s_district = staff["district"].to_numpy(dtype=object)
    r_pid, r_hh = roll["pid"].to_numpy(), roll["hh"].to_numpy()
    s_id, s_street = staff["staff_id"].to_numpy(dtype=object), staff["street"].to_numpy(dtype=object)
    case = np.flatnonzero(staff["caseworker"].to_numpy(dtype=bool))
    approved = hh["approved_by"].to_numpy(dtype=object).copy()
    rows: list[tuple[str, int, int, str, bool]] = []
    used: set[int] = set()
    for m in mode:
        j = int(rng.choice(case)) if m == "approver" else int(rng.integers(0, len(staff)))
        pool = np.arange(len(roll)) if m == "elsewhere" else (
            by_district.get(s_district[j]) if m == "district" else by_street.get(s_street[j]))
        if pool is None or len(pool) == 0:
            continue
        i = int(rng.choice(pool))
        h = int(r_hh[i])
        if h in used:
            continue
        used.add(h)
        near = m == "approver" or rng.random() < 0.85
        if m == "approver":
            approved[h] = s_id[j]
        elif not near and approved[h] == s_id[j]:
            near = True  # keep 'declared but not near' cases away from their own approver
        rows.append((str(s_id[j]), int(r_pid[i]), h, "near" if near else "other",
                     m in ("approver", "street", "district")))
    hh["approved_by"] = approved
    # same_street: declared where the data may support a blank ID (the staff member's street,
    # or the district: the safety pass decides)
    out = pd.DataFrame(rows, columns=["staff_id", "pid", "hh", "kind", "same_street"])
    n = len(out)
    s_pid = staff.set_index("staff_id").loc[out["staff_id"], "pid"].to_numpy()
    diff = (world.age(out["pid"]) - world.age(s_pid)).astype(np.int64)
    male = world.people.loc[out["pid"], "male"].to_numpy()
    u = rng.random(n)
    out["relation"] = np.where(out["kind"] == "near", relation_for(diff, male, u),
                               other_relation(male, rng))
    out["blank"] = out["same_street"] & (rng.random(n) < ROLL_BLANK_RATE)
    out["roll"] = True
    filed = (out["kind"] == "near") & (rng.random(n) < FILED_RATE)
    filed.iloc[np.flatnonzero(out["kind"] == "near")[:2]] = True  # small cities: some filings
    start = hh.loc[out.loc[filed, "hh"], "start"].to_numpy()
    span = np.maximum(world.as_of - start, 1)
    world.filings = pd.DataFrame({
        "hh": out.loc[filed, "hh"].to_numpy(), "pid": out.loc[filed, "pid"].to_numpy(),
        "staff_id": out.loc[filed, "staff_id"].to_numpy(),
        "filed": start + (rng.random(len(start)) * span).astype(np.int64)})
    share = (out["kind"] == "near") & (rng.random(n) < 0.15)
    phones = staff.set_index("staff_id").loc[out.loc[share, "staff_id"], "phone"].to_numpy()
    personal = ~staff.set_index("staff_id").loc[out.loc[share, "staff_id"], "office_phone"]
    target = out.loc[share, "hh"].to_numpy()[personal.to_numpy()]
    keep = hh.loc[target, "phone_kind"].to_numpy() != "office"
    hh.loc[target[keep], "phone"] = phones[personal.to_numpy()][keep]
    hh.loc[target[keep], "phone_kind"] = "relative"
    out["elsewhere"] = False
    out["coincidental"] = False
    return out[["staff_id", "pid", "hh", "relation", "blank", "roll", "elsewhere",
                "coincidental"]]


def _other_declarations(world: World, factory: PersonFactory, rng: np.random.Generator,
                        n_staff: int) -> pd.DataFrame:
    """Relatives who are not on the roll: 2-5 per staff member, consistent ages and surnames."""
    staff = world.staff
    per = rng.choice([2, 3, 4, 5], n_staff, p=[0.15, 0.3, 0.35, 0.2])
    idx = np.repeat(np.arange(n_staff), per)
    n = len(idx)
    s_pid = staff["pid"].to_numpy()[idx]
    s_people = world.people.loc[s_pid]
    s_age = world.age(s_pid)
    near = rng.random(n) < 0.88
    diff = rng.choice([-60, -30, 0, 28, 55], n, p=[0.05, 0.3, 0.25, 0.3, 0.1]) \
        + rng.integers(-6, 7, n)
    age = np.clip(s_age + diff, 1, 99)
    male = rng.random(n) < 0.5
    u = rng.random(n)
    relation = np.where(near, relation_for(age - s_age, male, u), other_relation(male, rng))
    second_spouse = pd.Series(idx).where(relation == "配偶").duplicated().to_numpy()
    relation[second_spouse & (relation == "配偶")] = "兄弟姐妹"
    spouse = relation == "配偶"
    male[spouse] = ~s_people["male"].to_numpy()[spouse]
    birth = world.as_of - (age * YEAR).astype(np.int64) - rng.integers(0, 365, n)
    names = factory.names(male, np.zeros(n, dtype=bool))
    paternal = np.isin(relation, ["父亲", "子", "女", "兄弟姐妹", "祖父母", "孙子", "孙女"])
    surname = np.array([factory.surname_of(x) for x in s_people["name"]], dtype=object)
    names[paternal] = surname[paternal] + factory.given_names(male[paternal])
    district = np.where(rng.random(n) < 0.7, staff["district"].to_numpy(dtype=object)[idx],
                        rng.choice(world.geo.districts["code"].to_numpy(dtype=object), n))
    people = factory.people(male=male, birth=birth, district=district, names=names,
                            kind="relative")
    world.add_people(people)
    return pd.DataFrame({"staff_id": staff["staff_id"].to_numpy()[idx],
                         "pid": people["pid"].to_numpy(), "hh": -1, "relation": relation,
                         "blank": rng.random(n) < BLANK_RATE, "roll": False,
                         "elsewhere": False, "coincidental": False})


def _plant_links(world: World, roll: pd.DataFrame, declared_hh: set[int],
                 rng: np.random.Generator) -> None:
    """Households sharing a staff member's personal phone or account, with no declared tie."""
    hh = world.households
    staff = world.staff
    ok = (hh["phone_kind"] == "mobile") & ~hh["hh"].isin(declared_hh)
    k = min(max(12, round(len(hh) * LINKED_RATE)), int(ok.sum()) // 2)
    chosen = rng.choice(hh.loc[ok, "hh"].to_numpy(), k, replace=False)
    personal = staff[~staff["office_phone"]]
    for i, h in enumerate(chosen):
        if rng.random() < 0.3:
            cands = personal[personal["caseworker"] & (personal["street"] == hh.at[h, "street"])]
        else:
            cands = personal[personal["district"] == hh.at[h, "district"]]
        if cands.empty:
            cands = personal
        s = cands.iloc[int(rng.integers(0, len(cands)))]
        if s["caseworker"] and s["street"] == hh.at[h, "street"] and rng.random() < 0.8:
            hh.at[h, "approved_by"] = s["staff_id"]
        if s["bank"] and rng.random() < 0.4:
            hh.at[h, "bank"] = s["bank"]
        else:
            hh.at[h, "phone"] = s["phone"]
            hh.at[h, "phone_kind"] = "staff"
            if i % 10 == 0:  # now and then a second household on the same number
                other = int(rng.choice(hh.loc[ok, "hh"].to_numpy()))
                if other not in chosen:
                    hh.at[other, "phone"] = s["phone"]
                    hh.at[other, "phone_kind"] = "staff"


def _plant_shared_phones(world: World, declared_hh: set[int], rng: np.random.Generator) -> None:
    """Staff phones entered for exactly 3 households (personal: STAFF_LINKED) and for exactly 4
    (more than 3: not personal), with no declared tie."""
    hh = world.households
    staff = world.staff
    used = set(hh["phone"]) | set(hh["bank"])
    fresh = staff[~staff["office_phone"] & ~staff["phone"].isin(used)
                  & ~staff["bank"].isin(used - {""})]
    staff_banks = set(staff["bank"]) - {""}
    ok = hh.loc[(hh["phone_kind"] == "mobile") & ~hh["hh"].isin(declared_hh)
                & ~hh["bank"].isin(staff_banks), "hh"].to_numpy()
    n3 = max(3, round(len(hh) * SHARED_3))
    n4 = max(3, round(len(hh) * SHARED_4))
    k = min(n3 + n4, len(fresh), len(ok) // 4)
    chosen = fresh.iloc[np.sort(rng.choice(len(fresh), k, replace=False))]
    threes = k - min(n4, k // 2)
    size = np.where(np.arange(k) < threes, 3, 4)
    households = rng.permutation(ok)[: int(size.sum())]
    phone = hh["phone"].to_numpy(dtype=object).copy()
    kind = hh["phone_kind"].to_numpy(dtype=object).copy()
    phone[households] = np.repeat(chosen["phone"].to_numpy(dtype=object), size)
    kind[households] = np.repeat(np.where(size == 3, "staff3", "staff4").astype(object), size)
    hh["phone"] = phone
    hh["phone_kind"] = kind


def _plant_elsewhere(world: World, rng: np.random.Generator) -> None:
    """Relatives not on the roll named like a roll member of another street of the staff
    member's district (same gender; not for relations that carry the staff's surname); most
    declared without ID."""
    rel = world.relatives
    staff = world.staff.set_index("staff_id")
    other = rel[~rel["roll"] & ~rel["relation"].isin(PATERNAL)]
    k = min(len(other), round(ELSEWHERE_RATE * int((~rel["roll"]).sum())))
    pick = np.sort(rng.choice(other.index.to_numpy(), k, replace=False))
    rp = world.roll_people().drop_duplicates("pid")
    plain = [not any(c in x for c in (vocab.MIDDLE_DOT, *vocab.RARE_CHARS)) for x in rp["name"]]
    rp = rp[np.array(plain, dtype=bool)]  # the declarations file is GBK
    # a name another roll person carries too: the district is expected to hold a namesake by
    # chance, so the name singles nobody out there (a name only one carries would)
    rp = rp[rp["name"].map(rp["name"].value_counts()).to_numpy() >= 2]
    groups = {key: (g["street"].to_numpy(dtype=object), g["name"].to_numpy(dtype=object))
              for key, g in rp.groupby(["district", "male"])}
    rel_pid = rel.loc[pick, "pid"].to_numpy()
    male = world.people.loc[rel_pid, "male"].to_numpy(dtype=bool)
    s_district = staff.loc[rel.loc[pick, "staff_id"], "district"].to_numpy(dtype=object)
    s_street = staff.loc[rel.loc[pick, "staff_id"], "street"].to_numpy(dtype=object)
    pids, names, rows = [], [], []
    for i, row in enumerate(pick):
        found = groups.get((s_district[i], bool(male[i])))
        if found is None:
            continue
        streets, candidates = found
        for j in rng.integers(0, len(streets), 8):
            if streets[j] != s_street[i]:
                pids.append(int(rel_pid[i]))
                names.append(candidates[j])
                rows.append(row)
                break
    if not pids:
        return
    world.rename(np.array(pids, dtype=np.int64), np.array(names, dtype=object))
    rel.loc[rows, "elsewhere"] = True
    rel.loc[rows, "blank"] = rng.random(len(rows)) < ELSEWHERE_BLANK


def _plant_namesakes(world: World, declared: pd.DataFrame, rng: np.random.Generator) -> None:
    """Give roll members in other streets the names of half the blank-ID roll relatives."""
    staff_street = world.staff.set_index("staff_id").loc[declared["staff_id"], "street"]
    home = world.households.set_index("hh").loc[declared["hh"], "street"]
    # declarations about the staff member's own street (the others need a name nobody else
    # on the roll carries: case blank_other_street)
    same = staff_street.to_numpy(dtype=object) == home.to_numpy(dtype=object)
    blanks = declared[declared["blank"].to_numpy(dtype=bool) & same]
    blanks = blanks.iloc[: max(1, len(blanks) // 2)]
    rp = world.roll_people()
    planted = set(declared["pid"]) | set(world.duplicated_pids())
    free = rp[~rp["pid"].isin(planted)]
    pools = {bool(m): (g["pid"].to_numpy(), g["street"].to_numpy(dtype=object))
             for m, g in free.groupby("male")}
    people = world.people.loc[blanks["pid"]]
    street = world.households.loc[blanks["hh"], "street"].to_numpy(dtype=object)
    pids, names = [], []
    for male, name, home in zip(people["male"], people["name"], street, strict=True):
        cand_pid, cand_street = pools.get(bool(male), (np.empty(0), np.empty(0)))
        if not len(cand_pid):
            continue
        for j in rng.integers(0, len(cand_pid), 16):
            if cand_street[j] != home:
                pids.append(int(cand_pid[j]))
                names.append(name)
                break
    if pids:
        world.rename(np.array(pids), np.array(names, dtype=object))


@dataclass(frozen=True)
class _Chance:
    """Roll people (distinct) per name and per (place, name), and each place's share of the
    roll: what the expected chance namesakes of a place are made of."""

    name: pd.Series  # name -> people
    street: pd.Series  # (street, name) -> people
    district: pd.Series  # (district, name) -> people
    community: pd.Series  # (cid, name) -> people
    street_share: pd.Series
    district_share: pd.Series
    community_share: pd.Series

    @classmethod
    def of(cls, world: World) -> _Chance:
        rp = world.roll_people().drop_duplicates("pid")
        total = max(len(rp), 1)
        return cls(rp.groupby("name").size(), rp.groupby(["street", "name"]).size(),
                   rp.groupby(["district", "name"]).size(), rp.groupby(["cid", "name"]).size(),
                   rp.groupby("street").size() / total, rp.groupby("district").size() / total,
                   rp.groupby("cid").size() / total)

    def others(self, names: np.ndarray) -> np.ndarray:
        """Other roll people carrying each name."""
        return np.maximum(pd.Series(names).map(self.name).fillna(0).to_numpy() - 1, 0)

    def singles_out(self, level: str, places: np.ndarray, names: np.ndarray) -> np.ndarray:
        """Whether each place (a street, district or cid) singles a roll member of the name
        out: at least one there, at most COINCIDENCE others expected there by chance."""
        counts, share = getattr(self, level), getattr(self, f"{level}_share")
        here = counts.reindex(pd.MultiIndex.from_arrays([places, names])).fillna(0).to_numpy()
        expected = self.others(names) * pd.Series(places).map(share).fillna(1).to_numpy()
        return (here >= 1) & (expected <= COINCIDENCE)


def _plant_coincidental(world: World, rng: np.random.Generator) -> None:
    """Relatives not on the roll, declared without an ID, named like a roll member of the staff
    member's street whose name the street is expected to hold by chance (case coincidental)."""
    rel = world.relatives
    staff = world.staff.set_index("staff_id")
    chance = _Chance.of(world)
    rp = world.roll_people().drop_duplicates("pid")
    plain = np.array([not any(c in x for c in (vocab.MIDDLE_DOT, *vocab.RARE_CHARS))
                      for x in rp["name"]], dtype=bool)
    rp = rp[plain]  # the declarations file is GBK
    common = rp[chance.others(rp["name"].to_numpy(dtype=object))
                * rp["street"].map(chance.street_share).to_numpy() > 2 * COINCIDENCE]
    groups = {key: g["name"].to_numpy(dtype=object) for key, g in common.groupby(["street", "male"])}
    other = rel[~rel["roll"] & ~rel["relation"].isin(PATERNAL) & ~rel["elsewhere"]]
    k = min(len(other), round(COINCIDENTAL_RATE * int((~rel["roll"]).sum())))
    pick = np.sort(rng.choice(other.index.to_numpy(), k, replace=False))
    rel_pid = rel.loc[pick, "pid"].to_numpy()
    male = world.people.loc[rel_pid, "male"].to_numpy(dtype=bool)
    street = staff.loc[rel.loc[pick, "staff_id"], "street"].to_numpy(dtype=object)
    pids, names, rows = [], [], []
    for i, row in enumerate(pick):
        found = groups.get((street[i], bool(male[i])))
        if found is None:
            continue
        pids.append(int(rel_pid[i]))
        names.append(found[int(rng.integers(0, len(found)))])
        rows.append(row)
    if not pids:
        return
    world.rename(np.array(pids, dtype=np.int64), np.array(names, dtype=object))
    rel.loc[rows, "coincidental"] = True
    rel.loc[rows, "blank"] = True


def _plant_unencodable(world: World, rng: np.random.Generator) -> None:
    """Declarations naming roll members whose name has a character outside GBK (the
    declarations file is GBK: render_staff writes it as '?' or a same-sound character), by a
    staff member of their district, always with the ID: the ID, not the name, identifies them
    (cases gbk_question_mark and gbk_same_sound)."""
    rel = world.relatives
    rp = world.roll_people().drop_duplicates("pid")
    rare = rp[rp["name"].map(lambda s: any(c in s for c in vocab.RARE_CHARS)).to_numpy(bool)
              & ~np.isin(rp["pid"], world.duplicated_pids()) & ~rp["pid"].isin(rel["pid"])]
    rare = rare[rng.random(len(rare)) < UNENCODABLE_DECLARED]
    staff = world.staff
    by_district = staff.groupby("district").indices
    rows = []
    for pid, hh, district in zip(rare["pid"], rare["hh"], rare["district"], strict=True):
        pool = by_district.get(district)
        if pool is None or not len(pool):
            continue
        rows.append((str(staff["staff_id"].iloc[int(rng.choice(pool))]), int(pid), int(hh)))
    if not rows:
        return
    out = pd.DataFrame(rows, columns=["staff_id", "pid", "hh"])
    s_pid = staff.set_index("staff_id").loc[out["staff_id"], "pid"].to_numpy()
    diff = (world.age(out["pid"]) - world.age(s_pid)).astype(np.int64)
    male = world.people.loc[out["pid"], "male"].to_numpy()
    out["relation"] = relation_for(diff, male, rng.random(len(out)))
    out["blank"] = out["elsewhere"] = out["coincidental"] = False
    out["roll"] = True
    first = int(rel["record_id"].str[1:].astype(int).max()) if len(rel) else 0
    out["record_id"] = [f"R{first + i + 1:08d}" for i in range(len(out))]
    world.relatives = pd.concat([rel, out.astype(rel.dtypes.to_dict())], ignore_index=True)


def _safe_blanks(world: World) -> None:
    """Fill in the ID of any blank declaration the rules of the module docstring cannot settle
    (a true one not singled out, or a stranger who would be); record each blank one's case."""
    rel = world.relatives
    chance = _Chance.of(world)
    staff = world.staff.set_index("staff_id").loc[rel["staff_id"]]
    street = staff["street"].to_numpy(dtype=object)
    district = staff["district"].to_numpy(dtype=object)
    cid = staff["cid"].to_numpy()
    name = world.people.loc[rel["pid"], "name"].to_numpy(dtype=object)
    others = chance.others(name)
    on_street = chance.street.reindex(pd.MultiIndex.from_arrays([street, name])) \
        .fillna(0).to_numpy()
    street_ok = chance.singles_out("street", street, name)
    # some roll member would be taken for this person (in the staff member's community, where
    # the roster gives one, street or district)
    singled_out = street_ok | chance.singles_out("district", district, name) | (
        (cid >= 0) & chance.singles_out("community", cid, name))
    roll = rel["roll"].to_numpy(dtype=bool)
    hh = world.households.set_index("hh")
    home = hh.reindex(rel["hh"].where(roll, -1))
    home_street = home["street"].to_numpy(dtype=object)
    home_district = home["district"].to_numpy(dtype=object)
    same_street = roll & (home_street == street) & (on_street == 1) & street_ok
    other_street = roll & (home_street != street) & (home_district == district) & (others == 0)
    blank = rel["blank"].to_numpy(dtype=bool) & np.where(roll, same_street | other_street,
                                                        ~singled_out)
    rel["blank"] = blank
    rel["case"] = np.select(
        [blank & same_street, blank & other_street,
         blank & rel["coincidental"].to_numpy(dtype=bool),
         blank & rel["elsewhere"].to_numpy(dtype=bool)],
        ["blank_same_street", "blank_other_street", "coincidental", "elsewhere"], "")
    world.blank_declared = set(rel.loc[rel["blank"] & rel["roll"], "pid"].astype(int))
