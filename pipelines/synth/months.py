"""Consecutive months of a synthetic city, with the roll changes known exactly.

`evolve_month` copies a generated city's input folder and edits its roll the way an office does
between two month-end audits: households stopped (停保) and added (新增), amounts adjusted
(调整), members removed (成员减少) and added (成员增加). The edits touch only households whose
rows all load (named, with a household_id, not duplicated) and whose head row carries a plain
amount, so the expected changes.csv is known without running the audit: it goes to
`truth/changes.csv`. New households and members come from a second city generated with another
seed, relabelled (household ids 'DB<n>' become 'DX<yymm><n>'). The other datasets are copied unchanged;
the evolved folder's other truth files are not recomputed.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
import shutil
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from pipelines.synth.writers import FORMATS

log = logging.getLogger(__name__)

CHANGES_TRUTH = ("household_id", "change", "old_amount", "new_amount", "members_before",
                 "members_after", "reason")
_PLAIN_AMOUNT = re.compile(r"^\d+(\.\d+)?$")
# canonical column -> the Chinese header the generator writes (writers.py)
_H = {"household_id": "户编号", "name": "姓名", "relation": "与户主关系",
      "household_size": "家庭人口", "monthly_amount": "月保障金额(元)", "phone": "联系电话",
      "bank_account": "代发账号"}
_HOUSEHOLD_FIELDS = ("区", "街道(乡镇)", "社区(村)", "家庭住址", "保障类别", "纳入时间", "经办人")


def _roll_path(folder: Path) -> tuple[Path, str]:
    name, _, encoding = FORMATS["roll"]
    return folder / name, encoding


def read_roll(folder: Path) -> pd.DataFrame:
    """The roll of a generated city as written (all text)."""
    path, encoding = _roll_path(folder)
    return pd.read_csv(path, dtype=str, keep_default_na=False, encoding=encoding)


def _write_roll(folder: Path, roll: pd.DataFrame) -> None:
    path, encoding = _roll_path(folder)
    roll.to_csv(path, index=False, encoding=encoding, lineterminator="\n")


@dataclass(frozen=True)
class Editable:
    """A household safe to edit: its id, head row (position), roll rows and amount."""

    household_id: str
    head: int
    members: int
    amount: float


def clean_households(roll: pd.DataFrame) -> list[Editable]:
    """Households safe to edit: every row loads, one head row with a plain amount."""
    hid = roll[_H["household_id"]]
    dup = roll.duplicated(keep=False)
    bad = (hid == "") | (roll[_H["name"]].str.strip() == "") | dup
    bad_households = set(hid[bad])
    heads = roll[(roll[_H["relation"]] == "户主")
                 & roll[_H["monthly_amount"]].str.match(_PLAIN_AMOUNT)]
    counts = hid.value_counts()
    head_counts = heads[_H["household_id"]].value_counts()
    labels = heads.index.to_list()
    ids = heads[_H["household_id"]].to_list()
    amounts = heads[_H["monthly_amount"]].astype(float).to_list()
    return [Editable(str(h), int(label), int(counts[h]), float(amount))
            for label, h, amount in zip(labels, ids, amounts, strict=True)
            if h not in bad_households and head_counts[h] == 1 and h != ""]


def _donor_roll(households: int, seed: int, as_of: dt.date) -> pd.DataFrame:
    from pipelines.synth import generate_city

    with tempfile.TemporaryDirectory(prefix="dibao-donor-") as tmp:
        generate_city(Path(tmp), households, seed, as_of)
        return read_roll(Path(tmp))


def evolve_month(prev_dir: Path, out_dir: Path, as_of: dt.date, seed: int, per_change: int = 3,
                 stop: Sequence[str] = ()) -> pd.DataFrame:
    """Write next month's input folder to `out_dir`; the expected changes (also in truth/).

    `per_change` households get each kind of change; `stop` names households to stop in
    addition (e.g. one whose finding a caseworker confirmed). Deterministic for a seed.
    """
    rng = np.random.default_rng(seed)
    roll = read_roll(prev_dir)
    editable = {e.household_id: e for e in clean_households(roll)}
    unknown = [h for h in stop if h not in editable]
    if unknown:
        raise ValueError(f"cannot stop {unknown}: not editable households of {prev_dir}")
    clean = [e for e in editable.values() if e.household_id not in stop]
    need = 4 * per_change
    if len(clean) < need:
        raise ValueError(f"{prev_dir}: only {len(clean)} editable households, need {need}")
    chosen = [clean[i] for i in rng.permutation(len(clean))[:need]]
    stopped, adjusted, shrunk, grown = (chosen[i * per_change:(i + 1) * per_change]
                                        for i in range(4))
    shrunk = [e for e in shrunk if e.members >= 2]
    hid = roll[_H["household_id"]]
    truth: list[dict[str, object]] = []
    for h in [*(e.household_id for e in stopped), *stop]:
        r = editable[h]
        truth.append({"household_id": h, "change": "停保", "old_amount": r.amount,
                      "new_amount": None, "members_before": r.members, "members_after": None,
                      "reason": "名册变更"})
    for r in adjusted:
        new = r.amount + 50.0
        roll.at[r.head, _H["monthly_amount"]] = f"{new:g}"
        truth.append({"household_id": r.household_id, "change": "调整", "old_amount": r.amount,
                      "new_amount": new, "members_before": r.members,
                      "members_after": r.members, "reason": "名册变更"})
    drop_rows: list[object] = []
    for r in shrunk:
        rows = roll.index[(hid == r.household_id) & (roll.index != r.head)]
        drop_rows.append(rows[rng.integers(len(rows))])
        roll.loc[hid == r.household_id, _H["household_size"]] = str(r.members - 1)
        truth.append({"household_id": r.household_id, "change": "成员减少",
                      "old_amount": r.amount, "new_amount": r.amount,
                      "members_before": r.members, "members_after": r.members - 1,
                      "reason": "名册变更"})

    donor = _donor_roll(max(40, 8 * per_change), seed + 7919, as_of)
    donor_clean = [e for e in clean_households(donor) if e.members >= 2]
    picks = [donor_clean[i] for i in rng.permutation(len(donor_clean))[:2 * per_change]]
    new_households, new_people = picks[:per_change], picks[per_change:]
    added: list[pd.DataFrame] = []
    dhid = donor[_H["household_id"]]
    for r in new_households:
        rows = donor[dhid == r.household_id].copy()
        new_id = f"DX{as_of:%y%m}{r.household_id[2:]}"
        rows[_H["household_id"]] = new_id
        added.append(rows)
        truth.append({"household_id": new_id, "change": "新增", "old_amount": None,
                      "new_amount": r.amount, "members_before": None,
                      "members_after": r.members, "reason": "名册变更"})
    for target, donor_household in zip(grown, new_people, strict=True):
        person = donor[(dhid == donor_household.household_id)
                       & (donor.index != donor_household.head)].iloc[[0]].copy()
        head = roll.loc[target.head]
        person[_H["household_id"]] = target.household_id
        person[_H["relation"]] = "子"
        for column in _HOUSEHOLD_FIELDS:
            person[column] = head[column]
        for column in ("monthly_amount", "phone", "bank_account"):
            person[_H[column]] = ""
        roll.loc[hid == target.household_id, _H["household_size"]] = str(target.members + 1)
        person[_H["household_size"]] = str(target.members + 1)
        added.append(person)
        truth.append({"household_id": target.household_id, "change": "成员增加",
                      "old_amount": target.amount, "new_amount": target.amount,
                      "members_before": target.members, "members_after": target.members + 1,
                      "reason": "名册变更"})

    keep = ~hid.isin([*(e.household_id for e in stopped), *stop]) & ~roll.index.isin(drop_rows)
    evolved = pd.concat([roll[keep], *added], ignore_index=True)
    shutil.rmtree(out_dir, ignore_errors=True)
    shutil.copytree(prev_dir, out_dir, ignore=shutil.ignore_patterns("truth"))
    _write_roll(out_dir, evolved)
    order = {"新增": 1, "停保": 2, "调整": 3, "成员增加": 4, "成员减少": 5}
    expected = pd.DataFrame(truth, columns=list(CHANGES_TRUTH))
    expected = expected.sort_values(["household_id", "change"],
                                    key=lambda s: s.map(order) if s.name == "change" else s,
                                    kind="stable").reset_index(drop=True)
    # written as the audit writes changes.csv: amounts at two decimals, counts whole
    for column in ("old_amount", "new_amount"):
        expected[column] = [("" if pd.isna(v) else f"{float(v):.2f}") for v in expected[column]]
    for column in ("members_before", "members_after"):
        expected[column] = [("" if pd.isna(v) else str(int(v))) for v in expected[column]]
    (out_dir / "truth").mkdir(exist_ok=True)
    expected.to_csv(out_dir / "truth" / "changes.csv", index=False, lineterminator="\n")
    log.info("month %s: %s", as_of, expected["change"].value_counts().to_dict())
    return expected
