"""The truth: findings and links computed on the clean world with the contract's default rules.

Findings have one row per (code, subject): a person (pid) or, for household-level codes, a
household (hh). Each names one true evidence record. Links list every record that truly belongs
to a roll member (one row per household the member is covered in).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from pipelines.rules import codes
from pipelines.synth import vocab
from pipelines.synth.world import World

CODES = codes.names()
HOUSEHOLD_CODES = tuple(sorted(codes.household_codes()))
MAX_SHARED = 3  # a number shared by more households is not personal
FINDING_COLUMNS = ["code", "hh", "pid", "dataset", "record_id", "note"]


def _person(code: str, hits: pd.DataFrame, dataset: str, note: pd.Series | str) -> pd.DataFrame:
    """Person-level findings from (hh, pid, record_id) hits: one per person, first record."""
    out = hits.assign(code=code, dataset=dataset, note=note)
    out = out.sort_values(["pid", "record_id"]).drop_duplicates("pid")
    return out[FINDING_COLUMNS]


def digits(values: pd.Series) -> pd.Series:
    """Phone numbers reduced to their digits."""
    return values.fillna("").astype(str).str.replace(r"\D", "", regex=True)


def compute_findings(world: World) -> pd.DataFrame:
    """All true findings of the clean world."""
    m = world.members[["hh", "pid"]]
    reg = world.registers
    parts = []
    d = reg["deaths"]
    d = d[d["death"] <= world.as_of].merge(m, on="pid")
    parts.append(_person("DECEASED", d, "deaths", "death recorded on or before the audit date"))
    parts.append(_duplicates(world))
    e = reg["public_employees"].merge(m, on="pid")
    parts.append(_person("PUBLIC_EMPLOYEE", e, "public_employees", "on the public payroll"))
    v = reg["vehicles"]
    v = v[v["status"].isin(vocab.VEHICLE_ACTIVE) & ~v["vehicle_type"].isin(vocab.VEHICLE_EXEMPT)]
    v = v.merge(m, on="pid")
    parts.append(_person("VEHICLE", v, "vehicles", v["status"] + " " + v["vehicle_type"]))
    parts.append(_property(world))
    b = reg["businesses"]
    b = b[b["role"].isin(vocab.ROLE_COUNTED) & b["status"].isin(vocab.STATUS_ACTIVE)]
    b = b.merge(m, on="pid")
    parts.append(_person("BUSINESS", b, "businesses", b["role"] + " of a company " + b["status"]))
    parts.append(_income(world))
    parts.append(_unfiled(world))
    linked = staff_links(world)
    parts.append(linked.assign(code="STAFF_LINKED", pid=-1, dataset="staff",
                               record_id=linked["staff_id"],
                               note="shares a personal " + linked["via"] + " with staff " +
                               linked["staff_id"])
                 .sort_values(["hh", "staff_id"]).drop_duplicates("hh")[FINDING_COLUMNS])
    parts.append(_approver(world, linked))
    parts.append(_add_candidates(world))
    out = pd.concat(parts, ignore_index=True)
    out["code"] = pd.Categorical(out["code"], CODES, ordered=True)
    out = out.sort_values(["code", "hh", "pid"]).reset_index(drop=True)
    out["code"] = out["code"].astype(str)
    return out


def _duplicates(world: World) -> pd.DataFrame:
    """DUPLICATE_RECEIPT: subject = the later start (ties: larger household_id)."""
    hh = world.households[["hh", "household_id", "start"]]
    m = world.members[["hh", "pid"]].merge(hh, on="hh")
    m = m[m["pid"].duplicated(keep=False)].sort_values(["pid", "start", "household_id"])
    subject = m.drop_duplicates("pid", keep="last")
    other = m.drop_duplicates("pid", keep="first").set_index("pid")["household_id"]
    return subject.assign(code="DUPLICATE_RECEIPT", dataset="roll",
                          record_id=other.loc[subject["pid"]].to_numpy(),
                          note="also covered in household " + other.loc[subject["pid"]].to_numpy()
                          )[FINDING_COLUMNS]


def _property(world: World) -> pd.DataFrame:
    """PROPERTY: 2+ residential units or any non-residential unit."""
    p = world.registers["property"].merge(world.members[["hh", "pid"]], on="pid")
    p = p.assign(res=p["usage"].isin(vocab.USAGE_RESIDENTIAL),
                 nonres=p["usage"].isin(vocab.USAGE_NONRESIDENTIAL))
    per = p.groupby(["hh", "pid"]).agg(res=("res", "sum"), nonres=("nonres", "sum"))
    hit = per[(per["res"] >= 2) | (per["nonres"] >= 1)].reset_index()
    p = p[p["res"] | p["nonres"]].sort_values(["pid", "nonres", "record_id"],
                                               ascending=[True, False, True])
    first = p.drop_duplicates(["hh", "pid"])[["hh", "pid", "record_id"]]
    hit = hit.merge(first, on=["hh", "pid"])
    note = np.where(hit["nonres"] > 0, "owns a non-residential unit",
                    "owns " + hit["res"].astype(str) + " residential units")
    return _person("PROPERTY", hit, "property", pd.Series(note, index=hit.index))


def income_records(world: World) -> pd.DataFrame:
    """Counted monthly income per record: counted pensions and public pay (pid, dataset, ...)."""
    s = world.registers["pensions"]
    s = s[~s["benefit_type"].isin(vocab.PENSION_NOT_COUNTED)]
    e = world.registers["public_employees"]
    return pd.concat([
        pd.DataFrame({"pid": s["pid"], "dataset": "pensions", "record_id": s["record_id"],
                      "amount": s["amount"]}),
        pd.DataFrame({"pid": e["pid"], "dataset": "public_employees",
                      "record_id": e["record_id"], "amount": e["pay"]})], ignore_index=True)


def _income(world: World) -> pd.DataFrame:
    """INCOME_OVER_STANDARD: counted income / household_size > the household's standard."""
    hh = world.households.set_index("hh")
    inc = income_records(world).merge(world.members[["hh", "pid"]], on="pid")
    total = inc.groupby("hh")["amount"].sum()
    per_capita = total / hh.loc[total.index, "size"]
    over = per_capita[per_capita > hh.loc[total.index, "standard"]]
    top = inc[inc["hh"].isin(over.index)].sort_values(["hh", "amount", "record_id"],
                                                      ascending=[True, False, True])
    top = top.drop_duplicates("hh")
    note = ("income " + top["hh"].map(total).round(2).astype(str) + " / "
            + top["hh"].map(hh["size"]).astype(str) + " > standard "
            + top["hh"].map(hh["standard"]).astype(str))
    return top.assign(code="INCOME_OVER_STANDARD", pid=-1, note=note)[FINDING_COLUMNS]


def declared_pairs(world: World) -> pd.DataFrame:
    """(staff_id, hh, record_id, relation, pid) for every declaration naming a roll member."""
    rel = world.relatives[["record_id", "staff_id", "pid", "relation"]]
    return rel.merge(world.members[["hh", "pid"]], on="pid")


def _unfiled(world: World) -> pd.DataFrame:
    """STAFF_RELATIVE_UNFILED: declared near relative on the roll, no filing for the pair."""
    dec = declared_pairs(world)
    dec = dec[dec["relation"].isin(vocab.RELATIONS_NEAR)]
    filed = world.filings[["pid", "staff_id"]].assign(filed=True)
    dec = dec.merge(filed, on=["pid", "staff_id"], how="left")
    dec = dec[dec["filed"].isna()]
    return _person("STAFF_RELATIVE_UNFILED", dec, "staff_relatives",
                   "declared as " + dec["relation"] + " by " + dec["staff_id"] + ", not filed")


def staff_links(world: World) -> pd.DataFrame:
    """(hh, staff_id, via) where a household shares a personal phone/account with staff and
    no member is declared by that staff member."""
    hh = world.households
    staff = world.staff
    pairs = []
    for via, h_col, s_col in (("phone", "phone", "phone"), ("bank account", "bank", "bank")):
        key = digits(hh[h_col])
        counts = key[key != ""].value_counts()
        personal = key.map(counts).fillna(0) <= MAX_SHARED
        h = pd.DataFrame({"hh": hh["hh"], "key": key})[personal & (key != "")]
        s = pd.DataFrame({"staff_id": staff["staff_id"], "key": digits(staff[s_col])})
        pairs.append(h.merge(s[s["key"] != ""], on="key").assign(via=via))
    links = pd.concat(pairs, ignore_index=True)
    dec = declared_pairs(world)[["staff_id", "hh"]].drop_duplicates().assign(declared=True)
    links = links.merge(dec, on=["staff_id", "hh"], how="left")
    return links[links["declared"].isna()][["hh", "staff_id", "via"]].reset_index(drop=True)


def _approver(world: World, linked: pd.DataFrame) -> pd.DataFrame:
    """APPROVER_CONFLICT: the approver declared a member, or is linked to the household."""
    hh = world.households[["hh", "approved_by"]].rename(columns={"approved_by": "staff_id"})
    dec = declared_pairs(world).merge(hh, on=["hh", "staff_id"])
    by_dec = dec.assign(dataset="staff_relatives",
                        note="approved by " + dec["staff_id"] + ", who declared a member as "
                        + dec["relation"])
    lk = linked.merge(hh, on=["hh", "staff_id"])
    by_link = lk.assign(dataset="staff", record_id=lk["staff_id"],
                        note="approved by " + lk["staff_id"] + ", who shares the " + lk["via"])
    out = pd.concat([by_dec, by_link], ignore_index=True).drop_duplicates("hh")
    return out.assign(code="APPROVER_CONFLICT", pid=-1)[FINDING_COLUMNS]


def _add_candidates(world: World) -> pd.DataFrame:
    """ADD_CANDIDATE: low-income person below the standard and not covered on the roll."""
    li = world.registers["low_income"]
    std = world.geo.standards.set_index(["district", "category"])["standard"]
    standard = std.reindex(pd.MultiIndex.from_arrays([li["district"], li["category"]]))
    below = li["pci"].to_numpy() < standard.to_numpy()
    out = li[below & ~li["pid"].isin(world.members["pid"])]
    note = "per-capita income " + out["pci"].astype(str) + " below the standard"
    return out.assign(code="ADD_CANDIDATE", hh=-1, dataset="low_income", note=note
                      ).sort_values(["pid", "record_id"]).drop_duplicates("pid")[FINDING_COLUMNS]


def compute_links(world: World) -> pd.DataFrame:
    """Every record (dataset, record_id) that truly belongs to a roll member, per household."""
    m = world.members[["hh", "pid"]]
    parts = [frame[["record_id", "pid"]].merge(m, on="pid").assign(dataset=name)
             for name, frame in world.registers.items()]
    parts.append(world.relatives[["record_id", "pid"]].merge(m, on="pid")
                 .assign(dataset="staff_relatives"))
    filings = world.filings.assign(record_id=(np.arange(len(world.filings)) + 1).astype(str))
    parts.append(filings[["record_id", "pid", "hh"]].assign(dataset="kin_filings"))
    out = pd.concat(parts, ignore_index=True)
    return out[["dataset", "record_id", "hh", "pid"]].sort_values(
        ["dataset", "record_id", "hh"]).reset_index(drop=True)
