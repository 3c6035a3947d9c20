"""generate_city: build a clean synthetic city, compute its truth, damage it, write it out.

Deterministic for a seed: each step draws from its own numpy Generator spawned from the seed, so
the files are byte-identical across runs. The audit reads only the top-level dataset files; the
answers go to DIR/truth/ (findings.csv, links.csv, quarantine.csv, roll.csv, summary.json).
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from pipelines.synth import render_registers as rr
from pipelines.synth.assets import build_businesses, build_property, build_vehicles
from pipelines.synth.damage import Damager
from pipelines.synth.households import build_roll, finish_amounts, plant_duplicates
from pipelines.synth.low_income import build_low_income
from pipelines.synth.people import PersonFactory, to_days
from pipelines.synth.places import build_geo
from pipelines.synth.population import build_population
from pipelines.synth.reference import load_reference
from pipelines.synth.registers import (
    assign_decoys,
    build_deaths,
    build_payroll,
    build_pensions,
)
from pipelines.synth.relatives import plant_relatives
from pipelines.synth.render import Written, render_roll, render_standards
from pipelines.synth.staff import build_staff
from pipelines.synth.truth import (
    CODES,
    HOUSEHOLD_CODES,
    compute_findings,
    compute_links,
    digits,
)
from pipelines.synth.world import World
from pipelines.synth.writers import FORMATS, write_dataset, write_table

log = logging.getLogger(__name__)


def build_world(households: int, seed: int, as_of: dt.date) -> World:
    """The clean world: places, roll, staff, relatives, population, decoys and registers."""
    ref = load_reference()
    streams = [np.random.default_rng(s) for s in np.random.SeedSequence(seed).spawn(10)]
    geo = build_geo(ref, streams[0], households)
    world = World(to_days(as_of.year, as_of.month, as_of.day), geo)
    factory = PersonFactory(ref, streams[1])
    build_roll(world, factory, streams[2], households)
    plant_duplicates(world, streams[2])
    finish_amounts(world, streams[2])
    build_staff(world, factory, streams[3])
    plant_relatives(world, factory, streams[4])
    build_population(world, factory, streams[5], households)
    assign_decoys(world, streams[6])
    rng = streams[6]
    world.registers = {
        "deaths": build_deaths(world, rng), "vehicles": build_vehicles(world, rng),
        "property": build_property(world, rng), "businesses": build_businesses(world, rng),
        "public_employees": build_payroll(world, rng), "pensions": build_pensions(world, rng),
        "low_income": build_low_income(world, factory, streams[7]),
    }
    return world


def render_world(world: World, seed: int) -> Written:
    """Every dataset as written, with damage, junk rows and duplicates."""
    ref = load_reference()
    streams = [np.random.default_rng(s) for s in np.random.SeedSequence([seed, 1]).spawn(2)]
    written = Written(world, Damager(ref, streams[0]), streams[1])
    render_roll(written)
    render_standards(written)
    for step in (rr.render_deaths, rr.render_vehicles, rr.render_property, rr.render_businesses,
                 rr.render_payroll, rr.render_pensions, rr.render_low_income, rr.render_staff):
        step(written)
    return written


def generate_city(out: Path, households: int, seed: int,
                  as_of: dt.date = dt.date(2026, 10, 31)) -> dict[str, Any]:
    """Generate a synthetic city of `households` roll households into `out` (+ out/truth/).

    Returns a summary: rows per dataset, truth counts per finding code, damage counts and the
    seconds taken. Same seed and arguments -> byte-identical files.
    """
    started = time.perf_counter()
    out = Path(out)
    truth_dir = out / "truth"
    truth_dir.mkdir(parents=True, exist_ok=True)
    world = build_world(households, seed, as_of)
    log.info("world built: %d people (%.1fs)", len(world.people), time.perf_counter() - started)
    findings = compute_findings(world)
    links = compute_links(world)
    written = render_world(world, seed)
    log.info("rendered (%.1fs)", time.perf_counter() - started)
    rows = {}
    for dataset in FORMATS:
        write_dataset(out, dataset, written.tables[dataset])
        rows[dataset] = len(written.tables[dataset])
    truth = truth_tables(world, written, findings, links)
    for name, frame in truth.items():
        write_table(truth_dir / f"{name}.csv", frame)
    summary = _summary(world, written, truth, rows, households, seed, as_of)
    (truth_dir / "summary.json").write_text(
        json.dumps(summary, ensure_ascii=False, indent=2, sort_keys=False) + "\n",
        encoding="utf-8")
    summary["seconds"] = round(time.perf_counter() - started, 2)
    log.info("synthetic city of %d households written to %s in %.1fs", households, out,
             summary["seconds"])
    return summary


def truth_tables(world: World, written: Written, findings: pd.DataFrame,
                 links: pd.DataFrame) -> dict[str, pd.DataFrame]:
    """The truth files, with IDs and names as written where the contract asks for them."""
    people = world.people
    hh = world.households.set_index("hh")
    roll_rows = written.roll_rows.set_index(["hh", "pid"])
    f = findings.copy()
    household_level = f["code"].isin(HOUSEHOLD_CODES).to_numpy()
    add = (f["code"] == "ADD_CANDIDATE").to_numpy()
    person = ~household_level & ~add
    subject_pid = np.where(household_level, hh["head_pid"].reindex(f["hh"]).to_numpy(),
                           f["pid"].to_numpy())
    keys = pd.MultiIndex.from_arrays([f["hh"].to_numpy(), subject_pid])
    roll_id = roll_rows["id"].reindex(keys).to_numpy(dtype=object)
    roll_name = roll_rows["name"].reindex(keys).to_numpy(dtype=object)
    li = written.tables["low_income"].drop_duplicates("record_id").set_index("record_id")
    li_rec = f["record_id"].where(add, "")
    true_id = people["id18"].reindex(f["pid"]).to_numpy(dtype=object)
    findings_out = pd.DataFrame({
        "finding_code": f["code"],
        "household_id": np.where(f["hh"] >= 0, hh["household_id"].reindex(f["hh"]).to_numpy(),
                                  ""),
        "id_number": np.where(household_level, "", true_id),
        "roll_id_number": np.select([person, add],
                                    [roll_id, li["id_number"].reindex(li_rec).to_numpy()], ""),
        "name": np.where(add, li["name"].reindex(li_rec).to_numpy(), roll_name),
        "dataset": f["dataset"], "record_id": f["record_id"], "note": f["note"]})
    links_out = pd.DataFrame({
        "dataset": links["dataset"], "record_id": links["record_id"],
        "household_id": hh["household_id"].reindex(links["hh"]).to_numpy(),
        "true_id_number": people["id18"].reindex(links["pid"]).to_numpy()})
    quarantine = pd.DataFrame(written.quarantine, columns=["dataset", "row", "reason"])
    roll = pd.DataFrame({
        "row": written.roll_rows["row"],
        "household_id": hh["household_id"].reindex(written.roll_rows["hh"]).to_numpy(),
        "true_id_number": people["id18"].reindex(written.roll_rows["pid"]).to_numpy()})
    rel = world.relatives
    kinds = rel[rel["case"] != ""]
    written_cases = pd.DataFrame(written.cases,
                                 columns=["dataset", "record_id", "case", "on_roll"])
    cases = pd.concat([
        pd.DataFrame({"dataset": "staff_relatives", "record_id": kinds["record_id"],
                      "case": kinds["case"], "on_roll": kinds["roll"].astype(bool)}),
        written_cases], ignore_index=True
    ).sort_values(["dataset", "record_id", "case"]).reset_index(drop=True)
    return {"findings": findings_out.fillna(""), "links": links_out, "quarantine": quarantine,
            "roll": roll, "cases": cases}


def _summary(world: World, written: Written, truth: dict[str, pd.DataFrame],
             rows: dict[str, int], households: int, seed: int,
             as_of: dt.date) -> dict[str, Any]:
    """summary.json: sizes, truth counts, damage counts (no timings: the file is reproducible)."""
    findings = truth["findings"]
    counts = findings["finding_code"].value_counts()
    flagged = findings.loc[findings["finding_code"] != "ADD_CANDIDATE", "household_id"].nunique()
    damage: dict[str, dict[str, int]] = {}
    for (dataset, kind), n in sorted(written.damager.counts.items()):
        damage.setdefault(dataset, {})[kind] = n
    return {
        "seed": seed, "households": households, "as_of": as_of.isoformat(),
        "roll_people": int(world.members["pid"].nunique()),
        "rows": rows,
        "truth": {code: int(counts.get(code, 0)) for code in CODES},
        "households_with_findings": int(flagged),
        "share_households_with_findings": round(flagged / households, 4),
        "links": {k: int(v) for k, v in truth["links"]["dataset"].value_counts().sort_index()
                  .items()},
        "quarantine": {k: int(v) for k, v in truth["quarantine"]["dataset"].value_counts()
                       .sort_index().items()},
        "decoys": _decoy_counts(world, written),
        "cases": {str(k): int(v) for k, v in truth["cases"]["case"].value_counts().sort_index()
                  .items()},
        "approver_named_district": world.name_district,
        "damage": damage,
    }


def _decoy_counts(world: World, written: Written) -> dict[str, int]:
    """Decoys by kind: people planted to be confused with roll members, and decoys as written
    (records without an ID, declared relatives named like a roll member of another street,
    staff phones shared by exactly 3 or 4 households)."""
    out = {str(k): int(v) for k, v in world.decoys["kind"].value_counts().sort_index().items()}
    notes = written.notes
    out["namesake_without_id"] = sum(notes[f"{d}_decoys_without_id"]
                                     for d in ("deaths", "vehicles", "property"))
    out["low_income_namesake_without_id"] = notes["low_income_decoys_without_id"]
    rel = world.relatives
    elsewhere = rel["elsewhere"].to_numpy(dtype=bool)
    out["relative_namesake_other_street"] = int(elsewhere.sum())
    out["relative_namesake_other_street_without_id"] = int(
        (elsewhere & rel["blank"].to_numpy(dtype=bool)).sum())
    phones = digits(world.households["phone"])
    counts = phones[phones != ""].value_counts()
    staff_phones = set(digits(world.staff["phone"]))
    for k in (3, 4):
        out[f"staff_phone_shared_by_{k}"] = int(sum(
            1 for p in counts[counts == k].index if p in staff_phones))
    return out
