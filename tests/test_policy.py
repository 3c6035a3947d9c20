"""rules.yaml: typed defaults, overrides by district/category/date, validation, policy tables."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest

from pipelines.errors import InputError
from pipelines.rules.policy import FINDING_CODES, RulesConfig, load_rules, policy_tables

HONGSHAN, JIANGAN = "420111", "420102"
DAY = dt.date(2026, 10, 31)


def with_overrides(*overrides: dict[str, Any]) -> RulesConfig:
    raw = load_rules().model_dump(by_alias=True)
    raw["overrides"] = list(overrides)
    return RulesConfig.model_validate(raw)


def test_shipped_defaults_are_the_contract_defaults() -> None:
    rules = load_rules()
    p = rules.policy_for(JIANGAN, "urban", DAY)
    assert p.vehicle.exempt_types == ("摩托车", "残疾人专用车")
    assert p.vehicle.min_purchase_price is None
    assert p.property.min_residential_units == 2 and p.property.count_non_residential
    assert p.business.counted_roles == ("legal_representative", "shareholder")
    assert p.income.excluded_pension_types == ("城乡居民基本养老保险基础养老金", "优待抚恤金")
    assert p.staff.max_shared_households == 3
    assert p.staff.near_relations == ("配偶", "父亲", "母亲", "子", "女", "兄弟姐妹", "祖父母",
                                      "外祖父母", "孙子", "孙女", "外孙子", "外孙女")
    severities = {c: p.findings[c].severity for c in FINDING_CODES}
    assert severities == {"DECEASED": "high", "DUPLICATE_RECEIPT": "high",
                          "PUBLIC_EMPLOYEE": "high", "VEHICLE": "medium", "PROPERTY": "medium",
                          "BUSINESS": "medium", "INCOME_OVER_STANDARD": "medium",
                          "STAFF_RELATIVE_UNFILED": "medium", "STAFF_LINKED": "low",
                          "APPROVER_CONFLICT": "high", "ADD_CANDIDATE": None}
    assert p.findings["DECEASED"].amount == "member_share"
    assert p.findings["ADD_CANDIDATE"].amount == "gap"
    assert rules.overrides == ()   # the shipped city applies the defaults everywhere
    assert [rules.weight(s) for s in ("high", "medium", "low", None)] == [3.0, 2.0, 1.0, 0.0]


def test_override_applies_to_its_district_from_effective_from_to_effective_to_inclusive() -> None:
    rules = with_overrides({"name": "car limit", "districts": [HONGSHAN],
                            "effective_from": "2026-07-01", "effective_to": "2026-12-31",
                            "set": {"vehicle": {"min_purchase_price": 80000}}})

    def limit(district: str, day: dt.date) -> float | None:
        return rules.policy_for(district, "urban", day).vehicle.min_purchase_price

    assert limit(HONGSHAN, dt.date(2026, 6, 30)) is None        # the day before
    assert limit(HONGSHAN, dt.date(2026, 7, 1)) == 80000        # first day
    assert limit(HONGSHAN, dt.date(2026, 12, 31)) == 80000      # last day
    assert limit(HONGSHAN, dt.date(2027, 1, 1)) is None         # over
    assert limit(JIANGAN, dt.date(2026, 8, 1)) is None          # other district


def test_overrides_merge_in_order_lists_replace_mappings_merge() -> None:
    rules = with_overrides(
        {"name": "rural work vehicles", "categories": ["农村低保"],
         "set": {"vehicle": {"livelihood_exempt_types": ["三轮汽车"]}}},
        {"name": "district roles", "districts": [HONGSHAN],
         "set": {"business": {"counted_roles": ["legal_representative", "senior_manager"]},
                 "findings": {"VEHICLE": {"severity": "high"}}}},
        {"name": "later wins", "districts": [HONGSHAN], "categories": ["rural"],
         "set": {"vehicle": {"livelihood_exempt_types": ["低速货车"]}}},
    )
    rural = rules.policy_for(HONGSHAN, "rural", DAY)
    assert rural.vehicle.livelihood_exempt_types == ("低速货车",)
    assert rural.vehicle.exempt_types == ("摩托车", "残疾人专用车")        # untouched sibling key
    assert rural.business.counted_roles == ("legal_representative", "senior_manager")
    assert rural.findings["VEHICLE"].severity == "high"
    assert rural.findings["VEHICLE"].action == "review: stop"              # merged, not replaced
    urban = rules.policy_for(HONGSHAN, "urban", DAY)
    assert urban.vehicle.livelihood_exempt_types == ()
    assert rules.policy_for(JIANGAN, "rural", DAY).vehicle.livelihood_exempt_types == ("三轮汽车",)


@pytest.mark.parametrize("override, message", [
    ({"name": "typo", "set": {"vehicle": {"exempt_type": ["摩托车"]}}}, "exempt_type"),
    ({"name": "name not code", "districts": ["洪山区"], "set": {}}, "6-digit division codes"),
    ({"name": "backwards", "effective_from": "2026-07-01", "effective_to": "2026-01-01",
      "set": {}}, "effective_to is before effective_from"),
    ({"name": "bad severity", "set": {"findings": {"VEHICLE": {"severity": "urgent"}}}},
     "severity"),
    ({"name": "bad category", "categories": ["suburban"], "set": {}}, "categories"),
])
def test_invalid_overrides_are_refused_at_load(override: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        with_overrides(override)


def test_user_file_rules_section_is_merged_and_validated(tmp_path: Path) -> None:
    user = tmp_path / "city.yaml"
    user.write_text("rules:\n  defaults:\n    staff: {max_shared_households: 5}\n"
                    "  overrides:\n    - {name: x, districts: ['420111'], "
                    "set: {property: {min_residential_units: 3}}}\n", encoding="utf-8")
    rules = load_rules(user)
    assert rules.defaults.staff.max_shared_households == 5
    assert rules.defaults.staff.near_relations[0] == "配偶"          # kept from rules.yaml
    assert rules.policy_for(HONGSHAN, "urban", DAY).property.min_residential_units == 3
    bad = tmp_path / "bad.yaml"
    bad.write_text("rules:\n  defaults:\n    staff: {max_shared_households: zero}\n",
                   encoding="utf-8")
    with pytest.raises(InputError, match="max_shared_households"):
        load_rules(bad)


def test_policy_tables_one_row_per_pair_and_per_pair_and_code() -> None:
    rules = with_overrides({"name": "car limit", "districts": [HONGSHAN],
                            "set": {"vehicle": {"min_purchase_price": 80000,
                                                "livelihood_exempt_types": ["三轮汽车"]}}})
    keys = [(HONGSHAN, "urban"), (JIANGAN, "urban"), (None, None), (HONGSHAN, "urban")]
    policy, codes = policy_tables(rules, keys, DAY)
    rows = {(r["district_code"], r["category_code"]): r for r in policy.to_pylist()}
    assert len(rows) == 3 and codes.num_rows == 3 * len(FINDING_CODES)
    assert rows[(HONGSHAN, "urban")]["vehicle_min_purchase_price"] == 80000
    assert rows[(HONGSHAN, "urban")]["vehicle_exempt_types"] == ["摩托车", "残疾人专用车", "三轮汽车"]
    assert rows[(JIANGAN, "urban")]["vehicle_min_purchase_price"] is None
    assert rows[(None, None)]["staff_max_shared_households"] == 3
    first = codes.to_pylist()[0]
    assert (first["finding_code"], first["code_order"], first["weight"]) == ("DECEASED", 0, 3.0)
