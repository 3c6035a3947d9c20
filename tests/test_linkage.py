"""Linkage: pairs that must link and pairs that must not, on tiny inline datasets.

Each case builds a roll and one evidence dataset as CSV files, runs them through the real
ingest (so IDs and names are repaired exactly as in a run), links, and checks the result.
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from pipelines.config import load_config
from pipelines.ingest.dataset import ingest_dataset
from pipelines.ingest.ids import check_digit
from pipelines.io.duck import connect, load_table
from pipelines.link.linker import link_all, load_params
from tests.conftest import make_id, write_csv

CONFIG = load_config()
ROLL = ["household_id", "name", "id_number", "relation", "district", "street", "community",
        "category", "household_size", "monthly_amount"]
DEATHS = ["record_id", "name", "id_number", "gender", "birth_date", "address", "death_date"]

# The covered person most cases are about: 欧阳澍, born 1961-03-02 in 江岸区, male.
ID_A = make_id("420102", "19610302", "015")


def roll_row(hh: str, name: str, id_number: str, street: str = "大智街道",
             community: str = "幸福社区") -> list[str]:
    return [hh, name, id_number, "户主", "江岸区", street, community, "城市低保", "1", "900"]


def death_row(rid: str, name: str, id_number: str, birth: str = "1961-03-02",
              gender: str = "男", address: str = "大智街道幸福社区1栋") -> list[str]:
    return [rid, name, id_number, gender, birth, address, "2026-05-01"]


def link(tmp_path: Path, roll: list[list[str]], datasets: dict[str, tuple[list[str], list[list[str]]]]
         ) -> duckdb.DuckDBPyConnection:
    """Ingest the given rows and link them; the connection holds `links` and `roll_people`."""
    con = connect()
    files = {"roll": (ROLL, roll), **datasets}
    for dataset, (header, rows) in files.items():
        path = write_csv(tmp_path / f"{dataset}.csv", header, rows)
        load_table(con, f"norm_{dataset}", ingest_dataset(dataset, path, CONFIG).loaded)
    link_all(con, CONFIG.linked(), load_params())
    return con


def linked(con: duckdb.DuckDBPyConnection, dataset: str) -> dict[str, list[str]]:
    """record_id -> household_ids it was linked to."""
    rows = con.execute("""SELECT l.record_id, r.household_id FROM links l
                          JOIN roll_people r USING (member_key) WHERE l.dataset = ?
                          ORDER BY 1, 2""", [dataset]).fetchall()
    out: dict[str, list[str]] = {}
    for record_id, household in rows:
        out.setdefault(record_id, []).append(household)
    return out


def evidence(con: duckdb.DuckDBPyConnection, record_id: str) -> str:
    rows = con.execute("SELECT evidence FROM links WHERE record_id = ?", [record_id]).fetchall()
    return str(rows[0][0])


def typo(id18: str, position: int) -> str:
    """One digit changed so that the check digit fails."""
    for digit in "0123456789":
        candidate = id18[:position] + digit + id18[position + 1:]
        if candidate != id18 and check_digit(candidate[:17]) != candidate[17]:
            return candidate
    raise AssertionError("no failing typo found")


def deaths(*rows: list[str]) -> dict[str, tuple[list[str], list[list[str]]]]:
    return {"deaths": (DEATHS, list(rows))}


def test_same_id_links_and_says_so(tmp_path: Path) -> None:
    con = link(tmp_path, [roll_row("H1", "欧阳澍", ID_A)], deaths(death_row("D1", "欧阳澍", ID_A)))
    assert linked(con, "deaths") == {"D1": ["H1"]}
    assert evidence(con, "D1").startswith("身份证号一致；姓名相同 欧阳澍")


def test_legacy_15_digit_id_links_after_expansion(tmp_path: Path) -> None:
    legacy = ID_A[:6] + ID_A[8:17]  # 15-digit form: no century, no check digit
    con = link(tmp_path, [roll_row("H1", "欧阳澍", ID_A)], deaths(death_row("D1", "欧阳澍", legacy)))
    assert linked(con, "deaths") == {"D1": ["H1"]}
    assert "身份证号经15位升18位修复后一致" in evidence(con, "D1")


def test_typo_in_evidence_id_links_when_the_name_agrees(tmp_path: Path) -> None:
    con = link(tmp_path, [roll_row("H1", "欧阳澍", ID_A)],
               deaths(death_row("D1", "欧阳澍", typo(ID_A, 15))))
    assert linked(con, "deaths") == {"D1": ["H1"]}
    assert "身份证号有一位不同，校验位不符" in evidence(con, "D1")


def test_typo_in_evidence_id_with_another_name_does_not_link(tmp_path: Path) -> None:
    # a stranger whose mistyped ID happens to be one digit from a covered person's
    con = link(tmp_path, [roll_row("H1", "欧阳澍", ID_A)],
               deaths(death_row("D1", "李建国", typo(ID_A, 15))))
    assert linked(con, "deaths") == {}


def test_swapped_digits_in_the_roll_link_to_the_right_evidence(tmp_path: Path) -> None:
    swapped = ID_A[:10] + ID_A[11] + ID_A[10] + ID_A[12:]  # month digits 03 -> 30
    assert check_digit(swapped[:17]) != swapped[17]
    con = link(tmp_path, [roll_row("H1", "欧阳澍", swapped)], deaths(death_row("D1", "欧阳澍", ID_A)))
    assert linked(con, "deaths") == {"D1": ["H1"]}
    assert "身份证号相邻两位颠倒，校验位不符" in evidence(con, "D1")


def test_two_valid_ids_born_the_same_day_in_the_same_district_are_two_people(
        tmp_path: Path) -> None:
    # same name, same birth date, same district: only the sequence differs; both IDs valid
    twin = make_id("420102", "19610302", "017")
    con = link(tmp_path, [roll_row("H1", "欧阳澍", ID_A)], deaths(death_row("D1", "欧阳澍", twin)))
    assert linked(con, "deaths") == {}


def test_blank_id_links_on_name_birth_date_and_sex(tmp_path: Path) -> None:
    con = link(tmp_path, [roll_row("H1", "欧阳澍", ID_A)], deaths(death_row("D1", "欧阳澍", "")))
    assert linked(con, "deaths") == {"D1": ["H1"]}
    assert "比对记录无身份证号" in evidence(con, "D1")


def test_spreadsheet_mangled_id_counts_as_missing_and_can_still_link(tmp_path: Path) -> None:
    con = link(tmp_path, [roll_row("H1", "欧阳澍", ID_A)],
               deaths(death_row("D1", "欧阳澍", "4.20102E+17")))
    assert linked(con, "deaths") == {"D1": ["H1"]}
    assert "比对记录身份证号被表格损坏" in evidence(con, "D1")


def test_blank_id_namesake_born_another_day_does_not_link(tmp_path: Path) -> None:
    con = link(tmp_path, [roll_row("H1", "欧阳澍", ID_A)],
               deaths(death_row("D1", "欧阳澍", "", birth="1961-08-19")))
    assert linked(con, "deaths") == {}


def test_traditional_characters_and_spaces_link(tmp_path: Path) -> None:
    con = link(tmp_path, [roll_row("H1", "欧阳澍", ID_A)], deaths(death_row("D1", "歐陽 澍", "")))
    assert linked(con, "deaths") == {"D1": ["H1"]}
    assert "姓名规范写法后相同 歐陽 澍/欧阳澍" in evidence(con, "D1")


def test_traditional_form_kept_as_a_surname_still_matches_its_simplified_name(
        tmp_path: Path) -> None:
    # 於 is a surname of its own, so normalisation keeps it; 於志 may still be 于志 written
    # in traditional script
    roll = [roll_row("H1", "于志", make_id("420102", "20020209", "003"))]
    con = link(tmp_path, roll, deaths(death_row("D1", "於志", "", birth="2002-02-09")))
    assert linked(con, "deaths") == {"D1": ["H1"]}
    assert "姓名繁简体相同 於志/于志" in evidence(con, "D1")


def test_rare_homophone_with_blank_id_links(tmp_path: Path) -> None:
    con = link(tmp_path, [roll_row("H1", "欧阳澍", ID_A)], deaths(death_row("D1", "欧阳树", "")))
    assert linked(con, "deaths") == {"D1": ["H1"]}
    assert "姓名同音 欧阳树/欧阳澍" in evidence(con, "D1")


def test_a_character_a_gbk_export_wrote_as_a_question_mark_still_agrees(tmp_path: Path) -> None:
    # 欧阳䶮: 䶮 is outside GBK, so a GBK file holds 欧阳?; with the same ID it is the person,
    # with a blank ID the birth date and sex must carry it; another name never agrees this way
    roll = [roll_row("H1", "欧阳䶮", ID_A)]
    con = link(tmp_path, roll, deaths(death_row("D1", "欧阳?", ID_A),
                                      death_row("D2", "欧阳？", ""),
                                      death_row("D3", "欧?䶮", "", birth="1961-03-03")))
    assert linked(con, "deaths") == {"D1": ["H1"], "D2": ["H1"]}
    assert "姓名有一字无法辨认（“?”） 欧阳?/欧阳䶮" in evidence(con, "D1")
    tiers = dict(con.execute("SELECT record_id, tier FROM links").fetchall())
    assert tiers["D1"] == 1  # confirmed: the same valid ID, a name that agrees


def test_common_homophone_with_blank_id_is_too_weak(tmp_path: Path) -> None:
    # 张伟/张玮 with a blank ID: when ~0.1% of a million people share the pinyin (as 张伟 does
    # in a real city), name + birth date + sex is not enough
    common = [roll_row(f"X{i}", "张伟", make_id("420103", f"19{50 + i % 40}0101", f"{i:03d}"))
              for i in range(1, 1000)]
    roll = [roll_row("H1", "张伟", make_id("420102", "19610302", "015")), *common]
    con = link(tmp_path, roll, deaths(death_row("D1", "张玮", "", address="后湖街道光明社区2栋")))
    assert linked(con, "deaths") == {}


def test_common_name_exact_with_blank_id_and_birth_date_links(tmp_path: Path) -> None:
    common = [roll_row(f"X{i}", "张伟", make_id("420103", f"19{50 + i % 40}0101", f"{i:03d}"))
              for i in range(1, 120)]
    roll = [roll_row("H1", "张伟", make_id("420102", "19610302", "015")), *common]
    con = link(tmp_path, roll, deaths(death_row("D1", "张伟", "")))
    assert linked(con, "deaths") == {"D1": ["H1"]}
    assert "常见姓名（" in evidence(con, "D1")


def test_namesakes_born_the_same_day_make_a_blank_id_record_ambiguous(tmp_path: Path) -> None:
    other = make_id("420111", "19610302", "031")
    roll = [roll_row("H1", "欧阳澍", ID_A), roll_row("H2", "欧阳澍", other)]
    con = link(tmp_path, roll, deaths(death_row("D1", "欧阳澍", "")))
    assert linked(con, "deaths") == {}


def test_same_person_in_two_households_links_roll_to_roll(tmp_path: Path) -> None:
    roll = [roll_row("H1", "欧阳澍", ID_A), roll_row("H2", "欧阳澍", f" '{ID_A.lower()} ")]
    con = link(tmp_path, roll, {})
    households = sorted(h for hs in linked(con, "roll").values() for h in hs)
    assert households == ["H1", "H2"]


STAFF = ["staff_id", "name", "id_number", "role", "district", "street", "community", "phone"]
DECLARED = ["record_id", "staff_id", "relative_name", "relative_id_number", "relation"]


def _staff_and_declaration(name: str) -> dict[str, tuple[list[str], list[list[str]]]]:
    return {
        "staff": (STAFF, [["S1", "欧阳明", make_id("420102", "19850101", "011"), "民政专干",
                           "江岸区", "大智街道", "幸福社区", "13800001111"]]),
        "staff_relatives": (DECLARED, [["R1", "S1", name, "", "父亲"]]),
    }


# Streets of 江岸区 for filler roll members (the place shares of a small city)
STREETS = ("大智街道", "后湖街道", "二七街道", "塔子湖街道", "永清街道")


def _filler(count: int, name: str = "", seq0: int = 100) -> list[list[str]]:
    """Roll members spread over the district's streets (distinct names unless `name`)."""
    return [roll_row(f"F{k}", name or f"路人{k:03d}", make_id("420102", "19700101", f"{seq0 + k:03d}"),
                     street=STREETS[k % len(STREETS)], community=f"社区{k % 20}")
            for k in range(count)]


@pytest.mark.parametrize(("street", "expected"), [
    ("大智街道", {"R1": ["H1"]}),   # the staff member's street
    ("后湖街道", {"R1": ["H1"]}),   # another street: nobody else on the roll carries the name
])
def test_declared_relative_without_id_and_a_name_nobody_else_carries_links_in_the_district(
        tmp_path: Path, street: str, expected: dict[str, list[str]]) -> None:
    roll = [roll_row("H1", "欧阳澍", ID_A, street=street, community="幸福社区"), *_filler(60)]
    con = link(tmp_path, roll, _staff_and_declaration("欧阳澍"))
    assert linked(con, "staff_relatives") == expected
    evidence = con.execute("SELECT evidence FROM links WHERE dataset = 'staff_relatives'"
                           ).fetchone()
    assert evidence is not None and "仅姓名与地点相符：" in evidence[0]


def test_declared_relative_without_id_is_not_linked_where_the_name_is_expected_by_chance(
        tmp_path: Path) -> None:
    """张伟 on the staff member's street, and 29 more 张伟 on the roll: about 6 expected on any
    one of its five streets, so the street does not single this one out."""
    roll = [roll_row("H1", "张伟", ID_A), *_filler(29, name="张伟"), *_filler(60, seq0=300)]
    con = link(tmp_path, roll, _staff_and_declaration("张伟"))
    assert linked(con, "staff_relatives") == {}
    # two roll members of the name, both off the staff member's street: they agree only on the
    # district, which holds the whole roll here (1 other expected): neither is singled out
    roll = [roll_row("H1", "欧阳澍", ID_A, street="后湖街道"),
            roll_row("H2", "欧阳澍", make_id("420102", "19700101", "099"), street="二七街道"),
            *_filler(60)]
    con = link(tmp_path, roll, _staff_and_declaration("欧阳澍"))
    assert linked(con, "staff_relatives") == {}


@pytest.mark.parametrize(("relation", "linked_to", "words"), [
    ("父亲", {"R1": ["H1"]}, "申报关系“父亲”与年龄、性别相符"),   # 24 years older, male
    ("孙子", {}, None),   # a grandson born 24 years before the staff member: not this person
    ("母亲", {}, None),   # the roll member is a man
])
def test_declared_relation_is_checked_against_ages_and_sexes(
        tmp_path: Path, relation: str, linked_to: dict[str, list[str]], words: str | None
        ) -> None:
    roll = [roll_row("H1", "欧阳澍", ID_A)]
    datasets = {
        "staff": (STAFF, [["S1", "欧阳明", make_id("420102", "19850101", "011"), "民政专干",
                           "江岸区", "大智街道", "幸福社区", "13800001111"]]),
        "staff_relatives": (DECLARED, [["R1", "S1", "欧阳澍", "", relation]]),
    }
    con = link(tmp_path, roll, datasets)
    assert linked(con, "staff_relatives") == linked_to
    if words:
        assert words in evidence(con, "R1")


def test_relation_levels_on_their_own() -> None:
    """Each rule of relation plausibility, and what it leaves alone."""
    import pandas as pd

    from pipelines.link.scoring import relation_levels

    def day(text: str | None) -> object:
        return pd.Timestamp(text) if text else pd.NaT

    cases = [  # relation, person born, person sex, staff born, staff sex, expected level
        ("父亲", "1950-01-01", "M", "1980-01-01", "F", 1),
        ("父亲", "1975-01-01", "M", "1980-01-01", "F", -1),   # only 5 years older
        ("母亲", "1950-01-01", "M", "1980-01-01", "F", -1),   # a man
        ("孙女", "2010-01-01", "F", "1960-01-01", "M", 1),
        ("孙女", "1980-01-01", "F", "1960-01-01", "M", -1),   # 20 years younger: a child's age
        ("兄弟姐妹", "1940-01-01", "F", "1980-01-01", "M", -1),
        ("配偶", "1982-01-01", "F", "1980-01-01", "M", 1),
        ("配偶", "1982-01-01", "M", "1980-01-01", "M", 0),    # not ours to judge
        ("表兄弟", "1940-01-01", "M", "1980-01-01", "M", 0),  # not a near relation: no rule
        ("父亲", "1950-01-01", "M", None, None, 0),            # staff member's ID unusable
    ]
    frame = pd.DataFrame({
        "e_relation": [c[0] for c in cases],
        "r_birth": [day(c[1]) for c in cases], "r_sex": [c[2] for c in cases],
        "r_birth_source": ["id"] * len(cases),
        "e_anchor_birth": [day(c[3]) for c in cases], "e_anchor_sex": [c[4] for c in cases],
    })
    level, why = relation_levels(frame)
    assert level.tolist() == [c[5] for c in cases]
    assert why[1] == "出生于1975年，工作人员出生于1980年" and why[2] == "名册成员为男性"
    damaged = frame.assign(r_birth_source="clean")  # a birth date from a check-failing ID
    assert relation_levels(damaged)[0].tolist() == [0] * len(cases)


def test_match_tiers_follow_the_kind_of_evidence() -> None:
    import numpy as np

    from pipelines.link import scoring as sc

    cases = [  # (id level, name level, birth level) -> tier
        ((sc.ID_EXACT, sc.NAME_EXACT, 0), sc.TIER_CONFIRMED),
        ((sc.ID_EXACT, sc.NAME_MISSING, 0), sc.TIER_CONFIRMED),
        ((sc.ID_EXACT, sc.NAME_DIFFERENT, 0), sc.TIER_PROBABLE),     # same ID, another name
        ((sc.ID_EDIT1, sc.NAME_EXACT, 0), sc.TIER_CONFIRMED),        # one typo, the very name
        ((sc.ID_EDIT1, sc.NAME_PINYIN, 0), sc.TIER_PROBABLE),        # one typo, homophone
        ((sc.ID_EDIT2, sc.NAME_EXACT, 0), sc.TIER_PROBABLE),
        ((sc.ID_MISSING, sc.NAME_CONFUSABLE, 1), sc.TIER_PROBABLE),  # no ID, birth date same
        ((sc.ID_MISSING, sc.NAME_EXACT, 0), sc.TIER_POSSIBLE),       # name and place alone
        ((sc.ID_MISSING, sc.NAME_ONE_CHAR, 1), sc.TIER_POSSIBLE),    # the name does not agree
    ]
    levels = np.array([c for c, _ in cases], dtype=np.int8)
    tiers = sc.match_tiers(levels[:, 0], levels[:, 1], levels[:, 2])
    assert tiers.tolist() == [t for _, t in cases]


def test_an_oversized_block_proposes_nobody_and_is_counted(tmp_path: Path) -> None:
    # three roll people share the record's name and birth date (and so its first and last
    # characters): with a cap of two candidates, the name and date passes propose none of them
    # for the record without an ID, and the statistics say so per pass
    roll = [roll_row(f"H{i}", "欧阳澍", make_id(region, "19610302", seq))
            for i, (region, seq) in enumerate((("420102", "015"), ("420103", "017"),
                                               ("420104", "019")))]
    con = connect()
    for dataset, (header, rows) in {"roll": (ROLL, roll),
                                    **deaths(death_row("D1", "欧阳澍", ""))}.items():
        path = write_csv(tmp_path / f"{dataset}.csv", header, rows)
        load_table(con, f"norm_{dataset}", ingest_dataset(dataset, path, CONFIG).loaded)
    params = load_params()
    params["blocking"] = {"max_candidates": 2}
    stats = {s.dataset: s for s in link_all(con, CONFIG.linked(), params)}
    assert stats["deaths"].pairs == 0
    assert stats["deaths"].capped_by_pass == {
        "name and birth date": 1, "pinyin and birth date": 1,
        "birth date and first or last character": 1}
    params["blocking"] = {"max_candidates": 50}
    stats = {s.dataset: s for s in link_all(con, CONFIG.linked(), params)}
    assert stats["deaths"].pairs == 3 and stats["deaths"].capped_by_pass == {}


def test_a_sound_many_share_does_not_single_out_a_record_without_an_id(tmp_path: Path) -> None:
    # 欧阳树 (blank ID) sounds like the roll's 欧阳澍 and shares the birth date. Thirty others
    # of that sound are seen (born on other days), and thirty roll people share the day: about
    # 0.03 people of that sound are expected on the day by chance, more than max_sound_twins
    # (0.02): not linked. The same record links when the rule is lifted.
    others = [roll_row(f"X{i}", "欧阳" + "书淑舒殊抒"[i % 5],
                       make_id("420103", f"19{40 + i % 50:02d}0{1 + i % 9}1{i % 10}", f"{i:03d}"))
              for i in range(30)]
    others += [roll_row(f"Y{i}", "王" + "甲乙丙丁戊己庚辛壬癸"[i % 10] + "子丑寅"[i // 10],
                        make_id("420104", "19610302", f"{100 + 2 * i:03d}")) for i in range(30)]
    roll = [roll_row("H1", "欧阳澍", ID_A), *others]
    files = {"roll": (ROLL, roll), **deaths(death_row("D1", "欧阳树", ""))}
    frames = {d: ingest_dataset(d, write_csv(tmp_path / f"{d}.csv", h, rows), CONFIG).loaded
              for d, (h, rows) in files.items()}

    def deaths_linked(params: dict[str, object]) -> dict[str, list[str]]:
        con = connect()
        for dataset, frame in frames.items():
            load_table(con, f"norm_{dataset}", frame)
        link_all(con, CONFIG.linked(), params)  # type: ignore[arg-type]
        return linked(con, "deaths")

    params = load_params()
    assert deaths_linked(params) == {}
    params["coincidence"] = {**params["coincidence"], "max_sound_twins": 1000.0}
    assert deaths_linked(params) == {"D1": ["H1"]}


def test_a_dataset_linked_in_pieces_links_as_in_one(tmp_path: Path) -> None:
    # Pieces as partitions make them (decision 0011): a record whose ID is on the roll, one
    # with a homophone name and no ID, one nobody on the roll could be (no candidate at all),
    # and two rows that repeat a record_id. Any split by record gives the same links, the
    # same match probabilities (measured over the whole dataset) and the same statistics.
    from dataclasses import asdict

    from pipelines.link.linker import finish, link_part, population, prepare, seen_names

    other = make_id("420103", "19750611", "027")
    con = link(tmp_path, [roll_row("H1", "欧阳澍", ID_A), roll_row("H2", "李娜", other)], deaths(
        death_row("D1", "欧阳澍", ID_A),
        death_row("D2", "李纳", "", birth="1975-06-11", gender="女"),
        death_row("D3", "赵无极", make_id("420104", "19500101", "033"), birth="1950-01-01"),
        death_row("D4", "欧阳澍", ID_A, address="大智街道幸福社区2栋"),
        death_row("D4", "欧阳澍", ID_A, address="大智街道幸福社区3栋")))
    params = load_params()
    spec = CONFIG.linked()["deaths"]
    prepare(con, CONFIG.linked())
    people, seen = population(con, params), seen_names(con)
    con.execute("CREATE TABLE all_deaths AS SELECT * FROM norm_deaths")

    def pieces(groups: list[list[str]]) -> tuple[list[tuple[object, ...]], dict[str, object]]:
        parts = []
        for ids in groups:
            con.execute("CREATE OR REPLACE TABLE norm_deaths AS SELECT * FROM all_deaths "
                        "WHERE list_contains(?, record_id)", [ids])
            parts.append(link_part(con, "deaths", params, people, spec))
        table, stats = finish("deaths", parts, params, seen)
        facts = asdict(stats)
        facts.pop("seconds")
        facts.pop("pieces")
        return sorted(tuple(r.values()) for r in table.to_pylist()), facts

    whole = pieces([["D1", "D2", "D3", "D4"]])
    assert {r[1] for r in whole[0]} >= {"D1", "D2", "D4"}, whole
    assert whole[1]["calibration"]["records_with_id"] == 4, whole[1]
    for split in ([["D1"], ["D2"], ["D3"], ["D4"]], [["D3"], ["D1", "D4"], ["D2"]],
                  [["D1", "D2"], ["D3", "D4"]]):
        assert pieces(split) == whole, split
