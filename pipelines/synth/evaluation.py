"""Score an audit's findings against a synthetic city's truth: per-code precision and recall.

A finding and a truth row agree when their codes agree and their subjects do: the household for
household-level codes, the register record for ADD_CANDIDATE, and for person-level codes the
person (the finding's ID, repaired where repairable, equals the truth's true ID or the roll's
ID as written).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from pipelines.ingest.ids import repair_id
from pipelines.io.inert import csv_value
from pipelines.rules import codes

#: Each case kind of truth/cases.csv with the rule a careful caseworker would accept for it
#: (the generator writes a case only where its rule settles it): on the roll (findings on it are
#: to be found) or not (any finding resting on it is false).
CASE_RULES = {
    "blank_same_street": "declared without ID; the only roll person of the name on the staff "
                         "member's street, not expected there by chance: the person",
    "blank_other_street": "declared without ID; nobody else on the roll carries the name, on "
                          "another street of the district: the person",
    "coincidental": "not on the roll; a common name the staff member's street is expected to "
                    "hold by chance: not singled out",
    "elsewhere": "not on the roll; named like a roll person of another street where the name "
                 "is expected by chance: not singled out",
    "id_typo_and_homophone": "one-typo ID (check digit fails) and a homophone name, with the "
                             "birth date: the person",
    "blank_id_and_homophone": "blank or mangled ID and a homophone name whose sound and birth "
                              "date name one roll person, and few people of that sound are "
                              "expected to share the day: the person",
    "gbk_question_mark": "a character outside GBK written '?' by a GBK export, with the same "
                         "valid ID: the person",
    "gbk_same_sound": "a character outside GBK typed as a same-sound one, with the same valid "
                      "ID: the person",
    "legacy15_id": "a 15-digit ID (issued before 2000; only people born 1900-1998 carry one), "
                   "the same after the 15-to-18 repair: the person",
    "decoy_namesake": "not on the roll; same name, born the same year, another day (some "
                      "without ID): the birth date tells them apart",
    "decoy_near_id": "not on the roll; same birth date and region, another name, a valid ID "
                     "one or two sequence digits away: two valid IDs are two people",
    "decoy_twin": "not on the roll; a twin (same name, birth date, street), own valid ID: two "
                  "valid IDs are two people",
    "decoy_homophone": "not on the roll; a homophone name, same birth date and district, own "
                       "valid ID: two valid IDs are two people",
    "decoy_same_day_namesake": "not on the roll; same name and birth date, another district, "
                               "own valid ID: two valid IDs are two people",
}
HOUSEHOLD_CODES = codes.household_codes()
CODES = codes.names()


@dataclass(frozen=True)
class CodeScore:
    """Precision, recall and F1 of one finding code (or 'ALL')."""

    code: str
    truth: int
    found: int
    true_positives: int

    @property
    def precision(self) -> float:
        return self.true_positives / self.found if self.found else 1.0

    @property
    def recall(self) -> float:
        return self.true_positives / self.truth if self.truth else 1.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0


def _person(value: object) -> str:
    text = "" if value is None or (isinstance(value, float) and pd.isna(value)) else str(value)
    repaired = repair_id(text)
    return repaired.id18 or text.strip()


def _keys(code: str, row: pd.Series, truth: bool) -> set[tuple[str, str]]:
    if code in HOUSEHOLD_CODES:
        return {(code, str(row["household_id"]))}
    if code == "ADD_CANDIDATE":
        return {(code, str(row["record_id"]))}
    if truth:
        return {(code, _person(row["id_number"])), (code, _person(row["roll_id_number"]))}
    return {(code, _person(row["id_number"]))}


def _key_sets(frame: pd.DataFrame, truth: bool) -> dict[str, set[tuple[str, str]]]:
    """Every subject key of the findings (or truth rows) of each code."""
    return {code: set().union(*[_keys(code, r, truth) for _, r in
                                frame[frame["finding_code"] == code].iterrows()])
            for code in CODES}


def evaluate(findings: pd.DataFrame, truth: pd.DataFrame) -> list[CodeScore]:
    """Per-code scores, then 'ALL' (micro-averaged over every finding)."""
    scores = []
    for code in CODES:
        t_rows = truth[truth["finding_code"] == code]
        f_rows = findings[findings["finding_code"] == code]
        truth_keys = [_keys(code, r, True) for _, r in t_rows.iterrows()]
        found_keys = [_keys(code, r, False) for _, r in f_rows.iterrows()]
        all_truth = set().union(*truth_keys) if truth_keys else set()
        all_found = set().union(*found_keys) if found_keys else set()
        tp_found = sum(1 for k in found_keys if k & all_truth)
        tp_truth = sum(1 for k in truth_keys if k & all_found)
        scores.append(CodeScore(code, len(t_rows), len(f_rows), min(tp_found, tp_truth)))
    scores.append(CodeScore("ALL", sum(s.truth for s in scores), sum(s.found for s in scores),
                            sum(s.true_positives for s in scores)))
    return scores


def evaluate_tiers(findings: pd.DataFrame, truth: pd.DataFrame) -> list[CodeScore]:
    """Per match tier (findings.csv `tier`, strongest first): how many findings, how many
    true (recall is not per tier: `truth` counts every true finding)."""
    found = {code: [(_keys(code, r, False), r.get("tier", "")) for _, r in
                    findings[findings["finding_code"] == code].iterrows()] for code in CODES}
    true_keys = _key_sets(truth, True)
    scores = []
    for tier in ("confirmed", "probable", "possible"):
        rows = [(code, keys) for code in CODES for keys, t in found[code] if t == tier]
        scores.append(CodeScore(tier, len(truth), len(rows),
                                sum(1 for code, keys in rows if keys & true_keys[code])))
    return scores


def tier_table(scores: list[CodeScore]) -> str:
    """A Markdown table of findings and precision per match tier."""
    lines = ["| tier | findings | true | precision |", "|---|---|---|---|"]
    for s in scores:
        lines.append(f"| {s.code} | {s.found} | {s.true_positives} | {s.precision:.3f} |")
    return "\n".join(lines)


def evaluate_cases(findings: pd.DataFrame, truth: pd.DataFrame, cases: pd.DataFrame
                   ) -> list[dict[str, object]]:
    """Per case kind of the city's truth/cases.csv (records planted to test one rule): how many
    records; how many true findings rest on them and how many of those the audit made (the
    same code and subject, whichever record it cites first); and how many findings citing them
    the truth does not have."""
    found_keys, true_keys = _key_sets(findings, False), _key_sets(truth, True)
    out: list[dict[str, object]] = []
    for kind, group in cases.groupby("case", sort=True):
        keys = set(zip(group["dataset"], group["record_id"], strict=True))
        on = truth[[k in keys for k in zip(truth["dataset"], truth["record_id"], strict=True)]]
        got = findings[[k in keys for k in zip(findings["dataset"], findings["record_id"],
                                                 strict=True)]]
        made = sum(1 for _, r in on.iterrows()
                   if _keys(r["finding_code"], r, True) & found_keys[r["finding_code"]])
        false = sum(1 for _, r in got.iterrows()
                    if not _keys(r["finding_code"], r, False) & true_keys[r["finding_code"]])
        out.append({"case": kind, "records": len(group), "true_findings": len(on),
                    "found": made, "false_findings": false})
    return out


def case_table(rows: list[dict[str, object]]) -> str:
    """A Markdown table of evaluate_cases."""
    lines = ["| case | records | true findings | found | false findings | rule |",
             "|---|---|---|---|---|---|"]
    lines += [f"| {r['case']} | {r['records']} | {r['true_findings']} | {r['found']} | "
              f"{r['false_findings']} | {CASE_RULES.get(str(r['case']), '')} |" for r in rows]
    return "\n".join(lines)


def read_findings(output_dir: Path) -> pd.DataFrame:
    """An audit's findings.csv with its values as the audit meant them (a cell written with a
    leading apostrophe, so that a spreadsheet keeps it text, read back without it)."""
    findings = pd.read_csv(output_dir / "findings.csv", dtype=str, keep_default_na=False)
    return findings.apply(lambda column: column.map(csv_value))


def evaluate_run(output_dir: Path, city_dir: Path) -> list[CodeScore]:
    """Scores of the findings.csv in an audit's output folder against the city's truth."""
    findings = read_findings(output_dir)
    truth = pd.read_csv(city_dir / "truth" / "findings.csv", dtype=str, keep_default_na=False)
    return evaluate(findings, truth)


def table(scores: list[CodeScore]) -> str:
    """A Markdown table of scores."""
    lines = ["| code | truth | found | TP | precision | recall | F1 |",
             "|---|---|---|---|---|---|---|"]
    for s in scores:
        lines.append(f"| {s.code} | {s.truth} | {s.found} | {s.true_positives} | "
                     f"{s.precision:.3f} | {s.recall:.3f} | {s.f1:.3f} |")
    return "\n".join(lines)
