"""Render the clean world as departments write it: the roll, standards, staff and kin tables.

All values become text. The roll's IDs get mostly repairable damage (and 1% typos, 0.5% swaps,
whose members' records then keep their IDs); hard damage (typo, swap, homophone, shape) is kept
off people whose links would then rest on nothing (duplicated members, members with a decoy -
twin, namesake, homophone or near-ID stranger - whose valid ID must stay tellable from theirs,
members declared without ID). Records about roll members are damaged harder than the rest
(MEMBER_* rates); soft damage may come on top of hard damage. Rows ingest must quarantine (exact
duplicates, unusable rows) are inserted and listed.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from pipelines.synth.damage import HARD_ID, HARD_NAME, Damager
from pipelines.synth.world import World

ROLL_ID = {"legacy15": 0.03, "fullwidth": 0.01, "spaces": 0.01, "apostrophe": 0.015,
           "typo": 0.01, "swap": 0.005, "lower_x": 0.3}
ROLL_NAME = {"traditional": 0.005, "spaces": 0.005, "homophone": 0.003, "shape": 0.001,
             "dot": 0.4}
# Records about people not on the roll (the general population, decoys).
KEYED_ID = {"typo": 0.008, "swap": 0.004, "fullwidth": 0.005, "spaces": 0.005, "lower_x": 0.2}
REPAIRABLE_ID = {"fullwidth": 0.01, "spaces": 0.01, "lower_x": 0.2}
LOOSE_ID = {"typo": 0.01, "swap": 0.005, "legacy15": 0.02, "fullwidth": 0.005, "spaces": 0.005,
            "apostrophe": 0.01, "blank": 0.02, "mangled": 0.01, "lower_x": 0.2}
LOW_INCOME_ID = {**LOOSE_ID, "blank": 0.03, "mangled": 0.02}
REGISTER_NAME = {"traditional": 0.02, "homophone": 0.01, "shape": 0.004, "spaces": 0.01,
                 "dot": 0.5}
# Records that truly belong to roll members: what recall is measured on, damaged harder.
# deaths, vehicles, property (they carry a birth date, so an ID may be lost)
MEMBER_LOOSE_ID = {"blank": 0.05, "mangled": 0.03, "typo": 0.03, "swap": 0.015,
                   "legacy15": 0.04, "spaces": 0.02, "fullwidth": 0.01, "apostrophe": 0.01,
                   "lower_x": 0.2}
# payroll, pensions, businesses, declared relatives with an ID (keyed by person: never blank)
MEMBER_KEYED_ID = {"typo": 0.03, "swap": 0.015, "fullwidth": 0.01, "spaces": 0.01,
                   "lower_x": 0.2}
# low-income register (it carries the community)
MEMBER_LOW_INCOME_ID = {"blank": 0.06, "mangled": 0.03, "typo": 0.02, "swap": 0.01,
                        "legacy15": 0.03, "fullwidth": 0.005, "spaces": 0.01, "apostrophe": 0.01,
                        "lower_x": 0.2}
MEMBER_NAME = {"traditional": 0.04, "homophone": 0.03, "shape": 0.01, "spaces": 0.02,
               "dot": 0.5}
# a blank ID with a homophone name is written only where at most this many other people of
# the name's sound are expected to share the birth date (half the matcher's max_sound_twins:
# the matcher counts records, which hold some people more than once)
SOUND_TWINS = 0.01
SOFT_ON_HARD = 0.25  # share of typo'd/swapped IDs also written full-width, spaced or quoted
DUPLICATE = "exact duplicate of row"
UNUSABLE = "no name and no repairable ID number"
NO_HOUSEHOLD = "roll row without household_id"


@dataclass
class Written:
    """What the departments write: text tables (canonical columns) and the rows to quarantine."""

    world: World
    damager: Damager
    rng: np.random.Generator
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)
    quarantine: list[tuple[str, int, str]] = field(default_factory=list)
    roll_rows: pd.DataFrame = field(default_factory=pd.DataFrame)  # row, hh, pid, id, name
    no_hard: set[int] = field(default_factory=set)  # pids whose records get no hard damage
    notes: Counter[str] = field(default_factory=Counter)  # decoys as written, for the summary
    # case kinds planted while writing: dataset -> (the case of each row ('' none), whether
    # the row is about a roll member) per kind of case, in the order of the rows given to
    # finish, which turns them into (dataset, record_id, case, on_roll) rows for
    # truth/cases.csv
    pending_cases: dict[str, list[tuple[np.ndarray, np.ndarray]]] = field(default_factory=dict)
    cases: list[tuple[str, str, str, bool]] = field(default_factory=list)
    # roll people per (name's sound, birth date), made once when first needed (_double), with
    # the population per sound and the roll's share born on each day
    sound_birth: pd.Series | None = None
    sound_people: pd.Series = field(default_factory=pd.Series)
    birth_share: pd.Series = field(default_factory=pd.Series)

    def district_names(self, codes: np.ndarray) -> np.ndarray:
        """District names for district codes."""
        return self.world.geo.district_name(codes)

    def street_names(self, codes: np.ndarray) -> np.ndarray:
        """Street names for street codes ('' for none)."""
        lookup = dict(zip(self.world.geo.streets["code"], self.world.geo.streets["name"],
                          strict=True))
        return np.array([lookup.get(c, "") for c in codes], dtype=object)

    def person(self, dataset: str, pids: np.ndarray, id_rates: dict[str, float],
               name_rates: dict[str, float], blank_ok: np.ndarray | None = None,
               keep: np.ndarray | None = None, encoding: str | None = None,
               member_rates: tuple[dict[str, float], dict[str, float]] | None = None,
               force_lost: np.ndarray | None = None, double: float = 0.0
               ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Written (names, IDs, hard-damage flags) for records about pids.

        keep marks records whose ID must stay blank-free and hard-damage-free beyond the usual
        rules; blank_ok marks records where a blank or mangled ID is allowed. member_rates
        (ID rates, name rates) replace the rates for records about roll members. force_lost
        marks records (decoys) whose ID is lost wherever blank_ok allows it. `double`: the
        share of records about roll members whose name is also written with a homophone
        character although their ID is damaged (only for records that also carry the person's
        birth date): a typo'd or swapped ID (case id_typo_and_homophone), or a blank or mangled
        one where the name's sound and the birth date still name one roll member and few
        people of that sound are expected to share the day (SOUND_TWINS; case
        blank_id_and_homophone).
        """
        n = len(pids)
        people = self.world.people.loc[pids]
        allow_hard = ~np.isin(pids, np.fromiter(self.no_hard, dtype=np.int64))
        if keep is not None:
            allow_hard &= ~keep
        if blank_ok is None:
            blank_ok = np.zeros(n, dtype=bool)
        force = np.zeros(n, dtype=bool) if force_lost is None else force_lost & blank_ok
        true_ids = people["id18"].to_numpy(dtype=object)
        true_names = people["name"].to_numpy(dtype=object)
        ids, names = true_ids.copy(), true_names.copy()
        hard = np.zeros(n, dtype=bool)
        written_id = np.full(n, "", dtype=object)  # the ID damage kind of each record
        member = np.isin(pids, self.world.roll_pids()) if member_rates is not None \
            else np.zeros(n, dtype=bool)
        groups = [(~member, id_rates, name_rates)]
        if member_rates is not None:
            groups.append((member, *member_rates))
        for mask, i_rates, n_rates in groups:
            at = np.flatnonzero(mask)
            if not len(at):
                continue
            i_out, id_kinds = self.damager.ids(
                dataset, true_ids[at], i_rates, allow_hard=allow_hard[at],
                allow_blank=blank_ok[at] & allow_hard[at], combine=SOFT_ON_HARD,
                force_lost=force[at])
            n_out, name_kinds = self.damager.names(
                dataset, true_names[at], n_rates,
                allow_hard=allow_hard[at] & ~np.isin(id_kinds, HARD_ID), encoding=encoding)
            ids[at], names[at] = i_out, n_out
            hard[at] = np.isin(id_kinds, HARD_ID) | np.isin(name_kinds, HARD_NAME)
            if double > 0 and mask is member:
                self._double(dataset, at, pids[at], id_kinds, name_kinds, names, double)
            written_id[at] = id_kinds
        self._record_kinds(dataset, pids, written_id)
        return names, ids, hard

    def _record_kinds(self, dataset: str, pids: np.ndarray, id_kinds: np.ndarray) -> None:
        """Cases every record may be (truth/cases.csv, see CASE_RULES): a record about a decoy,
        by the decoy's kind; a 15-digit ID."""
        on_roll = np.isin(pids, self.world.roll_pids())
        decoys = self.world.decoys
        kind = pd.Series(decoys["kind"].to_numpy(dtype=object),
                         index=decoys["pid"].to_numpy()).reindex(pids).fillna("")
        decoy = np.where(kind.to_numpy(dtype=object) != "",
                         "decoy_" + kind.to_numpy(dtype=object).astype(str), "").astype(object)
        legacy = np.where(id_kinds == "legacy15", "legacy15_id", "").astype(object)
        for cases in (decoy, legacy):
            if (cases != "").any():
                self.pending_cases.setdefault(dataset, []).append((cases, on_roll))

    def _double(self, dataset: str, at: np.ndarray, pids: np.ndarray, id_kinds: np.ndarray,
                name_kinds: np.ndarray, names: np.ndarray, rate: float) -> None:
        """Write a homophone name on records about roll members whose ID is damaged too (see
        `person`): `at` are the rows of `names` (changed in place) about `pids`, with the
        damage kinds drawn for them; the cases wait for `finish`."""
        from pipelines.ingest.names import pinyin_key

        cases = np.full(len(names), "", dtype=object)
        if self.sound_birth is None:
            rp = self.world.roll_people().drop_duplicates("pid")
            self.sound_birth = (rp["name"].map(pinyin_key) + "|"
                                + rp["birth"].astype(str)).value_counts()
            # the whole population per sound, and the roll's share born on each day
            distinct = pd.Series(self.world.people["name"].unique())
            sound_of = dict(zip(distinct, distinct.map(pinyin_key), strict=True))
            self.sound_people = self.world.people["name"].map(sound_of).value_counts()
            self.birth_share = rp["birth"].value_counts() / len(rp)
        sound_birth = self.sound_birth
        births = self.world.people["birth"]
        lost = np.isin(id_kinds, ("blank", "mangled"))
        hit = (np.isin(id_kinds, ("typo", "swap")) | lost) & (name_kinds == "")
        for k in np.flatnonzero(hit & (self.rng.random(len(at)) < rate)):
            old = str(names[at[k]])
            new = self.damager.confuse(old, "homophone")
            if new == old:
                continue
            if lost[k]:
                # the sound and the birth date must still name one roll member, and few people
                # of that sound in the whole population may be expected to share the day
                sound, born = pinyin_key(new), births.at[pids[k]]
                if sound_birth.get(f"{sound}|{born}", 0) != 1 or sound != pinyin_key(old):
                    continue
                twins = (self.sound_people.get(sound, 1) - 1) * self.birth_share.get(born, 0.0)
                if twins > SOUND_TWINS:
                    continue
            names[at[k]] = new
            cases[at[k]] = "blank_id_and_homophone" if lost[k] else "id_typo_and_homophone"
        for case in ("id_typo_and_homophone", "blank_id_and_homophone"):
            if (cases == case).any():
                self.damager.counts[(dataset, case)] += int((cases == case).sum())
        if (cases != "").any():
            self.pending_cases.setdefault(dataset, []).append((cases, np.ones(len(cases), bool)))

    def finish(self, dataset: str, frame: pd.DataFrame, *, duplicates: int = 0,
               unusable: pd.DataFrame | None = None, dup_at_end: bool = False) -> pd.DataFrame:
        """Insert exact duplicate rows and unusable rows; record them for the quarantine truth."""
        n = len(frame)
        rng = self.rng
        keys = [np.arange(n, dtype=float)]
        sources = [np.full(n, -1)]
        extra = [frame]
        if duplicates and n:
            src = np.sort(rng.choice(n, min(duplicates, n), replace=False))
            extra.append(frame.iloc[src])
            keys.append(n + np.arange(len(src)) if dup_at_end else src + 0.5)
            sources.append(src)
        if unusable is not None and len(unusable):
            extra.append(unusable)
            keys.append(rng.uniform(0, max(n, 1), len(unusable)))
            sources.append(np.full(len(unusable), -2))
        out = pd.concat(extra, ignore_index=True)
        order = np.argsort(np.concatenate(keys), kind="stable")
        source = np.concatenate(sources)[order]
        position = np.empty(len(order), dtype=np.int64)
        position[order] = np.arange(len(order))  # final position of each row before sorting
        out = out.iloc[order].reset_index(drop=True)
        for row in np.flatnonzero(source != -1):
            if source[row] == -2:
                reason = NO_HOUSEHOLD if dataset == "roll" else UNUSABLE
            else:
                reason = f"{DUPLICATE} {position[source[row]] + 1}"
            self.quarantine.append((dataset, int(row) + 1, reason))
        self.tables[dataset] = out
        for cases, on_roll in self.pending_cases.pop(dataset, []):
            if "record_id" not in frame:
                continue  # a dataset without record ids (the roll, kin filings)
            chosen = cases != ""
            self.cases += [(dataset, str(r), str(c), bool(o)) for r, c, o in
                           zip(frame["record_id"].to_numpy()[chosen], cases[chosen],
                               on_roll[chosen], strict=True)]
        return out


def phone_text(phones: np.ndarray, kinds: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Mobiles mostly as 11 digits, some as 138-1234-5678 or 138 1234 5678."""
    out = np.asarray(phones, dtype=object).copy()
    u = rng.random(len(out))
    for i in np.flatnonzero((kinds != "office") & (kinds != "none") & (u < 0.08)):
        p = str(out[i])
        sep = "-" if u[i] < 0.05 else " "
        out[i] = f"{p[:3]}{sep}{p[3:7]}{sep}{p[7:]}"
    return out


def render_roll(w: Written) -> None:
    """The roll: one row per member; household fields on every row, amount/phone/bank on heads."""
    world = w.world
    hh = world.households.set_index("hh")
    m = world.members.sort_values(["hh", "slot"]).reset_index(drop=True)
    h = hh.loc[m["hh"]]
    head = (m["slot"] == 0).to_numpy()
    pids = m["pid"].to_numpy()
    protect = np.isin(pids, world.duplicated_pids())
    # members with a decoy (twin, namesake, homophone or near-ID stranger) keep a checkable
    # roll ID: a decoy's valid ID must be tellable from theirs
    protect |= np.isin(pids, world.decoys["base"].to_numpy())
    protect |= np.isin(pids, np.fromiter(world.blank_declared, dtype=np.int64))
    names, ids, hard = w.person("roll", pids, ROLL_ID, ROLL_NAME, keep=protect)
    w.no_hard = set(pids[hard].tolist()) | set(world.duplicated_pids().tolist())
    w.no_hard |= set(world.decoys["pid"].tolist())
    # a twin's records keep their IDs: a typo'd ID could be either twin's
    w.no_hard |= set(world.decoys.loc[world.decoys["kind"] == "twin", "base"].tolist())
    start = pd.Series(w.damager.dates(hh["start"].to_numpy(), (0.5, 0.2, 0.1, 0.15, 0.05)),
                      index=hh.index)
    staff = world.staff.set_index("staff_id")
    approver = h["approved_by"].to_numpy(dtype=object)
    by_name = h["district"].to_numpy() == world.name_district
    approver[by_name] = world.people.loc[staff.loc[approver[by_name], "pid"], "name"].to_numpy()
    phones = phone_text(hh["phone"].to_numpy(), hh["phone_kind"].to_numpy(), w.rng)
    comm = world.geo.communities.set_index("cid")
    frame = pd.DataFrame({
        "household_id": h["household_id"].to_numpy(), "name": names, "id_number": ids,
        "relation": m["relation"].to_numpy(), "district": w.district_names(h["district"].to_numpy()),
        "street": w.street_names(h["street"].to_numpy()),
        "community": comm.loc[h["cid"], "name"].to_numpy(),
        "address": h["address"].to_numpy(),
        "phone": np.where(head, pd.Series(phones, index=hh.index).loc[m["hh"]].to_numpy(), ""),
        "category": h["category"].to_numpy(), "household_size": h["size"].astype(str).to_numpy(),
        "monthly_amount": np.where(head, h["amount"].astype(str).to_numpy(), ""),
        "start_date": start.loc[m["hh"]].to_numpy(), "approved_by": approver,
        "bank_account": np.where(head, h["bank"].to_numpy(), ""),
    })
    k = max(1, round(len(frame) * 0.00005))
    junk = _roll_junk(w, frame, k)
    out = w.finish("roll", frame.assign(_hh=m["hh"].to_numpy(), _pid=pids),
                   duplicates=max(1, round(len(frame) * 0.0001)), unusable=junk)
    rows = out[out["_pid"] >= 0]
    rows = rows[~rows.duplicated(["_hh", "_pid"])]
    w.roll_rows = pd.DataFrame({"row": rows.index.to_numpy() + 1, "hh": rows["_hh"].to_numpy(),
                                "pid": rows["_pid"].to_numpy(), "id": rows["id_number"],
                                "name": rows["name"]})
    w.tables["roll"] = out.drop(columns=["_hh", "_pid"])


def _roll_junk(w: Written, frame: pd.DataFrame, k: int) -> pd.DataFrame:
    """Roll rows without household_id, about people from outside the roll."""
    world = w.world
    pop = world.people[world.people["kind"] == "pop"]
    src = frame.iloc[w.rng.choice(len(frame), k, replace=False)].copy()
    who = pop.iloc[w.rng.choice(len(pop), k, replace=False)]
    src["household_id"] = ""
    src["name"] = who["name"].to_numpy()
    src["id_number"] = who["id18"].to_numpy()
    return src.assign(_hh=-1, _pid=-1)


def render_standards(w: Written) -> None:
    """Standards with English headers: district name, category, monthly standard."""
    s = w.world.geo.standards
    w.tables["standards"] = pd.DataFrame({
        "district": s["district_name"].to_numpy(), "category": s["category"].to_numpy(),
        "monthly_standard": s["standard"].astype(str).to_numpy()})
