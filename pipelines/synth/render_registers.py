"""Render the cross-reference registers and the staff tables as departments write them.

Blank or spreadsheet-mangled IDs only occur where the record keeps what a match needs: birth date
(and gender) in deaths, vehicles and property; the community in the low-income register. They
are written only where the name with that birth date (or in that community) points to exactly
one roll member, or, for people not on the roll, to none: a truth link is always supportable and a
blank record never looks like a roll member it is not. Records about roll members are damaged
harder than the rest (MEMBER_* rates). Some decoys are written without an ID on purpose: roll
members' namesakes born in the same year (deaths, vehicles, property) and low-income people
named like a roll member of another community; their birth date or community tells them apart.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from pipelines.synth import vocab
from pipelines.synth.damage import money
from pipelines.synth.render import (
    KEYED_ID,
    LOOSE_ID,
    LOW_INCOME_ID,
    MEMBER_KEYED_ID,
    MEMBER_LOOSE_ID,
    MEMBER_LOW_INCOME_ID,
    MEMBER_NAME,
    REGISTER_NAME,
    REPAIRABLE_ID,
    Written,
    phone_text,
)

# Of records about roll members in registers that carry the birth date (deaths, vehicles,
# property) whose ID is damaged: the share whose name is also written with a homophone
# character. Case id_typo_and_homophone, a typo'd or swapped ID; a careful caseworker's rule:
# the ID is one typo from the roll member's and fails its own check digit (so it is no other
# person's), the name sounds the same, and the birth date written beside it, where there is
# one, agrees. Case blank_id_and_homophone, a blank or mangled ID; the rule: the name's sound
# and the birth date name exactly one roll member (else the name is left as it was).
DOUBLE = 0.25

# ID rates by kind of register: (records about others, records about roll members)
RATES = {"loose": (LOOSE_ID, MEMBER_LOOSE_ID), "keyed": (KEYED_ID, MEMBER_KEYED_ID),
         "low_income": (LOW_INCOME_ID, MEMBER_LOW_INCOME_ID)}


def _blank_ok(w: Written, pids: np.ndarray, by: str, values: np.ndarray) -> np.ndarray:
    """Blank IDs allowed where (name, birth or community) names one roll member (for roll
    members) or none (for everyone else); never for members who have a twin."""
    world = w.world
    rp = world.roll_people().drop_duplicates("pid").set_index("pid")
    counts = (rp["name"] + "|" + rp[by].astype(str)).value_counts()
    key = pd.Series(world.people.loc[pids, "name"].to_numpy(dtype=object) + "|"
                    + values.astype(str).astype(object))
    n = key.map(counts).fillna(0).to_numpy()
    on_roll = np.isin(pids, rp.index.to_numpy())
    twins = np.isin(pids, world.decoys.loc[world.decoys["kind"] == "twin", "base"])
    return np.where(on_roll, (n == 1) & ~twins, n == 0)


def _junk(frame: pd.DataFrame, w: Written, prefix: str, blank: tuple[str, str]) -> pd.DataFrame:
    """Unusable rows: a copy of some row with neither name nor ID, under a new record id."""
    n = len(frame)
    k = max(1, round(n * 0.0001))
    out = frame.iloc[w.rng.choice(n, k, replace=False)].copy()
    out["record_id"] = [f"{prefix}{n + 1 + j:08d}" for j in range(k)]
    out[blank[0]] = ""
    out[blank[1]] = ""
    return out


def _dups(frame: pd.DataFrame) -> int:
    """How many exact duplicate rows to insert (about 2 per 10,000)."""
    return max(1, round(len(frame) * 0.0002))


def _people_part(w: Written, dataset: str, pids: np.ndarray, kind: str, by: str | None,
                 values: np.ndarray | None = None, force_lost: np.ndarray | None = None
                 ) -> tuple[np.ndarray, np.ndarray]:
    """Written names and IDs; `by` ('birth' or 'cid') decides where blanks may go. Records
    about roll members get the member rates; force_lost marks decoys written without an ID."""
    rates, member_rates = RATES[kind]
    member = (member_rates, MEMBER_NAME)
    if by is None:
        names, ids, _ = w.person(dataset, pids, rates, REGISTER_NAME, member_rates=member)
        return names, ids
    if values is None:
        values = w.world.people.loc[pids, by].to_numpy()
    # two key fields damaged at once only where the record also carries the birth date
    names, ids, _ = w.person(dataset, pids, rates, REGISTER_NAME,
                             blank_ok=_blank_ok(w, pids, by, values), member_rates=member,
                             force_lost=force_lost, double=DOUBLE if by == "birth" else 0.0)
    if force_lost is not None:
        w.notes[f"{dataset}_decoys_without_id"] += int((force_lost & _lost(ids)).sum())
    return names, ids


def _lost_decoys(w: Written, dataset: str, pids: np.ndarray) -> np.ndarray:
    """Records of decoys meant to be written without an ID (namesakes born the same year)."""
    d = w.world.decoys
    chosen = d.loc[d["lost"].to_numpy(dtype=bool) & (d["register"] == dataset).to_numpy(), "pid"]
    return np.isin(pids, chosen.to_numpy())


def _lost(ids: np.ndarray) -> np.ndarray:
    """IDs that carry nothing usable: blank or spreadsheet-mangled."""
    return np.array([s == "" or "E+" in s for s in ids], dtype=bool)


def render_deaths(w: Written) -> None:
    """Deaths (UTF-8 with BOM): name, ID, gender, birth date, address, death date."""
    d = w.world.registers["deaths"]
    pids = d["pid"].to_numpy()
    names, ids = _people_part(w, "deaths", pids, "loose", "birth",
                              force_lost=_lost_decoys(w, "deaths", pids))
    people = w.world.people.loc[pids]
    frame = pd.DataFrame({
        "record_id": d["record_id"].to_numpy(), "name": names, "id_number": ids,
        "gender": np.where(people["male"].to_numpy(), "男", "女"),
        "birth_date": w.damager.dates(people["birth"].to_numpy(), (0.6, 0.15, 0.1, 0.1, 0.05)),
        "address": d["address"].to_numpy(),
        "death_date": w.damager.dates(d["death"].to_numpy(), (0.55, 0.15, 0.15, 0.1, 0.05))})
    w.finish("deaths", frame, duplicates=_dups(frame),
             unusable=_junk(frame, w, "D", ("name", "id_number")))


def _birth_column(w: Written, pids: np.ndarray, ids: np.ndarray) -> np.ndarray:
    """Owner birth dates: always kept where the ID is lost, else blank for 8% of rows."""
    birth = w.world.people.loc[pids, "birth"].to_numpy().astype(float)
    drop = (w.rng.random(len(pids)) < 0.08) & ~_lost(ids)
    birth[drop] = np.nan
    return w.damager.dates(birth, (0.7, 0.1, 0.15, 0.05, 0.0))


def render_vehicles(w: Written) -> None:
    """Vehicles (Parquet): owner, ID, plate, type, status, birth date, price."""
    v = w.world.registers["vehicles"]
    pids = v["pid"].to_numpy()
    names, ids = _people_part(w, "vehicles", pids, "loose", "birth",
                              force_lost=_lost_decoys(w, "vehicles", pids))
    frame = pd.DataFrame({
        "record_id": v["record_id"].to_numpy(), "owner_name": names, "owner_id_number": ids,
        "plate": v["plate"].to_numpy(), "vehicle_type": v["vehicle_type"].to_numpy(),
        "registered_date": w.damager.dates(v["registered"].to_numpy(), (0.7, 0.1, 0.1, 0.05, 0.05)),
        "status": v["status"].to_numpy(), "owner_birth_date": _birth_column(w, pids, ids),
        "purchase_price": money(v["price"].to_numpy())})
    w.finish("vehicles", frame, duplicates=_dups(frame),
             unusable=_junk(frame, w, "V", ("owner_name", "owner_id_number")))


def render_property(w: Written) -> None:
    """Property units (UTF-8 with BOM): owner, ID, location, area, usage, birth date."""
    p = w.world.registers["property"]
    pids = p["pid"].to_numpy()
    names, ids = _people_part(w, "property", pids, "loose", "birth",
                              force_lost=_lost_decoys(w, "property", pids))
    frame = pd.DataFrame({
        "record_id": p["record_id"].to_numpy(), "owner_name": names, "owner_id_number": ids,
        "property_address": p["property_address"].to_numpy(), "area": money(p["area"].to_numpy()),
        "usage": p["usage"].to_numpy(), "owner_birth_date": _birth_column(w, pids, ids)})
    w.finish("property", frame, duplicates=_dups(frame),
             unusable=_junk(frame, w, "P", ("owner_name", "owner_id_number")))


def render_businesses(w: Written) -> None:
    """Company roles: person, ID (never blank), role, company, capital, status."""
    b = w.world.registers["businesses"]
    names, ids = _people_part(w, "businesses", b["pid"].to_numpy(), "keyed", None)
    frame = pd.DataFrame({
        "record_id": b["record_id"].to_numpy(), "person_name": names, "person_id_number": ids,
        "role": b["role"].to_numpy(), "company": b["company"].to_numpy(),
        "registered_capital": money(b["capital"].to_numpy()), "status": b["status"].to_numpy(),
        "established_date": w.damager.dates(b["established"].to_numpy(),
                                            (0.5, 0.2, 0.1, 0.15, 0.05)),
        "subscribed_capital": money(b["subscribed"].to_numpy())})
    w.finish("businesses", frame, duplicates=_dups(frame))


def render_payroll(w: Written) -> None:
    """Public payroll (Parquet): name, ID (never blank), employer, monthly pay."""
    e = w.world.registers["public_employees"]
    names, ids = _people_part(w, "public_employees", e["pid"].to_numpy(), "keyed", None)
    frame = pd.DataFrame({
        "record_id": e["record_id"].to_numpy(), "name": names, "id_number": ids,
        "employer": e["employer"].to_numpy(), "monthly_pay": money(e["pay"].to_numpy())})
    w.finish("public_employees", frame, duplicates=_dups(frame))


def render_pensions(w: Written) -> None:
    """Pensions: name, ID (never blank), benefit type, monthly amount."""
    s = w.world.registers["pensions"]
    names, ids = _people_part(w, "pensions", s["pid"].to_numpy(), "keyed", None)
    frame = pd.DataFrame({
        "record_id": s["record_id"].to_numpy(), "name": names, "id_number": ids,
        "benefit_type": s["benefit_type"].to_numpy(), "monthly_amount": money(s["amount"].to_numpy())})
    w.finish("pensions", frame, duplicates=_dups(frame))


def render_low_income(w: Written) -> None:
    """Low-income register (XLSX): the register's own household numbers, place, income."""
    li = w.world.registers["low_income"]
    pids = li["pid"].to_numpy()
    names, ids = _people_part(w, "low_income", pids, "low_income", "cid", li["cid"].to_numpy(),
                              force_lost=li["lost"].to_numpy(dtype=bool))
    category = li["category"].to_numpy(dtype=object)
    short = w.rng.random(len(li)) < 0.5
    category[short] = np.where(category[short] == "城市低保", "城市", "农村")
    frame = pd.DataFrame({
        "record_id": li["record_id"].to_numpy(), "name": names, "id_number": ids,
        "household_id": li["li_household_id"].to_numpy(),
        "district": w.district_names(li["district"].to_numpy()),
        "street": w.street_names(li["street"].to_numpy()),
        "community": li["community"].to_numpy(), "household_size": li["size"].astype(str),
        "per_capita_income": money(li["pci"].to_numpy()), "category": category,
        "group": li["group"].to_numpy()})
    w.finish("low_income", frame, duplicates=1,
             unusable=_junk(frame, w, "L", ("name", "id_number")))


def _gbk_names(w: Written, names: np.ndarray, pids: np.ndarray) -> None:
    """Names with a character outside GBK, as a GBK export writes them (in place): the
    character as '?' (case gbk_question_mark) or, typed again, as a common character of the
    same sound (gbk_same_sound)."""
    cases = np.full(len(names), "", dtype=object)
    for i, name in enumerate(names):
        rare = [c for c in str(name) if c in vocab.RARE_SOUNDALIKE]
        if not rare:
            continue
        same_sound = w.rng.random() < 0.4
        for c in rare:
            names[i] = str(names[i]).replace(c, vocab.RARE_SOUNDALIKE[c] if same_sound else "?")
        cases[i] = "gbk_same_sound" if same_sound else "gbk_question_mark"
    if (cases != "").any():
        w.pending_cases.setdefault("staff_relatives", []).append(
            (cases, np.isin(pids, w.world.roll_pids())))


def render_staff(w: Written) -> None:
    """Staff (clean IDs), their declared relatives (GBK-safe later) and kin filings."""
    world = w.world
    s = world.staff
    people = world.people.loc[s["pid"]]
    comm = world.geo.communities.set_index("cid")["name"]
    w.tables["staff"] = pd.DataFrame({
        "staff_id": s["staff_id"].to_numpy(), "name": people["name"].to_numpy(),
        "id_number": people["id18"].to_numpy(), "role": s["role"].to_numpy(),
        "org": s["org"].to_numpy(), "district": w.district_names(s["district"].to_numpy()),
        "street": w.street_names(s["street"].to_numpy()),
        "community": np.where(s["cid"] >= 0, comm.reindex(s["cid"]).fillna("").to_numpy(), ""),
        "phone": phone_text(s["phone"].to_numpy(),
                            np.where(s["office_phone"], "office", "none"), w.rng),
        "address": s["address"].to_numpy(), "bank_account": s["bank"].to_numpy()})
    rel = world.relatives
    pids = rel["pid"].to_numpy()
    blank = rel["blank"].to_numpy(dtype=bool)
    names, ids, _ = w.person("staff_relatives", pids, KEYED_ID, REGISTER_NAME, keep=blank,
                             encoding="gbk", member_rates=(MEMBER_KEYED_ID, MEMBER_NAME))
    ids[blank] = ""
    _gbk_names(w, names, pids)
    w.finish("staff_relatives", pd.DataFrame({
        "record_id": rel["record_id"].to_numpy(), "staff_id": rel["staff_id"].to_numpy(),
        "relative_name": names, "relative_id_number": ids,
        "relation": rel["relation"].to_numpy()}))
    f = world.filings
    hh = world.households.set_index("hh")
    # Repairable damage only: a filing carries no name, so ingest must be able to read its ID.
    _, fids, _ = w.person("kin_filings", f["pid"].to_numpy(), REPAIRABLE_ID, {})
    w.finish("kin_filings", pd.DataFrame({
        "household_id": hh.loc[f["hh"], "household_id"].to_numpy(), "id_number": fids,
        "staff_id": f["staff_id"].to_numpy(),
        "filed_date": w.damager.dates(f["filed"].to_numpy(), (0.6, 0.2, 0.1, 0.1, 0.0))}),
        duplicates=1, dup_at_end=True)
