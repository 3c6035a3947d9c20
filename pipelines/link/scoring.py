"""Score candidate pairs: comparison levels per field, Fellegi-Sunter weights, plain-words evidence.

Vectorised: string distances come from rapidfuzz `cpdist` over whole columns; only the few
pairs whose names differ by one character are checked against the confusion sets in Python.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from rapidfuzz import process
from rapidfuzz.distance import OSA, Levenshtein

from pipelines.ingest import names
from pipelines.link import levels

# the level codes the comparisons below assign (their weights and words: levels.py)
ID_EXACT, ID_EDIT1, ID_EDIT2, ID_DIFFERENT, ID_MISSING, ID_VETO = (
    levels.ID.code(n) for n in ("exact", "edit1", "edit2", "different", "missing", "veto"))
NAME_EXACT, NAME_PINYIN, NAME_CONFUSABLE, NAME_ONE_CHAR, NAME_DIFFERENT, NAME_MISSING = (
    levels.NAME.code(n) for n in ("exact", "pinyin", "confusable", "one_char", "different",
                                  "missing"))
PLACE_COMMUNITY, PLACE_STREET, PLACE_DISTRICT, PLACE_OTHER_DISTRICT, PLACE_MISSING = (
    levels.PLACE.code(n) for n in ("community", "street", "district", "other_district",
                                   "missing"))


# Match tiers (like Senzing's match / possible match / possibly related): how a caseworker
# should treat a link, by the kind of identifying evidence behind it, not by its score.
TIER_CONFIRMED, TIER_PROBABLE, TIER_POSSIBLE = 1, 2, 3
TIER_NAMES = {TIER_CONFIRMED: "confirmed", TIER_PROBABLE: "probable", TIER_POSSIBLE: "possible"}


def match_tiers(id_level: np.ndarray, name_level: np.ndarray, birth_level: np.ndarray
                ) -> np.ndarray:
    """The tier of each pair.

    confirmed (确认): the same valid ID (after repair) and a name that agrees or is missing; or
      an ID one typo from the roll's (one side fails its check digit) with the very same name.
    probable (疑似): a name that agrees (same, same sound, confusable) and a second key: an ID
      one or two digits off, or the same birth date; or the same ID under another name.
    possible (待核实): anything else that links: in practice, name and place alone.
    """
    agrees = np.isin(name_level, (NAME_EXACT, NAME_PINYIN, NAME_CONFUSABLE))
    tier = np.full(len(id_level), TIER_POSSIBLE, dtype=np.int8)
    tier[agrees & (np.isin(id_level, (ID_EDIT1, ID_EDIT2)) | (birth_level == 1))] = \
        TIER_PROBABLE
    tier[id_level == ID_EXACT] = TIER_PROBABLE
    tier[(id_level == ID_EXACT) & (agrees | (name_level == NAME_MISSING))] = TIER_CONFIRMED
    tier[(id_level == ID_EDIT1) & (name_level == NAME_EXACT)] = TIER_CONFIRMED
    return tier


# Declared relations checked against ages and sexes (person minus staff member, in years): the
# person must be at least `older` years older (negative: younger), and of the sex given.
_RELATIONS: dict[str, tuple[float, str | None]] = {
    "父亲": (12, "M"), "母亲": (12, "F"), "子": (-12, "M"), "女": (-12, "F"),
    "祖父母": (25, None), "外祖父母": (25, None), "祖父": (25, "M"), "祖母": (25, "F"),
    "外祖父": (25, "M"), "外祖母": (25, "F"),
    "孙子": (-25, "M"), "孙女": (-25, "F"), "外孙子": (-25, "M"), "外孙女": (-25, "F"),
}
_SEX_WORDS = {"M": "男", "F": "女"}


def relation_levels(frame: pd.DataFrame) -> tuple[np.ndarray, list[str]]:
    """A declared relation against the roll member's age and sex and the declaring staff
    member's (from valid IDs): 1 plausible, -1 implausible (and why), 0 nothing to check.

    Vectorised over the pairs (a province's declarations give ~700,000 pairs); the words are
    made only for the implausible ones."""
    n = len(frame)
    level = np.zeros(n, dtype=np.int8)
    why = [""] * n
    if "e_relation" not in frame or not frame["e_relation"].notna().any():
        return level, why
    relation = frame["e_relation"].astype("string").str.replace(
        r"\s+", "", regex=True).fillna("").to_numpy(dtype=object)
    born = pd.to_datetime(frame["r_birth"], errors="coerce")
    staff = pd.to_datetime(frame["e_anchor_birth"], errors="coerce")
    # how much older the person is than the staff member, in years
    older = ((staff - born).dt.days / 365.25).to_numpy(dtype=np.float64, na_value=np.nan)
    person_sex = np.where(np.isin(_text(frame, "r_sex"), list(_SEX_WORDS)),
                          _text(frame, "r_sex"), "").astype(object)
    anchor_sex = np.where(np.isin(_text(frame, "e_anchor_sex"), list(_SEX_WORDS)),
                          _text(frame, "e_anchor_sex"), "").astype(object)
    # a birth date read from an ID that fails its check digit may hold the typo: not used
    usable = (frame["r_birth_source"].to_numpy(dtype=object) != "clean") & ~np.isnan(older)
    need = np.array([_RELATIONS.get(r, (np.nan, None))[0] for r in relation], dtype=np.float64)
    sex = np.array([_RELATIONS.get(r, (np.nan, None))[1] or "" for r in relation], dtype=object)
    listed = usable & ~np.isnan(need)
    wrong_sex = listed & (sex != "") & (person_sex != "") & (person_sex != sex)
    wrong_age = listed & ~wrong_sex & (((need > 0) & (older < need)) | ((need < 0) & (older > need)))
    level[listed] = 1
    sibling = usable & (relation == "兄弟姐妹")
    spouse = usable & (relation == "配偶")
    level[sibling] = np.where(np.abs(older[sibling]) <= 30, 1, -1)
    level[spouse] = np.where(np.abs(older[spouse]) <= 40, 1, -1)
    level[wrong_sex | wrong_age] = -1
    # same-sex spouse: not ours to judge either way
    level[spouse & (level == 1) & (anchor_sex != "") & (person_sex != "")
          & (anchor_sex == person_sex)] = 0
    born_year, staff_year = born.dt.year.to_numpy(), staff.dt.year.to_numpy()
    for i in np.flatnonzero(level == -1):
        why[i] = (f"名册成员为{_SEX_WORDS[person_sex[i]]}性" if wrong_sex[i]
                  else f"出生于{int(born_year[i])}年，工作人员出生于{int(staff_year[i])}年")
    return level, why


@dataclass(frozen=True)
class Scored:
    """Scores and levels of a batch of pairs, aligned with its rows."""

    weight: np.ndarray
    score: np.ndarray
    id_level: np.ndarray
    name_level: np.ndarray
    birth_level: np.ndarray  # 1 same, -1 different, 0 missing or not informative
    place_level: np.ndarray
    corroborated: np.ndarray  # bool: enough independent agreement for a fuzzy link
    swapped: np.ndarray
    kinds: list[str]
    relation_level: np.ndarray  # 1 plausible, -1 implausible, 0 nothing to check
    relation_why: list[str]
    tier: np.ndarray  # TIER_CONFIRMED, TIER_PROBABLE or TIER_POSSIBLE (match_tiers)
    expected: np.ndarray  # chance namesakes expected where the pair agrees (expected_namesakes)
    sex_level: np.ndarray  # 1 same, -1 different, 0 missing
    # P(the record is this pair's person): probability.probabilities, set by the linker
    probability: np.ndarray | None = None
    calibration: Any = None  # the probability.Calibration they were computed with

    def codes(self) -> dict[str, np.ndarray]:
        """Each field's level code per pair, keyed by the field's name (levels.FIELDS)."""
        return {"id": self.id_level, "name": self.name_level, "birth": self.birth_level,
                "sex": self.sex_level, "place": self.place_level,
                "relation": self.relation_level}

    def evidence(self, frame: pd.DataFrame, rows: np.ndarray) -> list[str]:
        """Evidence text for the given row positions only (the linked pairs)."""
        sub = frame.iloc[rows].reset_index(drop=True)
        words = explain(sub, self.id_level[rows], self.swapped[rows], self.name_level[rows],
                        [self.kinds[i] for i in rows], self.birth_level[rows],
                        self.place_level[rows], self.sex_level[rows] == 1, self.relation_level[rows],
                        [self.relation_why[i] for i in rows])
        # a link on name and place alone says how likely the name is there by chance
        place = {PLACE_COMMUNITY: "社区", PLACE_STREET: "街道", PLACE_DISTRICT: "区"}
        for k, i in enumerate(rows):
            if self.tier[i] == TIER_POSSIBLE and self.place_level[i] in place:
                words[k] += (f"；仅姓名与地点相符：该{place[self.place_level[i]]}内预计另有"
                             f"{self.expected[i]:.2f}人偶然同名")
        return words


def _text(frame: pd.DataFrame, column: str) -> list[str]:
    return ["" if v is None or v is pd.NA else str(v) for v in frame[column].tolist()]


def _present(frame: pd.DataFrame, column: str) -> np.ndarray:
    return frame[column].notna().to_numpy()


def id_levels(frame: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """ID comparison level per pair, and whether an edit-1 difference is a swap."""
    e_valid, r_valid = _present(frame, "e_id18"), _present(frame, "r_id18")
    e_clean, r_clean = _text(frame, "e_clean"), _text(frame, "r_clean")
    both_clean = _present(frame, "e_clean") & _present(frame, "r_clean")
    osa = process.cpdist(e_clean, r_clean, scorer=OSA.distance, workers=-1)
    lev = process.cpdist(e_clean, r_clean, scorer=Levenshtein.distance, workers=-1)
    same = frame["e_id18"].to_numpy(dtype=object) == frame["r_id18"].to_numpy(dtype=object)
    level = np.full(len(frame), ID_MISSING, dtype=np.int8)
    level[both_clean & (osa > 2)] = ID_DIFFERENT
    level[both_clean & (osa == 2)] = ID_EDIT2
    level[both_clean & (osa == 1)] = ID_EDIT1
    level[e_valid & r_valid & same] = ID_EXACT
    level[e_valid & r_valid & ~same] = ID_VETO
    return level, (osa == 1) & (lev == 2)


def name_levels(frame: pd.DataFrame) -> tuple[np.ndarray, list[str]]:
    """Name comparison level per pair, and the kind of a one-character confusion."""
    e_name, r_name = _text(frame, "e_name"), _text(frame, "r_name")
    present = _present(frame, "e_name") & _present(frame, "r_name")
    lev = process.cpdist(e_name, r_name, scorer=Levenshtein.distance, workers=-1)
    same_len = np.array([len(a) == len(b) for a, b in zip(e_name, r_name, strict=True)])
    pinyin_same = (frame["e_pinyin"].to_numpy(dtype=object)
                   == frame["r_pinyin"].to_numpy(dtype=object)) & _present(frame, "e_pinyin")
    level = np.full(len(frame), NAME_DIFFERENT, dtype=np.int8)
    kinds = [""] * len(frame)
    for i in np.flatnonzero(present & (lev == 1) & same_len & ~pinyin_same):
        a, b = e_name[i], r_name[i]
        pos = next(k for k in range(len(a)) if a[k] != b[k])
        kind = names.char_confusable(a[pos], b[pos])
        level[i] = NAME_CONFUSABLE if kind else NAME_ONE_CHAR
        kinds[i] = kind or ""
    level[present & pinyin_same] = NAME_PINYIN
    for i in np.flatnonzero(present & pinyin_same & (lev > 0)):
        if names.script_variants(e_name[i], r_name[i]):
            level[i] = NAME_EXACT  # 於志/于志: the same name in traditional script
    level[present & (lev == 0)] = NAME_EXACT
    level[~present] = NAME_MISSING
    return level, kinds


def place_levels(frame: pd.DataFrame) -> np.ndarray:
    """Where the record places the person, compared with the roll member's household."""
    level = np.full(len(frame), PLACE_MISSING, dtype=np.int8)
    e_d, r_d = frame["e_district"].to_numpy(dtype=object), frame["r_district"].to_numpy(dtype=object)
    e_s, r_s = frame["e_street"].to_numpy(dtype=object), frame["r_street"].to_numpy(dtype=object)
    e_c = frame["e_community"].to_numpy(dtype=object)
    r_c = frame["r_community"].to_numpy(dtype=object)
    has_d = _present(frame, "e_district") & _present(frame, "r_district")
    same_d = has_d & (e_d == r_d)
    same_s = same_d & _present(frame, "e_street") & (e_s == r_s)
    level[has_d & ~same_d] = PLACE_OTHER_DISTRICT
    level[same_d] = PLACE_DISTRICT
    level[same_s] = PLACE_STREET
    level[same_s & _present(frame, "e_community") & (e_c == r_c)] = PLACE_COMMUNITY
    # a death record's address naming the member's community
    address = _text(frame, "e_address")
    community = _text(frame, "r_community")
    in_address = np.array([bool(c) and c in a for a, c in zip(address, community, strict=True)])
    level[(level == PLACE_MISSING) & in_address] = PLACE_COMMUNITY
    return level


def expected_namesakes(frame: pd.DataFrame, place_level: np.ndarray) -> np.ndarray:
    """How many other roll people carrying the roll member's name the place where the pair
    agrees is expected to hold by chance: (roll people of that name - 1) x (the place's share
    of the roll). A 张伟 carried by 267 people is expected 2.7 times on a street of a
    100-street city; a name nobody else carries, 0 anywhere."""
    others = np.maximum(frame["roll_name_n"].to_numpy(dtype=np.float64) - 1.0, 0.0)
    people = np.select(
        [place_level == PLACE_COMMUNITY, place_level == PLACE_STREET,
         place_level == PLACE_DISTRICT],
        [frame["r_community_n"].to_numpy(dtype=np.float64),
         frame["r_street_n"].to_numpy(dtype=np.float64),
         frame["r_district_n"].to_numpy(dtype=np.float64)],
        frame["roll_n"].to_numpy(dtype=np.float64))
    return others * people / np.maximum(frame["roll_n"].to_numpy(dtype=np.float64), 1.0)


LIFETIME_DAYS = 365.25 * 80


def expected_sound_twins(frame: pd.DataFrame) -> np.ndarray:
    """How many other people carrying the roll member's name's sound are expected to share
    the birth date by chance: (people seen with that pinyin - 1) x (the roll's share born that
    day). In a province of 11 M people a common sound is shared on any given day: 李秀英 and
    黎秀英 born the same day are two people more often than not."""
    others = np.maximum(frame["pinyin_n"].to_numpy(dtype=np.float64) - 1.0, 0.0)
    # a roll smaller than the days of a lifetime cannot say how many share a day
    share = np.maximum(frame["r_birth_n"].to_numpy(dtype=np.float64), 1.0) / np.maximum(
        frame["roll_n"].to_numpy(dtype=np.float64), LIFETIME_DAYS)
    return others * share


def score_pairs(frame: pd.DataFrame, params: dict[str, Any], prior: float,
                population: int, place_needed: int = PLACE_STREET,
                max_expected: float | None = None,
                max_sound_twins: float | None = None) -> Scored:
    """Weights, scores, levels and evidence text for a frame from sql/link/pair_features.sql.

    `max_expected`: a link on name and place alone needs the place to be expected to hold at
    most this many chance namesakes (expected_namesakes); None: no such condition.
    `max_sound_twins`: a link without an ID on a name of the same sound (not the very same
    name) and the birth date needs at most this many people of that sound expected to share
    the birth date (expected_sound_twins); None: no such condition."""
    n = len(frame)
    id_level, swapped = id_levels(frame)
    name_level, kinds = name_levels(frame)
    place_level = place_levels(frame)
    p_name = params["name"]
    weight = np.full(n, prior, dtype=np.float64)
    weight += levels.ID.weights(id_level, params)
    # name agreement, weighted by how common the roll member's name (or its pinyin) is
    u_name = np.maximum(frame["name_n"].to_numpy(dtype=np.float64), 1.0) / population
    u_pinyin = np.maximum(frame["pinyin_n"].to_numpy(dtype=np.float64), 1.0) / population
    exact_bits = np.minimum(np.log2(p_name["m_exact"] / u_name), p_name["max_bits"])
    pinyin_bits = np.clip(np.log2(p_name["m_pinyin"] / u_pinyin), 0.0, p_name["max_bits"])
    weight += levels.NAME.weights(name_level, params,
                                  {"exact": exact_bits, "pinyin": pinyin_bits})
    # birth date: informative unless both dates come from the very IDs already compared
    birth_present = _present(frame, "e_birth") & _present(frame, "r_birth")
    birth_same = birth_present & (frame["e_birth"].to_numpy(dtype=object)
                                  == frame["r_birth"].to_numpy(dtype=object))
    from_ids = (frame["e_birth_source"].to_numpy(dtype=object) == "id") & (
        id_level != ID_MISSING)
    birth_level = np.where(birth_same, 1, np.where(birth_present, -1, 0)).astype(np.int8)
    birth_level[from_ids & (id_level != ID_DIFFERENT)] = 0
    # a date read from an ID that fails its check digit may hold the typo: no evidence against
    from_damaged = (frame["e_birth_source"].to_numpy(dtype=object) == "clean") | (
        frame["r_birth_source"].to_numpy(dtype=object) == "clean")
    birth_level[from_damaged & (birth_level == -1)] = 0
    weight += levels.BIRTH.weights(birth_level, params)
    sex_present = _present(frame, "e_sex") & _present(frame, "r_sex")
    sex_same = sex_present & (frame["e_sex"].to_numpy(dtype=object)
                              == frame["r_sex"].to_numpy(dtype=object))
    sex_level = np.where(sex_same, 1, np.where(sex_present, -1, 0)).astype(np.int8)
    weight += levels.SEX.weights(sex_level, params)
    weight += levels.PLACE.weights(place_level, params)
    relation_level, relation_why = relation_levels(frame)
    weight += levels.RELATION.weights(relation_level, params)
    score = 1.0 / (1.0 + np.exp2(-np.clip(weight, -60, 60)))
    score[id_level == ID_VETO] = 0.0
    name_agrees = np.isin(name_level, (NAME_EXACT, NAME_PINYIN, NAME_CONFUSABLE))
    # Name and place alone (no ID, no birth date) corroborate only with the very same name, in
    # a place no wider than the dataset's place_corroboration (the declaring staff member's
    # district; the community for a register that records where the person lives) ...
    place_only = (place_level <= place_needed) & (name_level == NAME_EXACT)
    expected = expected_namesakes(frame, place_level)
    if max_expected is not None:
        # ... and the name must single the person out there: not expected by chance
        place_only &= expected <= max_expected
    # an implausible relation is never corroborated by name and place alone
    place_only &= relation_level != -1
    by_birth = name_agrees & (birth_level == 1)
    if max_sound_twins is not None:
        # a sound and a birth date without any ID single the person out only where few others
        # of that sound are expected to share the day
        sound_only = (id_level == ID_MISSING) & (name_level != NAME_EXACT)
        by_birth &= ~sound_only | (expected_sound_twins(frame) <= max_sound_twins)
    corroborated = (id_level == ID_EXACT) | (name_agrees & np.isin(id_level, (ID_EDIT1, ID_EDIT2))
                                             ) | by_birth | place_only
    return Scored(weight, score, id_level, name_level, birth_level, place_level, corroborated,
                  swapped, kinds, relation_level, relation_why,
                  match_tiers(id_level, name_level, birth_level), expected, sex_level)


_KIND_WORDS = {"homophone": "同音", "shape": "形近", "unreadable": "无法辨认（“?”）"}
_ID_WORDS = {
    "valid": "身份证号一致", "repaired_format": "身份证号经格式修复后一致",
    "expanded_15": "身份证号经15位升18位修复后一致",
}
_ID_MISSING = {"blank": "比对记录无身份证号",
               "mangled": "比对记录身份证号被表格损坏（如4.20102E+17）"}


def _context(i: int, cols: dict[str, Any], id_level: np.ndarray, swapped: np.ndarray,
             name_level: np.ndarray, kinds: list[str],
             relation_why: list[str]) -> dict[str, Any]:
    """What the evidence words of pair `i` are made of (levels.py templates)."""
    e_status, r_status = cols["e_status"][i], cols["r_status"][i]
    e_name, r_name, e_raw = cols["e_name"][i], cols["r_name"][i], cols["e_raw"][i]
    worst = e_status if e_status != "valid" else r_status
    ctx: dict[str, Any] = {
        "e_name": e_name, "r_name": r_name,
        "id_exact": _ID_WORDS.get(worst, "身份证号一致"),
        "id_edit": "相邻两位颠倒" if swapped[i] else (
            "有一位不同" if id_level[i] == ID_EDIT1 else "有两位不同"),
        "id_missing": _ID_MISSING.get(e_status, "身份证号无法比对"),
        "kind": _KIND_WORDS.get(kinds[i], "形近"),
        "name_exact": "",
        "relation": cols["relation"][i], "relation_why": relation_why[i],
    }
    if name_level[i] == NAME_EXACT:
        if e_name != r_name:
            words = f"姓名繁简体相同 {e_name}/{r_name}"
        elif e_raw and e_raw.replace(" ", "") != e_name:
            words = f"姓名规范写法后相同 {e_raw}/{r_name}"
        else:
            words = f"姓名相同 {r_name}"
        if cols["name_n"][i] >= 20:
            words += f"；常见姓名（{int(cols['name_n'][i])}人同名）"
        ctx["name_exact"] = words
    return ctx


def explain(frame: pd.DataFrame, id_level: np.ndarray, swapped: np.ndarray,
            name_level: np.ndarray, kinds: list[str], birth_level: np.ndarray,
            place_level: np.ndarray, sex_same: np.ndarray,
            relation_level: np.ndarray | None = None,
            relation_why: list[str] | None = None) -> list[str]:
    """Plain words a caseworker can check in seconds: which fields agreed, and how (each
    field's level, in the words of pipelines/link/levels.py)."""
    cols = {"e_status": _text(frame, "e_status"), "r_status": _text(frame, "r_status"),
            "e_raw": _text(frame, "e_name_raw"), "r_name": _text(frame, "r_name"),
            "e_name": _text(frame, "e_name"), "name_n": frame["name_n"].to_numpy(),
            "relation": _text(frame, "e_relation") if "e_relation" in frame
            else [""] * len(frame)}
    sex_level = np.where(sex_same, 1, 0)  # only agreement is worth a word
    if relation_level is None:
        relation_level = np.zeros(len(frame), dtype=np.int8)
    why = relation_why or [""] * len(frame)
    codes = {"id": id_level, "name": name_level, "birth": birth_level, "sex": sex_level,
             "place": place_level, "relation": relation_level}
    contexts = [_context(i, cols, id_level, swapped, name_level, kinds, why)
                for i in range(len(frame))]
    return levels.evidence(codes, contexts)
