"""The synthetic city generator: formats, determinism, and a truth the written data supports.

The truth is re-derived here from the written files alone (plus truth/roll.csv and
truth/links.csv, which say who each row is), with the contract's default rules, and must equal
truth/findings.csv exactly. Every link must be supportable from what the record carries.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Iterator
from pathlib import Path

import opencc
import pandas as pd
import pyarrow.parquet as pq
import pytest
import yaml

from pipelines.ingest.ids import check_digit
from pipelines.ingest.names import char_confusable, pinyin_key
from pipelines.io.readers import ROW, read_any
from pipelines.resources import resource_dir
from pipelines.synth import generate_city
from pipelines.synth.evaluation import CASE_RULES
from pipelines.synth.writers import FORMATS

AS_OF = dt.date(2026, 10, 31)
HOUSEHOLDS = 800
SEED = 7
BIG = 4000  # households of the city the damage rates and decoy counts are measured on
NEAR = {"配偶", "父亲", "母亲", "子", "女", "兄弟姐妹", "祖父母", "外祖父母", "孙子", "孙女",
        "外孙子", "外孙女"}
NOT_COUNTED = {"城乡居民基本养老保险基础养老金", "优待抚恤金"}
_FULL = str.maketrans("０１２３４５６７８９Ｘｘ", "0123456789Xx")
_T2S = opencc.OpenCC("t2s")
SCHEMA = yaml.safe_load((resource_dir("config") / "datasets.yaml").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def city(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("city")
    generate_city(out, HOUSEHOLDS, SEED, AS_OF)
    return out


@pytest.fixture(scope="module")
def big_city(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("big_city")
    generate_city(out, BIG, 3, AS_OF)
    return out


# -- helpers -------------------------------------------------------------------------------
def repair_id(value: str) -> str | None:
    """The 18-digit ID a written value repairs to exactly, else None (typo, swap, blank...)."""
    t = value.strip().lstrip("'").replace(" ", "").translate(_FULL).upper()
    if re.fullmatch(r"\d{17}[\dX]", t):
        return t if check_digit(t[:17]) == t[17] else None
    if re.fullmatch(r"\d{15}", t):
        body = t[:6] + "19" + t[6:]
        return body + check_digit(body)
    return None


def cleaned(written: str) -> str:
    """A written ID without its soft damage (apostrophe, spaces, full-width, lower-case x)."""
    return written.strip().lstrip("'").replace(" ", "").translate(_FULL).upper()


def lost(written: str) -> bool:
    """Blank or spreadsheet-mangled: nothing usable."""
    return written.strip() == "" or "E+" in written


def one_edit(written: str, true: str) -> bool:
    """One substituted character or two adjacent characters swapped."""
    t = cleaned(written)
    if len(t) != 18:
        return False
    diff = [i for i in range(18) if t[i] != true[i]]
    return len(diff) == 1 or (len(diff) == 2 and diff[1] == diff[0] + 1
                              and t[diff[0]] == true[diff[1]] and t[diff[1]] == true[diff[0]])


def norm_name(value: str) -> str:
    """Simplified characters, no spaces, one kind of middle dot."""
    s = re.sub(r"\s", "", _T2S.convert(value or ""))
    return re.sub("[•．・]", "·", s)


def parse_date(value: str) -> dt.date | None:
    s = (value or "").strip()
    if not s:
        return None
    if m := re.fullmatch(r"(\d{4})[-/年](\d{1,2})[-/月](\d{1,2})日?", s):
        return dt.date(int(m[1]), int(m[2]), int(m[3]))
    if re.fullmatch(r"\d{8}", s):
        return dt.date(int(s[:4]), int(s[4:6]), int(s[6:]))
    if re.fullmatch(r"\d{4,5}", s):
        return dt.date(1899, 12, 30) + dt.timedelta(days=int(s))
    raise AssertionError(f"unparseable date {s!r}")


def birth_of(id18: str) -> dt.date:
    return dt.date(int(id18[6:10]), int(id18[10:12]), int(id18[12:14]))


def aliases(dataset: str) -> dict[str, str]:
    out = {}
    for column, spec in SCHEMA["datasets"][dataset]["columns"].items():
        for label in (column, *spec.get("aliases", [])):
            out[label] = column
    return out


def load(city: Path, dataset: str) -> pd.DataFrame:
    """A dataset as written, columns renamed to canonical names, plus the source row number."""
    raw = read_any(city / FORMATS[dataset][0])
    frame = raw.table.to_pandas().fillna("")
    return frame.rename(columns=aliases(dataset)).rename(columns={ROW: "row"})


def usable(city: Path, dataset: str) -> pd.DataFrame:
    """The rows ingest loads: the dataset without the rows truth says it must quarantine."""
    q = truth(city, "quarantine")
    bad = set(q.loc[q["dataset"] == dataset, "row"].astype(int))
    frame = load(city, dataset)
    return frame[~frame["row"].isin(bad)]


def truth(city: Path, name: str) -> pd.DataFrame:
    return pd.read_csv(city / "truth" / f"{name}.csv", dtype=str, keep_default_na=False)


def roll_members(city: Path) -> pd.DataFrame:
    """Roll rows with their true IDs (rows ingest would quarantine are not in truth/roll.csv)."""
    roll = load(city, "roll")
    keys = truth(city, "roll").astype({"row": int})
    return roll.merge(keys[["row", "true_id_number"]], on="row")


def linked(city: Path, dataset: str) -> pd.DataFrame:
    """A dataset's records joined to the roll members they truly belong to."""
    links = truth(city, "links")
    links = links[links["dataset"] == dataset].drop(columns="dataset")
    frame = usable(city, dataset)
    if dataset == "kin_filings":
        frame["record_id"] = frame["row"].astype(str)
    return frame.rename(columns={"household_id": "record_household_id"}).merge(
        links, on="record_id")


def expected(city: Path, code: str) -> set[tuple[str, str]]:
    f = truth(city, "findings")
    f = f[f["finding_code"] == code]
    return set(zip(f["household_id"], f["id_number"], strict=True))


def standards(city: Path) -> dict[tuple[str, str], float]:
    s = load(city, "standards")
    return {(d, c): float(v) for d, c, v in s[["district", "category", "monthly_standard"]]
            .itertuples(index=False)}


# -- files and formats ---------------------------------------------------------------------
def test_every_dataset_is_written_in_its_format(city: Path) -> None:
    for _, (name, kind, encoding) in FORMATS.items():
        path = city / name
        assert path.exists(), name
        if kind == "csv":
            data = path.read_bytes()
            data.decode(encoding)
            assert data.startswith(b"\xef\xbb\xbf") == (encoding == "utf-8-sig"), name
    roll = (city / "roll.csv").read_bytes()
    with pytest.raises(UnicodeDecodeError):
        roll.decode("utf-8")
    with pytest.raises(UnicodeDecodeError):  # rare characters need GB18030, not GBK
        roll.decode("gbk")
    assert "户编号" in roll.decode("gb18030").splitlines()[0]
    for name in ("vehicles.parquet", "public_employees.parquet"):
        schema = pq.read_schema(city / name)
        assert {str(t) for t in schema.types} == {"string"}, name


def test_headers_are_schema_names_or_aliases(city: Path) -> None:
    for dataset, (name, _, _) in FORMATS.items():
        headers = read_any(city / name).headers
        known = aliases(dataset)
        assert set(headers) <= set(known), (dataset, set(headers) - set(known))
        required = {c for c, s in SCHEMA["datasets"][dataset]["columns"].items()
                    if s.get("required")}
        assert required <= {known[h] for h in headers}, dataset


def test_xlsx_cells_are_text(city: Path) -> None:
    from openpyxl import load_workbook

    for name in ("staff.xlsx", "low_income.xlsx"):
        sheet = load_workbook(city / name, read_only=True).worksheets[0]
        types = {c.data_type for row in sheet.iter_rows(min_row=2) for c in row
                 if c.value is not None}
        assert types == {"s"}, name


def test_same_seed_same_bytes_other_seed_other_city(city: Path, tmp_path: Path) -> None:
    again = tmp_path / "again"
    generate_city(again, HOUSEHOLDS, SEED, AS_OF)
    files = sorted(p.relative_to(city) for p in city.rglob("*") if p.is_file())
    assert files == sorted(p.relative_to(again) for p in again.rglob("*") if p.is_file())
    for rel in files:
        assert (city / rel).read_bytes() == (again / rel).read_bytes(), rel
    other = tmp_path / "other"
    generate_city(other, HOUSEHOLDS, SEED + 1, AS_OF)
    assert (other / "roll.csv").read_bytes() != (city / "roll.csv").read_bytes()
    assert (other / "truth" / "findings.csv").read_bytes() != \
        (city / "truth" / "findings.csv").read_bytes()


def test_quarantine_truth_matches_ingest(city: Path) -> None:
    from pipelines.config import load_config
    from pipelines.ingest.dataset import ingest_dataset

    config = load_config()
    q = truth(city, "quarantine").astype({"row": int})
    assert {"roll", "deaths", "vehicles", "property"} <= set(q["dataset"])
    assert q["reason"].str.contains("duplicate").any()
    assert (q["reason"] == "roll row without household_id").any()
    for dataset, (name, _, _) in FORMATS.items():
        result = ingest_dataset(dataset, city / name, config)
        rows = sorted(result.quarantined[ROW].astype(int))
        assert rows == sorted(q.loc[q["dataset"] == dataset, "row"]), dataset


# -- truth consistency ---------------------------------------------------------------------
def test_every_link_points_to_an_existing_record_and_household(city: Path) -> None:
    links = truth(city, "links")
    households = set(roll_members(city)["household_id"])
    assert set(links["household_id"]) <= households
    for dataset, group in links.groupby("dataset"):
        frame = load(city, str(dataset))
        ids = set(frame["row"].astype(str)) if dataset == "kin_filings" else \
            set(frame["record_id"])
        assert set(group["record_id"]) <= ids, dataset
    members = roll_members(city)
    pairs = set(zip(members["household_id"], members["true_id_number"], strict=True))
    assert set(zip(links["household_id"], links["true_id_number"], strict=True)) <= pairs


def test_every_finding_code_has_positives(city: Path) -> None:
    counts = truth(city, "findings")["finding_code"].value_counts()
    codes = ["DECEASED", "DUPLICATE_RECEIPT", "PUBLIC_EMPLOYEE", "VEHICLE", "PROPERTY",
             "BUSINESS", "INCOME_OVER_STANDARD", "STAFF_RELATIVE_UNFILED", "STAFF_LINKED",
             "APPROVER_CONFLICT", "ADD_CANDIDATE"]
    assert all(counts.get(c, 0) >= 1 for c in codes), counts.to_dict()
    flagged = truth(city, "findings").query("finding_code != 'ADD_CANDIDATE'")
    assert 0.04 <= flagged["household_id"].nunique() / HOUSEHOLDS <= 0.14


def test_person_findings_carry_the_rolls_written_id(city: Path) -> None:
    f = truth(city, "findings")
    members = roll_members(city)
    written = dict(zip(zip(members["household_id"], members["true_id_number"], strict=True),
                       members["id_number"], strict=True))
    person = f[~f["finding_code"].isin(["INCOME_OVER_STANDARD", "STAFF_LINKED",
                                        "APPROVER_CONFLICT", "ADD_CANDIDATE"])]
    for row in person.itertuples():
        assert written[(row.household_id, row.id_number)] == row.roll_id_number


def test_person_register_findings_rederive(city: Path) -> None:
    d = linked(city, "deaths")
    d = d[d["death_date"].map(parse_date) <= AS_OF]
    assert _pairs(d) == expected(city, "DECEASED")
    assert _pairs(linked(city, "public_employees")) == expected(city, "PUBLIC_EMPLOYEE")
    v = linked(city, "vehicles")
    v = v[v["status"].isin(["正常", "逾期未检验"]) & ~v["vehicle_type"].isin(["摩托车", "残疾人专用车"])]
    assert _pairs(v) == expected(city, "VEHICLE")
    p = linked(city, "property")
    p["res"] = p["usage"].isin(["住宅", "成套住宅"])
    p["nonres"] = p["usage"].isin(["商业", "办公", "商服"])
    per = p.groupby(["household_id", "true_id_number"])[["res", "nonres"]].sum()
    hit = per[(per["res"] >= 2) | (per["nonres"] >= 1)]
    assert set(hit.index) == expected(city, "PROPERTY")
    b = linked(city, "businesses")
    b = b[b["role"].isin(["法定代表人", "股东"]) & b["status"].isin(["存续", "在业"])]
    assert _pairs(b) == expected(city, "BUSINESS")


def _pairs(frame: pd.DataFrame) -> set[tuple[str, str]]:
    return set(zip(frame["household_id"], frame["true_id_number"], strict=True))


def test_duplicate_receipt_rederives(city: Path) -> None:
    m = roll_members(city)
    m["start"] = m["start_date"].map(parse_date)
    dup = m[m.duplicated("true_id_number", keep=False)]
    subjects = dup.sort_values(["true_id_number", "start", "household_id"]) \
        .drop_duplicates("true_id_number", keep="last")
    assert _pairs(subjects) == expected(city, "DUPLICATE_RECEIPT")
    assert len(subjects) >= 1


def test_income_over_standard_rederives(city: Path) -> None:
    s = linked(city, "pensions")
    s = s[~s["benefit_type"].isin(NOT_COUNTED)]
    e = linked(city, "public_employees")
    income = pd.concat([s[["household_id", "monthly_amount"]].rename(
        columns={"monthly_amount": "amount"}),
        e[["household_id", "monthly_pay"]].rename(columns={"monthly_pay": "amount"})])
    total = income.assign(amount=income["amount"].astype(float)).groupby("household_id")[
        "amount"].sum()
    hh = roll_members(city).drop_duplicates("household_id").set_index("household_id")
    std = standards(city)
    over = {h for h, t in total.items()
            if t / int(str(hh.at[h, "household_size"])) > std[(str(hh.at[h, "district"]),
                                                               str(hh.at[h, "category"]))]}
    assert over == {h for h, _ in expected(city, "INCOME_OVER_STANDARD")}
    not_counted = linked(city, "pensions")["benefit_type"].isin(NOT_COUNTED)
    assert not_counted.any() and (~not_counted).any()


def _staff_ties(city: Path) -> tuple[pd.DataFrame, set[tuple[str, str]], set[tuple[str, str]]]:
    """Roll households, declared (staff, household) pairs, personal-number (staff, hh) pairs."""
    m = roll_members(city)
    rel = linked(city, "staff_relatives")
    declared = set(zip(rel["staff_id"], rel["household_id"], strict=True))
    heads = m[m["relation"] == "户主"].set_index("household_id")
    staff = load(city, "staff")
    shared: set[tuple[str, str]] = set()
    for column in ("phone", "bank_account"):
        key = heads[column].str.replace(r"\D", "", regex=True)
        counts = key[key != ""].value_counts()
        personal = key[(key != "") & (key.map(counts) <= 3)]
        by_key: dict[str, list[str]] = {}
        for h, k in personal.items():
            by_key.setdefault(k, []).append(str(h))
        for sid, value in zip(staff["staff_id"], staff[column], strict=True):
            for h in by_key.get(re.sub(r"\D", "", value), []):
                shared.add((sid, h))
    return m, declared, shared - declared


def test_staff_findings_rederive(city: Path) -> None:
    m, declared, linked_pairs = _staff_ties(city)
    assert {h for _, h in linked_pairs} == {h for h, _ in expected(city, "STAFF_LINKED")}
    rel = linked(city, "staff_relatives")
    near = rel[rel["relation"].isin(NEAR)]
    filings = linked(city, "kin_filings")
    filed = set(zip(filings["true_id_number"], filings["staff_id"], strict=True))
    unfiled = near[[(i, s) not in filed for i, s in zip(near["true_id_number"],
                                                          near["staff_id"], strict=True)]]
    assert _pairs(unfiled) == expected(city, "STAFF_RELATIVE_UNFILED")
    assert len(near) > len(unfiled)  # some declared relatives are filed (negatives)
    staff = load(city, "staff")
    district_names: dict[tuple[str, str], list[str]] = {}
    for sid, name, district in staff[["staff_id", "name", "district"]].itertuples(index=False):
        district_names.setdefault((district, name), []).append(sid)
    hh = m.drop_duplicates("household_id")
    approver = {}
    staff_ids = set(staff["staff_id"])
    for h, by, district in hh[["household_id", "approved_by", "district"]].itertuples(index=False):
        if by in staff_ids:
            approver[h] = by
        else:  # one district names the approver; the name must resolve to one staff member
            assert len(district_names[(district, by)]) == 1, (district, by)
            approver[h] = district_names[(district, by)][0]
    assert len(set(approver.values()) - set(hh["approved_by"])) > 0
    conflict = {h for h, s in approver.items() if (s, h) in declared or (s, h) in linked_pairs}
    assert conflict == {h for h, _ in expected(city, "APPROVER_CONFLICT")}


def test_add_candidates_rederive(city: Path) -> None:
    li = usable(city, "low_income")
    links = truth(city, "links")
    on_roll = set(links.loc[links["dataset"] == "low_income", "record_id"])
    std = standards(city)
    category = li["category"].replace({"城市": "城市低保", "农村": "农村低保"})
    below = pd.Series([float(p) < std[(d, c)] for p, d, c in zip(
        li["per_capita_income"], li["district"], category, strict=True)], index=li.index)
    candidates = set(li.loc[below & ~li["record_id"].isin(on_roll), "record_id"])
    f = truth(city, "findings").query("finding_code == 'ADD_CANDIDATE'")
    assert set(f["record_id"]) == candidates
    roll_ids = set(roll_members(city)["true_id_number"])
    assert not set(f["id_number"]) & roll_ids
    assert on_roll  # people already covered appear in the register too (negatives)


# -- damage, decoys and supportable links --------------------------------------------------
def test_all_damage_kinds_are_present(city: Path) -> None:

    summary = json.loads((city / "truth" / "summary.json").read_text(encoding="utf-8"))
    kinds = {k for per in summary["damage"].values() for k in per}
    assert {f"id_{k}" for k in ("typo", "swap", "legacy15", "fullwidth", "spaces",
                                "apostrophe", "lower_x", "blank", "mangled")} <= kinds
    assert {f"name_{k}" for k in ("traditional", "homophone", "shape", "spaces", "dot")} <= kinds
    roll = load(city, "roll")
    ids = "".join(roll["id_number"])
    assert "'" in ids and "x" in ids and "０" in ids.translate(str.maketrans("1", "1"))
    assert roll["id_number"].str.fullmatch(r"\d{15}").any()
    deaths = load(city, "deaths")
    assert deaths["id_number"].str.contains(r"E\+17").any() and (deaths["id_number"] == "").any()
    dates = pd.concat([deaths["death_date"], roll["start_date"]])
    for form in (r"\d{4}-\d{2}-\d{2}", r"\d{4}/\d{1,2}/\d{1,2}", r"\d{8}", r"\d{4}年.*日",
                 r"\d{5}"):
        assert dates.str.fullmatch(form).any(), form
    dots = "".join(load(city, "pensions")["name"]) + "".join(roll["name"])
    assert any(d in dots for d in "•．・")
    phones = roll["phone"][roll["phone"] != ""].str.replace(r"\D", "", regex=True)
    assert phones.value_counts().max() > 3  # a community office's phone


def _records(city: Path) -> Iterator[tuple[str, pd.DataFrame, str, str]]:
    """(dataset, frame, name column, id column) for registers that carry a person's name."""
    for dataset, name, id_col in (("deaths", "name", "id_number"),
                                  ("vehicles", "owner_name", "owner_id_number"),
                                  ("property", "owner_name", "owner_id_number"),
                                  ("businesses", "person_name", "person_id_number"),
                                  ("public_employees", "name", "id_number"),
                                  ("pensions", "name", "id_number"),
                                  ("low_income", "name", "id_number"),
                                  ("staff_relatives", "relative_name", "relative_id_number")):
        yield dataset, load(city, dataset), name, id_col


def test_decoys_are_present_and_unlinked(city: Path) -> None:
    members = roll_members(city)
    roll_names = {norm_name(n) for n in members["name"]}
    by_prefix = {i[:14]: norm_name(n) for i, n in zip(members["true_id_number"], members["name"],
                                                      strict=True)}
    true_ids = set(members["true_id_number"])
    linked_ids = set(zip(truth(city, "links")["dataset"], truth(city, "links")["record_id"],
                         strict=True))
    namesakes = near_ids = twins = 0
    for dataset, frame, name, id_col in _records(city):
        free = frame[[(dataset, r) not in linked_ids for r in frame["record_id"]]]
        for written_name, written_id in zip(free[name], free[id_col], strict=True):
            n = norm_name(written_name)
            namesakes += n in roll_names
            valid = repair_id(written_id)
            if valid and valid not in true_ids and valid[:14] in by_prefix:
                near_ids += by_prefix[valid[:14]] != n
                twins += by_prefix[valid[:14]] == n
    assert namesakes >= 50 and near_ids >= 5 and twins >= 1, (namesakes, near_ids, twins)


def test_every_link_is_supportable(city: Path) -> None:
    """An exact ID repair; or one edit from the true ID with the same name; or no usable ID
    with the same name and birth date (community; staff street) as exactly one roll member;
    a declared relative without ID: the only one of the name on the staff member's street, or
    in the staff member's district the only one on the roll."""
    members = roll_members(city)
    members["norm"] = members["name"].map(norm_name)
    roll_name = dict(zip(zip(members["household_id"], members["true_id_number"], strict=True),
                         members["norm"], strict=True))
    people = members.drop_duplicates("true_id_number")
    by_birth = people.groupby([people["norm"], people["true_id_number"].map(birth_of)]).size()
    by_sound_birth = people.groupby([people["norm"].map(pinyin_key),
                                     people["true_id_number"].map(birth_of)]).size()
    by_comm = people.groupby(["norm", "district", "street", "community"]).size()
    by_street = people.groupby(["norm", "district", "street"]).size()
    by_name = people.groupby("norm").size()
    place = members["district"] + "/" + members["street"]
    comm = dict(zip(members["true_id_number"], place + "/" + members["community"], strict=True))
    street = dict(zip(members["true_id_number"], place, strict=True))
    staff = load(city, "staff").set_index("staff_id")
    checked = 0
    for dataset, _, name, id_col in _records(city):
        frame = linked(city, dataset)
        for row in frame.to_dict("records"):
            true, n = row["true_id_number"], norm_name(row[name])
            same = n == roll_name[(row["household_id"], true)]
            if repair_id(row[id_col]) == true:
                continue
            checked += 1
            if one_edit(row[id_col], true):
                # the very same name; or (case id_typo_and_homophone) the same sound, with the
                # birth date written beside it agreeing where there is one
                birth = parse_date(row.get("birth_date") or row.get("owner_birth_date") or "")
                on_roll = roll_name[(row["household_id"], true)]
                diff = [(a, b) for a, b in zip(n, on_roll, strict=False) if a != b]
                sounds = pinyin_key(n) == pinyin_key(on_roll) or (
                    len(n) == len(on_roll) and len(diff) == 1
                    and char_confusable(*diff[0]) == "homophone")
                assert same or (sounds and birth in (None, birth_of(true))), (dataset, row)
            elif dataset == "low_income":
                where = (row["district"], row["street"], row["community"])
                assert same and "/".join(where) == comm[true] and \
                    by_comm[(n, *where)] == 1, (dataset, row)
            elif dataset == "staff_relatives":
                # the staff member's street, the only one of the name there; or the staff
                # member's district, nobody else on the roll carrying the name
                at = (str(staff.at[row["staff_id"], "district"]),
                      str(staff.at[row["staff_id"], "street"]))
                assert row[id_col] == "" and same, (dataset, row)
                assert ("/".join(at) == street[true] and by_street[(n, *at)] == 1) or (
                    street[true].split("/")[0] == at[0] and by_name[n] == 1), (dataset, row)
            else:
                # the same name, or (case blank_id_and_homophone) the same sound, and the same
                # birth date as exactly one roll member
                birth = parse_date(row.get("birth_date") or row.get("owner_birth_date", ""))
                assert row[id_col] == "" or "E+" in row[id_col], (dataset, row)
                sounds = pinyin_key(n) == pinyin_key(roll_name[(row["household_id"], true)])
                assert birth == birth_of(true), (dataset, row)
                assert (same and by_birth[(n, birth)] == 1) or (
                    sounds and by_sound_birth[(pinyin_key(n), birth)] == 1), (dataset, row)
    assert checked >= 5


def test_blank_declarations_are_settled_by_the_chance_of_the_name_in_the_place(
        city: Path) -> None:
    """A declaration without ID is about a roll member only where the data singles that member
    out, and about nobody on the roll only where it singles nobody out. Singled out: the place
    (the staff member's community, street or district) is expected to hold at most 0.05 other roll people
    of the name by chance ((roll people of the name - 1) x the place's share of the roll), and
    on the street only one carries it. Coincidental namesakes on the staff member's street and
    namesakes elsewhere in the city are present."""
    rel = usable(city, "staff_relatives")
    blank = rel[rel["relative_id_number"] == ""]
    about_roll = set(linked(city, "staff_relatives")["record_id"])
    members = roll_members(city).drop_duplicates("true_id_number")
    members["norm"] = members["name"].map(norm_name)
    total = len(members)
    per_street = members.groupby(["district", "street", "norm"]).size()  # street names repeat
    per_district = members.groupby(["district", "norm"]).size()
    per_community = members.groupby(["district", "street", "community", "norm"]).size()
    community_share = members.groupby(["district", "street", "community"]).size() / total
    per_city = members.groupby("norm").size()
    street_share = members.groupby(["district", "street"]).size() / total
    district_share = members.groupby("district").size() / total
    staff = load(city, "staff").set_index("staff_id")
    coincidental = elsewhere = 0
    for record_id, staff_id, name in blank[["record_id", "staff_id", "relative_name"]].itertuples(
            index=False):
        n = norm_name(name)
        district, street = staff.at[staff_id, "district"], staff.at[staff_id, "street"]
        others = int(per_city.get(n, 0)) - 1
        here = int(per_street.get((district, street, n), 0))
        in_district = int(per_district.get((district, n), 0))
        on_street = here >= 1 and others * street_share.get((district, street), 1) <= 0.05
        in_the_district = in_district >= 1 and others * district_share.get(district, 1) <= 0.05
        community = staff.at[staff_id, "community"]
        place = (district, street, community)
        in_community = isinstance(community, str) and bool(community) and int(per_community.get((*place, n), 0)) >= 1 \
            and others * community_share.get(place, 1) <= 0.05
        if record_id in about_roll:
            assert (on_street and here == 1) or (in_the_district and others == 0), \
                (record_id, name)
            elsewhere += others >= 1
        else:
            assert not (on_street or in_the_district or in_community), (record_id, name)
            coincidental += here >= 1
    assert len(blank[blank["record_id"].isin(about_roll)]) > 0 and elsewhere >= 1
    assert coincidental >= 1


# -- harder damage and decoys (measured on a larger city) ----------------------------------
def test_typos_and_swaps_always_fail_their_check_digit() -> None:
    import numpy as np

    from pipelines.synth.damage import Damager
    from pipelines.synth.people import id_numbers
    from pipelines.synth.reference import load_reference

    rng = np.random.default_rng(0)
    n = 20_000
    ids = id_numbers(np.full(n, "420102", dtype=object), rng.integers(-20000, 15000, n),
                     rng.integers(0, 1000, n))
    damager = Damager(load_reference(), np.random.default_rng(1))
    out, kinds = damager.ids("test", ids, {"typo": 0.5, "swap": 0.5},
                             allow_hard=np.ones(n, dtype=bool),
                             allow_blank=np.zeros(n, dtype=bool), combine=0.3)
    assert set(kinds) == {"typo", "swap"}
    soft = 0
    for written, true in zip(out, ids, strict=True):
        t = cleaned(written)
        soft += t != written
        assert t != true and check_digit(t[:17]) != t[17], (written, true)
        assert one_edit(written, true), (written, true)
    assert soft > 0.2 * n  # soft damage on top of hard damage


def test_every_case_kind_is_planted_and_recorded(big_city: Path) -> None:
    """truth/cases.csv names each planted case's record, and the records exist as described."""
    summary = json.loads((big_city / "truth" / "summary.json").read_text(encoding="utf-8"))
    cases = pd.read_csv(big_city / "truth" / "cases.csv", dtype=str, keep_default_na=False)
    assert set(cases["case"]) == set(CASE_RULES), set(cases["case"]) ^ set(CASE_RULES)
    # decoys are never on the roll and never in the truth's links; the rest are on the roll
    # exactly when the truth links the record
    linked_records = set(truth(big_city, "links")[["dataset", "record_id"]].itertuples(
        index=False, name=None))
    for row in cases.itertuples(index=False):
        on_roll = row.on_roll == "True"
        assert on_roll == ((row.dataset, row.record_id) in linked_records), row
        assert not (on_roll and row.case.startswith("decoy_")), row
    # a character outside GBK, written as '?' or a same-sound one, always beside the ID
    rel = usable(big_city, "staff_relatives").set_index("record_id")
    for case in ("gbk_question_mark", "gbk_same_sound"):
        chosen = rel.loc[cases.loc[cases["case"] == case, "record_id"]]
        assert len(chosen) >= 2 and (chosen["relative_id_number"] != "").all(), case
        marked = chosen["relative_name"].str.contains("?", regex=False)
        assert marked.all() if case == "gbk_question_mark" else not marked.any(), case
    # a 15-digit ID only for someone born 1900-1998
    legacy = cases[cases["case"] == "legacy15_id"]
    assert len(legacy) >= 20
    for dataset, group in legacy.groupby("dataset"):
        frame = usable(big_city, dataset).set_index("record_id")
        id_col = next(c for c in ("id_number", "owner_id_number", "person_id_number",
                                  "relative_id_number") if c in frame)
        for written in frame.loc[group["record_id"], id_col]:
            digits = cleaned(written)
            assert re.fullmatch(r"\d{15}", digits) and digits[6:8] != "99", (dataset, written)
    assert summary["cases"] == cases["case"].value_counts().sort_index().to_dict()
    truth_links = truth(big_city, "links").set_index(["dataset", "record_id"])["true_id_number"]
    roll = roll_members(big_city).drop_duplicates("true_id_number").set_index("true_id_number")
    for kind in ("id_typo_and_homophone", "blank_id_and_homophone"):
        double = cases[cases["case"] == kind]
        assert len(double) >= 2 and set(double["dataset"]) <= {"deaths", "vehicles", "property"}
        for dataset, group in double.groupby("dataset"):
            frame = usable(big_city, dataset).set_index("record_id")
            name = "name" if "name" in frame else "owner_name"
            id_col = "id_number" if "id_number" in frame else "owner_id_number"
            for record_id in group["record_id"]:
                true = truth_links[(dataset, record_id)]
                written = frame.at[record_id, id_col]
                if kind == "id_typo_and_homophone":
                    assert one_edit(written, true) and check_digit(cleaned(written)[:17]) != \
                        cleaned(written)[17], (dataset, record_id, written)
                else:
                    assert written == "" or "E+" in written, (dataset, record_id, written)
                true_name = norm_name(roll.at[true, "name"])
                written_name = norm_name(frame.at[record_id, name])
                diff = [(a, b) for a, b in zip(written_name, true_name, strict=False) if a != b]
                assert len(written_name) == len(true_name) and len(diff) == 1 and (
                    pinyin_key(written_name) == pinyin_key(true_name)
                    or char_confusable(*diff[0]) == "homophone"), (dataset, record_id)


def test_written_ids_that_differ_from_the_true_id_fail_their_check(big_city: Path) -> None:
    """No damaged ID of a roll member (roll or evidence) is another valid ID."""
    checked = 0
    pairs = [(roll_members(big_city), "id_number")]
    for dataset, _, _, id_col in _records(big_city):
        pairs.append((linked(big_city, dataset), id_col))
    for frame, id_col in pairs:
        for written, true in zip(frame[id_col], frame["true_id_number"], strict=True):
            t = cleaned(written)
            if re.fullmatch(r"\d{17}[\dX]", t) and t != true:
                checked += 1
                assert check_digit(t[:17]) != t[17], (written, true)
    assert checked >= 100


def _share(flags: list[bool]) -> float:
    return sum(flags) / max(1, len(flags))


def test_records_of_roll_members_are_damaged_hard(big_city: Path) -> None:
    members = roll_members(big_city)
    members["norm"] = members["name"].map(norm_name)
    true_name = dict(zip(members["true_id_number"], members["norm"], strict=True))
    loose: dict[str, list[bool]] = {"lost": [], "edit": [], "legacy15": [], "hard_name": []}
    for dataset, name, id_col in (("deaths", "name", "id_number"),
                                  ("vehicles", "owner_name", "owner_id_number"),
                                  ("property", "owner_name", "owner_id_number")):
        frame = linked(big_city, dataset).drop_duplicates("record_id")
        for written, true, nm in zip(frame[id_col], frame["true_id_number"], frame[name],
                                     strict=True):
            loose["lost"].append(lost(written))
            loose["edit"].append(one_edit(written, true))
            loose["legacy15"].append(bool(re.fullmatch(r"\d{15}", cleaned(written))))
            loose["hard_name"].append(norm_name(nm) != true_name[true])
    assert len(loose["lost"]) >= 300
    assert 0.05 <= _share(loose["lost"]) <= 0.12, _share(loose["lost"])
    assert _share(loose["legacy15"]) >= 0.02 and _share(loose["hard_name"]) >= 0.02
    keyed = list(loose["edit"])  # typos and swaps: about 4.5% everywhere
    for dataset, id_col in (("pensions", "id_number"), ("public_employees", "id_number"),
                            ("businesses", "person_id_number")):
        frame = linked(big_city, dataset).drop_duplicates("record_id")
        keyed += [one_edit(w, t) for w, t in zip(frame[id_col], frame["true_id_number"],
                                                 strict=True)]
        assert not any(lost(w) for w in frame[id_col]), dataset
    assert 0.03 <= _share(keyed) <= 0.06, _share(keyed)
    li = linked(big_city, "low_income")
    assert _share([lost(w) for w in li["id_number"]]) >= 0.04
    roll_bad = [bool(re.fullmatch(r"\d{17}[\dX]", cleaned(w))) and cleaned(w) != t
                for w, t in zip(members["id_number"], members["true_id_number"], strict=True)]
    assert 0.008 <= _share(roll_bad) <= 0.02, _share(roll_bad)
    rel = usable(big_city, "staff_relatives")
    on_roll = set(linked(big_city, "staff_relatives")["record_id"])
    blank = rel["relative_id_number"] == ""
    assert 0.33 <= blank.mean() <= 0.5, blank.mean()
    # found by name and street (declarations of names a GBK file cannot hold keep their ID)
    cases = pd.read_csv(big_city / "truth" / "cases.csv", dtype=str, keep_default_na=False)
    gbk = set(cases.loc[cases["case"].str.startswith("gbk_"), "record_id"])
    about_roll = rel["record_id"].isin(on_roll) & ~rel["record_id"].isin(gbk)
    assert blank[about_roll].mean() >= 0.33


def test_decoys_of_every_kind_are_planted_unlinked(big_city: Path) -> None:

    members = roll_members(big_city).drop_duplicates("true_id_number")
    members["norm"] = members["name"].map(norm_name)
    true_ids = set(members["true_id_number"])
    by_birth: dict[str, set[str]] = {}
    births: dict[str, set[dt.date]] = {}
    for i, n in zip(members["true_id_number"], members["norm"], strict=True):
        by_birth.setdefault(i[6:14], set()).add(n)
        births.setdefault(n, set()).add(birth_of(i))
    links = truth(big_city, "links")
    linked_ids = set(zip(links["dataset"], links["record_id"], strict=True))
    homophone = twins = blank_namesakes = 0
    for dataset, frame, name, id_col in _records(big_city):
        if dataset in ("low_income", "staff_relatives"):
            continue
        free = frame[[(dataset, r) not in linked_ids for r in frame["record_id"]]]
        birth_col = "birth_date" if dataset == "deaths" else "owner_birth_date"
        own_birth = free[birth_col] if birth_col in free else pd.Series("", index=free.index)
        for written_name, written_id, written_birth in zip(free[name], free[id_col],
                                                           own_birth, strict=True):
            n = norm_name(written_name)
            valid = repair_id(written_id)
            if valid and valid not in true_ids:
                for other in by_birth.get(valid[6:14], ()):
                    twins += other == n
                    diff = [(a, b) for a, b in zip(n, other, strict=False) if a != b]
                    homophone += len(n) == len(other) and len(diff) == 1 and \
                        char_confusable(*diff[0]) == "homophone"
            elif lost(written_id) and n in births:
                birth = parse_date(written_birth)
                assert birth is not None and birth not in births[n], (dataset, written_name)
                blank_namesakes += any(b.year == birth.year for b in births[n])
    assert twins >= 20 and homophone >= 20 and blank_namesakes >= 50, \
        (twins, homophone, blank_namesakes)
    # declared relatives not on the roll, named like a roll member of another street
    staff = load(big_city, "staff").set_index("staff_id")
    rel = usable(big_city, "staff_relatives")
    rel = rel[(rel["relative_id_number"] == "") & ~rel["record_id"].isin(
        set(links.loc[links["dataset"] == "staff_relatives", "record_id"]))]
    streets = members.groupby(["district", "norm"])["street"].agg(set)
    elsewhere = coincidental = 0  # named like a roll member of another street / of their own
    for staff_id, written_name in zip(rel["staff_id"], rel["relative_name"], strict=True):
        key = (staff.at[staff_id, "district"], norm_name(written_name))
        there = streets.get(key, set())
        elsewhere += bool(there) and staff.at[staff_id, "street"] not in there
        coincidental += staff.at[staff_id, "street"] in there
    assert elsewhere >= 20 and coincidental >= 20, (elsewhere, coincidental)
    # low-income people without ID, named like a roll member of another community
    li = usable(big_city, "low_income")
    li = li[li["id_number"].map(lost) & ~li["record_id"].isin(
        set(links.loc[links["dataset"] == "low_income", "record_id"]))]
    places: dict[str, set[tuple[str, str, str]]] = {}
    for n, d, st, c in members[["norm", "district", "street", "community"]].itertuples(
            index=False):
        places.setdefault(n, set()).add((d, st, c))
    other_community = 0
    for written_name, d, st, c in li[["name", "district", "street", "community"]].itertuples(
            index=False):
        at = places.get(norm_name(written_name), set())
        assert (d, st, c) not in at  # a roll member there would make it ambiguous
        other_community += bool(at)
    assert other_community >= 5, other_community
    summary = json.loads((big_city / "truth" / "summary.json").read_text(encoding="utf-8"))
    decoys = summary["decoys"]
    assert decoys["namesake"] >= 400 and decoys["near_id"] >= 200, decoys
    assert decoys["twin"] >= 40 and decoys["homophone"] >= 100, decoys
    assert decoys["namesake_without_id"] >= 100, decoys


def test_staff_phones_shared_by_three_are_personal_by_four_are_not(city: Path) -> None:
    m = roll_members(city)
    heads = m[m["relation"] == "户主"].set_index("household_id")
    phone = heads["phone"].str.replace(r"\D", "", regex=True)
    counts = phone[phone != ""].value_counts()
    staff_phones = set(load(city, "staff")["phone"].str.replace(r"\D", "", regex=True))
    linked_hh = {h for h, _ in expected(city, "STAFF_LINKED")}
    three = [p for p in counts[counts == 3].index if p in staff_phones]
    four = [p for p in counts[counts == 4].index if p in staff_phones]
    assert len(three) >= 3 and len(four) >= 3, (three, four)
    for p in four:
        assert not set(phone[phone == p].index) & linked_hh, p
    assert any(set(phone[phone == p].index) <= linked_hh for p in three)


def test_evaluation_reads_an_apostrophe_id_as_the_audit_wrote_it(tmp_path: Path) -> None:
    """findings.csv keeps a roll ID written '420102... as text with one more apostrophe; the
    evaluation must take it back off, or a true finding counts as wrong."""
    from pipelines.io.inert import csv_text
    from pipelines.synth.evaluation import evaluate, read_findings

    written = "'420102196309058371"
    (tmp_path / "findings.csv").write_text(
        "finding_code,id_number,household_id,record_id\n"
        f"PROPERTY,{csv_text(written)},H1,P1\n", encoding="utf-8")
    findings = read_findings(tmp_path)
    assert findings["id_number"].tolist() == [written]
    truth = pd.DataFrame([{"finding_code": "PROPERTY", "id_number": "420102196309058571",
                           "roll_id_number": written, "household_id": "H1", "record_id": "P1"}])
    score = next(s for s in evaluate(findings, truth) if s.code == "PROPERTY")
    assert (score.found, score.true_positives) == (1, 1)
