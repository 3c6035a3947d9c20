"""The finding rules on tiny inline worlds: positive, negative, boundary, exempt, overrides.

The helper below builds a DuckDB world: tables take the canonical columns of config/datasets.yaml (plus `<col>_code`, district_code,
phone_norm/phone_kind, the p_* person columns and _row) so that the rules see the shape ingest
produces; a test fills only the columns its rule reads.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

import duckdb
import pyarrow as pa
import pytest

from pipelines.config import load_config
from pipelines.link.linker import LINKS_SCHEMA
from pipelines.rules.policy import RulesConfig, load_rules
from pipelines.rules.runner import apply_rules, rule_checks

AS_OF = dt.date(2026, 10, 31)
JIANGAN, HONGSHAN = "420102", "420111"
_TYPES = {"text": pa.string(), "id": pa.string(), "name": pa.string(), "phone": pa.string(),
          "date": pa.date32(), "decimal": pa.float64(), "integer": pa.int64()}
_PERSON = [("p_name", pa.string()), ("p_name_pinyin", pa.string()), ("p_id18", pa.string()),
           ("p_id_clean", pa.string()), ("p_id_status", pa.string()),
           ("p_birth_date", pa.date32()), ("p_sex", pa.string()), ("p_region", pa.string())]
ROLL_PEOPLE = pa.schema([
    ("member_key", pa.int64()), ("household_id", pa.string()), ("person_key", pa.string()),
    ("roll_id", pa.string()), ("name", pa.string()), ("relation", pa.string()),
    ("district_code", pa.string()), ("category_code", pa.string()), ("street", pa.string()),
    ("community", pa.string()), ("household_size", pa.int64()),
    ("monthly_amount", pa.float64()), ("start_date", pa.date32()),
    ("approved_by", pa.string()), ("phone_norm", pa.string()), ("phone_kind", pa.string()),
    ("bank_account", pa.string()), ("bank_account_norm", pa.string()),
])
LINKS = LINKS_SCHEMA


def norm_schema(dataset: str) -> pa.Schema:
    """The columns ingest gives `norm_<dataset>`."""
    spec = load_config().datasets[dataset]
    fields: list[tuple[str, pa.DataType]] = []
    for column, col in spec.columns.items():
        fields.append((column, _TYPES[col.type]))
        if col.type == "phone":
            fields += [(f"{column}_norm", pa.string()), (f"{column}_kind", pa.string())]
        if col.vocab is not None:
            fields.append((f"{column}_code", pa.string()))
        if column == "district":
            fields.append(("district_code", pa.string()))
        if column == "bank_account":
            fields.append(("bank_account_norm", pa.string()))
    if spec.person is not None:
        fields += _PERSON
    return pa.schema([*fields, ("_row", pa.int64())])


def _date(value: Any) -> Any:
    return dt.date.fromisoformat(value) if isinstance(value, str) else value


def _table(schema: pa.Schema, rows: list[dict[str, Any]]) -> pa.Table:
    unknown = {k for r in rows for k in r} - set(schema.names)
    assert not unknown, f"unknown columns {unknown}"
    fixed = [{k: (_date(v) if pa.types.is_date(schema.field(k).type) else v)
              for k, v in r.items()} for r in rows]
    return pa.Table.from_pylist(fixed, schema=schema)


def load(con: duckdb.DuckDBPyConnection, name: str, table: pa.Table) -> None:
    con.register("_t", table)
    con.execute(f'CREATE OR REPLACE TABLE "{name}" AS SELECT * FROM _t').fetchall()
    con.unregister("_t")


def member(key: int, household: str, name: str, *, person: str | None = None,
           roll_id: str | None = None, relation: str = "户主", district: str = JIANGAN,
           category: str = "urban", size: int = 1, amount: float | None = 1000.0,
           start: str = "2020-01-01", approved_by: str | None = None, phone: str | None = None,
           bank: str | None = None) -> dict[str, Any]:
    """One roll member (a row of roll_people)."""
    return {"member_key": key, "household_id": household, "person_key": person or f"P{key}",
            "roll_id": f"ID{key:04d}" if roll_id is None else roll_id, "name": name,
            "relation": relation,
            "district_code": district, "category_code": category, "street": "大智街道",
            "community": "幸福社区", "household_size": size, "monthly_amount": amount,
            "start_date": _date(start), "approved_by": approved_by, "phone_norm": phone,
            "phone_kind": None if phone is None else "mobile", "bank_account": bank,
            "bank_account_norm": None if bank is None else "".join(c for c in bank if c.isdigit())}


STANDARDS = [  # 1050 urban / 850 rural in both districts
    {"district": "江岸区", "district_code": JIANGAN, "category_code": "urban", "monthly_standard": 1050.0, "_row": 1},
    {"district": "江岸区", "district_code": JIANGAN, "category_code": "rural", "monthly_standard": 850.0, "_row": 2},
    {"district": "洪山区", "district_code": HONGSHAN, "category_code": "urban", "monthly_standard": 1050.0, "_row": 3},
    {"district": "洪山区", "district_code": HONGSHAN, "category_code": "rural", "monthly_standard": 850.0, "_row": 4},
]


def world(people: list[dict[str, Any]],
          links: Sequence[tuple[str, str, int, float] | tuple[str, str, int, float, int]] = (),
          standards: list[dict[str, Any]] | None = None,
          **datasets: list[dict[str, Any]]) -> duckdb.DuckDBPyConnection:
    """A connection holding norm_roll, norm_standards, the given datasets, roll_people, links."""
    con = duckdb.connect()
    names = {JIANGAN: "江岸区", HONGSHAN: "洪山区"}
    roll = [{"_row": p["member_key"], "household_id": p["household_id"], "name": p["name"],
             "district": names.get(p["district_code"], p["district_code"]),
             "district_code": p["district_code"], "category_code": p["category_code"],
             "p_id18": p["roll_id"]} for p in people]
    load(con, "norm_roll", _table(norm_schema("roll"), roll))
    load(con, "norm_standards", _table(norm_schema("standards"),
                                       STANDARDS if standards is None else standards))
    for dataset, rows in datasets.items():
        numbered = [{"_row": i + 1, **r} for i, r in enumerate(rows)]
        load(con, f"norm_{dataset}", _table(norm_schema(dataset), numbered))
    load(con, "roll_people", _table(ROLL_PEOPLE, people))
    # (dataset, record_id, member_key, score[, tier]): tier 1 (confirmed) unless given
    rows = [{"dataset": link[0], "record_id": link[1], "member_key": link[2], "score": link[3],
             "evidence": "ID matches; name same", "tier": link[4] if len(link) > 4 else 1}
            for link in links]
    load(con, "links", _table(LINKS, rows))
    return con


def run(con: duckdb.DuckDBPyConnection, as_of: dt.date = AS_OF,
        rules: RulesConfig | None = None) -> list[dict[str, Any]]:
    """Apply the rules; return the findings as dicts ordered by code and subject."""
    apply_rules(con, as_of, rules or load_rules())
    relation = con.table("findings").order("code_order, subject")
    return [dict(zip(relation.columns, row, strict=True)) for row in relation.fetchall()]


def codes(found: list[dict[str, Any]]) -> list[tuple[str, str | None, str]]:
    """(code, household_id, record_id) of each finding."""
    return [(f["finding_code"], f["household_id"], f["record_id"]) for f in found]




def only(found: list[dict[str, Any]], code: str) -> list[dict[str, Any]]:
    return [f for f in found if f["finding_code"] == code]


# --- DECEASED ---------------------------------------------------------------------------------

def test_deceased_on_or_before_the_audit_date_only() -> None:
    people = [
        member(1, "H1", "张伟", size=2, amount=1200.0),               # head, alive
        member(2, "H1", "李娜", relation="配偶", size=2, amount=None),  # died on the audit date
        member(3, "H2", "王芳", amount=700.0),                         # dies the day after
        member(4, "H3", "赵强", amount=800.0),                         # only member, died earlier
    ]
    con = world(people, [("deaths", "D1", 2, 0.97), ("deaths", "D2", 3, 1.0),
                         ("deaths", "D3", 4, 0.9)],
                deaths=[{"record_id": "D1", "name": "李娜", "death_date": AS_OF},
                        {"record_id": "D2", "name": "王芳",
                         "death_date": AS_OF + dt.timedelta(days=1)},
                        {"record_id": "D3", "name": "赵强", "death_date": "2025-03-01"}])
    found = only(run(con), "DECEASED")
    assert codes(found) == [("DECEASED", "H1", "D1"), ("DECEASED", "H3", "D3")]
    by_hh = {f["household_id"]: f for f in found}
    assert by_hh["H1"]["amount_at_stake"] == 600.0     # 1200 / 2 members
    assert by_hh["H3"]["amount_at_stake"] == 800.0     # the only member: all of it
    assert by_hh["H1"]["severity"] == "high" and by_hh["H1"]["score"] == 0.97
    assert by_hh["H1"]["id_number"] == "ID0002"


def test_one_finding_per_person_on_the_earlier_enrolment_with_the_strongest_record() -> None:
    people = [
        member(1, "H1", "张伟", person="P", start="2019-01-01"),  # earlier enrolment: shown
        member(2, "H2", "张伟", person="P", start="2023-01-01"),  # the same person again
    ]
    links = [("deaths", "D9", 1, 0.8), ("deaths", "D1", 2, 0.95), ("roll", "2", 1, 1.0),
             ("roll", "1", 2, 1.0)]
    con = world(people, links,
                deaths=[{"record_id": "D9", "death_date": "2024-01-01"},
                        {"record_id": "D1", "death_date": "2024-01-01"}])
    found = only(run(con), "DECEASED")
    assert len(found) == 1
    assert (found[0]["household_id"], found[0]["record_id"], found[0]["score"]) == ("H1", "D1", 0.95)
    assert "死亡火化 D9" in found[0]["evidence"]       # the other record is in the evidence text


# --- match tiers and the removal list ---------------------------------------------------------

def test_a_finding_takes_its_best_tier_and_only_configured_tiers_reach_the_removal_list() -> None:
    people = [member(1, "H1", "张伟", amount=900.0), member(2, "H2", "王芳", amount=700.0),
              member(3, "H3", "赵强", amount=800.0)]
    deaths = [{"record_id": f"D{k}", "death_date": "2025-03-01"} for k in range(1, 5)]
    links = [("deaths", "D1", 1, 0.99, 1),                             # confirmed
             ("deaths", "D2", 2, 0.95, 2),                             # probable
             ("deaths", "D3", 3, 0.93, 3), ("deaths", "D4", 3, 0.91, 2)]  # best of the two: 2
    con = world(people, links[:3], deaths=deaths)
    found = only(run(con), "DECEASED")
    assert {f["household_id"]: f["tier"] for f in found} == {
        "H1": "confirmed", "H2": "probable", "H3": "possible"}
    removed = [h for (h,) in con.execute(
        "SELECT household_id FROM findings_remove_list ORDER BY household_id").fetchall()]
    assert removed == ["H1", "H2"]           # default: confirmed and probable

    con = world(people, links, deaths=deaths)
    found = only(run(con), "DECEASED")
    assert {f["household_id"]: f["tier"] for f in found}["H3"] == "probable"

    everything = load_rules().model_copy(update={"remove_list_tiers": ("confirmed", "probable",
                                                                       "possible")})
    con = world(people, links[:3], deaths=deaths)
    run(con, rules=everything)
    assert con.execute("SELECT count(*) FROM findings_remove_list").fetchone() == (3,)


def test_removal_tiers_are_named_in_english_or_chinese_and_checked() -> None:
    base = load_rules().model_dump()
    chosen = RulesConfig.model_validate({**base, "remove_list_tiers": ["确认"]})
    assert chosen.remove_list_tiers == ("confirmed",)
    with pytest.raises(ValueError, match="unknown tiers"):
        RulesConfig.model_validate({**base, "remove_list_tiers": ["sure"]})


# --- DUPLICATE_RECEIPT ------------------------------------------------------------------------

def test_duplicate_receipt_names_the_later_household_and_the_other_as_evidence() -> None:
    people = [
        member(1, "H1", "张伟", person="P", start="2018-06-01", size=2, amount=1400.0),
        member(2, "H1", "刘敏", relation="配偶", size=2, amount=None),
        member(3, "H7", "张伟", person="P", start="2024-02-01", size=3, amount=1500.0),  # later
        member(4, "H8", "陈静", person="Q", start="2021-01-01"),  # tie on start date ...
        member(5, "H9", "陈静", person="Q", start="2021-01-01"),  # ... larger household_id wins
    ]
    links = [("roll", "3", 1, 0.99), ("roll", "1", 3, 0.99),
             ("roll", "5", 4, 0.9), ("roll", "4", 5, 0.9)]
    found = only(run(world(people, links)), "DUPLICATE_RECEIPT")
    assert codes(found) == [("DUPLICATE_RECEIPT", "H7", "H1"), ("DUPLICATE_RECEIPT", "H9", "H8")]
    assert found[0]["amount_at_stake"] == 500.0        # H7's 1500 / its 3 members
    assert found[0]["dataset"] == "roll"


# --- PUBLIC_EMPLOYEE --------------------------------------------------------------------------

def test_public_employee_only_when_linked() -> None:
    people = [member(1, "H1", "张伟", amount=900.0),   # on the payroll
              member(2, "H2", "张伟", amount=900.0)]   # same name, not linked: no finding
    con = world(people, [("public_employees", "E1", 1, 0.92)],
                public_employees=[{"record_id": "E1", "name": "张伟", "monthly_pay": 5200.0,
                                   "employer": "江岸区教育局"}])
    found = only(run(con), "PUBLIC_EMPLOYEE")
    assert codes(found) == [("PUBLIC_EMPLOYEE", "H1", "E1")]
    assert found[0]["amount_at_stake"] == 900.0 and "江岸区教育局" in found[0]["evidence"]


# --- VEHICLE ----------------------------------------------------------------------------------

VEHICLES = [
    {"record_id": "V1", "vehicle_type": "小型轿车", "status": "正常", "status_code": "active"},
    {"record_id": "V2", "vehicle_type": "普通二轮摩托车", "status": "正常", "status_code": "active"},
    {"record_id": "V3", "vehicle_type": "小型轿车", "status": "注销", "status_code": "deregistered"},
    {"record_id": "V4", "vehicle_type": "残疾人专用车", "status": "正常", "status_code": "active"},
    {"record_id": "V5", "vehicle_type": "小型轿车", "status": "停驶", "status_code": "inactive"},
]


def test_vehicle_active_non_exempt_only() -> None:
    people = [member(k, f"H{k}", "车主") for k in range(1, 6)]  # member k owns vehicle Vk
    con = world(people, [("vehicles", f"V{k}", k, 1.0) for k in range(1, 6)], vehicles=VEHICLES)
    assert codes(only(run(con), "VEHICLE")) == [("VEHICLE", "H1", "V1")]


def _price_override(effective_from: str) -> RulesConfig:
    raw = load_rules().model_dump(by_alias=True)
    raw["overrides"] = [{"name": "car value limit", "districts": [HONGSHAN],
                         "effective_from": effective_from,
                         "set": {"vehicle": {"min_purchase_price": 80000}}}]
    return RulesConfig.model_validate(raw)


def test_vehicle_value_limit_applies_in_one_district_from_its_effective_date() -> None:
    people = [member(1, "H1", "甲", district=HONGSHAN),  # 50,000 car in the override district
              member(2, "H2", "乙", district=JIANGAN),   # same car elsewhere: still counted
              member(3, "H3", "丙", district=HONGSHAN)]  # no price given: limit not applied
    cars = [{"record_id": f"V{k}", "vehicle_type": "小型轿车", "status_code": "active",
             "purchase_price": 50000.0 if k < 3 else None} for k in (1, 2, 3)]
    links = [("vehicles", f"V{k}", k, 1.0) for k in (1, 2, 3)]
    rules = _price_override("2026-07-01")
    after = only(run(world(people, links, vehicles=cars), AS_OF, rules), "VEHICLE")
    assert [f["household_id"] for f in after] == ["H2", "H3"]
    before = only(run(world(people, links, vehicles=cars), dt.date(2026, 6, 30), rules), "VEHICLE")
    assert [f["household_id"] for f in before] == ["H1", "H2", "H3"]


def test_livelihood_vehicle_exemption_is_configuration() -> None:
    people = [member(1, "H1", "甲", category="rural")]   # rural household with a 三轮汽车
    cars = [{"record_id": "V1", "vehicle_type": "三轮汽车", "status_code": "active"}]
    links = [("vehicles", "V1", 1, 1.0)]
    assert len(only(run(world(people, links, vehicles=cars)), "VEHICLE")) == 1
    raw = load_rules().model_dump(by_alias=True)
    raw["overrides"] = [{"name": "work vehicles", "categories": ["rural"],
                         "set": {"vehicle": {"livelihood_exempt_types": ["三轮汽车"]}}}]
    exempt = RulesConfig.model_validate(raw)
    assert only(run(world(people, links, vehicles=cars), AS_OF, exempt), "VEHICLE") == []


# --- PROPERTY ---------------------------------------------------------------------------------

def test_property_two_homes_or_any_non_residential_counted_per_person() -> None:
    people = [
        member(1, "H1", "甲"),                                  # two homes
        member(2, "H2", "乙"),                                  # one home: fine
        member(3, "H3", "丙"),                                  # one shop
        member(4, "H4", "丁", size=2),                          # one home ...
        member(5, "H4", "戊", relation="配偶", size=2),          # ... spouse one home: per person
        member(6, "H6", "己"),                                  # a home and a parking space
    ]
    units = [("R1", "residential", 1, 0.99), ("R2", "residential", 1, 0.7),
             ("R3", "residential", 2, 1.0), ("S1", "non_residential", 3, 0.9),
             ("R4", "residential", 4, 1.0), ("R5", "residential", 5, 1.0),
             ("R6", "residential", 6, 1.0), ("G1", "other", 6, 1.0)]
    con = world(people, [("property", r, m, s) for r, _, m, s in units],
                property=[{"record_id": r, "usage_code": u, "area": 60.0} for r, u, _, _ in units])
    found = only(run(con), "PROPERTY")
    assert codes(found) == [("PROPERTY", "H1", "R1"), ("PROPERTY", "H3", "S1")]
    assert found[0]["score"] == 0.7   # two homes hold only as far as the weaker link does
    assert "名下住宅2套" in found[0]["evidence"]


# --- BUSINESS ---------------------------------------------------------------------------------

BUSINESSES = [
    {"record_id": "B1", "role": "法定代表人", "role_code": "legal_representative",
     "status": "存续", "status_code": "active", "company": "鑫源商贸有限公司"},
    {"record_id": "B2", "role": "高级管理人员", "role_code": "senior_manager",
     "status": "存续", "status_code": "active", "company": "华兴建材有限公司"},
    {"record_id": "B3", "role": "股东", "role_code": "shareholder",
     "status": "注销", "status_code": "closed", "company": "宏达物流有限公司"},
]


def test_business_counted_role_of_an_active_company_and_override_adding_managers() -> None:
    people = [member(1, "H1", "甲", district=JIANGAN),    # legal representative, active
              member(2, "H2", "乙", district=JIANGAN),    # senior manager: not by default
              member(3, "H3", "丙", district=HONGSHAN),   # senior manager where they count
              member(4, "H4", "丁", district=JIANGAN)]    # shareholder of a closed company
    links = [("businesses", "B1", 1, 1.0), ("businesses", "B2", 2, 1.0),
             ("businesses", "B2", 3, 1.0), ("businesses", "B3", 4, 1.0)]
    found = only(run(world(people, links, businesses=BUSINESSES)), "BUSINESS")
    assert codes(found) == [("BUSINESS", "H1", "B1")]
    raw = load_rules().model_dump(by_alias=True)
    raw["overrides"] = [{"name": "managers count", "districts": [HONGSHAN], "set": {"business": {
        "counted_roles": ["legal_representative", "shareholder", "senior_manager"]}}}]
    rules = RulesConfig.model_validate(raw)
    found = only(run(world(people, links, businesses=BUSINESSES), AS_OF, rules), "BUSINESS")
    assert codes(found) == [("BUSINESS", "H1", "B1"), ("BUSINESS", "H3", "B2")]


# --- INCOME_OVER_STANDARD ---------------------------------------------------------------------

def test_income_over_standard_boundary_exclusion_and_largest_record_as_evidence() -> None:
    people = [
        member(1, "H1", "甲", size=2, amount=500.0),                 # 2100 / 2 = 1050: equal
        member(2, "H2", "乙", size=2, amount=500.0),                 # 1500 + 600.02 pay: over
        member(3, "H2", "丙", relation="子", size=2, amount=None),
        member(4, "H4", "丁", amount=300.0),                         # 3000 not-counted pension
    ]
    pensions = [
        {"record_id": "S1", "benefit_type": "城镇职工基本养老保险", "monthly_amount": 2100.0},
        {"record_id": "S2", "benefit_type": "城镇职工基本养老保险", "monthly_amount": 1500.0},
        {"record_id": "S4", "benefit_type": "优待抚恤金", "monthly_amount": 3000.0},
    ]
    pay = [{"record_id": "E3", "monthly_pay": 600.02}]
    links = [("pensions", "S1", 1, 1.0), ("pensions", "S2", 2, 0.8),
             ("public_employees", "E3", 3, 0.95), ("pensions", "S4", 4, 1.0)]
    found = run(world(people, links, pensions=pensions, public_employees=pay))
    income = only(found, "INCOME_OVER_STANDARD")
    assert codes(income) == [("INCOME_OVER_STANDARD", "H2", "S2")]   # the 1500 record
    assert income[0]["score"] == 0.95                                 # best contributing link
    assert income[0]["id_number"] == "ID0002" and income[0]["amount_at_stake"] == 500.0
    assert "财政供养人员 E3" in income[0]["evidence"]


def test_income_runs_on_pensions_alone_and_says_so() -> None:
    con = world([member(1, "H1", "甲")], [("pensions", "S1", 1, 1.0)],
                pensions=[{"record_id": "S1", "benefit_type": "企业养老", "monthly_amount": 2000.0}])
    assert codes(only(run(con), "INCOME_OVER_STANDARD")) == [("INCOME_OVER_STANDARD", "H1", "S1")]
    checks = {c["finding_code"]: c for c in rule_checks(con)}
    assert "public_employees not provided" in checks["INCOME_OVER_STANDARD"]["notes"]


def test_standard_effective_date_latest_on_or_before_the_audit_date() -> None:
    standards = [
        {"district_code": JIANGAN, "category_code": "urban", "monthly_standard": 1000.0, "_row": 1},
        {"district_code": JIANGAN, "category_code": "urban", "monthly_standard": 1100.0,
         "effective_date": "2026-07-01", "_row": 2},
        {"district_code": JIANGAN, "category_code": "urban", "monthly_standard": 1300.0,
         "effective_date": "2027-01-01", "_row": 3},   # not yet in force
    ]
    con = world([member(1, "H1", "甲")], [("pensions", "S1", 1, 1.0)], standards,
                pensions=[{"record_id": "S1", "benefit_type": "企业养老", "monthly_amount": 1050.0}])
    assert only(run(con), "INCOME_OVER_STANDARD") == []            # 1050 <= 1100
    con = world([member(1, "H1", "甲")], [("pensions", "S1", 1, 1.0)], standards,
                pensions=[{"record_id": "S1", "benefit_type": "企业养老", "monthly_amount": 1050.0}])
    assert len(only(run(con, dt.date(2026, 6, 30)), "INCOME_OVER_STANDARD")) == 1  # > 1000


# --- staff: STAFF_RELATIVE_UNFILED, STAFF_LINKED, APPROVER_CONFLICT ---------------------------

STAFF = [
    {"staff_id": "S01", "name": "周丽", "p_name": "周丽", "district_code": JIANGAN,
     "role": "居委会主任", "phone_norm": "13800000001", "bank_account": "6222 0000 0001",
     "bank_account_norm": "622200000001"},
    {"staff_id": "S02", "name": "吴军", "p_name": "吴军", "district_code": JIANGAN,
     "phone_norm": "13800000002"},
    {"staff_id": "S03", "name": "吴军", "p_name": "吴军", "district_code": JIANGAN},  # namesake
    {"staff_id": "S04", "name": "郑华", "p_name": "郑华", "district_code": HONGSHAN},
]


def test_staff_relative_unfiled_near_relations_without_a_filing() -> None:
    people = [member(1, "H1", "甲", roll_id="A1"),   # declared 子 by S01, not filed
              member(2, "H2", "乙", roll_id="A2"),   # declared 母亲, filed by household + ID
              member(3, "H3", "丙", roll_id="A3"),   # declared 配偶, filing tied by the linker
              member(4, "H4", "丁", roll_id="A4"),   # declared 表兄弟: not a near relative
              member(5, "H5", "戊", roll_id="A5")]   # filed, but under another staff member
    declarations = [{"record_id": f"R{k}", "staff_id": "S01", "relation": rel}
                    for k, rel in ((1, "子"), (2, "母亲"), (3, "配偶"), (4, "表兄弟"), (5, "女"))]
    filings = [{"household_id": "H2", "id_number": "A2", "p_id18": "A2", "staff_id": "S01"},
               {"household_id": "H3", "id_number": "bad", "staff_id": "S01"},
               {"household_id": "H5", "id_number": "A5", "p_id18": "A5", "staff_id": "S02"}]
    links = [("staff_relatives", f"R{k}", k, 0.9) for k in range(1, 6)] + [("kin_filings", "kin:2", 3, 0.8)]
    con = world(people, links, staff=STAFF, staff_relatives=declarations, kin_filings=filings)
    found = only(run(con), "STAFF_RELATIVE_UNFILED")
    assert codes(found) == [("STAFF_RELATIVE_UNFILED", "H1", "R1"),
                            ("STAFF_RELATIVE_UNFILED", "H5", "R5")]


def test_staff_linked_personal_phone_threshold_three_households() -> None:
    shared3 = [member(k, f"H{k}", "甲", phone="13800000001") for k in (1, 2, 3)]  # 3: personal
    shared4 = [member(k, f"H{k}", "乙", phone="13800000002") for k in (4, 5, 6, 7)]  # 4: office
    con = world(shared3 + shared4, staff=STAFF, staff_relatives=[], kin_filings=[])
    found = only(run(con), "STAFF_LINKED")
    assert codes(found) == [("STAFF_LINKED", f"H{k}", "S01") for k in (1, 2, 3)]
    assert found[0]["score"] == 1.0 and found[0]["severity"] == "low"


def test_staff_linked_by_bank_account_unless_declared() -> None:
    people = [member(1, "H1", "甲", bank="6222-0000-0001"),   # S01's account, written otherwise
              member(2, "H2", "乙", phone="13800000001"),      # S01's phone ...
              member(3, "H2", "丙", relation="子")]           # ... and S01 declared this member
    declarations = [{"record_id": "R1", "staff_id": "S01", "relation": "表兄弟"}]
    con = world(people, [("staff_relatives", "R1", 3, 0.9)], staff=STAFF,
                staff_relatives=declarations, kin_filings=[])
    assert codes(only(run(con), "STAFF_LINKED")) == [("STAFF_LINKED", "H1", "S01")]


def test_approver_conflict_by_declaration_by_link_and_by_name() -> None:
    people = [
        member(1, "H1", "甲", approved_by="S01"),            # S01 declared 甲 as 子 (filed)
        member(2, "H2", "乙", approved_by="S01", phone="13800000001"),   # shares S01's phone
        member(3, "H3", "丙", approved_by="周丽"),            # name of S01, declared 配偶
        member(4, "H4", "丁", approved_by="吴军"),            # two 吴军 in the district
        member(5, "H5", "戊", approved_by="S04"),            # S04 declared 戊 as 朋友
        member(6, "H6", "己", approved_by="郑华"),            # 郑华 works in another district
    ]
    declarations = [{"record_id": "R1", "staff_id": "S01", "relation": "子"},
                    {"record_id": "R3", "staff_id": "S01", "relation": "配偶"},
                    {"record_id": "R4", "staff_id": "S02", "relation": "父亲"},
                    {"record_id": "R5", "staff_id": "S04", "relation": "朋友"},
                    {"record_id": "R6", "staff_id": "S04", "relation": "女"}]
    filings = [{"household_id": "H1", "p_id18": "ID0001", "staff_id": "S01"}]
    links = [("staff_relatives", "R1", 1, 0.9), ("staff_relatives", "R3", 3, 0.85),
             ("staff_relatives", "R4", 4, 0.9), ("staff_relatives", "R5", 5, 0.9),
             ("staff_relatives", "R6", 6, 0.9)]
    con = world(people, links, staff=STAFF, staff_relatives=declarations, kin_filings=filings)
    found = only(run(con), "APPROVER_CONFLICT")
    assert codes(found) == [("APPROVER_CONFLICT", "H1", "R1"), ("APPROVER_CONFLICT", "H2", "S01"),
                            ("APPROVER_CONFLICT", "H3", "R3")]
    assert [f["dataset"] for f in found] == ["staff_relatives", "staff", "staff_relatives"]
    notes = {c["finding_code"]: c["notes"] for c in rule_checks(con)}["APPROVER_CONFLICT"]
    assert "1 household(s) approved by a name shared by several" in notes
    assert "1 household(s) whose approved_by matches no staff" in notes


# --- ADD_CANDIDATE ----------------------------------------------------------------------------

def test_add_candidate_below_standard_and_not_covered() -> None:
    register = [
        {"record_id": "L1", "name": "甲", "id_number": "X1", "p_id18": "X1", "district": "江岸区",
         "district_code": JIANGAN, "category_code": "urban", "household_size": 3,
         "per_capita_income": 700.0, "group": "低保边缘家庭"},          # candidate: gap 350 x 3
        {"record_id": "L2", "name": "乙", "id_number": "X2", "p_id18": "X2",
         "district_code": JIANGAN, "category_code": "urban", "household_size": 1,
         "per_capita_income": 1050.0},                                # equal to the standard
        {"record_id": "L3", "name": "丙", "id_number": "X3", "p_id18": "X3",
         "district_code": JIANGAN, "category_code": "rural", "household_size": 2,
         "per_capita_income": 100.0},                                 # on the roll (linked)
        {"record_id": "L4", "name": "丁", "id_number": "4.20102E+17",
         "district_code": HONGSHAN, "category_code": "rural", "household_size": 2,
         "per_capita_income": 800.0},                                 # mangled ID: as written
    ]
    con = world([member(1, "H1", "丙")], [("low_income", "L3", 1, 0.9)], low_income=register)
    found = only(run(con), "ADD_CANDIDATE")
    assert [(f["record_id"], f["id_number"], f["amount_at_stake"]) for f in found] == [
        ("L1", "X1", 1050.0), ("L4", "4.20102E+17", 100.0)]
    assert all(f["household_id"] is None and f["dataset"] == "low_income" for f in found)


# --- checks -----------------------------------------------------------------------------------

def test_missing_datasets_are_reported_as_skipped_checks() -> None:
    con = world([member(1, "H1", "甲")], deaths=[])
    run(con)
    checks = {c["finding_code"]: c for c in rule_checks(con)}
    assert checks["DECEASED"]["status"] == "ran"
    assert checks["VEHICLE"] == {"finding_code": "VEHICLE", "status": "skipped",
                                 "reason": "dataset not provided: vehicles", "notes": None,
                                 "findings": 0}
    assert checks["STAFF_RELATIVE_UNFILED"]["reason"] == \
        "dataset not provided: staff_relatives, kin_filings"
    assert {c["status"] for c in checks.values()} == {"ran", "skipped"}


# --- shared stage relations -------------------------------------------------------------------

def test_member_links_one_row_per_link_with_the_members_policy() -> None:
    people = [
        member(1, "H1", "张伟", size=2, amount=1200.0),                     # two links
        member(2, "H1", "李娜", relation="配偶", size=2, amount=1200.0),    # no link: no row
        member(3, "H2", "王芳", district=HONGSHAN, category="rural"),        # other policy row
    ]
    con = world(people, [("deaths", "D1", 1, 0.97), ("vehicles", "V1", 1, 0.9),
                         ("vehicles", "V2", 3, 0.8)], deaths=[], vehicles=[])
    run(con)
    rows = con.execute(
        "SELECT member_key, dataset, record_id, score, amount_household, amount_member, "
        "policy.district_code, policy.category_code FROM rules_member_links "
        "ORDER BY member_key, dataset").fetchall()
    assert rows == [(1, "deaths", "D1", 0.97, 1200.0, 600.0, JIANGAN, "urban"),
                    (1, "vehicles", "V1", 0.9, 1200.0, 600.0, JIANGAN, "urban"),
                    (3, "vehicles", "V2", 0.8, 1000.0, 1000.0, HONGSHAN, "rural")]
